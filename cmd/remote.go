package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/localizevideos/shipgate/api"
	"time"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/client"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/store"
)

// RemoteOptions make a command talk to shipgate serve instead of a local
// store: --server and --token, or $SHIPGATE_SERVER and $SHIPGATE_TOKEN.
type RemoteOptions struct {
	Server string
	Token  string
	g      *globals
	fs     *pflag.FlagSet
}

// AddFlags binds the options to fs.
func (o *RemoteOptions) AddFlags(fs *pflag.FlagSet, g *globals) {
	o.g, o.fs = g, fs
	fs.StringVar(&o.Server, "server", "", "shipgate serve URL: the server does the work and records it, instead of a local store (default: $SHIPGATE_SERVER)")
	fs.StringVar(&o.Token, "token", "", "API token for --server (default: $SHIPGATE_TOKEN, which keeps it out of the process list)")
}

// url is the server: --server, then $SHIPGATE_SERVER, then the config's
// server, unless --store or $SHIPGATE_STORE names a local ledger.
func (o *RemoteOptions) url() (string, error) {
	if o.Server != "" {
		return o.Server, nil
	}
	if u := o.g.getenv("SHIPGATE_SERVER"); u != "" {
		return u, nil
	}
	if f := o.fs.Lookup("store"); (f != nil && f.Changed) || o.g.getenv("SHIPGATE_STORE") != "" {
		return "", nil
	}
	cfg, err := o.g.config()
	return cfg.Server, err
}

// on reports whether the command runs against a server. A config that
// cannot be read counts as on, so that client reports it: a command never
// falls back to a local ledger because the config naming its server is
// broken.
func (o *RemoteOptions) on() bool {
	u, err := o.url()
	return u != "" || err != nil
}

// client returns the server's client; --store given too is an error.
func (o *RemoteOptions) client(so *StoreOptions) (*client.Client, error) {
	if so != nil && so.Path != "" && (o.Server != "" || o.g.getenv("SHIPGATE_SERVER") != "") {
		return nil, errors.New("--store and --server: give one (the server has its own store)")
	}
	u, tok, err := o.endpoint()
	if err != nil {
		return nil, err
	}
	return client.New(u, tok)
}

// endpoint is the server's URL and the token to give it: --token, then
// $SHIPGATE_TOKEN.
func (o *RemoteOptions) endpoint() (url, token string, err error) {
	u, err := o.url()
	if err != nil {
		return "", "", err
	}
	tok := o.Token
	if tok == "" {
		tok = o.g.getenv("SHIPGATE_TOKEN")
	}
	return u, tok, nil
}

// policyFlags choose the policies a local gate evaluates.
var policyFlags = []string{"policies", "data", "bundle", "verify-key", "timeout"}

// refusePolicyFlags refuses a policy flag given with --server: the server
// evaluates its own policies, and a flag that silently did nothing would
// let a pipeline believe a rule it added was checked.
func (o *RemoteOptions) refusePolicyFlags() error {
	for _, n := range policyFlags {
		if f := o.fs.Lookup(n); f != nil && f.Changed {
			return fmt.Errorf("--%s with --server: the server evaluates its own policies (shipgate serve --%s)", n, n)
		}
	}
	return nil
}

// body is what goes over the API for a document: its DSSE envelope when it
// is signed, so that the server verifies the signature against its own
// trusted keys and keeps the envelope in the ledger as a local store does;
// else its canonical form.
func body(d *evidence.Document) json.RawMessage {
	if d.Envelope != nil {
		return d.Envelope
	}
	return d.Canonical
}

// remotePlans reads a release's Plans from the server, for planRelease
// and releaseOfPlans, which read nothing else.
type remotePlans struct{ c *client.Client }

func (r remotePlans) Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error) {
	return r.c.Plans(ctx, releaseID)
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
		stored, err := db.AddEvidence(ctx, o.g.clock(), in)
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
		raws[i], sources[i] = body(d), d.Source
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
	db, err := o.Store.OpenReadOnly(ctx)
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
	db, err := so.OpenReadOnly(ctx)
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
		return db.ClosePostmortem(ctx, o.g.clock(), gate.StoreEvidence(doc), ids)
	}
	c, err := o.client(so)
	if err != nil {
		return nil, err
	}
	return c.ClosePostmortem(ctx, body(doc), ids)
}

