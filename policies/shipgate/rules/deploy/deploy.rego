# Package shipgate.rules.deploy checks that the deploy runs the approved
# command, exactly.
package shipgate.rules.deploy

import data.shipgate.lib

# METADATA
# title: Only the approved deploy command
# description: >-
#   Fires when a judged Deploy's `command` (at the deploy gate the request, at
#   verify and complete what ran) is not, argument for argument and in order,
#   one of `services.<service>.deploy_commands`; also when the service has no
#   command configured, or there is no Deploy. `pm2 restart
#   localizevideos-app` (no `--update-env`) fires.
# custom:
#   enforcement: hard
#   gates: [deploy, verify, complete]
#   remediation: >-
#     deploy with an approved command, argument for argument (LocalizeVideos:
#     `pm2 restart localizevideos-app --update-env`), or add the command to
#     services.<service>.deploy_commands through a reviewed policy change
rule["deploy.approved-command"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

approved_commands := object.get(lib.service, "deploy_commands", [])

# commands_declared holds when the service has an approved deploy command.
commands_declared if count(approved_commands) > 0

findings contains {
	"rule": "deploy.approved-command",
	"message": message,
	"evidence": lib.digests(lib.deploys),
} if {
	not commands_declared
	message := sprintf(
		"service %s has no approved deploy command (services.%s.deploy_commands in policy data)",
		[input.release.service, input.release.service],
	)
}

findings contains {
	"rule": "deploy.approved-command",
	"message": "no Deploy evidence: the deploy command is unknown",
	"evidence": [],
} if {
	commands_declared
	count(input.evidence.Deploy) == 0
}

# Every Deploy of the newest tie is judged (lib.deploys): at the deploy gate
# the request, at the verify and complete gates what ran.
findings contains lib.about(doc, "deploy.approved-command", message) if {
	commands_declared
	some doc in lib.deploys
	command := doc.data.command
	not command in approved_commands
	message := sprintf(
		"deploy command %s is not approved for %s (approved: %s)",
		[lib.argv(command), input.release.service, concat(", ", [lib.argv(c) | some c in approved_commands])],
	)
}
