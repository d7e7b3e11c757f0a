package cmd

import (
	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/internal/buildinfo"
)

type versionOptions struct {
	Output options.Output
}

func newVersionCmd(s Streams) *cobra.Command {
	o := &versionOptions{}
	c := &cobra.Command{
		Use:  "version",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			v := buildinfo.Read(Version, Commit, Modified)
			return console.Print(s.Out, o.Output.Format, v, v.WriteText)
		},
	}
	o.Output.AddFlags(c.Flags())
	return c
}

// versionTemplate makes `shipgate --version` print what `shipgate version`
// does: the text is rendered once, into an annotation of the root.
const versionTemplate = `{{index .Annotations "version"}}`
