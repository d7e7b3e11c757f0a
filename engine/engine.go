package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/schemas"
)

// DefaultTimeout bounds one evaluation when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Options configure Load.
type Options struct {
	// Policies holds .rego modules and OPA data files (data.json/data.yaml,
	// mounted by directory as OPA does). *_test.rego files are skipped.
	Policies fs.FS
	// Bundle, instead of Policies, is a policy set read from an OPA bundle
	// (policyset.ReadBundle verifies its signature); its modules and data
	// compile exactly as a directory's do, and decisions name its revision.
	Bundle *bundle.Bundle
	// Data, when non-nil, replaces data.shipgate.config.
	Data map[string]any
	// DataFiles are the files Data was read from (policyset.ReadData and
	// MergeData), in the order they apply; when the first is an overlay,
	// it applied over the policy set's own data file. They only place
	// errors: a problem in the data is reported at the file and line that
	// gave the value.
	DataFiles []policyset.DataFile
	// Recorded says the policy set is one the ledger recorded, loaded to
	// replay or audit the decisions made under it: its data is not checked
	// against this version's data schema, which may have changed since,
	// and the type checker is given none. A set loaded to decide a gate
	// never sets it.
	Recorded bool
	// Timeout bounds each evaluation.
	Timeout time.Duration
	// ServerKeys names the keys of shipgate servers (key id → a name for
	// people) and People binds people to the keys that sign for them
	// (person → key ids): both are added to the data's signing.servers and
	// signing.people, so the policy set a decision records names them. A
	// server gives its own key here; a project the keys of its
	// shipgate.yaml.
	ServerKeys map[string]string
	People     map[string][]string
}

// Engine evaluates gates against a compiled policy set. It is safe for
// concurrent use.
type Engine struct {
	docs     docCache
	consts   *folded
	queries  map[string]rego.PreparedEvalQuery
	settings *settings
	revision string
	bundle   string
	timeout  time.Duration
	// policy is the policy set as the ledger records it (PolicySet).
	policy *policyset.Record
	// set, compiler and store are the policy set as read and compiled,
	// kept so that policydiff can tell what another policy set changes.
	set      *policyset.Set
	compiler *ast.Compiler
	store    storage.Store
	// reads are what each rule reads of the data (DataReads), found once.
	readsOnce sync.Once
	reads     []RuleRead
	// catalog is the rule catalog, read at load (readCatalog).
	catalog Catalog
}

// PolicyError reports a policy set that does not load or compile, with the
// location of each problem.
type PolicyError struct {
	Errors ast.Errors
	Err    error
}

func (e *PolicyError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	var b strings.Builder
	for i, err := range e.Errors {
		if i > 0 {
			b.WriteString("\n")
		}
		if err.Location != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", err.Location.File, err.Location.Row, err.Location.Col)
		}
		fmt.Fprintf(&b, "%s: %s", err.Code, err.Message)
	}
	return b.String()
}

func (e *PolicyError) Unwrap() error { return e.Err }

// Capabilities returns the OPA capabilities policies are compiled with: this
// version's builtins without network access, so a decision depends on its
// input and data alone.
func Capabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(slices.Clone(caps.Builtins), func(b *ast.Builtin) bool {
		return b.Name == "http.send" || strings.HasPrefix(b.Name, "net.") || b.Name == "opa.runtime"
	})
	caps.AllowNet = []string{}
	return caps
}

// capabilities is Capabilities made once, for the compiler and the
// queries of every load: neither changes it.
var capabilities = sync.OnceValue(Capabilities)

// Load reads the policy set, from a directory or a bundle
// (policyset.Open), compiles and prepares it. It is the only place
// policies are compiled.
func Load(ctx context.Context, opts Options) (*Engine, error) {
	warmSchemas(opts.Recorded)
	set, err := policyset.Open(policyset.Source{Policies: opts.Policies, Bundle: opts.Bundle, Data: opts.Data, DataFiles: opts.DataFiles,
		ServerKeys: opts.ServerKeys, People: opts.People})
	if err != nil {
		return nil, &PolicyError{Err: err}
	}
	return load(ctx, set, opts)
}

