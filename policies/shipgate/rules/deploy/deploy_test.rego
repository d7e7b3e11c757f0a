package shipgate.rules.deploy_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.deploy

test_approved_command_quiet_for_the_approved_command if {
	findings := deploy.findings with input as f.input_for("deploy")
	not "deploy.approved-command" in f.fired(findings)
}

test_approved_command_fires_without_update_env if {
	request := f.deploy_with({"command": ["pm2", "restart", "localizevideos-app"]})
	findings := deploy.findings with input as f.with_evidence("deploy", {"Deploy": [request]})
	some finding in findings
	finding.rule == "deploy.approved-command"
	finding.message == concat("", [
		"deploy command `pm2 restart localizevideos-app` is not approved for localizevideos-app ",
		"(approved: `pm2 restart localizevideos-app --update-env`)",
	])
	finding.evidence == [request.digest]
}

test_approved_command_fires_on_reordered_arguments if {
	request := f.deploy_with({"command": ["pm2", "restart", "--update-env", "localizevideos-app"]})
	findings := deploy.findings with input as f.with_evidence("deploy", {"Deploy": [request]})
	"deploy.approved-command" in f.fired(findings)
}

test_approved_command_judges_the_latest_deploy if {
	bad := f.deploy_with({"command": ["ssh", "prod", "pm2 restart all"]})
	findings := deploy.findings with input as f.with_evidence("deploy", {"Deploy": [f.deploy_request, bad]})
	f.says(findings, "deploy.approved-command", "`ssh prod pm2 restart all`")
}

test_approved_command_fires_for_a_service_without_commands if {
	findings := deploy.findings with input as f.patched("deploy", {"release": {"service": "other-app"}})
	f.says(findings, "deploy.approved-command", "service other-app has no approved deploy command")
	f.count_of(findings, "deploy.approved-command") == 1
}

test_approved_command_fires_without_deploy if {
	findings := deploy.findings with input as f.with_evidence("deploy", {"Deploy": []})
	f.says(findings, "deploy.approved-command", "no Deploy evidence")
}
