package engine

import (
	"errors"
	"fmt"
	"time"
)

// Reasons say why a decision came out the way it did. Every reason except
// ReasonAllow denies.
const (
	ReasonAllow            = "policy.allow"
	ReasonDeny             = "policy.deny"
	ReasonUndefined        = "engine.undefined"
	ReasonConflict         = "engine.conflict"
	ReasonMalformed        = "engine.malformed"
	ReasonRuntimeError     = "engine.runtime-error"
	ReasonDeadline         = "engine.deadline"
	ReasonNoRules          = "engine.no-rules"
	ReasonEvidenceMissing  = "evidence.missing"
	ReasonEvidenceInvalid  = "evidence.invalid"
	ReasonEvidenceBinding  = "evidence.binding"
	ReasonEvidenceConflict = "evidence.conflict"
	ReasonStore            = "store.unavailable"
)

// Rule ids the engine itself reports, beside those of the policies.
const (
	RuleEvidenceMissing = "evidence.missing"
	RuleEvidenceInvalid = "evidence.invalid"
	RuleEngineFault     = "engine.fault"
)

// Enforcement levels.
const (
	Advisory = "advisory"
	Soft     = "soft"
	Hard     = "hard"
)

// Release identifies what is being gated. Evidence counts only when it is
// bound to the same release id, service, environment and commit.
type Release struct {
	ID          string `json:"id"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
	Commit      string `json:"commit"`
	Repository  string `json:"repository,omitempty"`
}

// Finding is one rule result: a violation, an overridden violation or a
// warning.
type Finding struct {
	Rule        string   `json:"rule"`
	Title       string   `json:"title,omitempty"`
	Enforcement string   `json:"enforcement"`
	Message     string   `json:"message"`
	Evidence    []string `json:"evidence"`
	Remediation string   `json:"remediation,omitempty"`
	// Override and Approver are set on overridden findings.
	Override string `json:"override,omitempty"`
	Approver string `json:"approver,omitempty"`
}

// Obligation is something that must happen because of this decision: a
// rollback now, a postmortem by a date.
type Obligation struct {
	Kind    string `json:"kind"`
	Rule    string `json:"rule,omitempty"`
	Message string `json:"message,omitempty"`
	Due     string `json:"due,omitempty"`
}

// Ignored is evidence that was offered but did not count, and why.
type Ignored struct {
	Kind    string `json:"kind"`
	Digest  string `json:"digest"`
	Source  string `json:"source,omitempty"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// EvidenceRef names one document that counted for the decision.
type EvidenceRef struct {
	Kind   string `json:"kind"`
	Digest string `json:"digest"`
	Source string `json:"source,omitempty"`
	// Grantor is who an Approval, Override or Hold is authenticated as.
	Grantor *Grantor `json:"grantor,omitempty"`
}

// PolicyRef identifies the policy set: a digest of its modules and data.
type PolicyRef struct {
	Revision string `json:"revision"`
	Bundle   string `json:"bundle,omitempty"`
}

// InputRef identifies the exact input the policies saw.
type InputRef struct {
	Digest string `json:"digest"`
}

// Decision is what a gate answers and the ledger stores.
type Decision struct {
	ID          string        `json:"id,omitempty"`
	Gate        string        `json:"gate"`
	Release     Release       `json:"release"`
	Allow       bool          `json:"allow"`
	Reason      string        `json:"reason"`
	Violations  []Finding     `json:"violations"`
	Overridden  []Finding     `json:"overridden"`
	Warnings    []Finding     `json:"warnings"`
	Obligations []Obligation  `json:"obligations"`
	Rules       []string      `json:"rules"`
	Ignored     []Ignored     `json:"ignored"`
	Evidence    []EvidenceRef `json:"evidence"`
	Policy      PolicyRef     `json:"policy"`
	Input       InputRef      `json:"input"`
	EvaluatedAt time.Time     `json:"evaluatedAt"`
	DryRun      bool          `json:"dryRun,omitempty"`
	// SigningOff is set when the policy data turned signing off
	// (signing.required: false) for the release's service: unsigned
	// evidence of the signed kinds counted. An audit report says so.
	SigningOff bool `json:"signingOff,omitempty"`
	// Opened names the violations and obligations this decision opened in
	// the ledger.
	Opened []string `json:"opened,omitempty"`
	// Recurs names the open violation this denial repeats (the same
	// release, gate and rules): the decision is added to it, and no new
	// violation opens, so asking again does not bury the real ones.
	Recurs string `json:"recurs,omitempty"`
}

// deny turns d into a denial for reason, keeping what it already explains.
func (d *Decision) deny(reason string, f Finding) {
	d.Allow = false
	d.Reason = reason
	if f.Rule != "" {
		if f.Evidence == nil {
			f.Evidence = []string{}
		}
		d.Violations = append(d.Violations, f)
	}
}

// FaultError reports an evaluation that produced no trustworthy policy
// answer. The Decision returned beside it denies with Reason.
type FaultError struct {
	Reason string
	Err    error
}

func (e *FaultError) Error() string { return fmt.Sprintf("%s: %v", e.Reason, e.Err) }
func (e *FaultError) Unwrap() error { return e.Err }

// ErrUnknownGate is returned for a gate the engine has no query for.
var ErrUnknownGate = errors.New("unknown gate")
