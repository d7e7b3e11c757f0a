# Package shipgate.lib holds what every rule file shares: the policy data,
# access to the counted evidence, who deploys, which approvals count, and time.
#
# input.evidence.<Kind> lists the counted documents of a kind, oldest first;
# every kind key is present, possibly with an empty array.
package shipgate.lib

# config is the policy data (policies/shipgate/config/data.yaml, or --data).
# The annotation types it with the data schema (schemas/policydata.json,
# which the engine gives as schema.policydata): a rule that reads a key
# through config that the data cannot have fails to compile.
# METADATA
# schemas:
#   - data.shipgate.config: schema.policydata
config := data.shipgate.config

# last(xs) is the last element of array xs; undefined when xs is empty.
last(xs) := xs[count(xs) - 1]

# latest(kind) is the newest counted document of kind; undefined when none.
# It indexes input directly (not through last) so that the type checker keeps
# the evidence schemas: reading a field no kind has fails to compile.
latest(kind) := input.evidence[kind][count(input.evidence[kind]) - 1]

# digests(docs) lists the digests of docs, in order.
digests(docs) := [doc.digest | some doc in docs]

# latest_digests(kind) is the digest of latest(kind) in an array, [] when none.
latest_digests(kind) := [doc.digest | doc := latest(kind)]

# about_latest(kind, rule, message) is a finding that cites latest(kind).
about_latest(kind, rule, message) := {
	"rule": rule,
	"message": message,
	"evidence": latest_digests(kind),
}

# plan is the data of the latest Plan, and {} when there is none: rules that
# require a Plan field then fire on a missing Plan too (fail closed).
default plan := {}

plan := latest("Plan").data

# lacks(kind, what) says that the latest document of kind has no what.
lacks(kind, what) := sprintf("latest %s has no %s", [kind, what]) if latest(kind)

lacks(kind, what) := sprintf("no %s evidence, so no %s", [kind, what]) if not latest(kind)

# service is the policy data of the release's service, {} when not configured.
service := object.get(config, ["services", input.release.service], {})

# capabilities are the service's declared progressive-delivery capabilities.
capabilities := object.get(service, "capabilities", {})

# passed_builds lists the Builds that passed with exit code 0.
passed_builds := [build |
	some build in input.evidence.Build
	build.data.status == "passed"
	build.data.exitCode == 0
]

# newest_of(docs) lists the documents of docs collected at the newest
# collectedAt among them: usually one, several on a tie, [] when docs is empty.
# Rules judge the worst of a tie, so the digest order never decides.
newest_of(docs) := [doc |
	some doc in docs
	ns(doc.collectedAt) == max({ns(other.collectedAt) | some other in docs})
]

# newest(kind) is newest_of the counted documents of kind.
newest(kind) := newest_of(input.evidence[kind])

# short_digest(digest) is the first 12 hex characters of a digest.
short_digest(digest) := substring(trim_prefix(digest, "sha256:"), 0, 12)

# succeeded_deploys lists the Deploys with status succeeded, oldest first.
succeeded_deploys := [doc |
	some doc in input.evidence.Deploy
	doc.data.status == "succeeded"
]

# deployed_ns is when the newest succeeded Deploy finished (the latest
# finishedAt on a tie); undefined without a succeeded Deploy.
deployed_ns := max({ns(doc.data.finishedAt) | some doc in newest_of(succeeded_deploys)})

# deployed_at is deployed_ns as the Deploy recorded it.
deployed_at := [doc.data.finishedAt |
	some doc in succeeded_deploys
	ns(doc.data.finishedAt) == deployed_ns
][0]

# after_deploy(timestamp) holds when timestamp is at or after deployed_ns.
after_deploy(timestamp) if ns(timestamp) >= deployed_ns

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
ignored_verifications := untied("Verification", [sprintf("%s (started %s)", [short_digest(doc.digest), doc.data.startedAt]) |
	some doc in early_verifications
])

# ignored_monitoring names the early Monitoring documents for a message.
ignored_monitoring := untied("Monitoring", [sprintf("%s (window from %s)", [short_digest(doc.digest), doc.data.window.start]) |
	some doc in early_monitoring
])

# check_passed(verification, name) holds when the Verification document has a
# check called name and every check called name passed.
check_passed(verification, name) if {
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
