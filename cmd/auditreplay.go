package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/ledger"
)

// auditReplayOptions are the flags of `shipgate audit replay`.
type auditReplayOptions struct {
	Pack     string
	Key      string
	Timeout  time.Duration
	Evidence EvidenceOptions
	Output   OutputOptions
}

func newAuditReplayCmd(s Streams, _ *globals) *cobra.Command {
	o := &auditReplayOptions{}
	c := &cobra.Command{
		Use:   "replay PACK.tar.gz [--key PUBKEY] [-o text|json]",
		Short: "Check an audit pack offline and evaluate every decision in it again",
		Long: `Check an audit pack (shipgate audit export --format pack) without the
ledger or the network: the manifest and every file's SHA-256; each ledger
entry's hash, its link to the entry before when that is in the pack too,
and its RFC 6962 inclusion proof against the checkpoint's signed root; that
each decision and evidence file is byte for byte the payload of its entry;
that each policy bundle computes the policy revision its decisions
recorded. Then every decision is evaluated again with its own policy
bundle, evidence and recorded time, and compared with the recorded one in
canonical JSON, except the members the gate sets (id, dryRun, opened).

Each decision is reported as match, differs (the member and, for findings,
the rule), not-replayed (not a policy answer: an engine fault, refused
evidence, no Plan) or tampered, with an explanation: for an allowed
decision which evidence satisfied which rule, for a denial what failed and
what would make it pass.

Pin the key with --key: without it the pack's own checkpoint.pub is used,
which proves the pack consistent but not whose ledger it came from. Signed
evidence is read from its DSSE envelope, as the gate read it, with the
signers' keys the pack carries (each checked against the key id it names);
pin them with --trusted-key, which then are the only keys trusted.

Exit codes: 0 every decision matches and nothing was changed, 1 a decision
differs or the pack was changed, 2 error (unreadable pack, bad key).`,
		Example: `  shipgate audit replay lv-2026-11-26.1.pack.tar.gz --key .shipgate/keys/checkpoint.pub
  shipgate audit replay q4.pack.tar.gz --key checkpoint.pub -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o.Pack = args[0]
			return auditReplayRun(c.Context(), s, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Key, "key", "", "PEM public key the pack's checkpoint must be signed with (default: the pack's own checkpoint.pub, reported as not pinned)")
	f.DurationVar(&o.Timeout, "timeout", engine.DefaultTimeout, "limit for one policy evaluation")
	o.Evidence.AddFlags(f)
	o.Output.AddFlags(f)
	return c
}

func auditReplayRun(ctx context.Context, s Streams, o *auditReplayOptions) error {
	if err := o.Output.validate(); err != nil {
		return err
	}
	var pub []byte
	if o.Key != "" {
		b, err := inputfile.Read(o.Key, maxKeyBytes)
		if err != nil {
			return fmt.Errorf("read key: %w", err)
		}
		pub = b
	}
	opts := auditpack.Options{Timeout: o.Timeout}
	if pub != nil {
		k, err := ledger.ParsePublicKey(pub)
		if err != nil {
			return fmt.Errorf("%s: %w", o.Key, err)
		}
		opts.PublicKey = k
	}
	v, err := o.Evidence.Validator()
	if err != nil {
		return err
	}
	opts.Validator = v
	// Keys given pin the evidence signers; without, the pack's own.
	if len(o.Evidence.TrustedKeys) > 0 {
		if opts.EvidenceKeys, err = keyring(o.Evidence.TrustedKeys); err != nil {
			return err
		}
	}
	res, err := auditpack.CheckFile(ctx, o.Pack, opts)
	if err != nil {
		return err
	}
	if o.Output.Format == "json" {
		err = writeJSON(s.Out, res)
	} else {
		err = res.WriteText(s.Out, o.Pack)
	}
	if err != nil {
		return err
	}
	if !res.OK {
		return &exitError{code: ExitDeny, silent: true, err: errors.New("the pack does not replay clean")}
	}
	return nil
}
