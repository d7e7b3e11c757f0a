package report

import (
	"time"

	"github.com/localizevideos/shipgate/engine"
)

// Schema names the version of the JSON structure; a change that removes or
// renames a field gets a new one.
const Schema = "shipgate.dev/audit-report/v1"

// Report is the audit report of one period: the model every format renders.
type Report struct {
	Schema      string    `json:"schema"`
	GeneratedAt time.Time `json:"generatedAt"`
	Period      Period    `json:"period"`
	// Service and Environment are the filters given; empty for all.
	Service     string `json:"service"`
	Environment string `json:"environment"`
	// PolicyRevision is the policy set the report read rule titles, freeze
	// windows and explanations from; empty without one.
	PolicyRevision string    `json:"policyRevision"`
	Integrity      Integrity `json:"integrity"`
	// Signing says whether the evidence shipgate records counted only
	// when signed; every format states it on its first page.
	Signing Signing `json:"signing"`
	Summary Summary `json:"summary"`
	// Days counts the decisions of each day of the period (UTC).
	Days     []Day     `json:"days"`
	Releases []Release `json:"releases"`
}

// Period is [Since, Until). AsOf is when the state of violations is taken:
// Until, or the report's time when Until is later.
type Period struct {
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	AsOf  time.Time `json:"asOf"`
}

// Integrity is what verifying the ledger found.
type Integrity struct {
	Intact bool `json:"intact"`
	// Entries, Head and Root describe the verified ledger; zero when it is
	// broken.
	Entries int64  `json:"entries"`
	Head    string `json:"head"`
	Root    string `json:"root"`
	// Checkpoint is the signed checkpoint the ledger was checked against.
	Checkpoint *Checkpoint `json:"checkpoint"`
	// Error is the first break, or the error that stopped verification.
	Error string `json:"error"`
	// Statement is the sentence every format prints first.
	Statement string `json:"statement"`
	// Err is the error Verify returned, for the caller's exit code.
	Err error `json:"-"`
}

// Signing is whether Build, Deploy, Verification, Monitoring, Rollback and
// Hold documents counted only when signed by a trusted key (policy data
// signing.required; docs/evidence.md#signed-evidence).
type Signing struct {
	// Off is set when signing was off for any decision of the period, or
	// in the policy set the report read.
	Off bool `json:"off"`
	// OffDecisions counts the period's decisions made with signing off;
	// Decisions all of the period's decisions, dry runs included.
	OffDecisions int `json:"offDecisions"`
	Decisions    int `json:"decisions"`
	// PolicyOff is set when the policy set the report read has it off.
	PolicyOff bool `json:"policyOff"`
	// Statement is the sentence every format prints on its first page.
	Statement string `json:"statement"`
}

// Checkpoint identifies a signed checkpoint.
type Checkpoint struct {
	Origin string    `json:"origin"`
	Size   int64     `json:"size"`
	Head   string    `json:"head"`
	Root   string    `json:"root"`
	KeyID  string    `json:"keyId"`
	Time   time.Time `json:"time"`
}

// Summary holds the figures of the period. docs/audit.md defines each.
type Summary struct {
	Releases  int `json:"releases"`
	Decisions int `json:"decisions"`
	Allowed   int `json:"allowed"`
	Denied    int `json:"denied"`
	DryRuns   int `json:"dryRuns"`
	// DenialsByRule counts, per rule, the denials it took part in; most
	// first.
	DenialsByRule     []RuleCount      `json:"denialsByRule"`
	EmergencyReleases int              `json:"emergencyReleases"`
	Violations        ViolationFigures `json:"violations"`
	PostmortemLead    Durations        `json:"postmortemLeadTime"`
	ChangeFailure     ChangeFailure    `json:"changeFailure"`
	TimeToRestore     Durations        `json:"timeToRestore"`
	Rollbacks         RollbackFigures  `json:"rollbacks"`
	Freeze            FreezeFigures    `json:"freeze"`
	// Overrides counts the soft violations lifted by an Override.
	Overrides int `json:"overrides"`
	// DenialReasons counts the denials by the decision's reason.
	DenialReasons map[string]int `json:"denialReasons"`
	// Gates counts the decisions of each gate.
	Gates map[string]GateCount `json:"gates"`
}

