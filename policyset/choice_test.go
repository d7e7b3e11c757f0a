package policyset_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/policyset"
)

func TestChoiceData(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full := write("full.yaml", "approvers: [erin]\nmonitoring: {min_window_minutes: 30}\n")
	over := write("over.yaml", "monitoring: {min_window_minutes: 5}\n")
	own := fstest.MapFS{"shipgate/config/data.yaml": {Data: []byte("approvers: [alice]\nfreeze: {environments: [production]}\n")}}
	for _, tc := range []struct {
		name    string
		files   []string
		want    map[string]any
		layers  int
		wantErr string
	}{
		{name: "none", files: nil, want: nil},
		{name: "plain", files: []string{full}, layers: 1,
			want: map[string]any{"approvers": []any{"erin"}, "monitoring": map[string]any{"min_window_minutes": json.Number("30")}}},
		{name: "overlay on plain", files: []string{full, "+" + over}, layers: 2,
			want: map[string]any{"approvers": []any{"erin"}, "monitoring": map[string]any{"min_window_minutes": json.Number("5")}}},
		{name: "overlay on own", files: []string{"+" + over}, layers: 1,
			want: map[string]any{"approvers": []any{"alice"}, "freeze": map[string]any{"environments": []any{"production"}},
				"monitoring": map[string]any{"min_window_minutes": json.Number("5")}}},
		{name: "plain after first", files: []string{full, over}, wantErr: "only the first --data may be one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := policyset.Choice{Embedded: own, DataFiles: tc.files}
			got, layers, err := c.Data()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Data(%q) error = %v; want one containing %q", tc.files, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Data(%q): %v", tc.files, err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Data(%q) (-want +got):\n%s", tc.files, d)
			}
			if len(layers) != tc.layers {
				t.Errorf("Data(%q) read %d files; want %d", tc.files, len(layers), tc.layers)
			}
		})
	}
}

func TestChoiceOverlayWithoutOwnData(t *testing.T) {
	over := filepath.Join(t.TempDir(), "over.yaml")
	if err := os.WriteFile(over, []byte("approvers: [bob]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := policyset.Choice{Embedded: fstest.MapFS{}, DataFiles: []string{"+" + over}}
	_, _, err := c.Data()
	if err == nil || !strings.Contains(err.Error(), "overlays the data of embedded policies") {
		t.Fatalf("Data() error = %v; want the overlay refused for want of data to lay it on", err)
	}
}

func TestChoiceOpenBundleRefusesMixedSources(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    policyset.Choice
		want string
	}{
		{"key without bundle", policyset.Choice{VerifyKey: "k.pub"}, "--verify-key needs --bundle"},
		{"bundle and directory", policyset.Choice{Bundle: "b.tar.gz", Dir: "policies"}, "--bundle and a policy directory"},
		{"bundle and data", policyset.Choice{Bundle: "b.tar.gz", DataFiles: []string{"d.yaml"}}, "--data cannot replace a bundle's data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.c.OpenBundle(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("OpenBundle() error = %v; want %q", err, tc.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	dir := t.TempDir()
	ugly := filepath.Join(dir, "a.rego")
	src := "package a\n\nallow if {\n    input.x == 1\n}\n"
	if err := os.WriteFile(ugly, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	changed, err := policyset.Format(dir, true)
	if err != nil || len(changed) != 1 || changed[0] != ugly {
		t.Fatalf("Format(check) = %v, %v; want [%s]", changed, err, ugly)
	}
	if b, _ := os.ReadFile(ugly); string(b) != src {
		t.Fatalf("Format(check) wrote the file:\n%s", b)
	}
	if _, err := policyset.Format(dir, false); err != nil {
		t.Fatal(err)
	}
	if changed, err := policyset.Format(dir, true); err != nil || len(changed) != 0 {
		t.Errorf("Format(check) after formatting = %v, %v; want nothing to change", changed, err)
	}
}
