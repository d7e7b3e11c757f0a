// Package policies embeds the default policy set: the Rego rules that encode
// the LocalizeVideos release document, their tests, and the default data.
package policies

import "embed"

// FS holds shipgate/: the lib, rules and gates packages, each in the
// folder its package path names, and shipgate/config/data.yaml, as
// `opa test policies/` sees them.
//
//go:embed shipgate
var FS embed.FS
