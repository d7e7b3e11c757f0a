package options

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/internal/project"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
)

// policyData parses args as the policy flags of a command and returns the
// data they make.
func policyData(t *testing.T, config string, args ...string) (map[string]any, error) {
	t.Helper()
	o := &Policy{}
	fset := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.AddFlags(fset, &Globals{ConfigPath: config, Getenv: func(string) string { return "" }})
	if err := fset.Parse(args); err != nil {
		return nil, err
	}
	if err := o.Resolve(); err != nil {
		return nil, err
	}
	data, _, err := o.Data()
	return data, err
}

func readData(t *testing.T, name string, b []byte) map[string]any {
	t.Helper()
	m, err := policyset.ReadData(name, b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDataOverlay(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	full := write("full.yaml", "approvers: [erin]\nservices: {web: {capabilities: {}}}\nmonitoring: {min_window_minutes: 30, required_signals: [cpu]}\n")
	a := write("a.yaml", "monitoring: {min_window_minutes: 1}\napprovers: [frank]\n")
	b := write("b.yaml", "monitoring: {min_window_minutes: 2}\nservices: {web: null}\n")
	bad := write("bad.yaml", "monitoring:\n  min_window_minutes: 1\n  min_window_minutes: 2\n")
	emptyPolicies := filepath.Join(dir, "policies")
	if err := os.MkdirAll(emptyPolicies, 0o755); err != nil {
		t.Fatal(err)
	}
	config := write("shipgate.yaml", "data: "+full+"\n")
	noConfig := filepath.Join(dir, "none.yaml")
	write("none.yaml", "")

	defB, err := fs.ReadFile(policies.FS, "shipgate/config/data.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def := readData(t, "data.yaml", defB)
	demo, err := filepath.Abs(filepath.Join("..", "..", "examples", "localizevideos", "watch-demo-data.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The demo overlay is the default data with its two changes.
	wantDemo := readData(t, "data.yaml", defB)
	wantDemo["monitoring"].(map[string]any)["min_window_minutes"] = readData(t, "x.yaml", []byte("v: 0.05"))["v"]
	wantDemo["services"].(map[string]any)["localizevideos-app"].(map[string]any)["capabilities"] =
		readData(t, "x.yaml", []byte("auto-rollback: {metrics: true, alerts: true, human_override: true}"))

	tests := []struct {
		name   string
		config string
		args   []string
		want   map[string]any
		err    string
	}{
		{name: "no --data: the policy set's own data", config: noConfig, want: nil},
		{name: "a plain file replaces the default", config: noConfig, args: []string{"--data", full},
			want: readData(t, "f.yaml", []byte("approvers: [erin]\nservices: {web: {capabilities: {}}}\nmonitoring: {min_window_minutes: 30, required_signals: [cpu]}\n"))},
		{name: "+FILE overlays the embedded default", config: noConfig, args: []string{"--data", "+" + demo}, want: wantDemo},
		{name: "overlays over a plain file, in order", config: noConfig, args: []string{"--data", full, "--data", "+" + a, "--data", "+" + b},
			want: readData(t, "f.yaml", []byte("approvers: [frank]\nservices: {}\nmonitoring: {min_window_minutes: 2, required_signals: [cpu]}\n"))},
		{name: "the config's data is the base of an overlay", config: config, args: []string{"--data", "+" + a},
			want: readData(t, "f.yaml", []byte("approvers: [frank]\nservices: {web: {capabilities: {}}}\nmonitoring: {min_window_minutes: 1, required_signals: [cpu]}\n"))},
		{name: "a plain --data replaces the config's", config: config, args: []string{"--data", a},
			want: readData(t, "f.yaml", []byte("monitoring: {min_window_minutes: 1}\napprovers: [frank]\n"))},
		{name: "a plain file after the first is refused", config: noConfig, args: []string{"--data", full, "--data", a},
			err: "--data " + a + " after --data " + full + ": a plain data file replaces the whole policy data, so only the first --data may be one; write --data +" + a + " to overlay it"},
		{name: "an overlay of a policy set without data", config: noConfig, args: []string{"--policies", emptyPolicies, "--data", "+" + a},
			err: "--data +" + a + " overlays the data of " + emptyPolicies + ": read policy data: none of shipgate/config/data.yaml"},
		{name: "a missing overlay", config: noConfig, args: []string{"--data", "+" + filepath.Join(dir, "nope.yaml")}, err: "read data: open " + filepath.Join(dir, "nope.yaml")},
		{name: "a bad overlay names its file and line", config: noConfig, args: []string{"--data", "+" + bad}, err: bad + ": [3:3] mapping key \"min_window_minutes\" already defined"},
		{name: "an empty overlay name", config: noConfig, args: []string{"--data", "+"}, err: "want a data file, or +FILE to overlay one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := policyData(t, tt.config, tt.args...)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("data() error = %v; want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("data() (-want +got):\n%s", diff)
			}
		})
	}
	// The overlay leaves the embedded default as it was.
	again := readData(t, "data.yaml", defB)
	if diff := cmp.Diff(again, def); diff != "" {
		t.Errorf("the default data changed (-want +got):\n%s", diff)
	}

	// The demo overlay loads: the complete gate's data says 0.05 minutes.
	o := &project.Policy{DataFiles: []string{"+" + demo}, DataFile: "+" + demo}
	if _, err := o.Engine(context.Background()); err != nil {
		t.Fatalf("Engine(--data +demo) = %v", err)
	}
	// A bundle's data is signed with it: no overlay.
	o = &project.Policy{Bundle: filepath.Join(dir, "b.tar.gz"), DataFiles: []string{"+" + demo}, DataFile: "+" + demo}
	if _, err := o.Engine(context.Background()); err == nil || !strings.Contains(err.Error(), "--data cannot replace a bundle's data") {
		t.Errorf("Engine(--bundle, --data +demo) = %v; want refused", err)
	}
}
