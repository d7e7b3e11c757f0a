package cmd

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Modules whose versions decide what a policy or an expression means: a
// decision is replayed with the same ones.
const (
	opaModule = "github.com/open-policy-agent/opa"
	celModule = "github.com/google/cel-go"
)

// versionInfo is what `shipgate version` reports.
type versionInfo struct {
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

// readVersion reads the running binary's build information: version is
// shipgate's own (Version, stamped with -ldflags), and the commit stamped
// with it (Commit, Modified) stands in when the build recorded none.
func readVersion(version string) versionInfo {
	bi, _ := debug.ReadBuildInfo()
	v := newVersionInfo(version, bi)
	if v.Commit == "" {
		v.Commit, v.Modified = Commit, Commit != "" && Modified == "true"
	}
	return v
}

// newVersionInfo takes the commit, the Go version and the OPA and cel-go
// versions from bi; bi may be nil (a binary without build information).
func newVersionInfo(version string, bi *debug.BuildInfo) versionInfo {
	v := versionInfo{Version: version, Go: "unknown", OPA: "unknown", CEL: "unknown"}
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
		case opaModule:
			v.OPA = moduleVersion(d)
		case celModule:
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

// writeText writes v for people; `shipgate --version` prints the same.
func (v versionInfo) writeText(w io.Writer) error {
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

type versionOptions struct {
	Output OutputOptions
}

func newVersionCmd(s Streams) *cobra.Command {
	o := &versionOptions{}
	c := &cobra.Command{
		Use:   "version",
		Short: "Print shipgate's version and commit, and the Go, OPA and CEL versions it was built with",
		Example: `  shipgate version
  shipgate version -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := o.Output.validate(); err != nil {
				return err
			}
			v := readVersion(Version)
			if o.Output.Format == "json" {
				return writeJSON(s.Out, v)
			}
			return v.writeText(s.Out)
		},
	}
	o.Output.AddFlags(c.Flags())
	return c
}

// versionTemplate makes `shipgate --version` print what `shipgate version`
// does: the text is rendered once, into an annotation of the root.
const versionTemplate = `{{index .Annotations "version"}}`
