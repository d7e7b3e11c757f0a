// Package auditpack writes and checks the auditor's replay pack: one
// tar.gz that lets someone who does not trust shipgate's servers re-check a
// slice of the ledger offline.
//
// A pack holds, for the decisions selected (a release, or everything since
// a date):
//
//	manifest.json          format, selection, and the SHA-256 and size of every other file
//	checkpoint.json        a signed checkpoint (ledger.Checkpoint) covering every entry in the pack
//	checkpoint.pub         the checkpoint's public key (PEM); pin it with Options.PublicKey
//	proofs.json            an RFC 6962 inclusion proof of each entry against the checkpoint's root
//	entries/NNN.json       each decision and evidence entry, its canonical body as the ledger keeps it
//	decisions/ID.json      each decision: the payload of its ledger entry
//	evidence/HEX.json      each evidence document the decisions were offered, canonical (RFC 8785)
//	policies/N.tar.gz      each policy set a decision was made under, as an OPA bundle
//
// Export builds a pack from a ledger; Check verifies one and evaluates every
// decision again with its own policy bundle, evidence and time, and
// Result.WriteText tells people what it found. WriteDecisionLog exports the
// recorded decisions as OPA decision log events instead.
//
// Trust flows from the checkpoint signature alone: an entry counts once its
// hash is recomputed from its bytes and its inclusion proof leads to the
// signed root; a decision or evidence file counts once it is byte for byte
// the payload of such an entry; a policy bundle counts once the policy
// revision it computes is the one the decision recorded. The manifest's
// hashes only name the file that changed.
package auditpack
