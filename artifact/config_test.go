package artifact_test

import (
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/artifact"
)

// The store takes the flag's dir over the config's over the default, and
// refuses negative limits, naming the config file.
func TestConfigStore(t *testing.T) {
	for _, c := range []struct {
		name    string
		cfg     artifact.Config
		dir     string
		wantDir string
		wantErr string
	}{
		{"default", artifact.Config{}, "", artifact.DefaultDir, ""},
		{"config", artifact.Config{Dir: "cfg", Keep: 3, MaxBytes: 9}, "", "cfg", ""},
		{"flag", artifact.Config{Dir: "cfg"}, "flag", "flag", ""},
		{"keep", artifact.Config{Keep: -1}, "", "", "sg.yaml: artifacts.keep is -1"},
		{"maxBytes", artifact.Config{MaxBytes: -1}, "", "", "sg.yaml: artifacts.maxBytes is -1"},
	} {
		st, err := c.cfg.Store(c.dir, "sg.yaml", nil)
		switch {
		case c.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), c.wantErr)):
			t.Errorf("%s: Store = %v; want %q", c.name, err, c.wantErr)
		case c.wantErr == "" && (err != nil || st.Dir != c.wantDir || st.Keep != c.cfg.Keep || st.MaxBytes != c.cfg.MaxBytes):
			t.Errorf("%s: Store = %+v, %v; want dir %s", c.name, st, err, c.wantDir)
		}
	}
}

func TestConfigOutputPaths(t *testing.T) {
	if p, err := (artifact.Config{}).OutputPaths("sg.yaml"); p != nil || err != nil {
		t.Errorf("OutputPaths of none = %v, %v; want none", p, err)
	}
	if p, err := (artifact.Config{Paths: []string{"dist/"}}).OutputPaths("sg.yaml"); err != nil || strings.Join(p, ",") != "dist" {
		t.Errorf("OutputPaths(dist/) = %v, %v; want [dist]", p, err)
	}
	if _, err := (artifact.Config{Paths: []string{"../up"}}).OutputPaths("sg.yaml"); err == nil || !strings.HasPrefix(err.Error(), "sg.yaml: artifacts.paths: ") {
		t.Errorf("OutputPaths(../up) = %v; want an error naming the config", err)
	}
}
