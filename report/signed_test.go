package report_test

import (
	"context"
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/report"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store/sqlite"
)

// A document that came signed is read back from its envelope, as the gate
// read it: its signers are part of what the policies saw, so the decision
// is reproduced (and its rules attributed) only with the signer trusted.
func TestExplainReadsSignedEvidenceFromItsEnvelope(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// alice's approval is signed by a key of hers, bound in the data; the
	// rest of the example by the EXAMPLE keys.
	signerPub, signerKey, _ := ed25519.GenerateKey(nil)
	eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS, People: map[string][]string{"alice": {evidence.KeyID(signerPub)}}})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	plain := evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring())
	trusting := plain.Trusting(signerPub)
	dir := "../examples/localizevideos/evidence/allowed"
	var docs []*evidence.Document
	for _, name := range []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json", "approval.json"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "approval.json" {
			if b, err = evidence.NewSigner(signerKey).Seal(ctx, keys.Open(b)); err != nil {
				t.Fatal(err)
			}
		}
		d, err := trusting.Decode(name, b)
		if err != nil {
			t.Fatalf("Decode(%s) = %v", name, err)
		}
		docs = append(docs, d)
	}
	at := time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)
	g := &gate.Gate{Engine: eng, Validator: trusting, Store: db, Clock: func() time.Time { return at }}
	d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: engine.Release{ID: "lv-2026-11-26.1"}, Now: at, Actor: "dave", Evidence: docs})
	if err != nil || !d.Allow {
		t.Fatalf("Decide() = %v, %v; want an allow", gate.Summary(d), err)
	}

	explain := func(v *evidence.Validator) report.Explanation {
		t.Helper()
		rep, err := report.Build(ctx, db, report.Options{Since: at.Add(-time.Hour), Until: at.Add(time.Hour), Now: at.Add(time.Hour),
			Engine: eng, Validator: v})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Releases {
			for _, dec := range r.Decisions {
				if dec.ID == d.ID {
					return dec.Explanation
				}
			}
		}
		t.Fatalf("decision %s is not in the report", d.ID)
		return report.Explanation{}
	}
	if ex := explain(trusting); !ex.Attributed {
		t.Errorf("explanation with the signer trusted: not attributed (%s); want the decision reproduced", ex.Note)
	}
	if ex := explain(plain); ex.Attributed || !strings.Contains(ex.Note, "not trusted") {
		t.Errorf("explanation without the signer trusted: attributed %v (%s); want the signed Approval refused (key not trusted)", ex.Attributed, ex.Note)
	}
}

// The first page of every format says whether signing was required; when
// the policy data turned it off (signing.required: false), it says so
// loudly, with how many of the period's decisions were made that way.
func TestReportStatesSigning(t *testing.T) {
	ctx := context.Background()
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	v := evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(keys.Keyring())
	at := time.Date(2026, 11, 26, 10, 5, 0, 0, time.UTC)
	load := func(required bool) *engine.Engine {
		raw, err := os.ReadFile("../policies/shipgate/config/data.yaml")
		if err != nil {
			t.Fatal(err)
		}
		data, err := policyset.ReadData("data.yaml", raw)
		if err != nil {
			t.Fatal(err)
		}
		data["signing"].(map[string]any)["required"] = required
		eng, err := engine.Load(ctx, engine.Options{Policies: policies.FS, Data: data, People: keys.People()})
		if err != nil {
			t.Fatal(err)
		}
		return eng
	}
	// The allowed release, its Build and Deploy taken out of their
	// envelopes: hand-written copies.
	var docs []*evidence.Document
	for _, name := range []string{"plan.json", "incidents.json", "build.json", "deploy-requested.json", "approval.json"} {
		b, err := os.ReadFile(filepath.Join("../examples/localizevideos/evidence/allowed", name))
		if err != nil {
			t.Fatal(err)
		}
		if name != "approval.json" {
			b = keys.Open(b)
		}
		d, err := v.Decode(name, b)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	for _, tt := range []struct {
		name     string
		required bool
		allow    bool
		want     string
		page     string // as every format prints it
	}{
		{"required", true, false, "Signing required: ", "Signing required: "},
		{"off", false, true, "SIGNING OFF: 1 of the period's 1 decisions were made with signing.required: false", "SIGNING OFF: 1 of the period"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			eng := load(tt.required)
			g := &gate.Gate{Engine: eng, Validator: v, Store: db, Clock: func() time.Time { return at }}
			d, err := g.Decide(ctx, gate.Request{Gate: "deploy", Release: engine.Release{ID: "lv-2026-11-26.1"}, Now: at, Actor: "dave", Evidence: docs})
			if err != nil || d.Allow != tt.allow || d.SigningOff == tt.required {
				t.Fatalf("Decide() = %s, signingOff %t, %v; want allow %t", gate.Summary(d), d.SigningOff, err, tt.allow)
			}
			rep, err := report.Build(ctx, db, report.Options{Since: at.Add(-time.Hour), Until: at.Add(time.Hour), Now: at.Add(time.Hour), Engine: eng, Validator: v})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Signing.Off == tt.required || rep.Signing.PolicyOff == tt.required || !strings.HasPrefix(rep.Signing.Statement, tt.want) {
				t.Errorf("Signing = %+v; want off %t, stating %q", rep.Signing, !tt.required, tt.want)
			}
			for _, format := range []string{"md", "html", "json"} {
				var b strings.Builder
				if err := report.Write(&b, rep, format); err != nil {
					t.Fatal(err)
				}
				out := b.String()
				i := strings.Index(out, tt.page)
				summary := strings.Index(out, "Summary")
				if format == "json" {
					summary = strings.Index(out, `"summary"`)
				}
				if i < 0 || summary < 0 || i > summary {
					t.Errorf("%s: the statement %q is not on the first page, before the summary:\n%.1500s", format, tt.page, out)
				}
			}
		})
	}
}
