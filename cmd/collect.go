package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/localizevideos/shipgate/cmd/options"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/collect"
	"github.com/localizevideos/shipgate/collect/incidents"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/internal/inputfile"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/store"
)

func init() { addCommand(newCollectCmd) }

// newCollectCmd is the parent of the collectors: each subcommand reads one
// outside source and records what it found as signed evidence.
func newCollectCmd(s Streams, g *options.Globals) *cobra.Command {
	c := &cobra.Command{
		Use: "collect",
	}
	c.AddCommand(newCollectIncidentsCmd(s, g), newCollectErrorBudgetCmd(s, g))
	return c
}

// collectIncidentsOptions are the flags of `shipgate collect incidents`.
type collectIncidentsOptions struct {
	recordOptions
	From    string
	Map     string
	Actor   string
	Timeout time.Duration
	Output  options.Output
}

func newCollectIncidentsCmd(s Streams, g *options.Globals) *cobra.Command {
	o := &collectIncidentsOptions{}
	c := &cobra.Command{
		Use:  "incidents --from URL|FILE --map FILE --release ID",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return collectIncidentsRun(c.Context(), s, g, o)
		},
	}
	o.recordOptions.addFlags(c, g)
	f := c.Flags()
	f.StringVar(&o.From, "from", "", "incident list: an http(s) URL or a JSON file (required)")
	f.StringVar(&o.Map, "map", "", "mapping file: CEL expressions from the list to IncidentStatus incidents (required)")
	options.PersonVar(f, &o.Actor, "actor", "", "who collects (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)")
	f.DurationVar(&o.Timeout, "timeout", incidents.DefaultTimeout, "limit for reading an HTTP source")
	_ = c.MarkFlagRequired("from")
	_ = c.MarkFlagRequired("map")
	o.Output.AddFlags(f)
	return c
}

func collectIncidentsRun(ctx context.Context, s Streams, g *options.Globals, o *collectIncidentsOptions) error {
	if err := o.Output.Validate(); err != nil {
		return err
	}
	b, err := inputfile.Read(o.Map, options.MaxDataBytes)
	if err != nil {
		return fmt.Errorf("read mapping: %w", err)
	}
	m, err := incidents.Load(o.Map, b)
	if err != nil {
		return err
	}
	r, err := o.open(ctx, s, g)
	if err != nil {
		return err
	}
	defer r.db.Close()
	doc, list, err := r.Incidents(ctx, o.From, m, o.Timeout, actor(o.Actor, g))
	if err != nil {
		return err
	}
	_ = console.CollectedIncidents(s.Err, doc)
	if o.Output.Format == "json" {
		return console.JSON(s.Out, map[string]any{"digest": doc.Digest, "signedBy": doc.SignedBy, "document": doc.Value})
	}
	return console.Incidents(s.Out, o.From, list)
}

// recordOptions are the flags of a command that records evidence it
// produced itself: the release, the evidence checks, the signing key and
// the ledger.
type recordOptions struct {
	Release ReleaseOptions
	Ev      options.Evidence
	Sign    options.Signing
	Store   options.Store
}

// addFlags adds the flags to c; --release is required.
func (o *recordOptions) addFlags(c *cobra.Command, g *options.Globals) {
	f := c.Flags()
	o.Release.AddFlags(f, g)
	_ = c.MarkFlagRequired("release")
	o.Ev.AddFlags(f)
	o.Sign.AddFlags(f)
	o.Store.AddFlags(f, g)
}

// recording is a collect.Recorder over the open ledger, which the caller
// closes.
type recording struct {
	collect.Recorder
	db store.Store
}

// open resolves the release, loads the validator and the signing key,
// trusting the key that signs (trustSigner), opens the ledger and
// completes the release from its Plans there (releaseOfPlans): a release
// without a Plan is an error. The caller closes the ledger.
func (o *recordOptions) open(ctx context.Context, s Streams, g *options.Globals) (*recording, error) {
	rel, err := o.Release.resolve()
	if err != nil {
		return nil, err
	}
	v, err := o.Ev.Validator()
	if err != nil {
		return nil, err
	}
	signer, err := o.Sign.Signer(s.Err)
	if err != nil {
		return nil, err
	}
	if v, err = project.TrustSigner(v, o.Ev.TrustedKeys, signer); err != nil {
		return nil, err
	}
	db, err := o.Store.Open(ctx)
	if err != nil {
		return nil, err
	}
	if rel, err = release.OfPlans(ctx, db, v, rel); err != nil {
		db.Close()
		return nil, err
	}
	return &recording{Recorder: collect.Recorder{Sealer: collect.Sealer{Validator: v, Signer: signer}, Ledger: db,
		Release: rel, Version: Version, Clock: g.Clock, Timeout: release.RecordTimeout}, db: db}, nil
}
