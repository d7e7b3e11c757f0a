// Package client talks to `shipgate serve` for the CLI's remote mode
// (--server URL --token T): the same operations the CLI performs on a
// local store, performed by the server, which records them.
//
// Every answer other than the documented success is an *Error: a denial
// is a Decision with Allow false, never an error, and an error is never an
// allow.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/localizevideos/shipgate/api"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/gate"
	"github.com/localizevideos/shipgate/store"
)

// Client is one server and one token.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
	// Retries is how many times a gate request is sent again, with the
	// same decision id, after a connection error or a 502/503/504.
	Retries int
}

// New returns a client of the server at rawURL (http or https) with token.
func New(rawURL, token string) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(rawURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server %q: want an http:// or https:// URL", rawURL)
	}
	if token == "" {
		return nil, errors.New("no token for the server: give --token or set $SHIPGATE_TOKEN")
	}
	return &Client{base: u, token: token, http: &http.Client{Timeout: 2 * time.Minute}, Retries: 3}, nil
}

// Error is an answer other than success.
type Error struct {
	Status  int
	Code    string
	Message string
	Details []api.ValidationDetail
	// Decision is the recorded (denying) decision the error came with.
	Decision *engine.Decision
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "server answered %d %s: %s", e.Status, e.Code, e.Message)
	for _, d := range e.Details {
		fmt.Fprintf(&b, "\n%s: %s: %s: %s", d.Source, d.Pointer, d.Keyword, d.Message)
	}
	return b.String()
}

// do sends a request and decodes a 2xx answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, out any) (http.Header, error) {
	u := *c.base
	u.Path += path
	u.RawQuery = query.Encode()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Status: resp.StatusCode, Code: "http", Message: strings.TrimSpace(string(b))}
		var eb struct {
			Error struct {
				Code    string                 `json:"code"`
				Message string                 `json:"message"`
				Details []api.ValidationDetail `json:"details"`
			} `json:"error"`
			Decision *engine.Decision `json:"decision"`
		}
		if json.Unmarshal(b, &eb) == nil && eb.Error.Code != "" {
			e.Code, e.Message, e.Details, e.Decision = eb.Error.Code, eb.Error.Message, eb.Error.Details, eb.Decision
		}
		return resp.Header, e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return nil, fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
		}
	}
	return resp.Header, nil
}

// AddEvidence records documents (each its canonical JSON, or its signed
// DSSE envelope, which the server verifies against its trusted keys and
// keeps), all or none; sources, when given, names each (its file),
// recorded as its source. Evidence is content-addressed, so a request
// sent again after a lost connection or a 502/503/504 records nothing
// twice: it is retried as a gate request is.
func (c *Client) AddEvidence(ctx context.Context, docs []json.RawMessage, sources []string) ([]api.AddedEvidence, error) {
	var out []api.AddedEvidence
	err := c.retry(ctx, func() error {
		out = nil
		_, err := c.do(ctx, "POST", "/v1/evidence", nil, api.EvidenceBatch{Documents: docs, Sources: sources}, &out)
		return err
	})
	return out, err
}

// Plans reads the release's recorded Plan documents, which bind the
// evidence a pipeline produces to the release.
func (c *Client) Plans(ctx context.Context, releaseID string) ([]store.Evidence, error) {
	var views []api.EvidenceView
	if _, err := c.do(ctx, "GET", "/v1/releases/"+url.PathEscape(releaseID)+"/plans", nil, nil, &views); err != nil {
		return nil, err
	}
	out := make([]store.Evidence, len(views))
	for i, v := range views {
		out[i] = v.Evidence()
	}
	return out, nil
}

// retry calls f, and again after a connection error or a 502/503/504, up
// to c.Retries more times; f must be safe to repeat.
func (c *Client) retry(ctx context.Context, f func() error) error {
	var err error
	for attempt := 0; attempt <= c.Retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(attempt) * 500 * time.Millisecond):
			}
		}
		if err = f(); err == nil || !retryable(err) {
			return err
		}
	}
	return err
}

// Decide asks a gate. The request's ID is set when empty, so that retries
// after a lost connection or a 502/503/504 are answered with the decision
// recorded first, never recorded twice. A denial is a Decision with Allow
// false; an error never allows.
func (c *Client) Decide(ctx context.Context, gateName string, req api.GateRequest) (*engine.Decision, error) {
	if req.ID == "" {
		req.ID = gate.NewID("dec", time.Now())
	}
	var d engine.Decision
	err := c.retry(ctx, func() error {
		d = engine.Decision{}
		_, err := c.do(ctx, "POST", "/v1/gates/"+url.PathEscape(gateName), nil, req, &d)
		return err
	})
	if err != nil {
		return nil, err
	}
	if d.ID != req.ID {
		return nil, fmt.Errorf("the server answered decision %q for the request %q", d.ID, req.ID)
	}
	return &d, nil
}

func retryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Status == http.StatusBadGateway || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout
	}
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &oe) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// Status reads a release's checklist.
func (c *Client) Status(ctx context.Context, releaseID string) (*gate.ReleaseStatus, error) {
	var st gate.ReleaseStatus
	if _, err := c.do(ctx, "GET", "/v1/releases/"+url.PathEscape(releaseID)+"/status", nil, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Violations lists violations as the store would.
func (c *Client) Violations(ctx context.Context, f store.Filter) ([]store.Violation, error) {
	q := url.Values{}
	for k, v := range map[string]string{"status": f.Status, "service": f.Service, "release": f.ReleaseID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var views []api.ViolationView
	if _, err := c.do(ctx, "GET", "/v1/violations", q, nil, &views); err != nil {
		return nil, err
	}
	return api.Violations(views)
}

// Violation reads one violation; an unknown id wraps store.ErrNotFound.
func (c *Client) Violation(ctx context.Context, id string) (store.Violation, error) {
	var v api.ViolationView
	if _, err := c.do(ctx, "GET", "/v1/violations/"+url.PathEscape(id), nil, nil, &v); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusNotFound {
			return store.Violation{}, fmt.Errorf("%w (%s)", store.ErrNotFound, e.Message)
		}
		return store.Violation{}, err
	}
	vs, err := api.Violations([]api.ViolationView{v})
	if err != nil {
		return store.Violation{}, err
	}
	return vs[0], nil
}

// ClosePostmortem records the Postmortem document (canonical JSON) and
// closes the violations ids.
func (c *Client) ClosePostmortem(ctx context.Context, doc json.RawMessage, ids []string) ([]store.Violation, error) {
	var out struct {
		Closed []api.ViolationView `json:"closed"`
	}
	if _, err := c.do(ctx, "POST", "/v1/postmortems", nil, map[string]any{"document": doc, "violations": ids}, &out); err != nil {
		return nil, err
	}
	return api.Violations(out.Closed)
}

// Hold records a Hold on automated rollback of the release as the token's
// person (action api.HoldPlace or api.HoldLift; by, when set, must be
// the token's name; a placement needs a reason).
func (c *Client) Hold(ctx context.Context, releaseID, action, by, reason string) (*api.HoldResult, error) {
	body := map[string]string{"action": action, "by": by, "reason": reason}
	var out api.HoldResult
	if _, err := c.do(ctx, "POST", "/v1/releases/"+url.PathEscape(releaseID)+"/holds", nil, body, &out); err != nil {
		return nil, err
	}
	if out.Release != releaseID || out.Action != action {
		return nil, fmt.Errorf("the server answered a %s Hold of %q for a %s of %q", out.Action, out.Release, action, releaseID)
	}
	return &out, nil
}

// AutoRollback asks whether the release may be rolled back automatically
// after a watch of window: the server's policy, asked as a local watch
// asks (a probe Monitoring), and the hold in force in its ledger. rel's
// service, environment and commit, when set, choose among the release's
// Plans. No Plan is an *Error with Status 404.
func (c *Client) AutoRollback(ctx context.Context, rel engine.Release, window time.Duration) (*api.AutoRollback, error) {
	q := url.Values{}
	for k, v := range map[string]string{"service": rel.Service, "environment": rel.Environment, "commit": rel.Commit} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if window > 0 {
		q.Set("window", window.String())
	}
	var out api.AutoRollback
	if _, err := c.do(ctx, "GET", "/v1/releases/"+url.PathEscape(rel.ID)+"/auto-rollback", q, nil, &out); err != nil {
		return nil, err
	}
	if out.Release.ID != rel.ID {
		return nil, fmt.Errorf("the server answered the automated rollback of %q for the release %q", out.Release.ID, rel.ID)
	}
	// Fail closed: an answer that allows while naming refusals is not an
	// answer.
	if out.Allowed != (len(out.Refused) == 0) {
		return nil, fmt.Errorf("the server answered allowed=%t with %d refusals", out.Allowed, len(out.Refused))
	}
	return &out, nil
}

// RollbackTarget asks where a rollback of the release goes (strategy
// fast or emergency, "" for fast): the server runs rollback.FindTarget and
// rollback.VerifiedArtifact on its ledger and answers the approved
// restart command of its policy data. rel's service, environment and
// commit, when set, choose among the release's Plans. No target (or no
// Plan) is an *Error with Status 404.
func (c *Client) RollbackTarget(ctx context.Context, rel engine.Release, strategy string) (*api.RollbackTarget, error) {
	q := url.Values{}
	for k, v := range map[string]string{"service": rel.Service, "environment": rel.Environment, "commit": rel.Commit, "strategy": strategy} {
		if v != "" {
			q.Set(k, v)
		}
	}
	var out api.RollbackTarget
	if _, err := c.do(ctx, "GET", "/v1/releases/"+url.PathEscape(rel.ID)+"/rollback-target", q, nil, &out); err != nil {
		return nil, err
	}
	if out.Release.ID != rel.ID {
		return nil, fmt.Errorf("the server answered the rollback target of %q for the release %q", out.Release.ID, rel.ID)
	}
	if strategy != "emergency" && (out.Target == nil || out.Target.Commit == "" || out.Target.ID == "") {
		return nil, fmt.Errorf("the server answered no rollback target for %s", rel.ID)
	}
	return &out, nil
}
