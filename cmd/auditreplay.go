package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/report"
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
	f, err := inputfile.Open(o.Pack)
	if err != nil {
		return fmt.Errorf("read pack: %w", err)
	}
	defer f.Close()
	a, err := auditpack.Read(f, auditpack.DefaultLimits)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Pack, err)
	}
	res, err := auditpack.Check(ctx, a, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", o.Pack, err)
	}
	if o.Output.Format == "json" {
		err = writeJSON(s.Out, res)
	} else {
		err = renderReplay(s.Out, o.Pack, res)
	}
	if err != nil {
		return err
	}
	if !res.OK {
		return &exitError{code: ExitDeny, silent: true, err: errors.New("the pack does not replay clean")}
	}
	return nil
}

// renderReplay writes a checked pack for people.
func renderReplay(w io.Writer, name string, r *auditpack.Result) error {
	var b strings.Builder
	sel := "every decision"
	switch {
	case r.Selection.Release != "" && r.Selection.Since != nil:
		sel = fmt.Sprintf("release %s since %s", r.Selection.Release, r.Selection.Since.Format(time.RFC3339))
	case r.Selection.Release != "":
		sel = "release " + r.Selection.Release
	case r.Selection.Since != nil:
		sel = "decisions since " + r.Selection.Since.Format(time.RFC3339)
	}
	fmt.Fprintf(&b, "pack %s: %s, %s, created %s\n", name, r.Format, sel, r.Created.Format(time.RFC3339))
	cp := r.Checkpoint
	switch {
	case !cp.Valid:
		fmt.Fprintf(&b, "checkpoint: NOT VALID (nothing in the pack is proved)\n")
	case cp.KeyPinned:
		fmt.Fprintf(&b, "checkpoint: %d entries, root %s, signed by %s at %s (key pinned)\n", cp.Size, cp.Root, cp.KeyID, cp.Time.Format(time.RFC3339))
	default:
		fmt.Fprintf(&b, "checkpoint: %d entries, root %s, signed by %s at %s (key NOT pinned: the pack's own checkpoint.pub; give --key)\n",
			cp.Size, cp.Root, cp.KeyID, cp.Time.Format(time.RFC3339))
	}
	switch k := r.EvidenceKeys; {
	case len(k.IDs) == 0:
		fmt.Fprintf(&b, "evidence keys: none (signed evidence cannot be read)\n")
	case k.Pinned:
		fmt.Fprintf(&b, "evidence keys: %s (pinned)\n", strings.Join(k.IDs, ", "))
	default:
		fmt.Fprintf(&b, "evidence keys: %s (NOT pinned: the pack's own; give --trusted-key)\n", strings.Join(k.IDs, ", "))
	}
	if len(r.Tampered) > 0 {
		fmt.Fprintf(&b, "tampered (%d):\n", len(r.Tampered))
		for _, p := range r.Tampered {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	c := r.Counts
	fmt.Fprintf(&b, "decisions: %d (%d match, %d differ, %d not replayed, %d tampered); compared in canonical JSON without %s\n",
		c.Decisions, c.Match, c.Differs, c.NotReplayed, c.Tampered, strings.Join(r.Ignored, ", "))
	for _, d := range r.Decisions {
		verdict := "deny"
		if d.Allow {
			verdict = "allow"
		}
		dry := ""
		if d.DryRun {
			dry = " (dry run)"
		}
		fmt.Fprintf(&b, "  %-12s %s %s %s %s %s%s\n", strings.ToUpper(d.Status), d.ID, d.Gate, d.Release, verdict, d.EvaluatedAt.Format(time.RFC3339), dry)
		if d.Why != "" {
			fmt.Fprintf(&b, "      why: %s\n", d.Why)
		}
		for _, diff := range d.Differences {
			field := diff.Field
			if diff.Rule != "" {
				field += " [" + diff.Rule + "]"
			}
			fmt.Fprintf(&b, "      %s: recorded %s, replayed %s\n", field, orNone(diff.Recorded), orNone(diff.Replayed))
		}
		if d.Explanation != nil {
			kinds := map[string]string{}
			for _, e := range d.Evidence {
				kinds[e.Digest] = e.Kind
			}
			explainText(&b, d.Explanation, kinds)
		}
	}
	if r.OK {
		b.WriteString("result: OK: nothing was changed and every replayed decision matches\n")
	} else {
		b.WriteString("result: FAILED: ")
		var why []string
		if len(r.Tampered) > 0 {
			why = append(why, fmt.Sprintf("%d changes to the pack", len(r.Tampered)))
		}
		if c.Differs > 0 {
			why = append(why, fmt.Sprintf("%d decisions differ", c.Differs))
		}
		if c.Tampered > 0 {
			why = append(why, fmt.Sprintf("%d decisions cannot be trusted", c.Tampered))
		}
		b.WriteString(strings.Join(why, ", ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func explainText(b *strings.Builder, ex *report.Explanation, kinds map[string]string) {
	fmt.Fprintf(b, "      %s\n", ex.Summary)
	if ex.Note != "" {
		fmt.Fprintf(b, "      (%s)\n", ex.Note)
	}
	for _, r := range ex.Rules {
		line := fmt.Sprintf("      %-10s %s", r.Outcome, r.Rule)
		if r.Title != "" {
			line += " (" + r.Title + ")"
		}
		switch {
		case len(r.SatisfiedBy) > 0:
			short := make([]string, len(r.SatisfiedBy))
			for i, d := range r.SatisfiedBy {
				short[i] = strings.TrimSpace(kinds[d] + " " + shortDigest(d))
			}
			line += ": satisfied by " + strings.Join(short, ", ")
		case r.Detail != "":
			line += ": " + r.Detail
		}
		fmt.Fprintln(b, line)
		if r.Outcome == report.Violated && r.Remediation != "" {
			fmt.Fprintf(b, "                 to pass: %s\n", r.Remediation)
		}
	}
}

func orNone(b []byte) string {
	if len(b) == 0 {
		return "(none)"
	}
	return string(b)
}
