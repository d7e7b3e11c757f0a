# METADATA
# title: Shared library of the rule files
# description: >-
#   What every rule file shares: the policy data, access to the counted
#   evidence, who deploys, which approvals count, time, and the rule
#   metadata helper. input.evidence.<Kind> lists the counted documents of a
#   kind, oldest first; every kind key is present, possibly with an empty
#   array.
package shipgate.lib

# config is the policy data (policies/shipgate/config/data.yaml, or --data);
# {} when there is none, so that every rule still evaluates and
# policy.data-missing denies (fail closed). (Data that is not an object is
# refused when the engine loads it; evaluated elsewhere, it is an error.)
# The annotation types it with the data schema (schemas/policydata.json,
# which the engine gives as schema.policydata): a rule that reads a key
# through config that the data cannot have fails to compile.
default config := {}

# METADATA
# schemas:
#   - data.shipgate.config: schema.policydata
config := data.shipgate.config

# digests(docs) lists the digests of docs, sorted: the order of the input
# never shows in a decision.
digests(docs) := sort([doc.digest | some doc in docs])

# cited(doc) is the digest of doc in an array, [] for a stand-in (no digest).
cited(doc) := [doc.digest] if doc.digest

else := []

# about(doc, rule, message) is a finding of rule that cites doc.
about(doc, rule, message) := {
	"rule": rule,
	"message": message,
	"evidence": cited(doc),
}

# There is no "latest document" helper on purpose: the engine orders
# documents collected at the same time by digest, and a digest must never
# decide a gate. Rules judge every document of the newest tie (newest,
# plans, deploys) and keep the worst result.

# plans are the Plans the rules judge: every Plan of the newest tie, or one
# stand-in without data or digest when there is none, so that a rule that
# requires a Plan field fires without a Plan too (fail closed).
plans := input.evidence.Plan if count(input.evidence.Plan) == 1

else := newest_of(input.evidence.Plan) if count(input.evidence.Plan) > 1

else := [{"data": {}}]

# lacks(doc, kind, what) says that doc, a document of kind (or a stand-in),
# has no what.
lacks(doc, kind, what) := sprintf("latest %s has no %s", [kind, what]) if doc.digest

else := sprintf("no %s evidence, so no %s", [kind, what])

# service is the policy data of the release's service, {} when not configured.
service := object.get(config, ["services", input.release.service], {})

# capabilities are the service's declared progressive-delivery capabilities.
capabilities := object.get(service, "capabilities", {})

# build_commands are the service's approved build commands, each an exact
# argv (services.<service>.build_commands; `npm run build` when absent).
build_commands := object.get(service, "build_commands", [["npm", "run", "build"]])

# passed_builds lists the Builds that count as passed: status passed, exit
# code 0, an approved build command, and finished no earlier than started
# (passed_status and in_order, said inline: every Build is asked).
passed_builds := [build |
	some build in input.evidence.Build
	build.data.status == "passed"
	build.data.exitCode == 0
	build.data.command in build_commands
	time.parse_rfc3339_ns(build.data.startedAt) <= time.parse_rfc3339_ns(build.data.finishedAt)
]

# build_problem(build) says why a Build does not count as passed; undefined
# when it does (when passed_builds lists it).
build_problem(build) := sprintf("ended %s with exit code %v", [build.data.status, build.data.exitCode]) if {
	not passed_status(build.data)
} else := sprintf(
	"ran %s, which is not an approved build command (approved: %s)",
	[argv(build.data.command), join([argv(c) | some c in build_commands])],
) if {
	not build.data.command in build_commands
} else := sprintf("finished (%s) before it started (%s), so it does not count", [build.data.finishedAt, build.data.startedAt]) if {
	not in_order(build.data.startedAt, build.data.finishedAt)
}

passed_status(build) if {
	build.status == "passed"
	build.exitCode == 0
}

# text(value) holds for a string with something other than spaces in it: a
# required free-text field of only spaces counts as missing.
text(value) if {
	is_string(value)
	trim_space(value) != ""
}

# has_text(obj, path) holds when obj has at path a string that is more than
# spaces. (It takes the object, not the value: `not text(x.y)` with x.y
# undefined would not be true.)
has_text(obj, path) if {
	value := object.get(obj, path, null)
	is_string(value)
	trim_space(value) != ""
}

# has_argv(obj, path) holds when obj has at path an argument vector with
# some text in it.
has_argv(obj, path) if text(concat("", object.get(obj, path, [])))

# newest_of(docs) lists the documents of docs collected at the newest
# collectedAt among them: usually one, several on a tie, [] when docs is empty.
# Rules judge the worst of a tie, so the digest order never decides. (One
# document or none is its own newest: most kinds have one, and the rules
# ask for it often.)
newest_of(docs) := docs if {
	count(docs) < 2
} else := [doc |
	some doc in docs
	time.parse_rfc3339_ns(doc.collectedAt) == newest_ns
] if {
	newest_ns := max({time.parse_rfc3339_ns(doc.collectedAt) | some doc in docs})
}

# newest(kind) is newest_of the counted documents of kind.
newest(kind) := newest_of(input.evidence[kind])

# The newest documents of the kinds the rules judge, worked out once per
# evaluation. (A kind with one document or none is its own newest, as in
# newest_of, said here without calling it: a call costs more than the rule.)
newest_builds := input.evidence.Build if count(input.evidence.Build) < 2

else := newest_of(input.evidence.Build)

newest_deploys := input.evidence.Deploy if count(input.evidence.Deploy) < 2

else := newest_of(input.evidence.Deploy)

newest_flag_changes := input.evidence.FlagChange if count(input.evidence.FlagChange) < 2

