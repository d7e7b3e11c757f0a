package shipgate.rules.rollback_test

import data.shipgate.lib.fixtures as f
import data.shipgate.rules.rollback

rolled_back(rollbacks) := findings if {
	findings := rollback.findings with input as f.with_evidence("complete", {"Rollback": rollbacks})
}

test_slower_than_deploy_quiet_when_faster if {
	count(rolled_back([f.rollback("succeeded", 5)])) == 0
}

test_slower_than_deploy_quiet_for_failed_rollback if {
	count(rolled_back([f.rollback("failed", 300)])) == 0
}

test_slower_than_deploy_fires_when_slower if {
	slow := f.rollback("succeeded", 95)
	findings := rolled_back([slow])
	some finding in findings
	finding.rule == "rollback.slower-than-deploy"
	finding.message == "fast rollback took 95s, longer than the deploy (80s: build 72s + deploy 8s)"
	finding.evidence == [slow.digest, f.build("passed", 0).digest, f.deployed(8).digest]
}

# The rollback rebuilds (or restores the build) and restarts: it is measured
# against the build and the deploy of the release, not the restart alone.
test_slower_than_deploy_counts_the_build if {
	count(rolled_back([f.rollback("succeeded", 60)])) == 0
}

test_slower_than_deploy_without_a_build_compares_with_the_deploy if {
	findings := rollback.findings with input as f.with_evidence("complete", {
		"Build": [f.build("failed", 1)],
		"Rollback": [f.rollback("succeeded", 60)],
	})
	f.says(findings, "rollback.slower-than-deploy", "longer than the deploy (8s)")
}

test_slower_than_deploy_compares_with_the_latest_succeeded_deploy if {
	findings := rollback.findings with input as f.with_evidence("complete", {
		"Deploy": [f.deployed(120), f.deployed(8), f.deploy_request],
		"Rollback": [f.rollback("succeeded", 95)],
	})
	f.says(findings, "rollback.slower-than-deploy", "longer than the deploy (80s: build 72s + deploy 8s)")
}

test_slower_than_deploy_ignores_a_rollback_that_finished_before_it_started if {
	inverted := object.union(f.rollback("succeeded", 95), {"data": {"finishedAt": "2026-11-26T10:29:00Z"}})
	count(rolled_back([inverted])) == 0
}
