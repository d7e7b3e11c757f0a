package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/localizevideos/shipgate/cmd/options"
	"github.com/localizevideos/shipgate/format/console"
	"github.com/localizevideos/shipgate/internal/buildinfo"
)

type versionOptions struct {
	Output options.Output
}

func (o *versionOptions) flags(c *cobra.Command, _ *options.Globals) { o.Output.AddFlags(c.Flags()) }

func (o *versionOptions) run(_ context.Context, s Streams, _ *options.Globals, _ []string) error {
	v := buildinfo.Read(Version, Commit, Modified)
	return console.Print(s.Out, o.Output.Format, v, v.WriteText)
}

// versionTemplate makes `shipgate --version` print what `shipgate version`
// does: the text is rendered once, into an annotation of the root.
const versionTemplate = `{{index .Annotations "version"}}`
