package options

import (
	"context"
	"io"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/collect"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/release"
	"github.com/localizevideos/shipgate/store"
)

// Release names the release a command is about (project.Release).
type Release struct{ project.Release }

// AddFlags binds the options to fs.
func (o *Release) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.Settings = g
	NameVar(fs, &o.ID, "release", "", "release id (required)")
	NameVar(fs, &o.Service, "service", "", "service (default: the config's, or the release's Plan)")
	NameVar(fs, &o.Environment, "environment", "", "environment (default: the config's, or the release's Plan)")
	CommitVar(fs, &o.Commit, "commit", "", "commit (default: from the release's Plan)")
}

// ActorHelp is how an --actor flag finds its default.
const ActorHelp = " (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)"

// ActorVar defines --actor, a person's name; who says who it names
// ("who asks").
func ActorVar(fs *pflag.FlagSet, p *string, who string) {
	PersonVar(fs, p, "actor", "", who+ActorHelp)
}

// ViolationFilter chooses the violations a list shows
// (project.ViolationFilter).
type ViolationFilter struct{ project.ViolationFilter }

// AddFlags binds the options to fs.
func (o *ViolationFilter) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Open, "open", false, "only open ones")
	fs.BoolVar(&o.Closed, "closed", false, "only closed ones")
	NameVar(fs, &o.Service, "service", "", "only this service's")
	NameVar(fs, &o.Release, "release", "", "only this release's")
}

// Ledger chooses the ledger a command reads or records in (a local
// store, or a server) and how it prints.
type Ledger struct {
	Store  Store
	Remote Remote
	Output Output
}

// AddFlags binds the options to fs.
func (o *Ledger) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.Store.AddFlags(fs, g)
	o.Remote.AddFlags(fs, g)
	o.Output.AddFlags(fs)
}

// Open opens the ledger's backend (project.Remote.Backend).
func (o *Ledger) Open(ctx context.Context, bo BackendOptions) (release.Backend, error) {
	return o.Remote.Backend(ctx, &o.Store.Store, bo)
}

// Step are the flags every release step that records evidence it signs
// shares (run, verify, watch, rollback): the release, who runs the step,
// and where it records and decides. The command marks --release
// required.
type Step struct {
	Release Release
	Actor   string
	Policy  Policy
	Ev      Evidence
	Sign    Signing
	Store   Store
	Remote  Remote
}

// AddFlags binds the options to fs; who describes --actor.
func (o *Step) AddFlags(fs *pflag.FlagSet, g *Globals, who string) {
	o.Release.AddFlags(fs, g)
	ActorVar(fs, &o.Actor, who)
	o.Policy.AddFlags(fs, g)
	o.Ev.AddFlags(fs)
	o.Sign.AddFlags(fs)
	o.Store.AddFlags(fs, g)
	o.Remote.AddFlags(fs, g)
}

// Open opens the step's backend and completes rel from its Plans
// (project.Step.Open).
func (o *Step) Open(ctx context.Context, errOut io.Writer, rel engine.Release) (release.Backend, *evidence.Signer, engine.Release, error) {
	return project.Step{Store: &o.Store.Store, Remote: &o.Remote.Remote, Policy: &o.Policy.Policy, Ev: &o.Ev.Evidence, Sign: &o.Sign.Signing}.Open(ctx, errOut, rel)
}

// Record are the flags of a command that records evidence it produced
// itself: the release, the evidence checks, the signing key and the
// ledger. The command marks --release required.
type Record struct {
	Release Release
	Ev      Evidence
	Sign    Signing
	Store   Store
}

// AddFlags binds the options to fs.
func (o *Record) AddFlags(fs *pflag.FlagSet, g *Globals) {
	o.Release.AddFlags(fs, g)
	o.Ev.AddFlags(fs)
	o.Sign.AddFlags(fs)
	o.Store.AddFlags(fs, g)
}

// Open opens the recorder of what version records, and the ledger, which
// the caller closes (project.Record.Open).
func (o *Record) Open(ctx context.Context, errOut io.Writer, version string) (*collect.Recorder, store.Store, error) {
	return project.Record{Release: &o.Release.Release, Ev: &o.Ev.Evidence, Sign: &o.Sign.Signing, Store: &o.Store.Store}.Open(ctx, errOut, version)
}

// Checks are the smoke checks shipgate verify runs (project.Checks).
type Checks struct{ project.Checks }

// AddFlags binds the options to fs.
func (o *Checks) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.File, "checks", "", "checks file, YAML (required)")
	fs.StringVar(&o.Base, "base", "", "base URL the steps are relative to (default: the file's base)")
	fs.StringArrayVar(&o.Vars, "var", nil, "K=V: a var for the checks file, over the file's vars (repeatable)")
}