// GateCount counts one gate's decisions.
type GateCount struct {
	Allowed int `json:"allowed"`
	Denied  int `json:"denied"`
}

// RuleCount is a rule and how many denials it took part in.
type RuleCount struct {
	Rule    string `json:"rule"`
	Title   string `json:"title"`
	Denials int    `json:"denials"`
}

// ViolationFigures count the violations and obligations the period's
// decisions opened, as they stood at AsOf.
type ViolationFigures struct {
	Opened      int `json:"opened"`
	Obligations int `json:"obligations"`
	Closed      int `json:"closed"`
	ClosedLate  int `json:"closedLate"`
	Open        int `json:"open"`
	Overdue     int `json:"overdue"`
}

// Durations summarise a set of durations, in seconds; Median and Max are
// null when Count is 0.
type Durations struct {
	Count         int      `json:"count"`
	MedianSeconds *float64 `json:"medianSeconds"`
	MaxSeconds    *float64 `json:"maxSeconds"`
}

// ChangeFailure is the change failure rate: Failed ÷ Deployed, null
// without a deployed release.
type ChangeFailure struct {
	Deployed   int `json:"deployed"`
	Failed     int `json:"failed"`
	RolledBack int `json:"rolledBack"`
	// Verify counts the releases that failed verification in the wide
	// sense: VerifyDenied or MonitoringBreached (or both).
	Verify             int      `json:"verificationFailed"`
	VerifyDenied       int      `json:"verifyDenied"`
	MonitoringBreached int      `json:"monitoringBreached"`
	Rate               *float64 `json:"rate"`
}

// RollbackFigures compare each release's rollback with its deploy.
type RollbackFigures struct {
	Count                 int            `json:"count"`
	SlowerThanDeploy      int            `json:"slowerThanDeploy"`
	MedianRollbackSeconds *float64       `json:"medianRollbackSeconds"`
	MedianDeploySeconds   *float64       `json:"medianDeploySeconds"`
	Items                 []RollbackItem `json:"items"`
}

// RollbackItem is one release's rollback against its deploy.
type RollbackItem struct {
	Release         string   `json:"release"`
	RollbackSeconds float64  `json:"rollbackSeconds"`
	DeploySeconds   *float64 `json:"deploySeconds"`
	Slower          bool     `json:"slower"`
}

// FreezeFigures count the releases with a deploy decision taken during a
// freeze.
type FreezeFigures struct {
	Releases  int `json:"releases"`
	Allowed   int `json:"allowed"`
	Emergency int `json:"emergency"`
}

// Day counts the decisions evaluated on one UTC day.
type Day struct {
	Date    string `json:"date"`
	Allowed int    `json:"allowed"`
	Denied  int    `json:"denied"`
}

// Release is everything recorded about one release gated in the period.
type Release struct {
	ID          string `json:"id"`
	Service     string `json:"service"`
	Environment string `json:"environment"`
	Commit      string `json:"commit"`
	// Outcome flags, as the summary counts them.
	Deployed      bool     `json:"deployed"`
	Emergency     bool     `json:"emergency"`
	DuringFreeze  bool     `json:"duringFreeze"`
	FreezeWindows []string `json:"freezeWindows"`
	RolledBack    bool     `json:"rolledBack"`
	// VerificationFailed is VerifyDenied or MonitoringBreached: a verify
	// decision denied by the policies, or a Monitoring that reports a
	// breach.
	VerificationFailed bool `json:"verificationFailed"`
	VerifyDenied       bool `json:"verifyDenied"`
	MonitoringBreached bool `json:"monitoringBreached"`
	Failed             bool `json:"failed"`
	// FailedAt is the first failed verification or monitoring breach;
	// RestoredAt the end of the first succeeded rollback after it.
	FailedAt             *time.Time `json:"failedAt"`
	RestoredAt           *time.Time `json:"restoredAt"`
	TimeToRestoreSeconds *float64   `json:"timeToRestoreSeconds"`
	DeploySeconds        *float64   `json:"deploySeconds"`
	RollbackSeconds      *float64   `json:"rollbackSeconds"`

	Evidence    []Evidence   `json:"evidence"`
	Decisions   []Decision   `json:"decisions"`
	Violations  []Violation  `json:"violations"`
	Overrides   []Override   `json:"overrides"`
	Approvals   []Approval   `json:"approvals"`
	Deploys     []Deploy     `json:"deploys"`
	Rollbacks   []Rollback   `json:"rollbacks"`
	Postmortems []Postmortem `json:"postmortems"`
}

