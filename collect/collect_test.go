package collect

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/collect/incidents"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/ledger"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/schemas"
	"github.com/localizevideos/shipgate/store"
)

// fakeLedger keeps what is added, or fails with err.
type fakeLedger struct {
	added []store.Evidence
	err   error
}

func (l *fakeLedger) AddEvidence(_ context.Context, _ time.Time, docs []store.Evidence) ([]store.Evidence, error) {
	if l.err != nil {
		return nil, l.err
	}
	l.added = append(l.added, docs...)
	return docs, nil
}

func sealer(t *testing.T, trusted bool) Sealer {
	t.Helper()
	reg, err := schemas.Compile()
	if err != nil {
		t.Fatal(err)
	}
	priv, _, err := ledger.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	key, err := ledger.ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	signer := evidence.NewSigner(key)
	k := evidence.NewKeyring()
	if trusted {
		k.Add(signer.Public())
	}
	return Sealer{Validator: evidence.NewValidator(reg, evidence.DefaultLimits).WithKeys(k), Signer: signer}
}

var env = runner.Envelope{ReleaseID: "lv-2026-11-26.1", Service: "localizevideos-app", Environment: "production",
	Repository: "github.com/localizevideos/app", Commit: "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e", Version: "1.2.0", Actor: "ci-bot"}

// TestIncidentStatusRecorded seals an incident list, records it, and
// finds it in the ledger signed, with its envelope.
func TestIncidentStatusRecorded(t *testing.T) {
	ctx := context.Background()
	s := sealer(t, true)
	at := time.Date(2026, 11, 26, 9, 41, 0, 0, time.UTC)
	list := []incidents.Incident{{ID: "INC-41", Severity: "SEV-3", Status: "open", Title: "Typo on the pricing page"}}
	doc, err := s.IncidentStatus(ctx, env, "incidents.json", list, at)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := s.Signer.KeyID()
	if doc.Kind != "IncidentStatus" || doc.ReleaseID != env.ReleaseID || !slices.Equal(doc.SignedBy, []string{id}) || doc.Envelope == nil {
		t.Errorf("IncidentStatus() = kind %s, release %s, signed by %v; want IncidentStatus of %s signed by %s, in an envelope",
			doc.Kind, doc.ReleaseID, doc.SignedBy, env.ReleaseID, id)
	}
	var l fakeLedger
	if err := Record(ctx, &l, at, time.Second, "the IncidentStatus", doc); err != nil {
		t.Fatal(err)
	}
	if len(l.added) != 1 || l.added[0].Digest != doc.Digest || len(l.added[0].Envelope) == 0 {
		t.Errorf("Record() added %+v; want the document %s with its envelope", l.added, doc.Digest)
	}
	l.err = errors.New("disk full")
	if err := Record(ctx, &l, at, time.Second, "the IncidentStatus", doc); err == nil || !strings.HasPrefix(err.Error(), "record the IncidentStatus: ") {
		t.Errorf("Record() on a failing ledger = %v; want record the IncidentStatus: ...", err)
	}
}

// TestDocumentRefused: a document the validator refuses (a signer it does
// not trust) is an error naming what was made, never recorded unsigned.
func TestDocumentRefused(t *testing.T) {
	s := sealer(t, false)
	_, err := s.Document(context.Background(), env, "Hold", "shipgate hold", "hold evidence", map[string]any{"reason": "x"}, time.Now())
	if err == nil || !strings.HasPrefix(err.Error(), "hold evidence: ") || !strings.Contains(err.Error(), "is not trusted") {
		t.Errorf("Document() = %v; want hold evidence: ... is not trusted", err)
	}
}
