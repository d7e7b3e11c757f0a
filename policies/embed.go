// Package policies embeds the default policy set: the Rego rules that encode
// the LocalizeVideos release document, their tests, and the default data.
package policies

import "embed"

// FS holds lib/, rules/, gates/ and shipgate/config/data.yaml, as
// `opa test policies/` sees them.
//
//go:embed lib gates rules shipgate
var FS embed.FS