// Evidence is one recorded document of the release.
type Evidence struct {
	Kind        string    `json:"kind"`
	Digest      string    `json:"digest"`
	Collector   string    `json:"collector"`
	Actor       string    `json:"actor"`
	CollectedAt time.Time `json:"collectedAt"`
	RecordedAt  time.Time `json:"recordedAt"`
	Entry       int64     `json:"entry"`
}

// Decision is one gate decision, with its explanation.
type Decision struct {
	ID             string               `json:"id"`
	Gate           string               `json:"gate"`
	Allow          bool                 `json:"allow"`
	Reason         string               `json:"reason"`
	DryRun         bool                 `json:"dryRun"`
	EvaluatedAt    time.Time            `json:"evaluatedAt"`
	Entry          int64                `json:"entry"`
	PolicyRevision string               `json:"policyRevision"`
	InputDigest    string               `json:"inputDigest"`
	Rules          []string             `json:"rules"`
	Evidence       []engine.EvidenceRef `json:"evidence"`
	Ignored        []engine.Ignored     `json:"ignored"`
	Violations     []Finding            `json:"violations"`
	Overridden     []Finding            `json:"overridden"`
	Warnings       []Finding            `json:"warnings"`
	Obligations    []engine.Obligation  `json:"obligations"`
	Opened         []string             `json:"opened"`
	Emergency      bool                 `json:"emergency"`
	// Freeze lists the freeze windows active at a deploy decision: the
	// window ids, or the rule that reported one.
	Freeze []string `json:"freeze"`
	// Observed is what a reconcile saw (gate "reconcile": no policy
	// evaluated it, so it has no policy revision, input or replay); null
	// for a gate decision.
	Observed    *Observation `json:"observed"`
	Explanation Explanation  `json:"explanation"`
}

// Observation is what a reconcile saw, as it recorded it: the process PM2
// runs and the git state of its directory, against the ledger.
type Observation struct {
	At      time.Time       `json:"at"`
	Process ObservedProcess `json:"process"`
	Git     ObservedGit     `json:"git"`
	// Explained is the allowed deploy or the rollback during which the
	// process started; null when none did.
	Explained *ObservedEvent `json:"explained"`
	// ExpectedCommit is the commit the last deploy or rollback left.
	ExpectedCommit string `json:"expectedCommit"`
}

// ObservedProcess is the process PM2 runs.
type ObservedProcess struct {
	Name     string `json:"name"`
	PID      int    `json:"pid"`
	Status   string `json:"status"`
	Restarts int    `json:"restarts"`
	// StartedAt is null when PM2 gave no start time.
	StartedAt *time.Time `json:"startedAt"`
	Cwd       string     `json:"cwd"`
}

// ObservedGit is the git state of the directory the process runs from.
type ObservedGit struct {
	Repository  string `json:"repository"`
	Commit      string `json:"commit"`
	Branch      string `json:"branch"`
	Clean       bool   `json:"clean"`
	CommitKnown bool   `json:"commitKnown"`
	OnMain      bool   `json:"onMain"`
}

