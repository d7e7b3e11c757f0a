package auditpack

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/store"
)

// OPAEvent is an OPA decision log event (the JSON of OPA's
// plugins/logs.EventV1), with the fields shipgate has.
type OPAEvent struct {
	DecisionID string                   `json:"decision_id"`
	Path       string                   `json:"path"`
	Input      json.RawMessage          `json:"input,omitempty"`
	Result     json.RawMessage          `json:"result"`
	Timestamp  time.Time                `json:"timestamp"`
	Bundles    map[string]OPABundleInfo `json:"bundles"`
	Labels     map[string]string        `json:"labels"`
}

// OPABundleInfo is the revision of a bundle in an OPAEvent.
type OPABundleInfo struct {
	Revision string `json:"revision"`
}

// WriteDecisionLog writes the decisions ds evaluated at or after since
// (zero: all), in order, as OPA decision log events, one JSON line each;
// version labels them. It returns how many it wrote.
func WriteDecisionLog(w io.Writer, ds []store.Decision, since time.Time, version string) (int, error) {
	var n int
	bw := bufio.NewWriter(w)
	for _, d := range ds {
		if !since.IsZero() && d.EvaluatedAt.Before(since) {
			continue
		}
		ev, err := DecisionLogEvent(d, version)
		if err != nil {
			return n, err
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return n, fmt.Errorf("decision %s: %w", d.ID, err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
		n++
	}
	return n, bw.Flush()
}

// DecisionLogEvent turns a recorded decision (the gate's decision JSON with
// what it was made from under "replay") into an OPA decision log event. The
// result keeps every field as recorded.
func DecisionLogEvent(d store.Decision, version string) (OPAEvent, error) {
	var body map[string]json.RawMessage
	if err := json.Unmarshal(d.Body, &body); err != nil {
		return OPAEvent{}, fmt.Errorf("decision %s: %w", d.ID, err)
	}
	input := body["replay"]
	delete(body, "replay")
	var pol engine.PolicyRef
	if p, ok := body["policy"]; ok {
		if err := json.Unmarshal(p, &pol); err != nil {
			return OPAEvent{}, fmt.Errorf("decision %s: policy: %w", d.ID, err)
		}
	}
	result, err := json.Marshal(body)
	if err != nil {
		return OPAEvent{}, fmt.Errorf("decision %s: %w", d.ID, err)
	}
	rev := pol.Bundle
	if rev == "" {
		rev = pol.Revision
	}
	return OPAEvent{
		DecisionID: d.ID,
		Path:       "shipgate/gates/" + d.Gate + "/decision",
		Input:      input,
		Result:     result,
		Timestamp:  d.EvaluatedAt.UTC(),
		Bundles:    map[string]OPABundleInfo{policyset.BundleRoot: {Revision: rev}},
		Labels:     map[string]string{"app": "shipgate", "version": version},
	}, nil
}