else := newest_of(input.evidence.FlagChange)

newest_incidents := input.evidence.IncidentStatus if count(input.evidence.IncidentStatus) < 2

else := newest_of(input.evidence.IncidentStatus)

newest_error_budgets := input.evidence.ErrorBudget if count(input.evidence.ErrorBudget) < 2

else := newest_of(input.evidence.ErrorBudget)

# short_digest(digest) is the first 12 hex characters of a digest.
short_digest(digest) := substring(trim_prefix(digest, "sha256:"), 0, 12)

# succeeded_deploys lists the Deploys that count as succeeded, oldest first:
# status succeeded, exit code 0, finished no earlier than started.
succeeded_deploys := [doc |
	some doc in input.evidence.Deploy
	doc.data.status == "succeeded"
	not unsound_deploy(doc.data)
]

# unsound_deploy(deploy) says why a Deploy recorded as succeeded does not
# count as one; undefined when it does (or is not recorded as succeeded).
unsound_deploy(deploy) := sprintf("is recorded succeeded, but its command exited %v", [deploy.exitCode]) if {
	deploy.status == "succeeded"
	deploy.exitCode != 0
} else := sprintf("is recorded succeeded, but finished (%s) before it started (%s)", [deploy.finishedAt, deploy.startedAt]) if {
	deploy.status == "succeeded"
	not in_order(deploy.startedAt, deploy.finishedAt)
}

# deployed_ns is when the newest succeeded Deploy finished (the latest
# finishedAt on a tie); undefined without a succeeded Deploy.
deployed_ns := max({time.parse_rfc3339_ns(doc.data.finishedAt) | some doc in newest_of(succeeded_deploys)})

# deployed_at is deployed_ns as the Deploy recorded it (the first spelling
# in sort order, should two Deploys write the same instant differently).
deployed_at := sort([doc.data.finishedAt |
	some doc in succeeded_deploys
	time.parse_rfc3339_ns(doc.data.finishedAt) == deployed_ns
])[0]

# deploys are the Deploys the deploy rules judge: every Deploy of the newest
# tie and, after the deploy, every one of the newest tie of succeeded Deploys
# (the deploy that ran); [] without a Deploy. One Deploy or none is judged
# as it is (it is its own newest tie).
deploys := input.evidence.Deploy if count(input.evidence.Deploy) < 2

else := [doc |
	some doc in input.evidence.Deploy
	judged_deploy(doc.digest)
]

judged_deploy(digest) if {
	some doc in newest_deploys
	doc.digest == digest
}

judged_deploy(digest) if {
	some doc in newest_of(succeeded_deploys)
	doc.digest == digest
}

# after_deploy(timestamp) holds when timestamp is at or after deployed_ns.
after_deploy(timestamp) if time.parse_rfc3339_ns(timestamp) >= deployed_ns

# tied_verifications are the Verifications that started at or after the newest
# succeeded Deploy finished; early_verifications are the others (all of them
# when no Deploy succeeded): smoke tests of an earlier state do not count.
tied_verifications := [doc |
	some doc in input.evidence.Verification
	after_deploy(doc.data.startedAt)
]

early_verifications := [doc |
	some doc in input.evidence.Verification
	not after_deploy(doc.data.startedAt)
]

# tied_monitoring and early_monitoring split Monitoring the same way, by
# window.start.
tied_monitoring := [doc |
	some doc in input.evidence.Monitoring
	after_deploy(doc.data.window.start)
]

early_monitoring := [doc |
	some doc in input.evidence.Monitoring
	not after_deploy(doc.data.window.start)
]

# untied(kind, names) says why the named documents of kind do not count.
untied(kind, names) := sprintf(
	"ignored %s that started before the newest succeeded Deploy finished (%s): %s",
	[kind, deployed_at, join(names)],
) if deployed_ns

else := sprintf("ignored %s, as no Deploy succeeded: %s", [kind, join(names)])

# ignored_verifications names the early Verifications for a message.
ignored_verifications := untied("Verification", sort([sprintf("%s (started %s)", [short_digest(doc.digest), doc.data.startedAt]) |
	some doc in early_verifications
]))

# ignored_monitoring names the early Monitoring documents for a message.
ignored_monitoring := untied("Monitoring", sort([sprintf("%s (window from %s)", [short_digest(doc.digest), doc.data.window.start]) |
	some doc in early_monitoring
]))

# check_passed(verification, name) holds when the Verification document has a
# check called name and every check called name passed. A Verification that
# finished before it started passes nothing: it does not count.
check_passed(verification, name) if {
	in_order(verification.data.startedAt, verification.data.finishedAt)
	some check in verification.data.checks
	check.name == name
	every same in [other | some other in verification.data.checks; other.name == name] {
		same.status == "passed"
	}
}

# passed_by_all(verifications, name) holds when verifications is not empty
# and each of them passed check name: on a tie the worst result counts.
passed_by_all(verifications, name) if {
	count(verifications) > 0
	every verification in verifications {
		check_passed(verification, name)
	}
}

# unpassed_checks(verification) lists the mandatory checks it did not pass.
unpassed_checks(verification) := [name |
	some name in config.verification.mandatory_checks
	not check_passed(verification, name)
]

# verified(verification) holds when it passed every mandatory check.
verified(verification) if count(unpassed_checks(verification)) == 0

# argv(cmd) renders an argument vector for a message: `pm2 restart app`.
argv(cmd) := sprintf("`%s`", [concat(" ", cmd)])

# join(items) joins strings for a message, "none" for an empty list.
join(items) := concat(", ", items) if count(items) > 0

else := "none"

# short(commit) is the 12-character abbreviation of a commit.
short(commit) := substring(commit, 0, 12)
