package auth

import (
	"fmt"
	"slices"
)

// Permission is one thing a role may do. The API's routes and the
// dashboard's pages each name the permission they need and ask Allows, so
// a role sees on a page exactly what the API answers it: a page never
// shows what the API refuses.
type Permission string

// Permissions. Roles are exact (see the package documentation).
const (
	// RecordEvidence: add evidence documents.
	RecordEvidence Permission = "record evidence"
	// AskGate: ask a gate, which records its decision.
	AskGate Permission = "ask a gate"
	// ReadLedger: read releases, evidence, decisions, violations and
	// postmortems (the dashboard's pages).
	ReadLedger Permission = "read the ledger"
	// ReadPlans: read a release's status and its Plan documents, which a
	// pipeline binds what it records to.
	ReadPlans Permission = "read a release's status and plans"
	// PlanRollback: ask where a rollback goes and whether it may run.
	PlanRollback Permission = "plan a rollback"
	// Approve: approve, override and hold releases.
	Approve Permission = "approve releases"
	// RecordPostmortem: record a postmortem that closes violations.
	RecordPostmortem Permission = "record postmortems"
	// VerifyLedger: verify the ledger's chain.
	VerifyLedger Permission = "verify the ledger"
	// ManageTokens: create, list and revoke tokens.
	ManageTokens Permission = "manage tokens"
)

var granted = map[Permission][]string{
	RecordEvidence:   {RolePipeline},
	AskGate:          {RolePipeline},
	ReadLedger:       {RoleApprover, RoleAuditor},
	ReadPlans:        {RolePipeline, RoleApprover, RoleAuditor},
	PlanRollback:     {RolePipeline, RoleApprover},
	Approve:          {RoleApprover},
	RecordPostmortem: {RolePipeline, RoleApprover},
	VerifyLedger:     {RoleAuditor},
	ManageTokens:     {RoleAdmin},
}

// Roles returns the roles that hold perm (none for an unknown one).
func (perm Permission) Roles() []string { return slices.Clone(granted[perm]) }

// Allows reports whether role holds perm.
func (perm Permission) Allows(role string) bool { return slices.Contains(granted[perm], role) }

// Authorize returns an error wrapping ErrForbidden, naming p, its role and
// the roles that may, unless p's role holds perm.
func (p Principal) Authorize(perm Permission) error {
	if perm.Allows(p.Role) {
		return nil
	}
	return fmt.Errorf("%w: %s (role %s) may not %s: that needs the role %s", ErrForbidden, p.Name, p.Role, perm, joinRoles(granted[perm]))
}

func joinRoles(roles []string) string {
	switch len(roles) {
	case 0:
		return "(none)"
	case 1:
		return roles[0]
	}
	out := roles[0]
	for _, r := range roles[1 : len(roles)-1] {
		out += ", " + r
	}
	return out + " or " + roles[len(roles)-1]
}
