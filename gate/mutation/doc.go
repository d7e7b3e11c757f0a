// Package mutation holds the "no false allow" proofs of the gate, as tests
// only (issue #14):
//
//   - a mutation harness (mutation_test.go) that starts from the allowed
//     LocalizeVideos release of examples/localizevideos/evidence, checks that
//     every gate allows it unchanged, then changes, drops, duplicates, ties,
//     re-times, re-cases and relabels every field and document of it, and
//     requires each mutant to deny with its expected rule or reason, or to
//     be listed with a reason in testdata/allowed-by-design.yaml;
//   - a negative corpus (negative_test.go, testdata/negative) of documents
//     and document sets that must each deny with a given reason code.
//
// Both run the real engine with the embedded default policies, the real
// schema validator and gate.Gate.Decide, at fixed evaluation times.
//
//	go test ./gate/mutation -run Mutants -v -mutation.report=/tmp/mutants.tsv
package mutation
