package schemas

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// inputKeywords are the keywords OPA's type checker uses. Everything else
// (if/then/else, format, pattern, bounds, comments) only constrains values,
// which validation has already done by the time a policy runs.
var inputKeywords = map[string]bool{
	"type": true, "properties": true, "required": true,
	"additionalProperties": true, "items": true, "enum": true, "const": true,
}

// InputSchema returns, for each of Kinds, a self-contained schema of one
// evidence document of that kind, for OPA's type checker: the envelope's and
// the kind's properties merged, every $ref inlined, and only the keywords in
// inputKeywords kept. Each document also gets a "digest" string property
// and a "signed_by" array of key ids (its verified DSSE signers), which the
// engine adds after decoding; an Approval, Override or Hold also
// "authenticated_as", the person the engine authenticated it as.
//
// The result is built fresh on every call, so callers may modify it.
func InputSchema() (map[string]any, error) {
	files, err := decodedFiles()
	if err != nil {
		return nil, err
	}
	r := resolver{files: files}
	env, err := r.inline("envelope.json", files["envelope.json"], 0)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(Kinds))
	for _, k := range Kinds {
		name := File(k)
		doc, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("schema %s: not embedded", name)
		}
		// The kind schema is allOf[envelope] plus narrowed kind and data
		// properties; flatten that into one object schema.
		own, err := r.inline(name, map[string]any{"properties": doc["properties"]}, 0)
		if err != nil {
			return nil, err
		}
		merged := deepCopy(env).(map[string]any)
		props, _ := merged["properties"].(map[string]any)
		ownProps, _ := own["properties"].(map[string]any)
		if props == nil || ownProps["kind"] == nil || ownProps["data"] == nil {
			return nil, fmt.Errorf("schema %s: want envelope properties and the kind's kind and data", name)
		}
		maps.Copy(props, ownProps)
		props["digest"] = map[string]any{"type": "string"}
		props["signed_by"] = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
		if grants[k] {
			props["authenticated_as"] = map[string]any{"type": "string"}
		}
		out[k] = merged
	}
	return out, nil
}

// DataSchema returns the policy data schema (DataFile) self-contained for
// OPA's type checker, as InputSchema does for evidence: every $ref inlined
// and only the keywords in inputKeywords kept. Its closed objects make a
// rule that reads a key the data cannot have fail to compile.
//
// The result is built fresh on every call, so callers may modify it.
func DataSchema() (map[string]any, error) {
	files, err := decodedFiles()
	if err != nil {
		return nil, err
	}
	return resolver{files: files}.inline(DataFile, files[DataFile], 0)
}

// decodedFiles is readFiles done once: the embedded files cannot change,
// and nothing changes the decoded form (inline copies what it keeps).
var decodedFiles = sync.OnceValues(readFiles)

// readFiles decodes every embedded schema file, by name.
func readFiles() (map[string]map[string]any, error) {
	files := map[string]map[string]any{}
	entries, err := FS.ReadDir(".")
	if err != nil {
		return nil, fmt.Errorf("read embedded schemas: %w", err)
	}
	for _, e := range entries {
		b, err := FS.ReadFile(e.Name())
		if err != nil {
			return nil, fmt.Errorf("read schema %s: %w", e.Name(), err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("parse schema %s: %w", e.Name(), err)
		}
		files[e.Name()] = doc
	}
	return files, nil
}

// grants are the kinds whose documents the engine marks with
// authenticated_as: the person it authenticated the grant as.
var grants = map[string]bool{"Approval": true, "Override": true, "Hold": true}

// resolver inlines $refs between the embedded files.
type resolver struct {
	files map[string]map[string]any
}

// maxRefDepth bounds inlining; the schemas are not recursive, so hitting it
// means a $ref cycle was introduced.
const maxRefDepth = 32

// inline returns a copy of the schema s, found in file, with every $ref
// replaced by its (inlined) target and only inputKeywords kept.
func (r resolver) inline(file string, s map[string]any, depth int) (map[string]any, error) {
	if depth > maxRefDepth {
		return nil, fmt.Errorf("schema %s: $ref nesting deeper than %d", file, maxRefDepth)
	}
	if ref, ok := s["$ref"].(string); ok {
		tfile, target, err := r.lookup(file, ref)
		if err != nil {
			return nil, err
		}
		return r.inline(tfile, target, depth+1)
	}
	out := map[string]any{}
	if pp, ok := s["patternProperties"].(map[string]any); ok && len(pp) > 0 {
		// OPA's type checker knows no patterns: to it, an object whose keys
		// follow a pattern (and no other key) holds values of that schema
		// under any key. With several patterns, their values must agree.
		var first map[string]any
		for _, p := range slices.Sorted(maps.Keys(pp)) {
			sub, ok := pp[p].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("schema %s: patternProperties %s is not a schema object", file, p)
			}
			inl, err := r.inline(file, sub, depth+1)
			if err != nil {
				return nil, err
			}
			if first == nil {
				first = inl
			} else if !reflect.DeepEqual(first, inl) {
				return nil, fmt.Errorf("schema %s: patternProperties of different schemas", file)
			}
		}
		if s["additionalProperties"] == false {
			out["additionalProperties"] = first
		}
	}
	for k, v := range s {
		if !inputKeywords[k] {
			continue
		}
		switch k {
		case "type":
			// OPA types a union like ["number","null"] as its first member;
			// leaving it untyped (any) is the honest answer.
			if _, ok := v.(string); !ok {
				continue
			}
			out[k] = v
		case "properties":
			in, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("schema %s: properties is not an object", file)
			}
			props := map[string]any{}
			for name, ps := range in {
				sub, ok := ps.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("schema %s: property %s is not a schema object", file, name)
				}
				inl, err := r.inline(file, sub, depth+1)
				if err != nil {
					return nil, err
				}
				props[name] = inl
			}
			out[k] = props
		case "items", "additionalProperties":
			if _, done := out[k]; done { // from patternProperties
				continue
			}
			sub, ok := v.(map[string]any)
			if !ok { // a boolean schema
				out[k] = v
				continue
			}
			inl, err := r.inline(file, sub, depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = inl
		default:
			out[k] = deepCopy(v)
		}
	}
	return out, nil
}

// lookup resolves ref ("other.json", "#/$defs/x" or "other.json#/$defs/x")
// relative to file.
func (r resolver) lookup(file, ref string) (string, map[string]any, error) {
	tfile, frag, _ := strings.Cut(ref, "#")
	if tfile == "" {
		tfile = file
	}
	doc, ok := r.files[tfile]
	if !ok {
		return "", nil, fmt.Errorf("schema %s: $ref %q: no file %s", file, ref, tfile)
	}
	var cur any = doc
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = pointerToken.Replace(tok)
		m, ok := cur.(map[string]any)
		if !ok {
			return "", nil, fmt.Errorf("schema %s: $ref %q: not found", file, ref)
		}
		if cur, ok = m[tok]; !ok {
			return "", nil, fmt.Errorf("schema %s: $ref %q: not found", file, ref)
		}
	}
	target, ok := cur.(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("schema %s: $ref %q: not a schema object", file, ref)
	}
	return tfile, target, nil
}

// pointerToken unescapes a JSON pointer's token (RFC 6901); made once, not
// for each token.
var pointerToken = strings.NewReplacer("~1", "/", "~0", "~")

// deepCopy copies decoded JSON so that callers of InputSchema can modify the
// result without sharing state between kinds.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}
