# Package shipgate.rules.change prefers smaller changes over big batches.
package shipgate.rules.change

import data.shipgate.lib

# METADATA
# title: Small change
# description: >-
#   Fires when the latest Plan's `changeSize` has `linesAdded + linesDeleted >
#   change.max_lines` or `filesChanged > change.max_files`.
# custom:
#   enforcement: advisory
#   gates: [deploy]
#   remediation: >-
#     split the release into smaller changes (at most change.max_lines lines
#     and change.max_files files each)
rule["change.size"] := lib.metadata(rego.metadata.rule())

# rules is this file's rule metadata as the decision library reads it,
# each entry made from its rule's METADATA annotation (lib.metadata).
rules := rule

findings contains lib.about(doc, "change.size", message) if {
	some doc in lib.plans
	size := doc.data.changeSize
	oversized(size)
	message := sprintf(
		"change of %d lines (+%d -%d) in %d files exceeds %d lines or %d files",
		[
			size.linesAdded + size.linesDeleted, size.linesAdded, size.linesDeleted, size.filesChanged,
			lib.config.change.max_lines, lib.config.change.max_files,
		],
	)
}

oversized(size) if size.linesAdded + size.linesDeleted > lib.config.change.max_lines

oversized(size) if size.filesChanged > lib.config.change.max_files
