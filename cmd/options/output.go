package options

import (
	"fmt"

	"github.com/spf13/pflag"
)

// Output chooses the output format. Commands whose result is a
// verdict CI acts on (gate, policy test) also write junit, sarif and github.
type Output struct {
	Format string
	// CI accepts the CI formats junit, sarif and github besides text and json.
	CI bool
}

// AddFlags binds the options to fs.
func (o *Output) AddFlags(fs *pflag.FlagSet) {
	usage := "output format: text or json"
	if o.CI {
		usage = "output format: text, json, junit, sarif (2.1.0) or github (workflow commands; with $GITHUB_STEP_SUMMARY set, a Markdown summary is appended to it)"
	}
	o.Format = "text"
	fs.VarP(outputValue{o}, "output", "o", usage)
}

// outputValue is --output: a string that CheckOutput finds the Output of.
type outputValue struct{ o *Output }

func (v outputValue) String() string     { return v.o.Format }
func (v outputValue) Type() string       { return "string" }
func (v outputValue) Set(s string) error { v.o.Format = s; return nil }

// CheckOutput validates the --output of fs, when an Output bound it: a
// format the command does not write is a usage error before the command
// runs. The root command calls it for every command.
func CheckOutput(fs *pflag.FlagSet) error {
	if f := fs.Lookup("output"); f != nil {
		if v, ok := f.Value.(outputValue); ok {
			return v.o.Validate()
		}
	}
	return nil
}

// AddCIFlags binds the options to fs for a command that also writes the CI
// formats.
func (o *Output) AddCIFlags(fs *pflag.FlagSet) {
	o.CI = true
	o.AddFlags(fs)
}

// Validate refuses a format the command does not write.
func (o *Output) Validate() error {
	switch o.Format {
	case "text", "json":
		return nil
	case "junit", "sarif", "github":
		if o.CI {
			return nil
		}
		return fmt.Errorf("--output %q: this command writes text or json (junit, sarif and github are for gate and policy test)", o.Format)
	}
	if o.CI {
		return fmt.Errorf("--output %q: want text, json, junit, sarif or github", o.Format)
	}
	return fmt.Errorf("--output %q: want text or json", o.Format)
}
