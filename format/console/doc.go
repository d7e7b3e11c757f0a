// Package console renders for people what the release commands print:
// evidence added and validated, violations, a release's status, and the
// outcome of each release step (run, verify, watch, rollback, hold,
// reconcile, sweep). Each function writes one plain-text rendering to an
// io.Writer; the JSON renderings are the values themselves.
package console
