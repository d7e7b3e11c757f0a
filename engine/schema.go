package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/schemas"
)

// The input and data schemas in the type checker's form are built once
// per process from the embedded schema files, which cannot change: every
// load gives the same maps to its compiler and to checkReads, and neither
// changes them (OPA reads a schema to compile it into types).
var (
	inputTypeSchema = sync.OnceValues(inputSchema)
	dataTypeSchema  = sync.OnceValues(schemas.DataSchema)
	// The compiler is given the two as JSON, marshalled once: OPA
	// marshals a schema given as Go values on every compile, only to
	// decode the bytes again, and json.Marshal of these bytes gives them
	// back as they are. They hold only what OPA makes types of
	// (typesOnly): it decodes and compiles the whole schema at every
	// compile.
	inputTypeSchemaJSON = typeSchemaJSON(inputTypeSchema)
	dataTypeSchemaJSON  = typeSchemaJSON(dataTypeSchema)
)

// typeSchemaJSON is the schema schema returns, as JSON with only the
// keywords OPA makes types of, made once.
func typeSchemaJSON(schema func() (map[string]any, error)) func() (json.RawMessage, error) {
	return sync.OnceValues(func() (json.RawMessage, error) {
		s, err := schema()
		if err != nil {
			return nil, err
		}
		shared, err := shareRepeated(typesOnly(s).(map[string]any))
		if err != nil {
			return nil, err
		}
		return json.Marshal(shared)
	})
}

// typesOnly is schema with only the keywords OPA's type checker makes
// types of: type, properties, items, anyOf and allOf (and $ref with the
// definitions it may point into). The others (required,
// additionalProperties, enum, const, …) only validate: an object with
// properties is closed to the type checker whatever additionalProperties
// says, and one without is open. OPA gives both forms the same types,
// but compiles the validating keywords too, for nothing, at every
// compile. schema is not changed.
func typesOnly(schema any) any {
	switch s := schema.(type) {
	case map[string]any:
		out := make(map[string]any, len(s))
		for k, v := range s {
			switch k {
			case "type", "$ref":
				out[k] = v
			case "items", "anyOf", "allOf":
				out[k] = typesOnly(v)
			case "properties", "definitions", "$defs":
				named, ok := v.(map[string]any)
				if !ok {
					out[k] = v
					continue
				}
				kept := make(map[string]any, len(named))
				for name, sub := range named {
					kept[name] = typesOnly(sub)
				}
				out[k] = kept
			}
		}
		return out
	case []any:
		out := make([]any, len(s))
		for i, v := range s {
			out[i] = typesOnly(v)
		}
		return out
	}
	return schema
}

// shareRepeated is schema (typesOnly's) with each object schema with
// properties that appears more than once (the envelope's collector,
// release and source, in every evidence kind) written once, under $defs,
// and referred to ($ref) where it appears: OPA compiles each once and
// makes one type of it, the type the schema written out gives, and the
// schema is a fifth shorter. A schema with $ref or $defs already is left
// as it is. schema is not changed.
func shareRepeated(schema map[string]any) (map[string]any, error) {
	if _, ok := schema["$defs"]; ok {
		return schema, nil
	}
	// Number each distinct subschema: alike subschemas have alike
	// keywords and, in place of their subschemas, alike numbers. ids
	// holds the numbers in the order number meets the subschemas, each
	// after those under it, as share meets them again.
	numbers := map[string]int{}
	var ids, count []int
	hasRef := false
	var number func(s map[string]any) (map[string]any, error)
	number = func(s map[string]any) (map[string]any, error) {
		_, ref := s["$ref"]
		hasRef = hasRef || ref
		shallow, err := mapSubschemas(s, number)
		if err != nil {
			return nil, err
		}
		text, err := json.Marshal(shallow)
		if err != nil {
			return nil, err
		}
		id, ok := numbers[string(text)]
		if !ok {
			id = len(numbers)
			numbers[string(text)] = id
			count = append(count, 0)
		}
		count[id]++
		ids = append(ids, id)
		return map[string]any{"": id}, nil
	}
	if _, err := number(schema); err != nil || hasRef {
		return schema, err
	}
	defs := map[string]any{}
	var share func(s map[string]any) (map[string]any, error)
	share = func(s map[string]any) (map[string]any, error) {
		out, err := mapSubschemas(s, share)
		if err != nil {
			return nil, err
		}
		id := ids[0]
		ids = ids[1:]
		if _, ok := s["properties"]; !ok || count[id] < 2 {
			return out, nil
		}
		name := fmt.Sprintf("s%d", id)
		if _, ok := defs[name]; !ok {
			defs[name] = out
		}
		return map[string]any{"$ref": "#/$defs/" + name}, nil
	}
	out, err := share(schema)
	if err != nil || len(defs) == 0 {
		return schema, err
	}
	out["$defs"] = defs
	return out, nil
}

