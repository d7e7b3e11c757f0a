package cmd

import (
	"context"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/collect/incidents"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/internal/project"
)

// collectIncidentsOptions are the flags of `shipgate collect incidents`.
type collectIncidentsOptions struct {
	options.Record
	From    string
	Map     string
	Actor   string
	Timeout time.Duration
	Output  options.Output
}

func (o *collectIncidentsOptions) flags(c *cobra.Command, g *options.Globals) {
	o.Record.AddFlags(c.Flags(), g)
	f := c.Flags()
	f.StringVar(&o.From, "from", "", "incident list: an http(s) URL or a JSON file (required)")
	f.StringVar(&o.Map, "map", "", "mapping file: CEL expressions from the list to IncidentStatus incidents (required)")
	options.ActorVar(f, &o.Actor, "who collects")
	f.DurationVar(&o.Timeout, "timeout", incidents.DefaultTimeout, "limit for reading an HTTP source")
	required(c, "release", "from", "map")
	o.Output.AddFlags(f)
}

func (o *collectIncidentsOptions) run(ctx context.Context, s Streams, g *options.Globals, _ []string) error {
	m, err := project.Load(o.Map, "mapping", incidents.Load)
	if err != nil {
		return err
	}
	r, db, err := o.Open(ctx, s.Err, Version)
	if err != nil {
		return err
	}
	defer db.Close()
	doc, list, err := r.Incidents(ctx, o.From, m, o.Timeout, g.Actor(o.Actor))
	if err != nil {
		return err
	}
	_ = console.CollectedIncidents(s.Err, doc)
	return console.Print(s.Out, o.Output.Format, map[string]any{"digest": doc.Digest, "signedBy": doc.SignedBy, "document": doc.Value},
		func(w io.Writer) error { return console.Incidents(w, o.From, list) })
}
