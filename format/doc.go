// Package format renders gate decisions and policy test reports: a
// decision as text for people (Text), and both in the formats CI systems
// read: JUnit XML (GitLab, Jenkins), SARIF 2.1.0 (code scanning) and GitHub
// Actions workflow commands with a Markdown job summary.
//
// Each format has one function for decisions, which take a slice so that
// every command that decides (gate, verify, watch) can reuse them, and one
// for an regotest.Report. Output is deterministic: findings keep the
// policy's order, rules are sorted by id, and the only time written is the
// decision's own evaluatedAt. The package writes to the io.Writers it is
// given and reads no environment: where the GitHub job summary goes is the
// caller's business.
package format
