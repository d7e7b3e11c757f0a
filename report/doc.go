// Package report builds the audit report of a period from the ledger: for
// every release gated in the period its evidence, decisions, violations,
// overrides, approvals, rollbacks and postmortems, explained rule by rule,
// and a summary of the figures an auditor asks for (denials by rule,
// emergency releases, postmortem lead time, change failure rate, time to
// restore, rollback against deploy time, releases during freezes). The
// ledger's integrity, as Verify finds it, is stated first.
//
// Build reads the ledger and returns a Report, the one model every format
// renders: Markdown, a self-contained HTML file (inline CSS and SVG, no
// script, no external resource), JSON (the model itself, versioned by
// Schema) and CSV (one row per release). docs/audit.md defines every figure
// and field.
//
// A report of a past period does not change as the ledger grows: what was
// recorded at or after the period's end is left out, and a violation
// closed after it shows as open then.
package report
