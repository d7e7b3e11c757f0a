package project

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/internal/atomicfile"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/store"
)

// SignHead signs a checkpoint of the head of db, the ledger of o, at the
// settings' clock (auditpack.SignHead): a ledger that does not verify is
// refused with an *auditpack.RefusedError that names what (sign, export
// from).
func (o *Store) SignHead(ctx context.Context, db store.Store, key ed25519.PrivateKey, what string) (ledger.Checkpoint, error) {
	path, err := o.Location()
	if err != nil {
		return ledger.Checkpoint{}, err
	}
	return auditpack.SignHead(ctx, db, path, o.Settings.Clock(), key, what)
}

// AuditPack is the replay pack a command exports to Out: the decisions of
// Release since Since, the policy sets they were made under (Policy and
// WithBundles), the checkpoint they are proved against (CheckpointFile
// with PublicKey, or one signed now with Key), and the keys of the
// evidence signers (TrustedKeys).
type AuditPack struct {
	Out         string
	Release     string
	Since       time.Time
	Created     time.Time
	Policy      *Policy
	WithBundles []string
	// CheckpointFile, when set, is the signed checkpoint to prove the pack
	// against, checked with PublicKey; else one of the ledger's head is
	// signed with Key (Settings.CheckpointSigner).
	CheckpointFile, PublicKey, Key string
	TrustedKeys                    []string
	Store                          *Store
}

// Export writes the pack to Out, whole or not at all (auditpack.Export),
// and returns what it holds and the checkpoint it is proved against. A
// ledger that does not verify is an *auditpack.RefusedError
// (SignHead) or a break (auditpack.IsBreak).
func (o AuditPack) Export(ctx context.Context) (auditpack.Summary, *ledger.Checkpoint, error) {
	// Policy sets the ledger does not hold (decisions recorded before they
	// were kept) come from the flags; without flags, the config's set is
	// built only if some decision needs it.
	var bundles []*bundle.Bundle
	var more func(context.Context) ([]*bundle.Bundle, error)
	if o.Policy.Dir != "" || o.Policy.DataFile != "" || o.Policy.Bundle != "" || len(o.WithBundles) > 0 {
		var err error
		if bundles, err = o.Policy.PolicySets(ctx, o.WithBundles); err != nil {
			return auditpack.Summary{}, nil, err
		}
	} else {
		more = func(ctx context.Context) ([]*bundle.Bundle, error) { return o.Policy.PolicySets(ctx, o.WithBundles) }
	}
	db, err := o.Store.OpenReadOnly(ctx)
	if err != nil {
		return auditpack.Summary{}, nil, err
	}
	defer db.Close()
	src, ok := db.(auditpack.Source)
	if !ok {
		return auditpack.Summary{}, nil, fmt.Errorf("this store cannot stream its ledger entries")
	}
	cp, pub, err := o.checkpoint(ctx, db)
	if err != nil {
		return auditpack.Summary{}, nil, err
	}
	keys, err := Keyring(o.TrustedKeys)
	if err != nil {
		return auditpack.Summary{}, nil, err
	}
	var sum auditpack.Summary
	err = atomicfile.Write(o.Out, 0o644, func(w io.Writer) error {
		var err error
		sum, err = auditpack.Export(ctx, src, w, auditpack.ExportOptions{Release: o.Release, Since: o.Since,
			Checkpoint: cp, PublicKey: pub, Policies: bundles, MorePolicies: more, Created: o.Created, EvidenceKeys: keys})
		return err
	})
	return sum, cp, err
}

// checkpoint reads CheckpointFile, or signs one of the verified ledger's
// head.
func (o AuditPack) checkpoint(ctx context.Context, db store.Store) (*ledger.Checkpoint, ed25519.PublicKey, error) {
	g := o.Store.Settings
	if o.CheckpointFile != "" {
		return g.ReadCheckpoint(o.CheckpointFile, o.PublicKey)
	}
	key, err := g.CheckpointSigner(o.Key)
	if err != nil {
		return nil, nil, err
	}
	cp, err := o.Store.SignHead(ctx, db, key, "export from")
	if err != nil {
		return nil, nil, err
	}
	return &cp, key.Public().(ed25519.PublicKey), nil
}

// ReplayPack checks the replay pack at path (auditpack.CheckFile): its
// checkpoint pinned to the PEM public key at key when given (else the
// pack's own, reported as not pinned), each evaluation limited by
// timeout, its evidence read with ev's limits, and with ev's trusted keys
// when given (else the pack's own).
func ReplayPack(ctx context.Context, path, key string, timeout time.Duration, ev *Evidence) (*auditpack.Result, error) {
	opts := auditpack.Options{Timeout: timeout}
	if key != "" {
		b, err := inputfile.Read(key, MaxKeyBytes)
		if err != nil {
			return nil, fmt.Errorf("read key: %w", err)
		}
		if opts.PublicKey, err = ledger.ParsePublicKey(b); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	v, err := ev.Validator()
	if err != nil {
		return nil, err
	}
	opts.Validator = v
	// Keys given pin the evidence signers; without, the pack's own.
	if len(ev.TrustedKeys) > 0 {
		if opts.EvidenceKeys, err = Keyring(ev.TrustedKeys); err != nil {
			return nil, err
		}
	}
	return auditpack.CheckFile(ctx, path, opts)
}