// load compiles and prepares set; opts.Data is already in it.
func load(ctx context.Context, set *policyset.Set, opts Options) (*Engine, error) {
	docs := set.Data()
	cfg, err := set.Config(opts.Recorded)
	if err != nil {
		return nil, &PolicyError{Err: err}
	}
	st, err := parseSettings(cfg)
	if err != nil {
		return nil, &PolicyError{Err: set.Locate(err, cfg)}
	}

	modules := set.Modules()
	if len(modules) == 0 {
		return nil, &PolicyError{Err: errors.New("load policies: no .rego modules")}
	}
	if err := checkRuleFiles(modules); err != nil {
		return nil, err
	}
	in, err := inputTypeSchemaJSON()
	if err != nil {
		return nil, &PolicyError{Err: fmt.Errorf("input schema: %w", err)}
	}
	ss := ast.NewSchemaSet()
	ss.Put(ast.SchemaRootRef, in)
	// Rules that name the data schema in a METADATA annotation (the
	// library's config does) are type-checked against it; a recorded
	// policy set compiled under an older schema gets an open one.
	ds := map[string]any{}
	var dsJSON any = ds
	if !opts.Recorded {
		if ds, err = dataTypeSchema(); err != nil {
			return nil, &PolicyError{Err: fmt.Errorf("data schema: %w", err)}
		}
		if dsJSON, err = dataTypeSchemaJSON(); err != nil {
			return nil, &PolicyError{Err: fmt.Errorf("data schema: %w", err)}
		}
	}
	ss.Put(DataSchemaRef, dsJSON)
	compiler := compileModules(func() *ast.Compiler {
		return ast.NewCompiler().
			WithStrict(true).
			WithCapabilities(capabilities()).
			WithSchemas(ss).
			WithUseTypeCheckAnnotations(true).
			WithStageAfterID(ast.StageResolveRefs, ast.CompilerStageDefinition{
				Name: "UnshareImportTerms", MetricName: "compile_stage_unshare_import_terms", Stage: unshareImportTerms,
			})
	}, withoutComments(modules))
	if compiler.Failed() {
		return nil, &PolicyError{Errors: compiler.Errors}
	}

	store := inmem.NewFromObjectWithOpts(docs, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	e := &Engine{queries: map[string]rego.PreparedEvalQuery{}, settings: st, bundle: set.BundleRevision(), timeout: opts.Timeout,
		set: set, compiler: compiler, store: store}
	if e.timeout <= 0 {
		e.timeout = DefaultTimeout
	}
	if !opts.Recorded {
		if err := e.checkReads(ds); err != nil {
			return nil, err
		}
	}
	for _, gate := range Gates {
		pq, err := rego.New(
			rego.Query("data.shipgate.gates."+gate+".decision"),
			rego.Compiler(compiler),
			rego.Store(store),
			rego.StoreReadAST(true),
			rego.StrictBuiltinErrors(true),
			rego.Capabilities(capabilities()),
		).PrepareForEval(ctx)
		if err != nil {
			return nil, &PolicyError{Err: fmt.Errorf("prepare gate %s: %w", gate, err)}
		}
		e.queries[gate] = pq
	}
	if e.consts, err = fold(ctx, compiler, store, e.timeout, Gates); err != nil {
		return nil, &PolicyError{Err: err}
	}
	if e.catalog, err = readCatalog(ctx, compiler, store, e.consts.all); err != nil {
		return nil, err
	}
	e.revision, err = set.Revision()
	if err != nil {
		return nil, &PolicyError{Err: err}
	}
	if e.policy, err = set.Record(e.revision); err != nil {
		return nil, &PolicyError{Err: err}
	}
	return e, nil
}

// checkRuleFiles refuses a package under data.shipgate.rules that reports
// findings without declaring its rules: the decision library only gathers
// findings of packages with a rule at the gate being decided, so such
// findings could otherwise go unseen.
func checkRuleFiles(modules map[string]*ast.Module) error {
	prefix := ast.MustParseRef("data.shipgate.rules")
	type pkgInfo struct {
		declares bool
		finds    *ast.Location
	}
	pkgs := map[string]*pkgInfo{}
	for _, m := range modules {
		if !m.Package.Path.HasPrefix(prefix) || len(m.Package.Path) == len(prefix) {
			continue
		}
		key := m.Package.Path.String()
		p := pkgs[key]
		if p == nil {
			p = &pkgInfo{}
			pkgs[key] = p
		}
		for _, r := range m.Rules {
			switch r.Head.Name.String() {
			case "rules":
				p.declares = true
			case "findings", "obligations":
				if p.finds == nil {
					p.finds = r.Location
				}
			}
		}
	}
	var errs ast.Errors
	for key, p := range pkgs {
		if p.finds != nil && !p.declares {
			errs = append(errs, ast.NewError(ast.CompileErr, p.finds,
				"package %s reports findings but declares no rules: add rules[\"<id>\"] := {title, enforcement, gates, remediation}", strings.TrimPrefix(key, "data.")))
		}
	}
	if len(errs) > 0 {
		return &PolicyError{Errors: errs}
	}
	return nil
}

// PostmortemDue is how long after a violation opens its postmortem is due
// (data postmortem.due_days; 5 days by default).
func (e *Engine) PostmortemDue() time.Duration { return e.settings.due }

// DefaultVerificationDeadline is VerificationDeadline when the policy data
// sets none.
const DefaultVerificationDeadline = 30 * time.Minute

// VerificationDeadline is how long after a deploy finished an allowed
// verify decision may come (data verification.deadline; 30 minutes by
// default); a succeeded deploy without one by then skipped its smoke tests.
func (e *Engine) VerificationDeadline() time.Duration { return e.settings.deadline }

// Revision is the digest of the loaded policy set.
func (e *Engine) Revision() string { return e.revision }

// BundleRevision is the manifest revision of the bundle the policy set was
// loaded from; empty when it was loaded from a directory.
func (e *Engine) BundleRevision() string { return e.bundle }

// OpenViolation is an open production violation of the release's service,
// as the ledger knows it, for rules such as postmortem.overdue.
type OpenViolation struct {
	ID       string    `json:"id"`
	Release  string    `json:"release"`
	Gate     string    `json:"gate"`
	Rules    []string  `json:"rules"`
	Status   string    `json:"status"`
	OpenedAt time.Time `json:"openedAt"`
	Due      time.Time `json:"due"`
}

// Input is everything one evaluation depends on. Evaluating the same Input
// with the same policy set gives the same Decision.
type Input struct {
	Gate       string
	Release    Release
	Now        time.Time
	Evidence   []*evidence.Document
	Violations []OpenViolation
	// Values, when set, holds the evidence already converted for the
	// policies (a replay shares one between its engines); documents it
	// lacks are converted and added.
	Values *Values
	// Probe says the evidence is a question the caller made up, not
	// evidence of anything (automated rollback asks the policy with a
	// probe Monitoring): documents of the signed kinds count unsigned.
	// Grants are still authenticated. A gate never sets it, and a probe's
	// decision is never recorded.
	Probe bool
}

// prepared is an input made ready for the policies: its evidence bound to
// its release (what counts), at its time, with the freeze windows active
// then. Evaluate, InputDigest and InputDocument all start from it.
type prepared struct {
	in      Input
	now     time.Time
	counted []*evidence.Document
	freeze  []FreezeWindow
}

// prepare attaches each document's signers, binds the evidence of in to its
// release, recording in d what it counts and ignores, and finds the freeze
// windows active at in.Now: the one path from an Input to what the
// policies see.
func (e *Engine) prepare(in Input, d *Decision) (*prepared, error) {
	now := in.Now.UTC()
	in.Evidence = withSigners(in.Evidence)
	counted := e.bind(in, now, d)
	freeze, err := e.settings.calendar.active(now)
	if err != nil {
		return nil, fmt.Errorf("freeze calendar: %w", err)
	}
	return &prepared{in: in, now: now, counted: counted, freeze: freeze}, nil
}

// input prepares in and builds the Rego input, recording its digest in
// d.Input.
func (e *Engine) input(in Input, d *Decision) (ast.Value, error) {
	p, err := e.prepare(in, d)
	if err != nil {
		return nil, err
	}
	value, digest, err := e.buildInput(p, d.grantors())
	if err != nil {
		return nil, err
	}
	d.Input.Digest = digest
	return value, nil
}

// Evaluate decides the gate for in. It always returns a Decision; on a
// fault it also returns a *FaultError and the Decision denies.
func (e *Engine) Evaluate(ctx context.Context, in Input) (*Decision, error) {
	now := in.Now.UTC()
	d := &Decision{
		Gate:        in.Gate,
		Release:     in.Release,
		EvaluatedAt: now,
		Policy:      PolicyRef{Revision: e.revision, Bundle: e.bundle},
		Violations:  []Finding{}, Overridden: []Finding{}, Warnings: []Finding{},
		Obligations: []Obligation{}, Rules: []string{}, Ignored: []Ignored{}, Evidence: []EvidenceRef{},
	}
	q, ok := e.queries[in.Gate]
	if !ok {
		err := unknownGate(in.Gate)
		d.deny(ReasonUndefined, Finding{Rule: RuleEngineFault, Enforcement: Hard, Message: err.Error()})
		return d, &FaultError{Reason: ReasonUndefined, Err: err}
	}

	value, err := e.input(in, d)
	if err != nil {
		return e.fault(d, ReasonRuntimeError, err)
	}

	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	cache := e.consts.forGate(in.Gate).cache()
	rs, err := q.Eval(ctx, rego.EvalParsedInput(value), rego.EvalTime(now), keepAST, rego.EvalVirtualCache(cache))
	cache.release()
	if err != nil {
		return e.fault(d, classify(ctx, err), err)
	}
	if len(rs) == 0 {
		return e.fault(d, ReasonUndefined, fmt.Errorf("data.shipgate.gates.%s.decision is undefined", in.Gate))
	}
	if len(rs) > 1 || len(rs[0].Expressions) != 1 {
		return e.fault(d, ReasonConflict, fmt.Errorf("data.shipgate.gates.%s.decision has %d results", in.Gate, len(rs)))
	}
	t, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return e.fault(d, ReasonMalformed, fmt.Errorf("data.shipgate.gates.%s.decision: got %T", in.Gate, rs[0].Expressions[0].Value))
	}
	allow, err := d.fillTerm(t)
	if err != nil {
		return e.fault(d, ReasonMalformed, fmt.Errorf("data.shipgate.gates.%s.decision: %w", in.Gate, err))
	}
	if len(d.Rules) == 0 {
		return e.fault(d, ReasonNoRules, fmt.Errorf("no rule applies to gate %s", in.Gate))
	}
	if allow != (len(d.Violations) == 0) {
		return e.fault(d, ReasonConflict, fmt.Errorf("policy answered allow=%t with %d violations", allow, len(d.Violations)))
	}
	d.Allow, d.Reason = allow, ReasonAllow
	if !allow {
		d.Reason = ReasonDeny
	}
	e.requireEvidence(in.Gate, d)
	return d, nil
}

