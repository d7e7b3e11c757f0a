package policyset

import "maps"

// MergeData returns base with over merged on top, as a JSON Merge Patch
// (RFC 7386) does: where both hold an object the two are merged key by key,
// a null in over removes the key, and anything else in over (a list, a
// string, a number, a bool) replaces what base holds. Neither argument is
// changed. It is how a policy data overlay (--data +FILE) applies.
func MergeData(base, over map[string]any) map[string]any {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range over {
		switch v := v.(type) {
		case nil:
			delete(out, k)
		case map[string]any:
			b, _ := out[k].(map[string]any)
			out[k] = MergeData(b, v)
		default:
			out[k] = v
		}
	}
	return out
}
