package httpcheck

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Readiness is how the ready probe passed.
type Readiness struct {
	// What is the request and the status that passed: "GET url → 200".
	What     string
	Attempts int
	// Waited is the time from the first probe to the answer that passed.
	Waited time.Duration
}

// NotReadyError is a ready probe that did not pass: within its timeout, or
// before ctx ended. No check ran.
type NotReadyError struct {
	URL      string
	Timeout  time.Duration
	Attempts int
	// Last says why the last probe did not pass.
	Last string
	// Interrupted is the cause of ctx's end, when it ended before the
	// timeout (Ctrl-C).
	Interrupted error
}

func (e *NotReadyError) Error() string {
	if e.Interrupted != nil {
		return fmt.Sprintf("the wait for the app to become ready at %s was interrupted after %s: %v; last error: %s",
			e.URL, attempts(e.Attempts), e.Interrupted, e.Last)
	}
	return fmt.Sprintf("the app did not become ready at %s within %s: last error: %s (%s)", e.URL, e.Timeout, e.Last, attempts(e.Attempts))
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

// Ready polls s's ready probe until its assertions hold, its timeout
// passes or ctx ends; a suite without one is ready at once (nil, nil).
// Each probe is a fresh request without the cookie jar. A NotReadyError
// means nothing was checked: the caller must not judge the release by it.
func (r *Runner) Ready(ctx context.Context, s *Suite) (*Readiness, error) {
	rp := s.ready
	if rp == nil {
		return nil, nil
	}
	wait, cancel := context.WithTimeout(ctx, rp.timeout)
	defer cancel()
	client := &http.Client{Transport: r.Transport}
	if !rp.followRedirects {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	start := r.Now()
	var last string
	for attempt := 1; ; attempt++ {
		what, why := r.probe(wait, client, rp, s.vars)
		if why == "" {
			return &Readiness{What: what, Attempts: attempt, Waited: r.Now().Sub(start)}, nil
		}
		// A probe cut short by the end of the wait says less than the
		// one before it.
		if wait.Err() == nil || last == "" {
			last = why
		}
		t := time.NewTimer(rp.interval)
		select {
		case <-wait.Done():
			t.Stop()
			e := &NotReadyError{URL: rp.url, Timeout: rp.timeout, Attempts: attempt, Last: last}
			if ctx.Err() != nil {
				e.Interrupted = context.Cause(ctx)
			}
			return nil, e
		case <-t.C:
		}
	}
}

// probe sends the ready request once: what was asked and answered, and
// why it does not pass ("" when it does).
func (r *Runner) probe(ctx context.Context, client *http.Client, rp *readyProbe, vars map[string]string) (what, why string) {
	what = "GET " + rp.url
	ctx, cancel := context.WithTimeout(ctx, rp.request)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rp.url, nil)
	if err != nil {
		return what, err.Error()
	}
	for k, v := range rp.headers {
		req.Header.Set(k, v)
	}
	start := r.Now()
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return what, fmt.Sprintf("no answer within %s", rp.request)
		}
		return what, requestError(ctx, err, rp.request)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
	resp.Body.Close()
	what = fmt.Sprintf("%s → %d", what, resp.StatusCode)
	if err != nil {
		return what, fmt.Sprintf("answered %d: reading the body: %s", resp.StatusCode, requestError(ctx, err, rp.request))
	}
	act := activation(resp, b, r.Now().Sub(start), vars)
	for _, p := range rp.asserts {
		if status, detail := p.verdict(ctx, act); status != Passed {
			return what, fmt.Sprintf("answered %d: assertion %s %s", resp.StatusCode, p.text, detail)
		}
	}
	return what, ""
}
