package engine

import (
	"encoding/json"
	"maps"
	"slices"
	"sync"

	"github.com/localizevideos/shipgate/policyset"
	"github.com/localizevideos/shipgate/schemas"
)

// The input and data schemas in the type checker's form are built once
// per process from the embedded schema files, which cannot change: every
// load gives the same data schema maps to its compiler and to checkReads,
// and neither changes them (OPA reads a schema to compile it into types).
// The input schema (inputSchema) is kept only as the JSON the compiler is
// given: nothing else reads its maps, which would otherwise stay on the
// heap for the life of the process.
var (
	dataTypeSchema = sync.OnceValues(schemas.DataSchema)
	// The compiler is given the two as JSON, marshalled once: OPA
	// marshals a schema given as Go values on every compile, only to
	// decode the bytes again, and json.Marshal of these bytes gives them
	// back as they are. They hold only what OPA makes types of
	// (typeJSON): it decodes and compiles the whole schema at every
	// compile.
	inputTypeSchemaJSON = typeSchemaJSON(inputSchema)
	dataTypeSchemaJSON  = typeSchemaJSON(dataTypeSchema)
)

// typeSchemaJSON is the schema schema returns as typeJSON writes it, made
// once.
func typeSchemaJSON(schema func() (map[string]any, error)) func() (json.RawMessage, error) {
	return sync.OnceValues(func() (json.RawMessage, error) {
		s, err := schema()
		if err != nil {
			return nil, err
		}
		return typeJSON(s)
	})
}

// typeJSON writes schema as JSON for OPA's type checker, with only the
// keywords it makes types of (typeKeywords). The others (required,
// additionalProperties, enum, const, …) only validate: an object with
// properties is closed to the type checker whatever additionalProperties
// says, and one without is open. OPA gives both forms the same types, but
// decodes and compiles the validating keywords too, for nothing, at every
// compile. schema is not changed.
func typeJSON(schema map[string]any) (json.RawMessage, error) {
	return appendTypeSchema(nil, schema)
}

// typeKeywords are the keywords OPA's type checker reads (with $ref, the
// definitions it may point into), in the order typeJSON writes them.
var typeKeywords = [...]string{"type", "properties", "items", "anyOf", "allOf", "$ref", "definitions", "$defs"}

// appendTypeSchema appends s, a schema, as typeJSON writes it.
func appendTypeSchema(b []byte, s any) ([]byte, error) {
	m, ok := s.(map[string]any)
	if !ok {
		return appendJSON(b, s)
	}
	b = append(b, '{')
	sep := false
	for _, k := range typeKeywords {
		v, ok := m[k]
		if !ok {
			continue
		}
		if sep {
			b = append(b, ',')
		}
		sep = true
		b = append(b, '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		var err error
		switch k {
		case "type", "$ref":
			b, err = appendJSON(b, v)
		case "items", "anyOf", "allOf":
			b, err = appendTypeSchemas(b, v)
		default: // schemas by name
			b, err = appendNamedTypeSchemas(b, v)
		}
		if err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendTypeSchemas appends v, a schema or a list of them.
func appendTypeSchemas(b []byte, v any) ([]byte, error) {
	list, ok := v.([]any)
	if !ok {
		return appendTypeSchema(b, v)
	}
	b = append(b, '[')
	for i, x := range list {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendTypeSchema(b, x); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

// appendNamedTypeSchemas appends v, schemas by name (properties,
// definitions), names in order.
func appendNamedTypeSchemas(b []byte, v any) ([]byte, error) {
	named, ok := v.(map[string]any)
	if !ok {
		return appendJSON(b, v)
	}
	b = append(b, '{')
	for i, name := range slices.Sorted(maps.Keys(named)) {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendJSON(b, name); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = appendTypeSchema(b, named[name]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendJSON appends v as JSON.
func appendJSON(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	return append(b, j...), err
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