func (e *Engine) fault(d *Decision, reason string, err error) (*Decision, error) {
	d.deny(reason, Finding{
		Rule: RuleEngineFault, Enforcement: Hard,
		Message:     fmt.Sprintf("%s: %v", reason, err),
		Remediation: "fix the policy set or its data; the gate denies until it answers",
	})
	return d, &FaultError{Reason: reason, Err: err}
}

func classify(ctx context.Context, err error) string {
	var te *topdown.Error
	switch {
	case ctx.Err() != nil, errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ReasonDeadline
	case errors.As(err, &te) && te.Code == topdown.CancelErr:
		return ReasonDeadline
	case errors.As(err, &te) && te.Code == topdown.ConflictErr:
		return ReasonConflict
	}
	return ReasonRuntimeError
}

// requireEvidence denies when a kind the gate requires has no counted
// document. It names the documents that were offered but did not count.
func (e *Engine) requireEvidence(gate string, d *Decision) {
	have := map[string]bool{}
	for _, r := range d.Evidence {
		have[r.Kind] = true
	}
	for _, kind := range e.settings.required[gate] {
		if have[kind] {
			continue
		}
		reason, msg := ReasonEvidenceMissing, fmt.Sprintf("no %s evidence for release %s", kind, d.Release.ID)
		var why []string
		for _, ig := range d.Ignored {
			if ig.Kind == kind {
				why = append(why, ig.Message)
				if strings.HasPrefix(ig.Reason, "binding.") {
					reason = ReasonEvidenceBinding
				}
			}
		}
		if len(why) > 0 {
			msg += " counts: " + strings.Join(why, "; ")
		}
		if d.Reason == ReasonAllow || d.Reason == ReasonDeny {
			d.Reason = reason
		}
		d.deny(d.Reason, Finding{
			Rule: RuleEvidenceMissing, Title: "Required evidence is present", Enforcement: Hard,
			Message:     msg,
			Remediation: fmt.Sprintf("record %s evidence for this release, service, environment and commit", kind),
		})
	}
}

