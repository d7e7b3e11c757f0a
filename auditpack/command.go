package auditpack

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/store"
)

// PolicySets are the policy sets a pack is given besides those the ledger
// holds (ExportOptions.Policies): the chosen one, its bundle read
// (verified with key) or its directory and data built into one, then each
// bundle file of more, verified with key too.
func PolicySets(ctx context.Context, c policyset.Choice, key []byte, more []string) ([]*bundle.Bundle, error) {
	var out []*bundle.Bundle
	if c.Bundle != "" {
		if c.Dir != "" || len(c.DataFiles) > 0 {
			return nil, errors.New("--bundle and --policies/--data: give one")
		}
		b, err := policyset.ReadBundleFile(c.Bundle, key)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	} else {
		data, files, err := c.Data()
		if err != nil {
			return nil, err
		}
		b, err := engine.BuildBundle(ctx, engine.BundleOptions{Policies: c.Policies(), Data: data, DataFiles: files})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Describe(), err)
		}
		out = append(out, b)
	}
	for _, p := range more {
		b, err := policyset.ReadBundleFile(p, key)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// WriteText tells people what the pack written to name holds, proved
// against a checkpoint signed by keyID, on w; a warning about the signers
// whose key was not given goes to warn.
func (s Summary) WriteText(w, warn io.Writer, name, keyID string) error {
	_, err := fmt.Fprintf(w, "pack %s: %d decisions, %d evidence documents, %d ledger entries, %d policy sets, %d evidence keys, proved against a checkpoint of %d entries signed by %s\n",
		name, s.Decisions, s.Evidence, s.Entries, s.Policies, s.Keys, s.Checkpoint, keyID)
	if len(s.UnknownSigners) > 0 {
		fmt.Fprintf(warn, "shipgate: warning: no key given for the evidence signers %s: a replay needs them (--trusted-key here, or at audit replay)\n",
			strings.Join(s.UnknownSigners, ", "))
	}
	return err
}

// IsBreak reports whether err is a broken ledger (a hash chain or a query
// table that does not match its entries), not a fault.
func IsBreak(err error) bool {
	var be *ledger.BreakError
	var pe *store.ProjectionError
	return errors.As(err, &be) || errors.As(err, &pe)
}

// RefusedError is a checkpoint refused (SignHead): the ledger it would
// sign does not verify.
type RefusedError struct {
	// What is what was refused: "sign", "export from".
	What string
	Err  error
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refusing to %s a broken ledger: %v", e.What, e.Err)
}

func (e *RefusedError) Unwrap() error { return e.Err }

// SignHead verifies db and signs a checkpoint of its head with key at
// time at, for the ledger at location (its origin: "shipgate:" and the
// location made absolute). A ledger that does not verify is refused
// (RefusedError; what says what it refuses).
func SignHead(ctx context.Context, db Verifier, location string, at time.Time, key ed25519.PrivateKey, what string) (ledger.Checkpoint, error) {
	head, err := db.Verify(ctx, nil)
	if err != nil {
		return ledger.Checkpoint{}, &RefusedError{What: what, Err: err}
	}
	abs, _ := filepath.Abs(location)
	return ledger.NewCheckpoint("shipgate:"+abs, head, at, key), nil
}

// Verifier is a ledger that recomputes its hash chain and tables.
type Verifier interface {
	Verify(ctx context.Context, cp *ledger.Checkpoint) (ledger.Head, error)
}

// Verification is the outcome of verifying a ledger, as `shipgate audit
// verify` reports it.
type Verification struct {
	Checkpoint *CheckpointRef `json:"checkpoint,omitempty"`
	Error      string         `json:"error,omitempty"`
	Head       string         `json:"head"`
	Intact     bool           `json:"intact"`
	Root       string         `json:"root"`
	Size       int64          `json:"size"`
}

// CheckpointRef names the checkpoint a ledger was verified against.
type CheckpointRef struct {
	Head  string    `json:"head"`
	KeyID string    `json:"keyId"`
	Size  int64     `json:"size"`
	Time  time.Time `json:"time"`
}

// VerifyLedger verifies db, against cp when given. The error is the
// ledger's (IsBreak tells a broken ledger from a fault); the Verification
// states it too.
func VerifyLedger(ctx context.Context, db Verifier, cp *ledger.Checkpoint) (Verification, error) {
	head, err := db.Verify(ctx, cp)
	v := Verification{Intact: err == nil, Size: head.Size, Head: head.Hash, Root: head.Root}
	if cp != nil {
		v.Checkpoint = &CheckpointRef{Size: cp.Size, Head: cp.Head, KeyID: cp.KeyID, Time: cp.Time}
	}
	if err != nil {
		v.Error = err.Error()
	}
	return v, err
}

// WriteText writes an intact ledger's verification for people; a broken
// one is told by its error.
func (v Verification) WriteText(w io.Writer) error {
	if !v.Intact {
		return nil
	}
	with := ""
	if cp := v.Checkpoint; cp != nil {
		with = fmt.Sprintf(", consistent with the checkpoint of %d entries signed by %s", cp.Size, cp.KeyID)
	}
	_, err := fmt.Fprintf(w, "ledger intact: %d entries, head %s, root %s%s\n", v.Size, v.Head, v.Root, with)
	return err
}

// CheckFile reads the pack file at path and checks it (Read, Check).
func CheckFile(ctx context.Context, path string, opts Options) (*Result, error) {
	f, err := inputfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read pack: %w", err)
	}
	defer f.Close()
	a, err := Read(f, DefaultLimits)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	res, err := Check(ctx, a, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}
