package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/client"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/server"
	"github.com/localizevideos/shipgate/store"
)

// RemoteOptions make a command talk to shipgate serve instead of a local
// store: --server and --token, or $SHIPGATE_SERVER and $SHIPGATE_TOKEN.
type RemoteOptions struct {
	Server string
	Token  string
	g      *globals
}

// AddFlags binds the options to fs.
func (o *RemoteOptions) AddFlags(fs *pflag.FlagSet, g *globals) {
	o.g = g
	fs.StringVar(&o.Server, "server", "", "shipgate serve URL: the server does the work and records it, instead of a local store (default: $SHIPGATE_SERVER)")
	fs.StringVar(&o.Token, "token", "", "API token for --server (default: $SHIPGATE_TOKEN, which keeps it out of the process list)")
}

func (o *RemoteOptions) url() string {
	if o.Server != "" {
		return o.Server
	}
	return o.g.getenv("SHIPGATE_SERVER")
}

// on reports whether the command runs against a server.
func (o *RemoteOptions) on() bool { return o.url() != "" }

// client returns the server's client; --store given too is an error.
func (o *RemoteOptions) client(so *StoreOptions) (*client.Client, error) {
	if so != nil && so.Path != "" {
		return nil, errors.New("--store and --server: give one (the server has its own store)")
	}
	tok := o.Token
	if tok == "" {
		tok = o.g.getenv("SHIPGATE_TOKEN")
	}
	return client.New(o.url(), tok)
}

// addEvidence records docs, on the server when remote, else in the local
// store, and returns the ledger entry of each new one by digest.
func (o *RemoteOptions) addEvidence(ctx context.Context, so *StoreOptions, docs []*evidence.Document) (map[string]int64, error) {
	entry := map[string]int64{}
	if !o.on() {
		db, err := so.Open(ctx)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		in := make([]store.Evidence, len(docs))
		for i, d := range docs {
			in[i] = gate.StoreEvidence(d)
		}
		stored, err := db.AddEvidence(ctx, time.Now(), in)
		if err != nil {
			return nil, fmt.Errorf("record evidence: %w", err)
		}
		for _, e := range stored {
			entry[e.Digest] = e.Seq
		}
		return entry, nil
	}
	c, err := o.client(so)
	if err != nil {
		return nil, err
	}
	raws, sources := make([]json.RawMessage, len(docs)), make([]string, len(docs))
	for i, d := range docs {
		raws[i], sources[i] = d.Canonical, d.Source
	}
	added, err := c.AddEvidence(ctx, raws, sources)
	if err != nil {
		return nil, fmt.Errorf("record evidence: %w", err)
	}
	for _, a := range added {
		if a.New {
			entry[a.Digest] = a.Entry
		}
	}
	return entry, nil
}

// status reads the release's checklist from the server or the local store.
func (o *statusOptions) status(ctx context.Context) (*gate.ReleaseStatus, error) {
	if o.Remote.on() {
		c, err := o.Remote.client(&o.Store)
		if err != nil {
			return nil, err
		}
		return c.Status(ctx, o.Release)
	}
	v, err := o.Ev.Validator()
	if err != nil {
		return nil, err
	}
	db, err := o.Store.Open(ctx)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return gate.Status(ctx, db, v, o.Release)
}

// violationReader is where violations are read from: the server or the
// local store.
type violationReader interface {
	Violations(ctx context.Context, f store.Filter) ([]store.Violation, error)
	Violation(ctx context.Context, id string) (store.Violation, error)
}

// violationSource opens the reader; the caller calls done.
func violationSource(ctx context.Context, ro *RemoteOptions, so *StoreOptions) (violationReader, func() error, error) {
	if ro.on() {
		c, err := ro.client(so)
		if err != nil {
			return nil, nil, err
		}
		return c, func() error { return nil }, nil
	}
	db, err := so.Open(ctx)
	if err != nil {
		return nil, nil, err
	}
	return db, db.Close, nil
}

// closePostmortem records the Postmortem and closes the violations ids, on
// the server when remote, else in the local store.
func (o *RemoteOptions) closePostmortem(ctx context.Context, so *StoreOptions, doc *evidence.Document, ids []string) ([]store.Violation, error) {
	if !o.on() {
		db, err := so.Open(ctx)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		return db.ClosePostmortem(ctx, time.Now(), gate.StoreEvidence(doc), ids)
	}
	c, err := o.client(so)
	if err != nil {
		return nil, err
	}
	return c.ClosePostmortem(ctx, doc.Canonical, ids)
}

// gateRemoteRun asks the server's gate: the evidence files are validated
// here and sent with the request, the server decides with its own clock
// and records the decision, and the answer is printed and mapped to the
// exit code as a local gate's would be.
func gateRemoteRun(ctx context.Context, s Streams, o *gateOptions) error {
	switch {
	case o.Now != "":
		return errors.New("--now with --server: the server decides at its own time")
	case o.PrintIn:
		return errors.New("--print-input with --server: the input is built on the server; run it against a local store")
	case o.Actor != "":
		return errors.New("--actor with --server: the server records the token's name as the actor")
	}
	c, err := o.Remote.client(&o.Store)
	if err != nil {
		return err
	}
	rel, err := o.Release.resolve()
	if err != nil {
		return err
	}
	req := server.GateRequest{Release: rel, DryRun: o.DryRun}
	if len(o.Evidence) > 0 {
		v, err := o.Ev.Validator()
		if err != nil {
			return err
		}
		docs, err := v.LoadPaths(o.Evidence)
		if err != nil {
			return err
		}
		for _, d := range docs {
			req.Evidence, req.Sources = append(req.Evidence, d.Canonical), append(req.Sources, d.Source)
		}
	}
	d, err := c.Decide(ctx, o.Gate, req)
	var ce *client.Error
	if errors.As(err, &ce) && ce.Decision != nil {
		d = ce.Decision
	}
	if d != nil {
		if werr := writeDecisionOutput(s, o.Output.Format, d); werr != nil {
			return werr
		}
	}
	switch {
	case err != nil:
		return err
	case d.Allow:
		return nil
	}
	return &exitError{code: ExitDeny, err: errDenied, silent: true}
}
