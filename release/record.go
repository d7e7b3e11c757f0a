package release

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/localizevideos/shipgate/collect/httpcheck"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/runner"
	"github.com/localizevideos/shipgate/watch"
)

// RecordTimeout bounds writing a step's outcome, which happens even after
// Ctrl-C: what ran must be on record.
const RecordTimeout = 30 * time.Second

// Seal signs the evidence document b in a DSSE envelope and decodes that
// with v, which must trust signer: the document comes back with its
// verified signer, and the ledger keeps the envelope beside it.
func Seal(ctx context.Context, v *evidence.Validator, signer *evidence.Signer, source string, b []byte) (*evidence.Document, error) {
	env, err := signer.Seal(ctx, b)
	if err != nil {
		return nil, err
	}
	return v.Decode(source, env)
}

// Record makes doc durable in b, at the local ledger's time at, even after
// ctx is cancelled, within RecordTimeout.
func Record(ctx context.Context, b Backend, at time.Time, doc *evidence.Document) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RecordTimeout)
	defer cancel()
	_, err := b.AddEvidence(ctx, at, []*evidence.Document{doc})
	return err
}

// Verification is the Verification evidence document of res, collected
// when the checks finished, signed by signer, decoded and validated by v
// (which trusts signer).
func Verification(ctx context.Context, v *evidence.Validator, signer *evidence.Signer, env runner.Envelope, res *httpcheck.Result) (*evidence.Document, error) {
	data, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(map[string]any{
		"apiVersion":  runner.APIVersion,
		"kind":        "Verification",
		"release":     map[string]string{"id": env.ReleaseID, "service": env.Service, "environment": env.Environment},
		"subject":     map[string]string{"repository": env.Repository, "commit": env.Commit},
		"collectedAt": res.FinishedAt.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano),
		"collector": struct {
			Name    string `json:"name"`
			Version string `json:"version,omitempty"`
			Host    string `json:"host,omitempty"`
			Actor   string `json:"actor"`
		}{"shipgate", env.Version, env.Host, env.Actor},
		"data": json.RawMessage(data),
	})
	if err != nil {
		return nil, err
	}
	doc, err := Seal(ctx, v, signer, "shipgate verify", b)
	if err != nil {
		return nil, fmt.Errorf("verification evidence: %w", err)
	}
	return doc, nil
}

// RecordVerification makes res durable in b, even after Ctrl-C: what was
// checked must be on record.
func RecordVerification(ctx context.Context, b Backend, signer *evidence.Signer, env runner.Envelope, res *httpcheck.Result, at time.Time) (*evidence.Document, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RecordTimeout)
	defer cancel()
	doc, err := Verification(ctx, b.Validator(), signer, env, res)
	if err == nil {
		err = Record(ctx, b, at, doc)
	}
	if err != nil {
		return nil, fmt.Errorf("the checks ran, but their Verification could not be recorded: %w", err)
	}
	return doc, nil
}

// Monitoring is the Monitoring evidence document of res, collected at at,
// decoded and validated; auto says whether automated rollback was on.
func Monitoring(v *evidence.Validator, env runner.Envelope, res *watch.Result, auto bool, at time.Time) (*evidence.Document, error) {
	b, err := runner.Document(env, "Monitoring", at, res.Data(auto))
	if err != nil {
		return nil, fmt.Errorf("monitoring evidence: %w", err)
	}
	doc, err := v.Decode("shipgate watch", b)
	if err != nil {
		return nil, fmt.Errorf("monitoring evidence: %w", err)
	}
	return doc, nil
}

// RecordMonitoring signs and records the Monitoring of res in b, collected
// at now or, if later, the end of the window.
func RecordMonitoring(ctx context.Context, b Backend, signer *evidence.Signer, env runner.Envelope, res *watch.Result, auto bool, now time.Time) (*evidence.Document, error) {
	ctx, cancel := context.WithTimeout(ctx, RecordTimeout)
	defer cancel()
	if now.Before(res.End) {
		now = res.End
	}
	v := b.Validator()
	doc, err := Monitoring(v, env, res, auto, now)
	if err == nil {
		doc, err = Seal(ctx, v, signer, "shipgate watch", doc.Canonical)
	}
	if err == nil {
		_, err = b.AddEvidence(ctx, now, []*evidence.Document{doc})
	}
	if err != nil {
		return nil, fmt.Errorf("the window was watched (%s), but its Monitoring could not be recorded: %w", res.Status, err)
	}
	return doc, nil
}
