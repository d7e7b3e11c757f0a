package options

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/store"
)

func TestCheckOutput(t *testing.T) {
	tests := []struct {
		name    string
		ci      bool
		args    []string
		wantErr string
	}{
		{"default", false, nil, ""},
		{"json", false, []string{"-o", "json"}, ""},
		{"ci format on a text command", false, []string{"--output", "junit"}, "this command writes text or json"},
		{"unknown", false, []string{"-o", "xml"}, `--output "xml": want text or json`},
		{"ci format", true, []string{"-o", "sarif"}, ""},
		{"unknown on a ci command", true, []string{"-o", "xml"}, "want text, json, junit, sarif or github"},
	}
	for _, tt := range tests {
		fs := pflag.NewFlagSet(tt.name, pflag.ContinueOnError)
		o := &Output{}
		if tt.ci {
			o.AddCIFlags(fs)
		} else {
			o.AddFlags(fs)
		}
		if err := fs.Parse(tt.args); err != nil {
			t.Fatalf("%s: Parse(%q) = %v", tt.name, tt.args, err)
		}
		err := CheckOutput(fs)
		if (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: CheckOutput(%q) = %v; want %q", tt.name, tt.args, err, tt.wantErr)
		}
	}
	// An --output another way bound (policy diff's) is the command's own.
	fs := pflag.NewFlagSet("diff", pflag.ContinueOnError)
	fs.String("output", "markdown", "")
	if err := CheckOutput(fs); err != nil {
		t.Errorf("CheckOutput(a plain --output) = %v; want nil", err)
	}
}

func TestViolationFilter(t *testing.T) {
	tests := []struct {
		args    []string
		want    store.Filter
		wantErr bool
	}{
		{nil, store.Filter{}, false},
		{[]string{"--open", "--service", "web"}, store.Filter{Status: store.StatusOpen, Service: "web"}, false},
		{[]string{"--closed", "--release", "r1"}, store.Filter{Status: store.StatusClosed, ReleaseID: "r1"}, false},
		{[]string{"--open", "--closed"}, store.Filter{}, true},
	}
	for _, tt := range tests {
		fs := pflag.NewFlagSet("list", pflag.ContinueOnError)
		o := &ViolationFilter{}
		o.AddFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatalf("Parse(%q) = %v", tt.args, err)
		}
		got, err := o.Filter()
		if (err != nil) != tt.wantErr || !tt.wantErr && got != tt.want {
			t.Errorf("Filter(%q) = %+v, %v; want %+v (error: %v)", tt.args, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestActor(t *testing.T) {
	env := map[string]string{"GITHUB_ACTOR": "octocat", "USER": "root"}
	g := &Globals{Getenv: func(k string) string { return env[k] }}
	for _, tt := range []struct{ flag, want string }{{"erin", "erin"}, {"", "octocat"}} {
		if got := g.Actor(tt.flag); got != tt.want {
			t.Errorf("Actor(%q) = %q; want %q", tt.flag, got, tt.want)
		}
	}
	if got := (&Globals{}).Actor(""); got != "unknown" {
		t.Errorf("Actor with no environment = %q; want unknown", got)
	}
}
