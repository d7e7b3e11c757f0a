// Package server is `shipgate serve`: the JSON API under /v1/ over one
// ledger store, with token authentication and roles (package auth), the
// operations endpoints /healthz, /readyz and /metrics, and the dashboard
// (package server/web) mounted at /.
//
// Every API route names the roles that may call it (Routes); a request
// without a valid token is answered 401, one with a token of another role
// 403, before anything is read or written. Handlers return errors: an
// *Error carries the status, a stable code and the message the client
// sees, while the cause goes to the log only.
//
// A gate decision is recorded in the ledger before it is answered. A denial
// is a normal answer (200, "allow": false); a policy fault, an undefined
// result or a ledger that cannot be written is a non-2xx answer, so that no
// client can read it as allow. A client may name its decision ("id"): a
// retried request with the same id is answered with the decision recorded
// the first time, never recorded twice, whichever replica answers it.
//
// Beside the requests, Serve sweeps the ledger every Config.SweepInterval
// for succeeded deploys whose smoke tests were skipped (gate.Sweep), so a
// forbidden action is found even when nobody asks a gate; every replica
// may sweep, and each deploy's violation is still opened once.
//
// docs/api.md is the user's guide and docs/openapi.yaml the contract.
package server
