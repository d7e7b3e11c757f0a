# Package shipgate.rules.flag: code-level flags, environment toggles and
# per-route enablement are allowed; user-percentage rollout, canaries and
# traffic splitting wait until the capability is declared.
package shipgate.rules.flag

import data.shipgate.lib

# METADATA
# title: Flag strategy enabled for the service
# description: >-
#   Fires when the latest FlagChange's `strategy` is in
#   `flags.gated_strategies` (`user-percentage`, `canary`, `traffic-split`)
#   and is not a key of `services.<service>.capabilities`; also a `toggle`,
#   `environment` or `route` change, enabled, that carries a user percentage
#   while `user-percentage` is not declared: an `environment` or `routes[]`
#   value with a number and a percent sign (`production:10%`, `10%25`) or a
#   share parameter (`?pct=25`, `rollout=`, `percent=`, `weight=`…), or
#   `percentage` under 100. Also fires when there is no FlagChange.
# custom:
#   enforcement: hard
#   gates: [flag]
#   remediation: >-
#     use a toggle, environment or route strategy, or declare the capability
#     (with metrics, alerts and a human override) in
#     services.<service>.capabilities through a reviewed policy change
rule["flag.strategy-not-enabled"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

findings contains {
	"rule": "flag.strategy-not-enabled",
	"message": "no FlagChange evidence: the flag change to judge is unknown",
	"evidence": [],
} if count(input.evidence.FlagChange) == 0

# Each FlagChange of the newest tie is judged.
findings contains lib.about(doc, "flag.strategy-not-enabled", message) if {
	some doc in lib.newest_flag_changes
	change := doc.data
	change.enabled # turning a flag off is the emergency rollback: always allowed
	change.strategy in lib.config.flags.gated_strategies
	not change.strategy in object.keys(lib.capabilities)
	message := sprintf(
		"flag %s uses strategy %s, which is not enabled for %s (declared capabilities: %s)",
		[change.flag, change.strategy, input.release.service, lib.join(sort(object.keys(lib.capabilities)))],
	)
}

# An environment or route value can carry a user percentage
# ("production:10%", "/checkout?pct=25"), and so can the percentage field: a
# user-percentage rollout under the name of a strategy that is always allowed
# (toggle, environment, route). It needs the user-percentage capability like
# the strategy itself. (A gated strategy is judged above; a canary's share is
# part of what its capability declares.)
findings contains lib.about(doc, "flag.strategy-not-enabled", message) if {
	some doc in lib.newest_flag_changes
	change := doc.data
	change.enabled
	not change.strategy in lib.config.flags.gated_strategies
	not "user-percentage" in object.keys(lib.capabilities)
	some where, value in targets(change)
	percentage(value)
	message := sprintf(
		"flag %s (strategy %s) carries a user percentage in its %s %q: user-percentage rollout is not enabled for %s (declared capabilities: %s)",
		[change.flag, change.strategy, where, value, input.release.service, lib.join(sort(object.keys(lib.capabilities)))],
	)
}

findings contains lib.about(doc, "flag.strategy-not-enabled", message) if {
	some doc in lib.newest_flag_changes
	change := doc.data
	change.enabled
	not change.strategy in lib.config.flags.gated_strategies
	not "user-percentage" in object.keys(lib.capabilities)
	change.percentage < 100
	message := sprintf(
		"flag %s (strategy %s) is enabled for %v%% of users: user-percentage rollout is not enabled for %s (declared capabilities: %s)",
		[change.flag, change.strategy, change.percentage, input.release.service, lib.join(sort(object.keys(lib.capabilities)))],
	)
}

# targets(change) maps "environment" and "route N" to the values they name.
targets(change) := object.union(
	{"environment": change.environment | change.environment},
	{sprintf("route %d", [i]): route | some i, route in object.get(change, "routes", [])},
)

# percentage(value) holds for a value that names a share of users: a number
# with a percent sign (also URL-encoded), or a query parameter such as pct=.
percentage(value) if regex.match(`(?i)([0-9]\s*(%|%25)|[?&;#]\s*(pct|percent|percentage|rollout|ratio|share|weight|sample|fraction|traffic)\s*=)`, value)
