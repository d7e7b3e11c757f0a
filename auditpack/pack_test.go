package auditpack_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/bundle"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/replay/replaytest"
	"github.com/localizevideos/shipgate/report"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed pack in testdata/")

func validator(tb testing.TB) *evidence.Validator {
	tb.Helper()
	reg, err := schemas.Compile()
	if err != nil {
		tb.Fatal(err)
	}
	// The example evidence is signed with the EXAMPLE keys.
	return evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring())
}

// exampleData is the default policy data with the examples' overlay: the
// EXAMPLE keys the example evidence is signed with trusted, alice and bob
// bound to theirs.
func exampleData(tb testing.TB) map[string]any {
	return policyset.MergeData(policytest.Data(tb), keys.Overlay())
}

// fixture is a ledger recorded through the real gate into SQLite, with a
// checkpoint key and the policy set that decided, as a bundle.
type fixture struct {
	db      *sqlite.DB
	steps   []replaytest.Step
	priv    ed25519.PrivateKey
	pub     ed25519.PublicKey
	bundle  *bundleT
	created time.Time
}

type (
	bundleT    = bundle.Bundle
	reportRule = report.RuleOutcome
)

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  string
)

// ledgerFixture records 8 releases (deploy, verify and complete gates,
// dry runs, denials without approval) plus a verify gate denied for
// missing evidence, once for the whole package.
func ledgerFixture(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() {
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "auditpack")
		if err != nil {
			fixErr = err.Error()
			return
		}
		db, err := sqlite.Open(ctx, filepath.Join(dir, "ledger.db"))
		if err != nil {
			fixErr = err.Error()
			return
		}
		eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS, Data: exampleData(t)})
		if err != nil {
			fixErr = err.Error()
			return
		}
		g := &gate.Gate{Engine: eng, Validator: validator(t), Store: db}
		f := &fixture{db: db, created: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
		f.steps = replaytest.Record(t, g, 8)
		last := f.steps[len(f.steps)-1]
		d, err := g.Decide(ctx, gate.Request{Gate: "verify", Release: engine.Release{ID: last.Release}, Now: last.Now.Add(time.Hour), Actor: "dave"})
		if err != nil || d.Allow {
			fixErr = "verify without evidence did not deny"
			return
		}
		f.steps = append(f.steps, replaytest.Step{Gate: "verify", Release: last.Release, Now: last.Now.Add(time.Hour), Decision: d})
		// A release no Plan names is denied before any policy runs: there
		// is nothing to replay.
		d, err = g.Decide(ctx, gate.Request{Gate: "deploy", Release: engine.Release{ID: "lv-unplanned"}, Now: last.Now.Add(2 * time.Hour), Actor: "dave"})
		if err != nil || d.Allow || d.Input.Digest != "" {
			fixErr = "a release without a Plan was evaluated"
			return
		}
		f.steps = append(f.steps, replaytest.Step{Gate: "deploy", Release: "lv-unplanned", Now: last.Now.Add(2 * time.Hour), Decision: d})
		f.pub, f.priv, _ = ed25519.GenerateKey(nil)
		b, err := engine.BuildBundle(ctx, engine.BundleOptions{Policies: policies.FS, Data: exampleData(t)})
		if err != nil {
			fixErr = err.Error()
			return
		}
		f.bundle = b
		fix = f
	})
	if fix == nil {
		t.Fatalf("fixture: %s", fixErr)
	}
	return fix
}

