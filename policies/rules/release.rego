# Package shipgate.rules.release judges the release as a whole: it must be
# released to an environment the policy data declares, spelled exactly as
# declared, so that a relabelled environment (Production, prod) cannot slip
# past the rules that are keyed on it, such as the freeze of production.
package shipgate.rules.release

import data.shipgate.lib

rules := {
	"release.environment-undeclared": {
		"title": "The release's environment is declared",
		"enforcement": "hard",
		"gates": {"deploy", "verify", "complete", "flag"},
		"remediation": "release to an environment listed in policy data environments, spelled exactly as it is there (production, not Production or prod), or declare the environment through a reviewed policy change",
	},
}

# environments are the declared environments (policy data environments).
environments := object.get(lib.config, "environments", [])

# The engine counts only evidence of the release's own environment, so no
# evidence of an undeclared environment counts towards an allow either.
findings contains {
	"rule": "release.environment-undeclared",
	"message": sprintf(
		"environment %q is not declared (declared: %s)%s: the rules keyed on an environment, such as the freeze of production, would not see it",
		[input.release.environment, lib.join(sort(environments)), near_miss],
	),
	"evidence": [],
} if not input.release.environment in environments

# near_miss names a declared environment that differs only in case or spaces.
near_miss := sprintf("; it differs from %s only in case or spaces", [lib.join(sort(same))]) if {
	same := {env |
		some env in environments
		lib.normal(env) == lib.normal(input.release.environment)
	}
	count(same) > 0
} else := ""
