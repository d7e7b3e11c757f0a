package policyset

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// ReadData turns the value it decoded for the duplicate-key check into
// JSON instead of parsing the file again with yaml.YAMLToJSON: the JSON is
// the same, for every YAML file of the repository and for the shapes YAML
// can write a value in.
func TestReadDataJSONAsYAMLToJSON(t *testing.T) {
	docs := map[string][]byte{
		"scalars": []byte("a: 1\nb: 1.0\nc: 1e3\nd: -0\ne: 0x1f\nf: 0o17\ng: .inf\nh: ~\ni: true\nj: yes\nk: '01'\nl: 2026-11-26\nm: 2026-11-26T10:05:00Z\nn: 18446744073709551616\no: 9007199254740993\np: \"\\u00e9\\t\"\n"),
		"nested":  []byte("x:\n  - {a: 1, b: [1, 2, {c: d}]}\n  - - 1\n    - 2\n\"quoted key\": {\"\": 1}\n? complex\n: v\n"),
		"anchors": []byte("base: &b {a: 1, b: 2}\nderived:\n  <<: *b\n  b: 3\nlist: [*b, *b]\n"),
		"blocks":  []byte("lit: |\n  two\n  lines\nfold: >-\n  folded\n  text\nempty: \"\"\n"),
		"order":   []byte("z: 1\na: 2\nm: {z: 1, a: 2}\n"),
	}
	root := filepath.Join("..")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			docs[p] = b
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for name, b := range docs {
		var v any
		if err := yaml.UnmarshalWithOptions(b, &v, yaml.Strict(), yaml.UseOrderedMap()); err != nil {
			continue // ReadData refuses it before any JSON
		}
		want, werr := yaml.YAMLToJSON(b)
		got, gerr := yaml.MarshalWithOptions(v, yaml.JSON())
		if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
			t.Errorf("%s: JSON of the decoded value = %s, %v; yaml.YAMLToJSON = %s, %v", name, got, gerr, want, werr)
		}
		compared++
	}
	if compared < 100 {
		t.Errorf("compared %d documents; want the repository's YAML files", compared)
	}
}
