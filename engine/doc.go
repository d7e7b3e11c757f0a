// Package engine turns evidence into decisions: it compiles a Rego policy set
// once (strict mode, no network builtins, type-checked against the evidence
// schemas), prepares one query per gate, and evaluates a release's evidence
// at a given time.
//
// The engine decides which evidence counts (bound to the release and fresh),
// computes calendar facts outside the Rego hot path, and fails closed: every
// path that cannot produce a well-formed policy answer returns a denying
// Decision with a distinct Reason.
//
// Reading a policy set (a directory or a bundle, its data and overlays,
// its revision, bundle signatures) is package policyset's; telling what
// one policy set changes from another is package policydiff's, and
// running a set's Rego tests package regotest's. The engine imports
// policyset only.
package engine
