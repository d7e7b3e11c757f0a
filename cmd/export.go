package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/store"
)

// FormatOPADecisionLog is the export format of OPA's decision log events.
const FormatOPADecisionLog = "opa-decision-log"

// auditExportOptions are the flags of `shipgate audit export`.
type auditExportOptions struct {
	Format  string
	Since   string
	Release string
	Out     string
	Store   StoreOptions
}

func newAuditExportCmd(s Streams, g *globals) *cobra.Command {
	o := &auditExportOptions{}
	c := &cobra.Command{
		Use:   "export --format opa-decision-log [--since RFC3339] [--release ID] [--out FILE]",
		Short: "Write the recorded decisions as OPA decision log events, one JSON object a line",
		Long: `Write every recorded gate decision (in ledger order) as an OPA decision log
event, so pipelines that already collect OPA decision logs read shipgate's:

  decision_id  the decision id
  path         shipgate/gates/<gate>/decision
  input        what the decision was made from: gate, release, now, the
               evidence digests and the open violations (replay it with
               this input and the same policy revision)
  result       the decision as the gate answered it
  timestamp    the evaluation time
  bundles      {"shipgate": {"revision": ...}}: the bundle revision, or the
               policy revision digest when no bundle was used
  labels       {"app": "shipgate", "version": ...}`,
		Example: `  shipgate audit export --format opa-decision-log --since 2026-11-01T00:00:00Z --out decisions.jsonl`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return auditExportRun(c.Context(), s, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.Format, "format", "", "export format: "+FormatOPADecisionLog+" (required)")
	f.StringVar(&o.Since, "since", "", "only decisions evaluated at or after this time, RFC 3339")
	f.StringVar(&o.Release, "release", "", "only the decisions about this release")
	f.StringVar(&o.Out, "out", "", "write to FILE instead of stdout")
	_ = c.MarkFlagRequired("format")
	o.Store.AddFlags(f, g)
	return c
}

func auditExportRun(ctx context.Context, s Streams, o *auditExportOptions) error {
	if o.Format != FormatOPADecisionLog {
		return fmt.Errorf("--format %q: want %s", o.Format, FormatOPADecisionLog)
	}
	var since time.Time
	if o.Since != "" {
		var err error
		if since, err = time.Parse(time.RFC3339, o.Since); err != nil {
			return fmt.Errorf("--since: want RFC 3339 such as 2026-11-26T00:00:00Z: %w", err)
		}
	}
	db, err := o.Store.Open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	ds, err := db.Decisions(ctx, o.Release)
	if err != nil {
		return err
	}
	var n int
	write := func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		for _, d := range ds {
			if !since.IsZero() && d.EvaluatedAt.Before(since) {
				continue
			}
			ev, err := decisionLogEvent(d)
			if err != nil {
				return err
			}
			b, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("decision %s: %w", d.ID, err)
			}
			bw.Write(b)
			bw.WriteByte('\n')
			n++
		}
		return bw.Flush()
	}
	if o.Out == "" {
		return write(s.Out)
	}
	if err := writeFileAtomic(o.Out, write); err != nil {
		return err
	}
	_, err = fmt.Fprintf(s.Out, "%d decisions written to %s\n", n, o.Out)
	return err
}

// opaEvent is an OPA decision log event (the JSON of OPA's
// plugins/logs.EventV1), with the fields shipgate has.
type opaEvent struct {
	DecisionID string                   `json:"decision_id"`
	Path       string                   `json:"path"`
	Input      json.RawMessage          `json:"input,omitempty"`
	Result     json.RawMessage          `json:"result"`
	Timestamp  time.Time                `json:"timestamp"`
	Bundles    map[string]opaBundleInfo `json:"bundles"`
	Labels     map[string]string        `json:"labels"`
}

type opaBundleInfo struct {
	Revision string `json:"revision"`
}

// decisionLogEvent turns a recorded decision (the gate's decision JSON with
// what it was made from under "replay") into an OPA decision log event. The
// result keeps every field as recorded.
func decisionLogEvent(d store.Decision) (opaEvent, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(d.Body, &body); err != nil {
		return opaEvent{}, fmt.Errorf("decision %s: %w", d.ID, err)
	}
	input := body["replay"]
	delete(body, "replay")
	var pol engine.PolicyRef
	if p, ok := body["policy"]; ok {
		if err := json.Unmarshal(p, &pol); err != nil {
			return opaEvent{}, fmt.Errorf("decision %s: policy: %w", d.ID, err)
		}
	}
	result, err := json.Marshal(body)
	if err != nil {
		return opaEvent{}, fmt.Errorf("decision %s: %w", d.ID, err)
	}
	rev := pol.Bundle
	if rev == "" {
		rev = pol.Revision
	}
	return opaEvent{
		DecisionID: d.ID,
		Path:       "shipgate/gates/" + d.Gate + "/decision",
		Input:      input,
		Result:     result,
		Timestamp:  d.EvaluatedAt.UTC(),
		Bundles:    map[string]opaBundleInfo{engine.BundleRoot: {Revision: rev}},
		Labels:     map[string]string{"app": "shipgate", "version": Version},
	}, nil
}
