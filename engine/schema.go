package engine

import (
	"encoding/json"
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
	// back as they are.
	inputTypeSchemaJSON = typeSchemaJSON(inputTypeSchema)
	dataTypeSchemaJSON  = typeSchemaJSON(dataTypeSchema)
)

// typeSchemaJSON is the schema schema returns, as JSON, made once.
func typeSchemaJSON(schema func() (map[string]any, error)) func() (json.RawMessage, error) {
	return sync.OnceValues(func() (json.RawMessage, error) {
		s, err := schema()
		if err != nil {
			return nil, err
		}
		return json.Marshal(s)
	})
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
