# Package shipgate.rules.signature checks that the evidence kinds named in
# policy data (signing.required_kinds) are signed by a trusted key: every
# counted document of such a kind must carry a verified DSSE signature
# (signed_by, filled by the engine from the envelope it verified) by a key in
# signing.trusted_keys or, when that map is empty, by any key shipgate was
# configured to trust (--trusted-key). A service may override signing in
# services.<service>.signing.
package shipgate.rules.signature

import data.shipgate.lib

# METADATA
# title: Evidence of the required kinds is signed by a trusted key
# description: >-
#   Fires when a counted document of a kind in `signing.required_kinds`
#   (default `[]`) is not signed by a trusted key: its `signed_by` is empty (a
#   bare document), or, when `signing.trusted_keys` is not empty, names none
#   of its key ids (one finding per document, naming kind, digest and
#   signers). `services.<service>.signing` replaces `signing` for one service.
#   The kinds shipgate records (Build, Deploy, Verification, Monitoring,
#   Rollback, Hold) need no listing: unsigned, they do not count at all (What
#   the rules see); this rule is for more kinds (e.g. `[Plan,
#   IncidentStatus]`). See signed evidence.
# custom:
#   enforcement: hard
#   gates: [deploy, verify, complete, flag]
#   remediation: >-
#     record the step with `shipgate run` (it signs with --signing-key), or
#     add the document as a DSSE envelope signed by a trusted key; trust a key
#     through signing.trusted_keys in a reviewed policy change
rule["signature.required"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

signing := object.get(lib.service, "signing", object.get(lib.config, "signing", {}))

required_kinds := object.get(signing, "required_kinds", [])

# trusted_keys maps key ids (sha256:<hex>) to who holds the key.
trusted_keys := object.get(signing, "trusted_keys", {})

signers(doc) := object.get(doc, "signed_by", [])

# trusted(doc): signed by a trusted key (the common case, asked first), or
# signed at all where no key is listed.
trusted(doc) if {
	some id in signers(doc)
	trusted_keys[id]
}

trusted(doc) if {
	count(trusted_keys) == 0
	count(signers(doc)) > 0
}

findings contains {
	"rule": "signature.required",
	"message": message(kind, doc),
	"evidence": [doc.digest],
} if {
	some kind in required_kinds
	some doc in input.evidence[kind]
	not trusted(doc)
}

message(kind, doc) := sprintf("%s %s is not signed: it came as a bare document, not a DSSE envelope signed by a trusted key", [kind, short(doc.digest)]) if {
	count(signers(doc)) == 0
}

message(kind, doc) := sprintf("%s %s is signed by %s, none of them in signing.trusted_keys (%s)", [
	kind, short(doc.digest), concat(", ", signers(doc)),
	concat(", ", [id | some id, _ in trusted_keys]),
]) if {
	count(signers(doc)) > 0
}

short(digest) := substring(trim_prefix(digest, "sha256:"), 0, 12)