// bind keeps the evidence that belongs to in.Release and is fresh at now,
// records the rest in d.Ignored, and returns the counted documents ordered
// oldest first.
func (e *Engine) bind(in Input, now time.Time, d *Decision) []*evidence.Document {
	seen := map[string]bool{}
	var out []*evidence.Document
	r := in.Release
	trust := e.settings.trustFor(r.Service)
	d.SigningOff = !trust.required
	if in.Probe {
		probe := *trust
		probe.required = false
		trust = &probe
	}
	grantors := map[string]*Grantor{}
	for _, doc := range in.Evidence {
		if doc == nil || seen[doc.Digest] {
			continue
		}
		seen[doc.Digest] = true
		reason, msg := "", ""
		var grantor *Grantor
		switch {
		case doc.ReleaseID != r.ID:
			reason, msg = "binding.release", fmt.Sprintf("release %q is not %q", doc.ReleaseID, r.ID)
		case doc.Service != r.Service:
			reason, msg = "binding.service", fmt.Sprintf("service %q is not %q", doc.Service, r.Service)
		case doc.Environment != r.Environment:
			reason, msg = "binding.environment", fmt.Sprintf("environment %q is not %q", doc.Environment, r.Environment)
		case doc.Commit != r.Commit:
			reason, msg = "binding.commit", fmt.Sprintf("commit %s is not %s", short(doc.Commit), short(r.Commit))
		case r.Repository != "" && doc.Repository != r.Repository:
			reason, msg = "binding.repository", fmt.Sprintf("repository %q is not %q", doc.Repository, r.Repository)
		case doc.CollectedAt.After(now.Add(e.settings.skew)):
			reason, msg = "freshness.future", fmt.Sprintf("collected at %s, after the evaluation time %s", doc.CollectedAt.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
		default:
			if field, at, ok := reportedLater(doc, e.settings.skew); ok {
				reason, msg = "evidence.inconsistent", fmt.Sprintf("collected at %s, before the %s it reports (%s): a record cannot precede what it records",
					doc.CollectedAt.UTC().Format(time.RFC3339), field, at.UTC().Format(time.RFC3339))
			} else if max, ok := e.settings.freshness[doc.Kind]; ok && now.Sub(doc.CollectedAt) > max {
				reason, msg = "freshness.stale", fmt.Sprintf("collected %s before the evaluation, older than the %s limit", now.Sub(doc.CollectedAt).Round(time.Second), max)
			} else if at, ok := dataTime(doc, "approvedAt"); ok && doc.Kind == "Approval" && now.Sub(at) > max && max > 0 {
				reason, msg = "freshness.stale", fmt.Sprintf("approved %s before the evaluation, older than the %s limit", now.Sub(at).Round(time.Second), max)
			}
			if reason != "" {
				break
			}
			grantor, reason, msg = trust.judge(doc)
		}
		if reason != "" {
			d.Ignored = append(d.Ignored, Ignored{Kind: doc.Kind, Digest: doc.Digest, Source: doc.Source, Reason: reason,
				Message: fmt.Sprintf("%s %s (%s): %s", doc.Kind, short(doc.Digest), doc.Source, msg)})
			continue
		}
		if grantor != nil {
			grantors[doc.Digest] = grantor
		}
		out = append(out, doc)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].CollectedAt.Equal(out[j].CollectedAt) {
			return out[i].CollectedAt.Before(out[j].CollectedAt)
		}
		return out[i].Digest < out[j].Digest
	})
	out = separateDuties(in.Gate, out, grantors, d)
	d.Evidence = slices.Grow(d.Evidence, len(out))
	for _, doc := range out {
		d.Evidence = append(d.Evidence, EvidenceRef{Kind: doc.Kind, Digest: doc.Digest, Source: doc.Source, Grantor: grantors[doc.Digest]})
	}
	return out
}

