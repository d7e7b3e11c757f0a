package gate

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/store"
)

// StatusStore is what Status reads from the ledger.
type StatusStore interface {
	Evidence(ctx context.Context, releaseID string) ([]store.Evidence, error)
	Decisions(ctx context.Context, releaseID string) ([]store.Decision, error)
	Violations(ctx context.Context, f store.Filter) ([]store.Violation, error)
}

// Step states.
const (
	Done    = "done"
	Missing = "missing"
	Failed  = "failed"
	// Ignored is a document the release's last decision did not count
	// (stale, foreign, unsigned...): recorded, but not done.
	Ignored = "ignored"
)

// Step is one line of a release's checklist.
type Step struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
	Next   string `json:"next,omitempty"`
}

// ReleaseStatus is the release's checklist, its open violations and
// obligations, its rollbacks, and the next command to run.
type ReleaseStatus struct {
	Release   string            `json:"release"`
	Steps     []Step            `json:"steps"`
	Open      []store.Violation `json:"open"`
	Rollbacks []Rollback        `json:"rollbacks"`
	Next      string            `json:"next"`
}

// Rollback is one recorded Rollback of the release, in the order recorded.
type Rollback struct {
	Digest          string   `json:"digest"`
	Strategy        string   `json:"strategy"`
	Status          string   `json:"status"`
	Trigger         string   `json:"trigger,omitempty"`
	ToRelease       string   `json:"toRelease,omitempty"`
	ToCommit        string   `json:"toCommit,omitempty"`
	Flag            string   `json:"flag,omitempty"`
	DurationSeconds float64  `json:"durationSeconds"`
	Steps           []string `json:"steps"`
	CollectedAt     string   `json:"collectedAt"`
}

// Status reads the release's checklist from the ledger: the release flow
// of the design (plan, pre-release checks, build, approval, deploy gate,
// deploy, verification, verify gate, monitoring, complete gate), each step
// done, missing or failed.
func Status(ctx context.Context, s StatusStore, v *evidence.Validator, releaseID string) (*ReleaseStatus, error) {
	stored, err := s.Evidence(ctx, releaseID)
	if err != nil {
		return nil, fmt.Errorf("read evidence: %w", err)
	}
	latest := map[string]map[string]any{}
	digest := map[string]string{}
	rollbacks := []Rollback{}
	for _, e := range stored {
		d, err := v.Decode(e.Source, e.Body)
		if err != nil {
			return nil, fmt.Errorf("recorded evidence %s: %w", e.Digest, err)
		}
		if d.Kind == "Rollback" {
			rollbacks = append(rollbacks, rollbackOf(e.Digest, d.Value))
		}
		if prev, ok := latest[d.Kind]; ok && str(prev, "collectedAt") > str(d.Value, "collectedAt") {
			continue
		}
		latest[d.Kind] = d.Value
		digest[d.Kind] = e.Digest
	}
	decisions, err := s.Decisions(ctx, releaseID)
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	gates := map[string]store.Decision{}
	var last store.Decision
	for _, d := range decisions {
		if !d.DryRun {
			gates[d.Gate] = d
			if d.Seq >= last.Seq {
				last = d
			}
		}
	}
	ignored, err := ignoredBy(last)
	if err != nil {
		return nil, err
	}
	open, err := s.Violations(ctx, store.Filter{Status: store.StatusOpen, ReleaseID: releaseID})
	if err != nil {
		return nil, fmt.Errorf("read violations: %w", err)
	}
	r := releaseID
	add := func(kind string) string { return fmt.Sprintf("record it: shipgate evidence add %s.json", kind) }
	steps := []Step{
		evidenceStep("plan", latest["Plan"], add("plan"), func(map[string]any) (bool, string) { return true, "" }),
		evidenceStep("incident status", latest["IncidentStatus"], add("incidents"), func(map[string]any) (bool, string) { return true, "" }),
		evidenceStep("build", latest["Build"], add("build"), func(d map[string]any) (bool, string) {
			return str(d, "status") == "passed", "status " + str(d, "status")
		}),
		evidenceStep("approval", latest["Approval"], "an approver other than the deployer approves: with their approver token on a server (POST /v1/releases/"+r+"/approvals), or signed with their own key (shipgate evidence sign approval.json --signing-key KEY, then shipgate evidence add)", func(d map[string]any) (bool, string) {
			return str(d, "decision") == "approved", str(d, "approver") + " " + str(d, "decision")
		}),
		gateStep("deploy gate", gates["deploy"], "see what the deploy gate says (a dry run opens no violation): shipgate gate deploy --dry-run --release "+r+
			"; then deploy through it: shipgate run deploy --release "+r+" -- APPROVED-COMMAND"),
		evidenceStep("deploy", latest["Deploy"], add("deploy"), func(d map[string]any) (bool, string) {
			return str(d, "status") != "failed", "status " + str(d, "status")
		}),
		evidenceStep("verification", latest["Verification"], add("verification"), func(d map[string]any) (bool, string) {
			checks, _ := d["checks"].([]any)
			for _, c := range checks {
				if m, _ := c.(map[string]any); str(m, "status") != "passed" {
					return false, fmt.Sprintf("check %s %s", str(m, "name"), str(m, "status"))
				}
			}
			return true, fmt.Sprintf("%d checks passed", len(checks))
		}),
		gateStep("verify gate", gates["verify"], "run the smoke checks, which ask the verify gate: shipgate verify --release "+r+" --checks CHECKS.yaml"),
		evidenceStep("monitoring", latest["Monitoring"], add("monitoring"), func(d map[string]any) (bool, string) {
			return str(d, "result") == "healthy", "result " + str(d, "result")
		}),
		gateStep("complete gate", gates["complete"], "watch the first minutes, which asks the complete gate: shipgate watch --release "+r+" --signals SIGNALS.yaml"),
	}
	// A document the last decision did not count is not done, whatever it
	// says: the gate judged the release without it.
	for i, kind := range []string{"Plan", "IncidentStatus", "Build", "Approval", "", "Deploy", "Verification", "", "Monitoring"} {
		if ig, ok := ignored[digest[kind]]; ok && kind != "" {
			steps[i].State, steps[i].Detail = Ignored, fmt.Sprintf("ignored by %s: %s (%s)", last.ID, ig.Message, ig.Reason)
			steps[i].Next = fmt.Sprintf("the last decision did not count the %s: record one that counts: shipgate evidence add %s.json", steps[i].Name, files[kind])
		}
	}
	// A deploy that is only requested is not done yet.
	if dep := latest["Deploy"]; dep != nil && str(dataOf(dep), "status") == "requested" {
		steps[5].State, steps[5].Next = Missing, "run the approved deploy command and record the outcome: shipgate evidence add deploy.json"
	}
	st := &ReleaseStatus{Release: r, Steps: steps, Open: open, Rollbacks: rollbacks}
	if st.Open == nil {
		st.Open = []store.Violation{}
	}
	for _, s := range steps {
		if s.State != Done {
			st.Next = s.Next
			break
		}
	}
	if st.Next == "" && len(open) > 0 {
		st.Next = fmt.Sprintf("write the postmortem: shipgate postmortem new --release %s --summary TEXT --out postmortem.json; then shipgate postmortem add postmortem.json", r)
	}
	if st.Next == "" {
		st.Next = "nothing: the release is complete"
	}
	return st, nil
}

