// Package release holds the release steps the CLI performs (run, verify,
// watch, rollback, hold, postmortem, status) apart from their flags and
// their rendering: what they record, which gate they ask, which
// violations a Postmortem closes. A step records and decides through a
// Backend: the local ledger and policies (Local), or shipgate serve
// (Remote), which verifies signed evidence against its own trusted keys,
// decides at its own time with its own policies and records the token's
// name as the actor.
//
// Each step is one function (Verify, Watch, Rollback, Step.Build,
// Step.AskDeploy, NewPostmortem) over a Backend; what both the CLI and the
// server decide, such as which violations a Postmortem closes
// (PostmortemCloses), is one function here too.
package release