// mapSubschemas is a copy of s with each schema directly under it (in
// properties, items, anyOf and allOf) replaced by what f returns for it,
// f called in a fixed order; s is not changed.
func mapSubschemas(s map[string]any, f func(map[string]any) (map[string]any, error)) (map[string]any, error) {
	apply := func(v any) (any, error) {
		if m, ok := v.(map[string]any); ok {
			return f(m)
		}
		return v, nil
	}
	out := maps.Clone(s)
	for _, k := range [...]string{"properties", "items", "anyOf", "allOf"} {
		var err error
		switch v := s[k].(type) {
		case map[string]any:
			if k != "properties" {
				out[k], err = apply(v)
				break
			}
			props := make(map[string]any, len(v))
			for _, name := range slices.Sorted(maps.Keys(v)) {
				if props[name], err = apply(v[name]); err != nil {
					break
				}
			}
			out[k] = props
		case []any:
			list := make([]any, len(v))
			for i, x := range v {
				if list[i], err = apply(x); err != nil {
					break
				}
			}
			out[k] = list
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// warmSchemas builds the schemas a load needs (each once per process) in
// the background, while the policies are read and parsed: the compiler
// and the data check then find them ready. Their errors are the ones the
// load reports when it asks for them. A recorded set uses neither data
// schema.
func warmSchemas(recorded bool) {
	go func() {
		_, _ = inputTypeSchemaJSON()
		if !recorded {
			_, _ = dataTypeSchemaJSON()
		}
	}()
	if !recorded {
		go func() { _ = policyset.CompileDataSchema() }()
	}
}

func str() map[string]any { return map[string]any{"type": "string"} }

func object(props map[string]any, required ...string) map[string]any {
	if required == nil {
		required = []string{}
	}
	return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

func array(items map[string]any) map[string]any {
	return map[string]any{"type": "array", "items": items}
}

// inputSchema describes the Rego input document for OPA's type checker. Its
// objects are closed, so a policy that reads a field no evidence kind has
// fails to compile instead of being silently undefined at run time.
func inputSchema() (map[string]any, error) {
	kinds, err := schemas.InputSchema()
	if err != nil {
		return nil, err
	}
	ev := map[string]any{}
	for _, k := range schemas.Kinds {
		ev[k] = array(kinds[k].(map[string]any))
	}
	return object(map[string]any{
		"gate": map[string]any{"type": "string", "enum": []any{"deploy", "verify", "complete", "flag"}},
		"now":  str(),
		"release": object(map[string]any{
			"id": str(), "service": str(), "environment": str(), "commit": str(), "repository": str(),
		}, "id", "service", "environment", "commit"),
		"evidence": object(ev, schemas.Kinds...),
		"facts": object(map[string]any{
			"freeze": object(map[string]any{
				"active": map[string]any{"type": "boolean"},
				"windows": array(object(map[string]any{
					"id": str(), "name": str(), "reason": str(), "start": str(), "end": str(),
				}, "id", "start", "end")),
			}, "active", "windows"),
		}, "freeze"),
		"violations": array(object(map[string]any{
			"id": str(), "release": str(), "gate": str(), "rules": array(str()),
			"status": str(), "openedAt": str(), "due": str(),
		}, "id", "gate", "rules", "status", "openedAt", "due")),
	}, "gate", "now", "release", "evidence", "facts", "violations"), nil
}
