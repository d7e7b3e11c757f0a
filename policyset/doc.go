// Package policyset reads policy sets: the Rego modules and data of a
// directory or of an OPA bundle, with the policy data given beside them
// (replacing the set's own or laid over it) checked against the data
// schema and placed in its files, as a Set ready to compile. It also
// writes, signs, verifies and bounds bundles, and names a set by its
// revision, the digest of exactly its modules and data (Record is the set
// as the ledger keeps it).
//
// Compiling and evaluating are the engine's: policyset imports nothing of
// it, and engine.Load reads every set through Open.
package policyset
