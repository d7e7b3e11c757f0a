# Package shipgate.rules.policy denies when the policy data the rules need is
# absent or unusable: without it a rule that reads a missing key finds
# nothing to object to, and the rules alone would answer allow to an open
# SEV-1 (evaluate the .rego files without data.yaml and see). Each key is
# read by its own path, so that a change to one key of the data is a change
# to the files that read it only (engine.Compare).
package shipgate.rules.policy

import data.shipgate.lib

# METADATA
# title: The policy data the rules need is present
# description: >-
#   Fires when the policy data lacks a key the rules need, or holds something
#   unusable there (one finding per problem): `approvers`, `environments`,
#   `incidents.blocking_severities`, `incidents.blocking_statuses`,
#   `deploy.allowed_triggers`, `deploy.main_branches`,
#   `verification.mandatory_checks` (each a non-empty list of names),
#   `freeze.environments`, `flags.gated_strategies` (lists of names),
#   `runbook.max_review_age_days` (a number); a frozen environment that is not
#   declared; `identities` that is not a map of lists, or a name listed for
#   two people. With no data at all (the `.rego` files evaluated alone) it
#   fires for every key.
# custom:
#   enforcement: hard
#   gates: [deploy, verify, complete, flag]
#   remediation: >-
#     give the policies their data (shipgate/config/data.yaml beside them, or
#     --data FILE) with every required key, as in
#     policies/shipgate/config/data.yaml and docs/policies.md
rule["policy.data-missing"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

# required maps each required key to what it must hold and its value.
required := {
	"approvers": ["a non-empty list of names", object.get(lib.config, "approvers", null)],
	"environments": ["a non-empty list of names", object.get(lib.config, "environments", null)],
	"freeze.environments": ["a list of names", object.get(lib.config, ["freeze", "environments"], null)],
	"incidents.blocking_severities": ["a non-empty list of names", object.get(lib.config, ["incidents", "blocking_severities"], null)],
	"incidents.blocking_statuses": ["a non-empty list of names", object.get(lib.config, ["incidents", "blocking_statuses"], null)],
	"deploy.allowed_triggers": ["a non-empty list of names", object.get(lib.config, ["deploy", "allowed_triggers"], null)],
	"deploy.main_branches": ["a non-empty list of names", object.get(lib.config, ["deploy", "main_branches"], null)],
	"verification.mandatory_checks": ["a non-empty list of names", object.get(lib.config, ["verification", "mandatory_checks"], null)],
	"flags.gated_strategies": ["a list of names", object.get(lib.config, ["flags", "gated_strategies"], null)],
	"runbook.max_review_age_days": ["a number", object.get(lib.config, ["runbook", "max_review_age_days"], null)],
}

findings contains {
	"rule": "policy.data-missing",
	"message": sprintf("policy data %s is %s, not %s: the rules that read it cannot judge", [key, shown(value), want]),
	"evidence": [],
} if {
	some key, [want, value] in required
	not holds(want, value)
}

holds("a list of names", value) if names(value)

holds("a non-empty list of names", value) if {
	names(value)
	count(value) > 0
}

holds("a number", value) if is_number(value)

names(value) if {
	is_array(value)
	every item in value {
		is_string(item)
	}
}

shown(null) := "absent"

shown(value) := sprintf("%v", [value]) if value != null

# Frozen environments are declared ones, exactly: a frozen "Production"
# would freeze nothing.
findings contains {
	"rule": "policy.data-missing",
	"message": sprintf("policy data freeze.environments names %q, which is not one of environments (%s): the freeze would apply to nothing", [env, lib.join(sort(declared))]),
	"evidence": [],
} if {
	declared := object.get(lib.config, "environments", [])
	some env in object.get(lib.config, ["freeze", "environments"], [])
	not env in declared
}

# identities maps each person to a list of names, and an alias names one
# person only.
findings contains {
	"rule": "policy.data-missing",
	"message": sprintf("policy data identities.%s is %s, not a list of names", [person, shown(aliases)]),
	"evidence": [],
} if {
	some person, aliases in lib.identities
	not holds("a list of names", aliases)
}

findings contains {
	"rule": "policy.data-missing",
	"message": "policy data identities is not a map from a person to their other names",
	"evidence": [],
} if not is_object(lib.identities)

findings contains {
	"rule": "policy.data-missing",
	"message": sprintf("policy data identities lists %q for %s: a name stands for one person only", [name, concat(" and ", sort(people))]),
	"evidence": [],
} if {
	some name in {lib.normal(alias) | some _, aliases in lib.identities; some alias in aliases}
	people := {person | some person, aliases in lib.identities; lib.known_as(person, aliases, name)}
	count(people) > 1
}