// ignoredBy lists the documents decision d did not count, by digest.
func ignoredBy(d store.Decision) (map[string]engine.Ignored, error) {
	out := map[string]engine.Ignored{}
	if d.ID == "" {
		return out, nil
	}
	var rec struct {
		Ignored []engine.Ignored `json:"ignored"`
	}
	if err := json.Unmarshal(d.Body, &rec); err != nil {
		return nil, fmt.Errorf("recorded decision %s: %w", d.ID, err)
	}
	for _, ig := range rec.Ignored {
		out[ig.Digest] = ig
	}
	return out, nil
}

// files names each kind's file in the checklist's advice.
var files = map[string]string{"Plan": "plan", "IncidentStatus": "incidents", "Build": "build", "Approval": "approval",
	"Deploy": "deploy", "Verification": "verification", "Monitoring": "monitoring"}

func rollbackOf(digest string, doc map[string]any) Rollback {
	d := dataOf(doc)
	rb := Rollback{Digest: digest, Strategy: str(d, "strategy"), Status: str(d, "status"), Trigger: str(d, "trigger"),
		ToRelease: str(d, "toRelease"), ToCommit: str(d, "toCommit"), Flag: str(d, "flag"),
		CollectedAt: str(doc, "collectedAt"), Steps: []string{}}
	// The validator decodes numbers as json.Number.
	if n, ok := d["durationSeconds"].(json.Number); ok {
		rb.DurationSeconds, _ = n.Float64()
	}
	steps, _ := d["steps"].([]any)
	for _, s := range steps {
		m, _ := s.(map[string]any)
		name := str(m, "name")
		if code := fmt.Sprint(m["exitCode"]); code != "0" {
			name += " (exit " + code + ")"
		}
		rb.Steps = append(rb.Steps, name)
	}
	return rb
}

func evidenceStep(name string, doc map[string]any, next string, ok func(data map[string]any) (bool, string)) Step {
	if doc == nil {
		return Step{Name: name, State: Missing, Next: next}
	}
	good, detail := ok(dataOf(doc))
	if !good {
		return Step{Name: name, State: Failed, Detail: detail, Next: "fix it and record it again: " + next}
	}
	return Step{Name: name, State: Done, Detail: detail}
}

func gateStep(name string, d store.Decision, next string) Step {
	switch {
	case d.ID == "":
		return Step{Name: name, State: Missing, Next: next}
	case d.Allow:
		return Step{Name: name, State: Done, Detail: "allowed by " + d.ID}
	}
	return Step{Name: name, State: Failed, Detail: fmt.Sprintf("denied by %s (%s)", d.ID, d.Reason),
		Next: fmt.Sprintf("see why: shipgate decision show %s; fix it, then %s", d.ID, next)}
}

func dataOf(doc map[string]any) map[string]any {
	m, _ := doc["data"].(map[string]any)
	return m
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
