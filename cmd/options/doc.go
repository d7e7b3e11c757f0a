// Package options holds the flag groups the commands share, each bound
// by one AddFlags into the choices internal/project resolves against the
// environment and shipgate.yaml (Globals) and opens: the policy set, the evidence checks, the ledger (a local
// store or a server), the output format, the signing key, the release's
// artifacts and rollback, and the flags that take names. package cmd
// composes them into each command's options and leaves the work to the
// packages below.
package options
