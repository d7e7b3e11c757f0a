// Package buildinfo reads what a shipgate binary was built from: its
// version and commit, and the Go, OPA and CEL versions, which decide what
// a policy or an expression means.
package buildinfo

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// Modules whose versions decide what a policy or an expression means: a
// decision is replayed with the same ones.
const (
	OPAModule = "github.com/open-policy-agent/opa"
	CELModule = "github.com/google/cel-go"
)

// Info is what `shipgate version` reports.
type Info struct {
	Version string `json:"version"`
	// Commit is the git revision the binary was built from, "" when the
	// build did not record one (go test, go run, -buildvcs=false);
	// Modified says the tree had uncommitted changes.
	Commit   string `json:"commit"`
	Modified bool   `json:"modified"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
	OPA      string `json:"opa"`
	CEL      string `json:"cel"`
}

// Read reads the running binary's build information: version is
// shipgate's own (stamped with -ldflags), and the commit stamped with it
// (commit, and modified "true" for a tree with uncommitted changes) stands
// in when the build recorded none.
func Read(version, commit, modified string) Info {
	bi, _ := debug.ReadBuildInfo()
	v := New(version, bi)
	if v.Commit == "" {
		v.Commit, v.Modified = commit, commit != "" && modified == "true"
	}
	return v
}

// New takes the commit, the Go version and the OPA and cel-go
// versions from bi; bi may be nil (a binary without build information).
func New(version string, bi *debug.BuildInfo) Info {
	v := Info{Version: version, Go: "unknown", OPA: "unknown", CEL: "unknown"}
	if bi == nil {
		return v
	}
	v.Go = bi.GoVersion
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "" && goarch != "" {
		v.Platform = goos + "/" + goarch
	}
	for _, d := range bi.Deps {
		switch d.Path {
		case OPAModule:
			v.OPA = moduleVersion(d)
		case CELModule:
			v.CEL = moduleVersion(d)
		}
	}
	return v
}

// moduleVersion is the version of m that was built in: a replacement's
// when go.mod replaces it.
func moduleVersion(m *debug.Module) string {
	if r := m.Replace; r != nil {
		if r.Version != "" {
			return r.Version
		}
		return m.Version + " (replaced by " + r.Path + ")"
	}
	return m.Version
}

// WriteText writes v for people; `shipgate --version` prints the same.
func (v Info) WriteText(w io.Writer) error {
	commit := "unknown (the build recorded no git revision)"
	if v.Commit != "" {
		commit = v.Commit
		if v.Modified {
			commit += " (modified)"
		}
	}
	goVersion := strings.TrimSpace(v.Go + " " + v.Platform)
	_, err := fmt.Fprintf(w, "shipgate %s\ncommit   %s\ngo       %s\nopa      %s\ncel-go   %s\n", v.Version, commit, goVersion, v.OPA, v.CEL)
	return err
}