// reportedTimes are the data fields, by kind, that say when what a
// document records happened; a Plan's window is planned, not reported.
var reportedTimes = []string{"startedAt", "finishedAt", "approvedAt", "createdAt", "completedAt", "window.start", "window.end"}

// reportedLater finds a time the document reports after it was collected
// (beyond the clock skew allowed): a document written before the event it
// records is made up, and does not count.
func reportedLater(doc *evidence.Document, skew time.Duration) (string, time.Time, bool) {
	if doc.Kind == "Plan" {
		return "", time.Time{}, false
	}
	for _, f := range reportedTimes {
		if at, ok := dataTime(doc, f); ok && at.After(doc.CollectedAt.Add(skew)) {
			return f, at, true
		}
	}
	return "", time.Time{}, false
}

// dataTime reads the RFC 3339 time at the dotted path under data.
func dataTime(doc *evidence.Document, path string) (time.Time, bool) {
	var v any = doc.Value["data"]
	for rest, more := path, true; more; {
		var k string
		k, rest, more = strings.Cut(rest, ".")
		m, ok := v.(map[string]any)
		if !ok {
			return time.Time{}, false
		}
		v = m[k]
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

func short(s string) string {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// docCache keeps each evidence document's AST form by digest: documents
// are immutable, and a server or a replay evaluates the same ones again and
// again. It is bounded; when full it starts over.
type docCache struct {
	mu sync.Mutex
	m  map[docKey]ast.Object
	// unbounded caches never start over (Values).
	unbounded bool
}

const docCacheSize = 4096

func (c *docCache) value(doc *evidence.Document) (ast.Object, error) {
	key := cacheKey(doc)
	c.mu.Lock()
	obj, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return obj, nil
	}
	v, err := ast.InterfaceToValue(doc.Value)
	if err != nil {
		return nil, fmt.Errorf("evidence %s: %w", doc.Source, err)
	}
	obj, ok = v.(ast.Object)
	if !ok {
		return nil, fmt.Errorf("evidence %s: not an object", doc.Source)
	}
	obj.Insert(ast.InternedTerm("digest"), ast.StringTerm(doc.Digest))
	obj.Insert(ast.InternedTerm("signed_by"), signedBy(doc))
	c.mu.Lock()
	if c.m == nil || (!c.unbounded && len(c.m) >= docCacheSize) {
		c.m = make(map[docKey]ast.Object)
	}
	c.m[key] = obj
	c.mu.Unlock()
	return obj, nil
}

// digestInput is what the input digest commits to. Evidence is named by its
// own digest, so the documents need not be canonicalised again.
type digestInput struct {
	Gate       string          `json:"gate"`
	Now        string          `json:"now"`
	Release    Release         `json:"release"`
	Evidence   []string        `json:"evidence"`
	Freeze     []FreezeWindow  `json:"freeze"`
	Violations []OpenViolation `json:"violations"`
	// Signers names the signers of signed documents by digest; absent when
	// none is signed, so unsigned inputs keep their digests.
	Signers map[string][]string `json:"signers,omitempty"`
}

// kindKeys are the evidence kinds as input.evidence keys, made once: the
// input of every decision has them all.
var kindKeys = func() []*ast.Term {
	keys := make([]*ast.Term, len(schemas.Kinds))
	for i, k := range schemas.Kinds {
		keys[i] = ast.StringTerm(k)
	}
	return keys
}()

// buildInput assembles the Rego input as an AST value, so OPA does not
// convert it again, and its digest.
func (e *Engine) buildInput(p *prepared, grantors map[string]*Grantor) (ast.Value, string, error) {
	in, now, counted, freeze := p.in, p.now, p.counted, p.freeze
	// byKind holds the documents of schemas.Kinds[i] at i; a kind that is
	// not one of them is not in the input.
	byKind := make([][]*ast.Term, len(schemas.Kinds))
	for _, doc := range counted {
		obj, err := e.value(in.Values, doc)
		if err != nil {
			return nil, "", err
		}
		if g := grantors[doc.Digest]; g != nil {
			// The cached form is shared (Values serves several engines,
			// whose data may bind other people): mark a copy.
			obj = withMember(obj, authenticatedAs, ast.StringTerm(g.Person))
		}
		if k := slices.Index(schemas.Kinds, doc.Kind); k >= 0 {
			byKind[k] = append(byKind[k], ast.NewTerm(obj))
		}
	}
	kinds := make([][2]*ast.Term, len(kindKeys))
	for i, k := range kindKeys {
		kinds[i] = [2]*ast.Term{k, ast.ArrayTerm(byKind[i]...)}
	}
	ev := ast.NewObject(kinds...)
	windows := make([]*ast.Term, len(freeze))
	for i, w := range freeze {
		windows[i] = ast.ObjectTerm(
			ast.Item(ast.StringTerm("id"), ast.StringTerm(w.ID)),
			ast.Item(ast.StringTerm("name"), ast.StringTerm(w.Name)),
			ast.Item(ast.StringTerm("reason"), ast.StringTerm(w.Reason)),
			ast.Item(ast.StringTerm("start"), ast.StringTerm(w.Start.Format(time.RFC3339))),
			ast.Item(ast.StringTerm("end"), ast.StringTerm(w.End.Format(time.RFC3339))),
		)
	}
	vios := make([]*ast.Term, len(in.Violations))
	for i, v := range in.Violations {
		rules := make([]*ast.Term, len(v.Rules))
		for j, r := range v.Rules {
			rules[j] = ast.StringTerm(r)
		}
		vios[i] = ast.ObjectTerm(
			ast.Item(ast.StringTerm("id"), ast.StringTerm(v.ID)),
			ast.Item(ast.StringTerm("release"), ast.StringTerm(v.Release)),
			ast.Item(ast.StringTerm("gate"), ast.StringTerm(v.Gate)),
			ast.Item(ast.StringTerm("rules"), ast.ArrayTerm(rules...)),
			ast.Item(ast.StringTerm("status"), ast.StringTerm(v.Status)),
			ast.Item(ast.StringTerm("openedAt"), ast.StringTerm(v.OpenedAt.UTC().Format(time.RFC3339))),
			ast.Item(ast.StringTerm("due"), ast.StringTerm(v.Due.UTC().Format(time.RFC3339))),
		)
	}
	rel := ast.NewObject(
		ast.Item(ast.StringTerm("id"), ast.StringTerm(in.Release.ID)),
		ast.Item(ast.StringTerm("service"), ast.StringTerm(in.Release.Service)),
		ast.Item(ast.StringTerm("environment"), ast.StringTerm(in.Release.Environment)),
		ast.Item(ast.StringTerm("commit"), ast.StringTerm(in.Release.Commit)),
		ast.Item(ast.StringTerm("repository"), ast.StringTerm(in.Release.Repository)),
	)
	input := ast.NewObject(
		ast.Item(ast.StringTerm("gate"), ast.StringTerm(in.Gate)),
		ast.Item(ast.StringTerm("now"), ast.StringTerm(now.Format(time.RFC3339Nano))),
		ast.Item(ast.StringTerm("release"), ast.NewTerm(rel)),
		ast.Item(ast.StringTerm("evidence"), ast.NewTerm(ev)),
		ast.Item(ast.StringTerm("facts"), ast.ObjectTerm(
			ast.Item(ast.StringTerm("freeze"), ast.ObjectTerm(
				ast.Item(ast.StringTerm("active"), ast.BooleanTerm(len(freeze) > 0)),
				ast.Item(ast.StringTerm("windows"), ast.ArrayTerm(windows...)),
			)),
		)),
		ast.Item(ast.StringTerm("violations"), ast.ArrayTerm(vios...)),
	)
	digest, err := inputDigest(p)
	if err != nil {
		return nil, "", err
	}
	return input, digest, nil
}

var authenticatedAs = ast.InternedTerm("authenticated_as")

// withMember is a copy of obj with k set to v. The copy shares obj's other
// members, which nothing changes: obj itself goes into inputs unmarked.
func withMember(obj ast.Object, k, v *ast.Term) ast.Object {
	items := make([][2]*ast.Term, 0, obj.Len()+1)
	obj.Foreach(func(key, value *ast.Term) {
		if !key.Equal(k) {
			items = append(items, [2]*ast.Term{key, value})
		}
	})
	return ast.NewObject(append(items, [2]*ast.Term{k, v})...)
}

// inputDigest is the digest of the input buildInput builds.
func inputDigest(p *prepared) (string, error) {
	in, now, counted, freeze := p.in, p.now, p.counted, p.freeze
	dig := digestInput{Gate: in.Gate, Now: now.Format(time.RFC3339Nano), Release: in.Release,
		Evidence: make([]string, 0, len(counted)), Freeze: freeze, Violations: in.Violations}
	if dig.Freeze == nil {
		dig.Freeze = []FreezeWindow{}
	}
	if dig.Violations == nil {
		dig.Violations = []OpenViolation{}
	}
	for _, doc := range counted {
		dig.Evidence = append(dig.Evidence, doc.Digest)
		if len(doc.SignedBy) > 0 {
			if dig.Signers == nil {
				dig.Signers = map[string][]string{}
			}
			dig.Signers[doc.Digest] = doc.SignedBy
		}
	}
	digest, err := dig.digest()
	if err != nil {
		return "", fmt.Errorf("input digest: %w", err)
	}
	return digest, nil
}

// InputDigest is the digest Evaluate would record for in (Decision.Input),
// computed without building the input or evaluating the policies. With
// the policy revision it identifies a decision: evaluation is
// deterministic, so the same policy set given an input with this digest
// answers as it did before (replay uses it to reuse recorded decisions).
func (e *Engine) InputDigest(in Input) (string, error) {
	if _, ok := e.queries[in.Gate]; !ok {
		return "", unknownGate(in.Gate)
	}
	p, err := e.prepare(in, &Decision{})
	if err != nil {
		return "", err
	}
	return inputDigest(p)
}

// Ref names the policy set as its decisions do (Decision.Policy).
func (e *Engine) Ref() PolicyRef { return PolicyRef{Revision: e.revision, Bundle: e.bundle} }

func nonNil(fs []Finding) []Finding {
	for i := range fs {
		if fs[i].Evidence == nil {
			fs[i].Evidence = []string{}
		}
	}
	return fs
}

// InputDocument returns, as JSON, the input that Evaluate would give the
// policies for in: the document to pass to `opa eval -i` when debugging a
// policy.
func (e *Engine) InputDocument(in Input) ([]byte, error) {
	v, err := e.input(in, &Decision{})
	if err != nil {
		return nil, err
	}
	j, err := ast.JSON(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(j)
}
