# Package shipgate.rules.deploy checks that the deploy runs the approved
# command, exactly.
package shipgate.rules.deploy

import data.shipgate.lib

rules := {
	"deploy.approved-command": {
		"title": "Only the approved deploy command",
		"enforcement": "hard",
		"gates": {"deploy"},
		"remediation": "deploy with an approved command, argument for argument (LocalizeVideos: `pm2 restart localizevideos-app --update-env`), or add the command to services.<service>.deploy_commands through a reviewed policy change",
	},
}

approved_commands := object.get(lib.service, "deploy_commands", [])

findings contains lib.about_latest("Deploy", "deploy.approved-command", message) if {
	count(approved_commands) == 0
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
	count(approved_commands) > 0
	not lib.latest("Deploy")
}

findings contains lib.about_latest("Deploy", "deploy.approved-command", message) if {
	count(approved_commands) > 0
	command := lib.latest("Deploy").data.command
	not command in approved_commands
	message := sprintf(
		"deploy command %s is not approved for %s (approved: %s)",
		[lib.argv(command), input.release.service, concat(", ", [lib.argv(c) | some c in approved_commands])],
	)
}
