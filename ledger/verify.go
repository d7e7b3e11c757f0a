package ledger

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// BreakError names the first entry at which the ledger stops being the one
// that was appended.
type BreakError struct {
	Seq    int64
	Reason string
}

func (e *BreakError) Error() string {
	return fmt.Sprintf("ledger broken at entry %d: %s", e.Seq, e.Reason)
}

// Head summarises a verified ledger: its size, the hash of its last entry and
// the Merkle root over all entry hashes.
type Head struct {
	Size int64  `json:"size"`
	Hash string `json:"head"`
	Root string `json:"root"`
}

// Row is one stored entry as a store hands it back: the storage position
// (the store's own sequence column) and the body it kept.
type Row struct {
	Seq  int64
	Body []byte
}

var rangeFactory = &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}

// Verifier checks rows one at a time, in storage order, without holding
// them: a ledger of any size verifies in constant memory.
type Verifier struct {
	cp       *Checkpoint
	prevHash string
	tree     *compact.Range
	size     int64
	cpRoot   []byte
	err      error
}

// NewVerifier starts a verification. With a checkpoint, the ledger must also
// contain, unchanged, the entries the checkpoint covers.
func NewVerifier(cp *Checkpoint) *Verifier {
	return &Verifier{cp: cp, tree: rangeFactory.NewEmptyRange(0)}
}

// Add checks the next row. After the first error it keeps returning it.
func (v *Verifier) Add(r Row) error {
	if v.err != nil {
		return v.err
	}
	want := v.size + 1
	fail := func(format string, args ...any) error {
		v.err = &BreakError{Seq: want, Reason: fmt.Sprintf(format, args...)}
		return v.err
	}
	if r.Seq != want {
		return fail("stored at position %d where entry %d belongs (an entry was removed, duplicated or inserted)", r.Seq, want)
	}
	recorded, computed, err := bodyDigest(r.Body)
	if err != nil {
		return fail("%v", err)
	}
	if recorded != computed {
		return fail("content hash %s does not match the recorded %s (the entry was changed)", computed, recorded)
	}
	seq, prev, err := seqPrev(r.Body)
	if err != nil {
		return fail("decode: %v", err)
	}
	if seq != want {
		return fail("entry says it is number %d", seq)
	}
	if prev != v.prevHash {
		return fail("previous hash %s does not match entry %d's hash %s", prev, want-1, v.prevHash)
	}
	leaf, err := hashBytes(recorded)
	if err != nil {
		return fail("%v", err)
	}
	if err := v.tree.Append(rfc6962.DefaultHasher.HashLeaf(leaf), nil); err != nil {
		return fail("merkle: %v", err)
	}
	v.prevHash, v.size = recorded, want
	if v.cp != nil && v.size == v.cp.Size {
		if recorded != v.cp.Head {
			return fail("hash %s is not the checkpoint's head %s (the ledger was replaced or rewritten)", recorded, v.cp.Head)
		}
		root, err := v.tree.GetRootHash(nil)
		if err != nil {
			return fail("merkle: %v", err)
		}
		v.cpRoot = root
	}
	return nil
}

// Finish returns the verified head, or the first break. With a checkpoint it
// also detects a ledger shorter than the checkpoint (a truncated tail or a
// restored older copy).
func (v *Verifier) Finish() (Head, error) {
	if v.err != nil {
		return Head{}, v.err
	}
	if v.cp != nil {
		if v.size < v.cp.Size {
			return Head{}, &BreakError{Seq: v.size + 1, Reason: fmt.Sprintf(
				"missing: the checkpoint covers %d entries, the ledger has %d (its tail was truncated or an older copy restored)", v.cp.Size, v.size)}
		}
		want, err := hashBytes(v.cp.Root)
		if err != nil {
			return Head{}, &BreakError{Seq: v.cp.Size, Reason: "checkpoint root: " + err.Error()}
		}
		if !bytes.Equal(want, v.cpRoot) {
			return Head{}, &BreakError{Seq: v.cp.Size, Reason: "the Merkle root of the first entries does not match the checkpoint"}
		}
	}
	h := Head{Size: v.size, Hash: v.prevHash}
	root, err := v.tree.GetRootHash(nil)
	if err != nil {
		return Head{}, fmt.Errorf("merkle: %w", err)
	}
	if root == nil {
		root = rfc6962.DefaultHasher.EmptyRoot()
	}
	h.Root = "sha256:" + hex.EncodeToString(root)
	return h, nil
}

// seqPrev reads the top-level "seq" and "prev" members of a canonical body
// without decoding the payload. They follow "payload" in canonical member
// order and every member after them is a plain string or number, so their
// last occurrences are the top-level ones.
func seqPrev(body []byte) (int64, string, error) {
	i := bytes.LastIndex(body, []byte(`,"seq":`))
	if i < 0 {
		return 0, "", errors.New(`no "seq" member`)
	}
	rest := body[i+len(`,"seq":`):]
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return 0, "", errors.New(`unterminated "seq" member`)
	}
	seq, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil {
		return 0, "", fmt.Errorf("seq: %w", err)
	}
	j := bytes.LastIndex(body, []byte(`,"prev":"`))
	if j < 0 {
		return 0, "", errors.New(`no "prev" member`)
	}
	rest = body[j+len(`,"prev":"`):]
	end = bytes.IndexByte(rest, '"')
	if end < 0 {
		return 0, "", errors.New(`unterminated "prev" member`)
	}
	return seq, string(rest[:end]), nil
}

// Verify checks a whole ledger held in memory.
func Verify(rows []Row, cp *Checkpoint) (Head, error) {
	v := NewVerifier(cp)
	for _, r := range rows {
		if err := v.Add(r); err != nil {
			return Head{}, err
		}
	}
	return v.Finish()
}
