# Package shipgate.rules.change prefers smaller changes over big batches.
package shipgate.rules.change

import data.shipgate.lib

rules := {
	"change.size": {
		"title": "Small change",
		"enforcement": "advisory",
		"gates": {"deploy"},
		"remediation": "split the release into smaller changes (at most change.max_lines lines and change.max_files files each)",
	},
}

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