// export writes a pack of the fixture's ledger.
func (f *fixture) export(t *testing.T, opts auditpack.ExportOptions) []byte {
	t.Helper()
	ctx := context.Background()
	head, err := f.db.Verify(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	cp := ledger.NewCheckpoint("shipgate:test", head, f.created, f.priv)
	opts.Checkpoint, opts.PublicKey, opts.Created = &cp, f.pub, f.created
	if opts.EvidenceKeys == nil {
		// The pack carries the EXAMPLE keys its evidence is signed with.
		opts.EvidenceKeys = keys.Keyring()
	}
	if opts.Policies == nil {
		opts.Policies = []*bundleT{f.bundle}
	}
	var buf bytes.Buffer
	if _, err := auditpack.Export(ctx, f.db, &buf, opts); err != nil {
		t.Fatalf("Export() = %v", err)
	}
	return buf.Bytes()
}

func check(t *testing.T, pack []byte, pub ed25519.PublicKey) *auditpack.Result {
	t.Helper()
	a, err := auditpack.Read(bytes.NewReader(pack), auditpack.Limits{})
	if err != nil {
		t.Fatalf("Read() = %v", err)
	}
	res, err := auditpack.Check(context.Background(), a, auditpack.Options{Validator: validator(t), PublicKey: pub})
	if err != nil {
		t.Fatalf("Check() = %v", err)
	}
	return res
}

// An untouched pack of the whole ledger replays clean: every decision the
// policies made matches bit for bit, and each is explained.
func TestUntouchedPackReplaysClean(t *testing.T) {
	f := ledgerFixture(t)
	pack := f.export(t, auditpack.ExportOptions{})
	res := check(t, pack, f.pub)
	if !res.OK || len(res.Tampered) != 0 {
		t.Fatalf("Check() OK = %v, tampered %v; want a clean pack", res.OK, res.Tampered)
	}
	if res.Counts.Decisions != len(f.steps) {
		t.Fatalf("Check() = %d decisions; want %d", res.Counts.Decisions, len(f.steps))
	}
	if res.Counts.Match != len(f.steps)-1 || res.Counts.NotReplayed != 1 || res.Counts.Differs != 0 {
		t.Errorf("Check() counts = %+v; want %d to match and the unplanned release not replayed", res.Counts, len(f.steps)-1)
	}
	if !res.Checkpoint.KeyPinned || !res.Checkpoint.Valid {
		t.Errorf("checkpoint = %+v; want pinned and valid", res.Checkpoint)
	}
	var allowed, denied int
	for i, d := range res.Decisions {
		want := f.steps[i].Decision
		if want.Release.ID == "lv-unplanned" {
			if d.ID != want.ID || d.Status != auditpack.NotReplayed || d.Why == "" {
				t.Errorf("decision %d = %s %s (%s); want %s not replayed, with why", i, d.ID, d.Status, d.Why, want.ID)
			}
			continue
		}
		if d.ID != want.ID || d.Status != auditpack.Match {
			t.Fatalf("decision %d = %s %s (%s); want %s to match", i, d.ID, d.Status, d.Why, want.ID)
		}
		ex := d.Explanation
		if ex == nil || ex.Summary == "" {
			t.Fatalf("decision %s has no explanation", d.ID)
		}
		if d.Allow {
			allowed++
			// Every rule that held is attributed, and the approval
			// satisfied at least one rule of the deploy gate.
			if !ex.Attributed {
				t.Errorf("allowed %s not attributed: %s", d.ID, ex.Note)
			}
			if d.Gate == "deploy" && !slices.ContainsFunc(ex.Rules, func(r reportRule) bool { return len(r.SatisfiedBy) > 0 }) {
				t.Errorf("allowed deploy %s: no rule attributed to a document: %+v", d.ID, ex.Rules)
			}
		} else {
			denied++
			// A denial names what failed and how to make it pass.
			if !slices.ContainsFunc(ex.Rules, func(r reportRule) bool {
				return r.Outcome == "violated" && r.Detail != "" && r.Remediation != ""
			}) {
				t.Errorf("denied %s: no violated rule with detail and remediation: %+v", d.ID, ex.Rules)
			}
		}
	}
	if allowed == 0 || denied < 2 {
		t.Errorf("fixture has %d allowed and %d denied decisions; want both", allowed, denied)
	}

	// Without a pinned key, the pack's own key is used, and said so.
	res = check(t, pack, nil)
	if !res.OK || res.Checkpoint.KeyPinned {
		t.Errorf("unpinned Check() OK = %v, pinned = %v; want OK and not pinned", res.OK, res.Checkpoint.KeyPinned)
	}
	if *update {
		if err := os.WriteFile("testdata/fuzz-seed.tar.gz", f.export(t, auditpack.ExportOptions{Release: f.steps[0].Release}), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A pack selects by release and by time.
func TestExportSelects(t *testing.T) {
	f := ledgerFixture(t)
	rel := f.steps[len(f.steps)-1].Release
	res := check(t, f.export(t, auditpack.ExportOptions{Release: rel}), f.pub)
	var want int
	for _, s := range f.steps {
		if s.Release == rel {
			want++
		}
	}
	if !res.OK || res.Counts.Decisions != want {
		t.Errorf("--release %s: OK %v, %d decisions; want %d", rel, res.OK, res.Counts.Decisions, want)
	}
	since := f.steps[len(f.steps)/2].Decision.EvaluatedAt
	res = check(t, f.export(t, auditpack.ExportOptions{Since: since}), f.pub)
	want = 0
	for _, s := range f.steps {
		if !s.Decision.EvaluatedAt.Before(since) {
			want++
		}
	}
	if !res.OK || res.Counts.Decisions != want || want == 0 {
		t.Errorf("--since %s: OK %v, %d decisions; want %d", since, res.OK, res.Counts.Decisions, want)
	}
}

// Every edit of a pack is detected, whether or not the editor also updated
// the manifest's hashes.
func TestTamperingDetected(t *testing.T) {
	f := ledgerFixture(t)
	pack := f.export(t, auditpack.ExportOptions{})
	orig, err := auditpack.Read(bytes.NewReader(pack), auditpack.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	first := func(prefix string) string {
		for _, n := range orig.Names {
			if strings.HasPrefix(n, prefix) {
				return n
			}
		}
		t.Fatalf("no %s file", prefix)
		return ""
	}
	flip := func(name string) func(map[string][]byte) {
		return func(files map[string][]byte) {
			b := bytes.Clone(files[name])
			i := bytes.Index(b, []byte(`"20`)) + 3 // a digit of a year: still valid JSON
			b[i] = '1'
			files[name] = b
		}
	}
	cases := []struct {
		name     string
		edit     func(map[string][]byte)
		rehash   bool // also update the manifest
		key      ed25519.PublicKey
		wantFile string
	}{
		{name: "evidence byte", edit: flip(first("evidence/")), wantFile: first("evidence/")},
		{name: "evidence byte, manifest updated", edit: flip(first("evidence/")), rehash: true, wantFile: first("evidence/")},
		{name: "decision byte", edit: flip(first("decisions/")), wantFile: first("decisions/")},
		{name: "decision byte, manifest updated", edit: flip(first("decisions/")), rehash: true, wantFile: first("decisions/")},
		{name: "entry byte, manifest updated", edit: flip(first("entries/")), rehash: true, wantFile: first("entries/")},
		{name: "policy file, manifest updated", edit: func(files map[string][]byte) {
			files[first("policies/")] = editBundle(t, files[first("policies/")])
		}, rehash: true, wantFile: first("policies/")},
		{name: "removed evidence", edit: func(files map[string][]byte) { delete(files, first("evidence/")) }, wantFile: first("evidence/")},
		{name: "removed decision, manifest updated", edit: func(files map[string][]byte) { delete(files, first("decisions/")) }, rehash: true, wantFile: first("decisions/")},
		{name: "removed policy", edit: func(files map[string][]byte) { delete(files, first("policies/")) }, wantFile: first("policies/")},
		{name: "proof changed, manifest updated", edit: func(files map[string][]byte) {
			files[auditpack.ProofsFile] = bytes.Replace(files[auditpack.ProofsFile], []byte(`"hashes": [`+"\n"+`        "`), []byte(`"hashes": [`+"\n"+`        "0`), 1)
		}, rehash: true, wantFile: first("entries/")},
		{name: "checkpoint re-signed by another key", edit: func(files map[string][]byte) {
			pub, priv, _ := ed25519.GenerateKey(nil)
			var cp ledger.Checkpoint
			_ = json.Unmarshal(files[auditpack.CheckpointFile], &cp)
			cp = ledger.NewCheckpoint(cp.Origin, ledger.Head{Size: cp.Size, Hash: cp.Head, Root: cp.Root}, cp.Time, priv)
			files[auditpack.CheckpointFile], _ = json.Marshal(cp)
			files[auditpack.PublicKeyFile] = pemPublic(t, pub)
		}, rehash: true, key: f.pub, wantFile: auditpack.CheckpointFile},
		{name: "selection widened, manifest updated", edit: func(files map[string][]byte) {
			var m auditpack.Manifest
			_ = json.Unmarshal(files[auditpack.ManifestFile], &m)
			m.Selection.Release = "lv-other"
			files[auditpack.ManifestFile], _ = json.Marshal(m)
		}, wantFile: first("decisions/")},
		{name: "extra file", edit: func(files map[string][]byte) { files["evidence/extra.json"] = []byte("{}") }, wantFile: "evidence/extra.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{}
			for k, v := range orig.Files {
				files[k] = v
			}
			tc.edit(files)
			if tc.rehash {
				files[auditpack.ManifestFile] = rehash(t, orig.Manifest, files)
			}
			key := tc.key
			if key == nil {
				key = f.pub
			}
			res := check(t, repack(t, files), key)
			if res.OK {
				t.Fatalf("Check() OK after %s", tc.name)
			}
			if !slices.ContainsFunc(res.Tampered, func(p auditpack.Problem) bool { return p.File == tc.wantFile }) {
				t.Errorf("Check() tampered = %v; want %s named", res.Tampered, tc.wantFile)
			}
		})
	}
}

// A replay that answers differently is reported by member and, for
// findings, by rule. (An intact pack cannot produce one: its policy bundle
// computes the recorded revision, so the comparison is tested directly.)
func TestCompareNamesFieldAndRule(t *testing.T) {
	f := ledgerFixture(t)
	var rec *engine.Decision
	for _, s := range f.steps {
		if !s.Decision.Allow && len(s.Decision.Violations) > 0 && s.Decision.Input.Digest != "" {
			rec = s.Decision
			break
		}
	}
	if rec == nil {
		t.Fatal("no denial in the fixture")
	}
	body, err := json.Marshal(gate.Record{Decision: rec})
	if err != nil {
		t.Fatal(err)
	}
	got := *rec
	got.Allow, got.Reason, got.Violations = true, engine.ReasonAllow, []engine.Finding{}
	diffs, err := auditpack.Compare(body, &got)
	if err != nil {
		t.Fatal(err)
	}
	var fields, rules []string
	for _, d := range diffs {
		fields = append(fields, d.Field)
		if d.Rule != "" {
			rules = append(rules, d.Rule)
		}
	}
	if !slices.Contains(fields, "allow") || !slices.Contains(fields, "reason") || !slices.Contains(rules, rec.Violations[0].Rule) {
		t.Errorf("Compare() = fields %v, rules %v; want allow, reason and rule %s", fields, rules, rec.Violations[0].Rule)
	}
	same, err := auditpack.Compare(body, rec)
	if err != nil || len(same) != 0 {
		t.Errorf("Compare(same) = %v, %v; want no difference", same, err)
	}
}

// repack writes files as a pack archive, manifest first.
func repack(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for n := range files {
		if n != auditpack.ManifestFile {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range append([]string{auditpack.ManifestFile}, names...) {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(files[n]))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(files[n])
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// rehash returns m with its file list describing files.
func rehash(t *testing.T, m auditpack.Manifest, files map[string][]byte) []byte {
	t.Helper()
	m.Files = nil
	for n, b := range files {
		if n == auditpack.ManifestFile {
			continue
		}
		m.Files = append(m.Files, auditpack.FileRef{Path: n, SHA256: sha256Hex(b), Size: int64(len(b))})
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editBundle adds a comment to one module: the policies mean the same, but
// they are not the ones the decision recorded.
func editBundle(t *testing.T, raw []byte) []byte {
	t.Helper()
	b, err := policyset.ReadBundle(bytes.NewReader(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Modules[0].Raw = append(bytes.Clone(b.Modules[0].Raw), []byte("\n# edited\n")...)
	var buf bytes.Buffer
	if err := policyset.WriteBundle(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func pemPublic(t *testing.T, pub ed25519.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