// gateRemoteRun asks the server's gate: the evidence files are validated
// here and sent with the request, the server decides with its own clock
// and records the decision, and the answer is printed and mapped to the
// exit code as a local gate's would be.
func gateRemoteRun(ctx context.Context, s Streams, o *gateOptions) error {
	switch {
	case o.Now.IsSet():
		return errors.New("--now with --server: the server decides at its own time")
	case o.PrintIn:
		return errors.New("--print-input with --server: the input is built on the server; run it against a local store")
	case o.Actor != "":
		return errors.New("--actor with --server: the server records the token's name as the actor")
	}
	if err := o.Remote.refusePolicyFlags(); err != nil {
		return err
	}
	c, err := o.Remote.client(&o.Store)
	if err != nil {
		return err
	}
	rel, err := o.Release.resolve()
	if err != nil {
		return err
	}
	req := api.GateRequest{Release: rel, DryRun: o.DryRun}
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
			req.Evidence, req.Sources = append(req.Evidence, body(d)), append(req.Sources, d.Source)
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

// stepBackend is where a command that produces evidence and asks a gate
// (verify, watch) records and decides: the local ledger, or with --server
// the server, which verifies the signed evidence against its own trusted
// keys, decides at its own time and records the token's name as the
// actor.
type stepBackend struct {
	// gt decides locally. Remote, it carries only the validator the
	// command checks its own documents with: the engine and the ledger
	// are the server's, and decide goes there.
	gt     *gate.Gate
	plans  evidenceLister
	db     ledgerStore // local only
	remote *client.Client
}

func openStepBackend(ctx context.Context, p *PolicyOptions, ev *EvidenceOptions, so *StoreOptions, ro *RemoteOptions) (*stepBackend, error) {
	if !ro.on() {
		gt, db, err := openGate(ctx, p, ev, so)
		if err != nil {
			return nil, err
		}
		return &stepBackend{gt: gt, plans: db, db: db}, nil
	}
	if err := ro.refusePolicyFlags(); err != nil {
		return nil, err
	}
	c, err := ro.client(so)
	if err != nil {
		return nil, err
	}
	v, err := ev.Validator()
	if err != nil {
		return nil, err
	}
	return &stepBackend{gt: &gate.Gate{Validator: v}, plans: remotePlans{c}, remote: c}, nil
}

func (b *stepBackend) close() {
	if b.db != nil {
		b.db.Close()
	}
}

// add records doc, its signed envelope included; at is the local
// ledger's entry time (a server stamps its own).
func (b *stepBackend) add(ctx context.Context, doc *evidence.Document, at time.Time) error {
	if b.remote != nil {
		_, err := b.remote.AddEvidence(ctx, []json.RawMessage{body(doc)}, []string{doc.Source})
		return err
	}
	_, err := b.db.AddEvidence(ctx, at, []store.Evidence{gate.StoreEvidence(doc)})
	return err
}

// decide asks the gate of req; a server's error answer that came with its
// recorded (denying) decision returns both, as a local gate does. The
// client names the decision, so a retry after a lost answer is answered
// with the decision recorded first.
func (b *stepBackend) decide(ctx context.Context, req gate.Request) (*engine.Decision, error) {
	if b.remote == nil {
		return b.gt.Decide(ctx, req)
	}
	d, err := b.remote.Decide(ctx, req.Gate, api.GateRequest{Release: req.Release})
	var ce *client.Error
	if errors.As(err, &ce) && ce.Decision != nil {
		d = ce.Decision
	}
	return d, err
}

// rollbackLedger is where a rollback of this backend finds its target and
// records itself: the server when remote, else the local ledger.
func (b *stepBackend) rollbackLedger() rollbackLedger {
	if b.remote != nil {
		return remoteRollback{b.remote}
	}
	return localRollback{eng: b.gt.Engine, db: b.db, now: b.gt.Clock}
}
