package cmd

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/collect/incidents"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/store"
)

func init() { addCommand(newCollectCmd) }

// newCollectCmd is the parent of the collectors: each subcommand reads one
// outside source and records what it found as signed evidence.
func newCollectCmd(s Streams, g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "collect",
		Short: "Read an outside source (incidents, ...) and record it as signed evidence",
	}
	c.AddCommand(newCollectIncidentsCmd(s, g), newCollectErrorBudgetCmd(s, g))
	return c
}

// collectIncidentsOptions are the flags of `shipgate collect incidents`.
type collectIncidentsOptions struct {
	From    string
	Map     string
	Release ReleaseOptions
	Actor   string
	Timeout time.Duration
	Ev      EvidenceOptions
	Sign    SigningOptions
	Store   StoreOptions
	Output  OutputOptions
}

func newCollectIncidentsCmd(s Streams, g *globals) *cobra.Command {
	o := &collectIncidentsOptions{}
	c := &cobra.Command{
		Use:   "incidents --from URL|FILE --map FILE --release ID",
		Short: "Read an incident list (status page API or file), map it with CEL, record IncidentStatus",
		Long: `Read a JSON incident list from --from (an http(s) URL, fetched with GET, or
a file), map it to incidents with the CEL expressions of the --map file
(docs/collect.md), and record the result as IncidentStatus evidence of the
release, signed like everything shipgate records.

An unreachable source, a non-2xx answer, a body that is not JSON, a CEL
expression that fails, and a mapped field IncidentStatus does not allow are
all errors: exit 2, and nothing is recorded. A source that answers with an
empty list records "no incidents"; nothing else does.

The release's service, environment and commit come from its Plan in the
ledger, which must be recorded first.

Exit codes: 0 recorded, 2 error.`,
		Example: `  shipgate collect incidents --release lv-2026-11-26.1 \
    --from https://status.localizevideos.com/api/v2/incidents.json \
    --map examples/localizevideos/statuspage/incidents-map.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return collectIncidentsRun(c.Context(), s, g, o)
		},
	}
	f := c.Flags()
	o.Release.AddFlags(f, g)
	f.StringVar(&o.From, "from", "", "incident list: an http(s) URL or a JSON file (required)")
	f.StringVar(&o.Map, "map", "", "mapping file: CEL expressions from the list to IncidentStatus incidents (required)")
	f.StringVar(&o.Actor, "actor", "", "who collects (default: $SHIPGATE_ACTOR, $GITHUB_ACTOR, $GITLAB_USER_LOGIN or $USER)")
	f.DurationVar(&o.Timeout, "timeout", incidents.DefaultTimeout, "limit for reading an HTTP source")
	_ = c.MarkFlagRequired("release")
	_ = c.MarkFlagRequired("from")
	_ = c.MarkFlagRequired("map")
	o.Ev.AddFlags(f)
	o.Sign.AddFlags(f)
	o.Store.AddFlags(f, g)
	o.Output.AddFlags(f)
	return c
}

func collectIncidentsRun(ctx context.Context, s Streams, g *globals, o *collectIncidentsOptions) error {
	if err := o.Output.validate(); err != nil {
		return err
	}
	b, err := os.ReadFile(o.Map)
	if err != nil {
		return fmt.Errorf("read mapping: %w", err)
	}
	m, err := incidents.Load(o.Map, b)
	if err != nil {
		return err
	}
	rel, err := o.Release.resolve()
	if err != nil {
		return err
	}
	v, err := o.Ev.Validator()
	if err != nil {
		return err
	}
	signer, err := o.Sign.Signer(s.Err)
	if err != nil {
		return err
	}
	if v, err = trustSigner(v, &o.Ev, signer); err != nil {
		return err
	}
	db, err := o.Store.Open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if rel, err = releaseOfPlans(ctx, db, v, rel); err != nil {
		return err
	}
	host, _ := os.Hostname()
	env := runner.Envelope{ReleaseID: rel.ID, Service: rel.Service, Environment: rel.Environment,
		Repository: rel.Repository, Commit: rel.Commit, Version: Version, Host: host, Actor: actor(o.Actor, g)}

	fetchCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	nothing := "nothing recorded: an incident list that cannot be read is not \"no incidents\""
	body, err := incidents.Fetch(fetchCtx, &http.Client{Timeout: o.Timeout}, o.From)
	if err != nil {
		return fmt.Errorf("%w; %s", err, nothing)
	}
	list, err := m.Apply(ctx, body)
	if err != nil {
		return fmt.Errorf("%s: %w; %s", o.From, err, nothing)
	}
	doc, err := incidentStatus(ctx, v, signer, env, o.From, list, time.Now())
	if err != nil {
		return fmt.Errorf("%s: the mapped incidents are not valid IncidentStatus evidence: %w; %s", o.From, err, nothing)
	}
	if _, err := db.AddEvidence(ctx, time.Now(), []store.Evidence{gate.StoreEvidence(doc)}); err != nil {
		return fmt.Errorf("record IncidentStatus: %w", err)
	}
	fmt.Fprintf(s.Err, "shipgate: recorded IncidentStatus for release %s @ %s: %s signed by %s\n",
		doc.ReleaseID, shortHex(doc.Commit), doc.Digest, strings.Join(doc.SignedBy, ", "))
	if o.Output.Format == "json" {
		return writeJSON(s.Out, map[string]any{"digest": doc.Digest, "signedBy": doc.SignedBy, "document": doc.Value})
	}
	open := 0
	for _, inc := range list {
		if inc.Status != "resolved" {
			open++
		}
	}
	fmt.Fprintf(s.Out, "%d incidents from %s, %d not resolved\n", len(list), o.From, open)
	for _, inc := range list {
		fmt.Fprintf(s.Out, "  %-10s %s %-9s %s\n", inc.ID, inc.Severity, inc.Status, inc.Title)
	}
	return nil
}

// incidentStatus is the signed IncidentStatus document of list, decoded
// and validated.
func incidentStatus(ctx context.Context, v *evidence.Validator, signer *evidence.Signer, env runner.Envelope, source string, list []incidents.Incident, at time.Time) (*evidence.Document, error) {
	b, err := runner.Document(env, "IncidentStatus", at, map[string]any{"source": source, "incidents": list})
	if err != nil {
		return nil, err
	}
	return seal(ctx, v, signer, "shipgate collect incidents", b)
}
