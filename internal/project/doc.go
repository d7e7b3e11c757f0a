// Package project is a shipgate project on disk: the files shipgate init
// writes (shipgate.yaml, .shipgate/ with the ledger and the keys), where
// each is found by default, and how the keys and the ledger are opened.
// The commands choose paths from flags and the config; this package reads
// and writes what they name. It also holds what the flags chose, completed
// from the config and the environment (Settings), and wires it: the policy
// set (Policy), the evidence checks and the signing key (Evidence,
// Signing), the backend a release step runs on, a local ledger or a server
// (Store, Remote, Step, Record), and the commands that are wiring alone
// (AuditReport, AuditPack, ReplayPack, PolicyDiff, Sample, Serve).
// cmd/options binds the flags to them.
package project

// Default locations, relative to the project's directory.
const (
	// ConfigFile is read from the working directory when --config is not
	// given.
	ConfigFile = "shipgate.yaml"
	// DefaultStore is the embedded ledger, created on first use.
	DefaultStore = ".shipgate/ledger.db"
	// DefaultDocs is the release document shipgate init names in docs:
	// (the one policy review holds rollout data changes to), where the
	// example pipelines in examples/ci expect it.
	DefaultDocs = "docs/RELEASE.md"
	// KeyDir holds the keys; every public key in it is trusted by default.
	KeyDir = ".shipgate/keys"
	// CheckpointKey and CheckpointPublicKey sign and check checkpoints.
	CheckpointKey       = ".shipgate/keys/checkpoint.key"
	CheckpointPublicKey = ".shipgate/keys/checkpoint.pub"
	// EvidenceKey signs the evidence the commands record; shipgate init
	// makes it, or the first signed step where init did not.
	EvidenceKey       = ".shipgate/keys/evidence.key"
	EvidencePublicKey = ".shipgate/keys/evidence.pub"
	// ServerKey signs what shipgate serve records itself (approvals,
	// overrides, holds).
	ServerKey       = ".shipgate/keys/server.key"
	ServerPublicKey = ".shipgate/keys/server.pub"
)

// Limits of the files read from a path a user gives (inputfile.Read): far
// above what such a file holds, they keep a mistaken path, a log or a disk
// image, from being read whole into memory.
const (
	MaxKeyBytes    = 64 << 10 // a PEM key
	MaxConfigBytes = 1 << 20  // shipgate.yaml, a checkpoint
)
