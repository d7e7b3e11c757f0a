package policyset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
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
		// The JSON yaml.YAMLToJSON would give, without parsing the file
		// again: it decodes with UseOrderedMap (Strict only concerns
		// structs) and marshals the value with the JSON option.
		var err error
		if js, err = yaml.MarshalWithOptions(v, yaml.JSON()); err != nil {
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

// withData returns docs with data mounted at data.shipgate.config, when
// data is non-nil. docs itself is left as it is: it may be a bundle's.
func withData(docs map[string]any, data map[string]any) map[string]any {
	if data == nil {
		return docs
	}
	docs = maps.Clone(docs)
	if docs == nil {
		docs = map[string]any{}
	}
	sg, _ := docs["shipgate"].(map[string]any)
	sg = maps.Clone(sg)
	if sg == nil {
		sg = map[string]any{}
	}
	sg["config"] = data
	docs["shipgate"] = sg
	return docs
}

// withIdentities returns docs with servers and people added to
// data.shipgate.config.signing (servers: key id → name; people: person →
// key ids, united with the data's), so the policy set a decision records
// names every key that authenticated a grant. docs itself is left as it is.
func withIdentities(docs map[string]any, servers map[string]string, people map[string][]string) (map[string]any, error) {
	if len(servers) == 0 && len(people) == 0 {
		return docs, nil
	}
	// A deep copy: docs may be a bundle's, or shared with other engines.
	b, err := json.Marshal(docs)
	if err != nil {
		return nil, fmt.Errorf("policy data: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("policy data: %w", err)
	}
	if out == nil {
		out = map[string]any{}
	}
	sg, _ := out["shipgate"].(map[string]any)
	if sg == nil {
		sg = map[string]any{}
		out["shipgate"] = sg
	}
	cfg, _ := sg["config"].(map[string]any)
	if cfg == nil {
		// No data: load refuses it, with its own message.
		return out, nil
	}
	sig, _ := cfg["signing"].(map[string]any)
	if sig == nil {
		sig = map[string]any{}
		cfg["signing"] = sig
	}
	if len(servers) > 0 {
		m, _ := sig["servers"].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		for id, name := range servers {
			if _, ok := m[id]; !ok {
				m[id] = name
			}
		}
		sig["servers"] = m
	}
	if len(people) > 0 {
		m, _ := sig["people"].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		for person, ids := range people {
			have, _ := m[person].([]any)
			for _, id := range ids {
				if !slices.Contains(have, any(id)) {
					have = append(have, id)
				}
			}
			m[person] = have
		}
		sig["people"] = m
	}
	return out, nil
}
