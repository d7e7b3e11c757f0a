package auditpack

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/localizevideos/shipgate/ledger"
)

// tree computes RFC 6962 inclusion proofs over the ledger's entry hashes,
// the leaves the ledger's checkpoints sign the root of. Perfect subtree
// hashes are kept once computed, so proving many entries costs little more
// than one pass over the leaves.
type tree struct {
	leaves [][]byte // entry hashes, leaf i is entry i+1
	memo   map[compact.NodeID][]byte
}

func (t *tree) node(id compact.NodeID) []byte {
	if id.Level == 0 {
		return rfc6962.DefaultHasher.HashLeaf(t.leaves[id.Index])
	}
	if h, ok := t.memo[id]; ok {
		return h
	}
	h := rfc6962.DefaultHasher.HashChildren(
		t.node(compact.NewNodeID(id.Level-1, id.Index*2)),
		t.node(compact.NewNodeID(id.Level-1, id.Index*2+1)))
	if t.memo == nil {
		t.memo = map[compact.NodeID][]byte{}
	}
	t.memo[id] = h
	return h
}

// inclusion returns the audit path of entry seq in the tree of all leaves.
func (t *tree) inclusion(seq int64) ([]string, error) {
	nodes, err := proof.Inclusion(uint64(seq-1), uint64(len(t.leaves)))
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of entry %d: %w", seq, err)
	}
	hashes := make([][]byte, len(nodes.IDs))
	for i, id := range nodes.IDs {
		hashes[i] = t.node(id)
	}
	path, err := nodes.Rehash(hashes, rfc6962.DefaultHasher.HashChildren)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof of entry %d: %w", seq, err)
	}
	out := make([]string, len(path))
	for i, h := range path {
		out[i] = hex.EncodeToString(h)
	}
	return out, nil
}

// verifyInclusion checks that the entry seq with hash entryHash
// ("sha256:<hex>") is leaf seq-1 of the checkpoint's tree.
func verifyInclusion(cp *ledger.Checkpoint, seq int64, entryHash string, path []string) error {
	if seq < 1 || seq > cp.Size {
		return fmt.Errorf("entry %d is outside the checkpoint's %d entries", seq, cp.Size)
	}
	leaf, err := decodeHash(entryHash)
	if err != nil {
		return err
	}
	root, err := decodeHash(cp.Root)
	if err != nil {
		return fmt.Errorf("checkpoint root: %w", err)
	}
	p := make([][]byte, len(path))
	for i, h := range path {
		if p[i], err = hex.DecodeString(h); err != nil || len(p[i]) != 32 {
			return fmt.Errorf("proof hash %d: want 64 hex characters", i)
		}
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(seq-1), uint64(cp.Size), rfc6962.DefaultHasher.HashLeaf(leaf), p, root); err != nil {
		return fmt.Errorf("inclusion proof does not lead to the checkpoint's root: %w", err)
	}
	return nil
}

func decodeHash(h string) ([]byte, error) {
	rest, ok := strings.CutPrefix(h, "sha256:")
	b, err := hex.DecodeString(rest)
	if !ok || err != nil || len(b) != 32 {
		return nil, fmt.Errorf("hash %q: want sha256:<64 hex characters>", h)
	}
	return b, nil
}

// entryOf parses a stored entry body and recomputes its hash from its
// bytes: ledger.Parse accepts only the canonical form, and ledger.Next
// hashes the entry again from its own seq and prev.
func entryOf(body []byte) (ledger.Entry, error) {
	e, err := ledger.Parse(body)
	if err != nil {
		return ledger.Entry{}, err
	}
	if e.Seq < 1 {
		return ledger.Entry{}, fmt.Errorf("seq %d: want 1 or more", e.Seq)
	}
	var prev *ledger.Entry
	if e.Seq > 1 {
		prev = &ledger.Entry{Seq: e.Seq - 1, Hash: e.Prev}
	} else if e.Prev != "" {
		return ledger.Entry{}, fmt.Errorf("entry 1 has a previous hash %q", e.Prev)
	}
	again, err := ledger.Next(prev, e)
	if err != nil {
		return ledger.Entry{}, err
	}
	if again.Hash != e.Hash {
		return ledger.Entry{}, fmt.Errorf("content hash %s does not match the recorded %s", again.Hash, e.Hash)
	}
	return e, nil
}
