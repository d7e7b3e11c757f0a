package release

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/collect/httpcheck"
	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/runner"
)

// VerifyRequest asks for the smoke checks of a deployed release.
type VerifyRequest struct {
	// Release is the release, completed from its Plans; Env the envelope
	// of its Verification.
	Release engine.Release
	Env     runner.Envelope
	Signer  *evidence.Signer
	Suite   *httpcheck.Suite
	// Log receives the progress.
	Log io.Writer
	Now func() time.Time
}

// Verified is a Verification recorded and the verify gate asked.
type Verified struct {
	Result *httpcheck.Result
	Doc    *evidence.Document
	// Decision is the verify gate's, nil when it could not decide.
	Decision *engine.Decision
}

// Verify runs the smoke checks, records what they found as a signed
// Verification in b, and asks the verify gate with it. An error without
// an outcome stopped it before anything was recorded; one with an outcome
// is the gate's (the Verification is recorded).
func Verify(ctx context.Context, b Backend, req VerifyRequest) (*Verified, error) {
	// Check the envelope before running anything it could not record.
	now := req.Now()
	if _, err := Verification(ctx, b.Validator(), req.Signer, req.Env, &httpcheck.Result{StartedAt: now, FinishedAt: now,
		Checks: []httpcheck.Check{{Name: "envelope", Status: httpcheck.Passed}}}); err != nil {
		return nil, err
	}
	// pm2 restart returns before the app listens: wait for it, as the
	// file says. An app that is not ready was not checked: nothing is
	// recorded, the gate is not asked.
	hc := &httpcheck.Runner{Now: req.Now}
	ready, err := hc.Ready(ctx, req.Suite)
	if err != nil {
		return nil, fmt.Errorf("%w: nothing was checked or recorded; release %s is not verified", err, req.Release.ID)
	}
	if ready != nil {
		fmt.Fprintf(req.Log, "shipgate: ready: %s at attempt %d, after %s\n", ready.What, ready.Attempts, ready.Waited.Round(time.Millisecond))
	}
	res := hc.Run(ctx, req.Suite)
	for _, c := range res.Checks {
		fmt.Fprintf(req.Log, "shipgate: check %s %s: %s\n", c.Name, c.Status, c.Message)
	}
	doc, err := RecordVerification(ctx, b, req.Signer, req.Env, res, req.Now())
	if err != nil {
		return nil, err
	}
	status := "passed"
	if !res.Passed() {
		status = "failed"
	}
	fmt.Fprintf(req.Log, "shipgate: recorded Verification %s for release %s @ %s: %s signed by %s\n", status, doc.ReleaseID, ShortHex(doc.Commit), doc.Digest, strings.Join(doc.SignedBy, ", "))
	out := &Verified{Result: res, Doc: doc}
	out.Decision, err = b.Decide(ctx, gate.Request{Gate: "verify", Release: req.Release, Actor: req.Env.Actor, Now: req.Now().UTC()})
	return out, err
}
