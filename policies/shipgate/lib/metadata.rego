package shipgate.lib

# metadata(annotations) is a rule's entry in its rule file's rules, made from
# the rule's METADATA annotation (rego.metadata.rule()), the one place a
# rule's metadata is written: its title and description (optional here),
# and under custom its enforcement, its gates (a set here) and its
# remediation. The engine refuses an annotated rule that lacks one of them. The compiler
# replaces rego.metadata.rule() by the annotation itself, and the engine
# folds rules at load, so an evaluation pays nothing for it.
metadata(annotations) := {
	"title": annotations.title,
	"description": object.get(annotations, "description", ""),
	"enforcement": annotations.custom.enforcement,
	"gates": {gate | some gate in annotations.custom.gates},
	"remediation": annotations.custom.remediation,
}
