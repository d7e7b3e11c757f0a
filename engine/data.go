package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"
)

// ReadData parses a policy data file (YAML or JSON, by extension; YAML is a
// superset, so anything else is read as YAML) into the value mounted at
// data.shipgate.config. Duplicate keys are errors, with line and column.
func ReadData(name string, b []byte) (map[string]any, error) {
	js := b
	if ext := strings.ToLower(filepath.Ext(name)); ext != ".json" {
		var v any
		if err := yaml.UnmarshalWithOptions(b, &v, yaml.Strict(), yaml.UseOrderedMap()); err != nil {
			return nil, fmt.Errorf("%s: %s", name, yaml.FormatError(err, false, true))
		}
		var err error
		if js, err = yaml.YAMLToJSON(b); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: want an object of policy data: %w", name, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%s: want an object of policy data, got null", name)
	}
	return m, nil
}
