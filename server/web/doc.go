// Package web is the dashboard of `shipgate serve`: server-rendered HTML
// pages over the ledger for the people of a release. Approvers see what
// waits for their approval and approve it; auditors and everyone else see
// every release with its gate results, checklist, evidence, decisions and
// each violation's rule, message and remediation, the violations and
// postmortems owed (overdue first), and a chart of decisions and violations
// per rule over time.
//
// The pages carry no script at all and load nothing from elsewhere: HTML
// from embedded templates, one embedded stylesheet, charts as inline SVG
// styled by that stylesheet. Every answer carries a strict Content Security
// Policy and the usual hardening headers.
//
// Sign-in takes an API token (package auth) and keeps it, sealed with
// AES-GCM under a key derived from Config.SessionKey, in an HttpOnly,
// SameSite=Strict cookie that expires; the token is checked again on every
// request, so a revoked token ends its sessions at once. Every form carries
// the session's CSRF token, and every state-changing request must also pass
// net/http's cross-origin protection (Sec-Fetch-Site, then Origin against
// Host).
//
// The dashboard only reads the store; the one thing it writes, an
// approval, goes through Config.Approve, which owns the rules (who may
// approve which release) and the ledger write. docs/dashboard.md is the
// user's guide.
package web