// ObservedEvent is a deploy or rollback the ledger holds.
type ObservedEvent struct {
	Kind       string    `json:"kind"`
	Release    string    `json:"release"`
	Commit     string    `json:"commit"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	Evidence   string    `json:"evidence"`
}

// Finding is a rule result of a decision, with the rule's title.
type Finding struct {
	Rule        string   `json:"rule"`
	Title       string   `json:"title"`
	Enforcement string   `json:"enforcement"`
	Message     string   `json:"message"`
	Evidence    []string `json:"evidence"`
	Remediation string   `json:"remediation"`
	Override    string   `json:"override,omitempty"`
	Approver    string   `json:"approver,omitempty"`
}

// Explanation says, in words an auditor can check, why a decision came out
// as it did.
type Explanation struct {
	Summary string `json:"summary"`
	// Attributed is true when each document's part was found by evaluating
	// the decision again without it (same policy revision, same input
	// digest); Note says why not otherwise.
	Attributed bool          `json:"attributed"`
	Note       string        `json:"note"`
	Rules      []RuleOutcome `json:"rules"`
}

// Outcomes of a rule in a decision.
const (
	Held       = "held"
	Overridden = "overridden"
	Warned     = "warning"
	Violated   = "violated"
)

// RuleOutcome is one rule of a decision.
type RuleOutcome struct {
	Rule    string `json:"rule"`
	Title   string `json:"title"`
	Outcome string `json:"outcome"`
	// SatisfiedBy are the documents without which the rule would have
	// fired (attributed decisions only).
	SatisfiedBy []string `json:"satisfiedBy"`
	// Detail is what failed (violations, warnings) or who lifted it and why
	// (overrides).
	Detail      string   `json:"detail"`
	Evidence    []string `json:"evidence"`
	Remediation string   `json:"remediation"`
}

// Violation is a violation or obligation a decision of the release opened,
// as it stood at the period's AsOf.
type Violation struct {
	ID              string     `json:"id"`
	Kind            string     `json:"kind"`
	Gate            string     `json:"gate"`
	Decision        string     `json:"decision"`
	Rules           []string   `json:"rules"`
	Actor           string     `json:"actor"`
	Message         string     `json:"message"`
	OpenedAt        time.Time  `json:"openedAt"`
	Due             time.Time  `json:"due"`
	Status          string     `json:"status"`
	ClosedAt        *time.Time `json:"closedAt"`
	ClosedBy        string     `json:"closedBy"`
	Late            bool       `json:"late"`
	Overdue         bool       `json:"overdue"`
	LeadTimeSeconds *float64   `json:"leadTimeSeconds"`
}

// Override is a soft violation lifted in a decision: who lifted it and why.
type Override struct {
	Decision  string     `json:"decision"`
	Gate      string     `json:"gate"`
	Rule      string     `json:"rule"`
	Approver  string     `json:"approver"`
	Reason    string     `json:"reason"`
	Digest    string     `json:"digest"`
	CreatedAt *time.Time `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt"`
}

// Approval is an Approval document of the release.
type Approval struct {
	Approver   string    `json:"approver"`
	Decision   string    `json:"decision"`
	Gate       string    `json:"gate"`
	ApprovedAt time.Time `json:"approvedAt"`
	Comment    string    `json:"comment"`
	Digest     string    `json:"digest"`
}

// Deploy is a Deploy document of the release.
type Deploy struct {
	Status          string     `json:"status"`
	Actor           string     `json:"actor"`
	Trigger         string     `json:"trigger"`
	StartedAt       *time.Time `json:"startedAt"`
	FinishedAt      *time.Time `json:"finishedAt"`
	DurationSeconds *float64   `json:"durationSeconds"`
	Digest          string     `json:"digest"`
}

// Rollback is a Rollback document of the release.
type Rollback struct {
	Strategy        string    `json:"strategy"`
	Status          string    `json:"status"`
	StartedAt       time.Time `json:"startedAt"`
	FinishedAt      time.Time `json:"finishedAt"`
	DurationSeconds float64   `json:"durationSeconds"`
	Reason          string    `json:"reason"`
	Actor           string    `json:"actor"`
	Digest          string    `json:"digest"`
}

// Postmortem is a Postmortem that closed a violation of the release, or
// that names the release.
type Postmortem struct {
	Digest      string    `json:"digest"`
	Author      string    `json:"author"`
	Summary     string    `json:"summary"`
	Incident    string    `json:"incident"`
	URL         string    `json:"url"`
	CompletedAt time.Time `json:"completedAt"`
	RecordedAt  time.Time `json:"recordedAt"`
	Violations  []string  `json:"violations"`
}
