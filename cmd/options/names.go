package options

import (
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/schemas"
)

// Flags that hold identifiers check them as they are parsed, with the
// grammar the evidence schemas use (schemas.CheckName, CheckPerson): a
// release id such as ../../etc/passwd, or one with a NUL, a slash or a
// newline, is a usage error (exit 2) before anything is read or recorded.

// nameValue is a string flag holding a name (a release id, a service, an
// environment, a violation id).
type nameValue struct {
	p     *string
	flag  string
	check func(what, v string) error
}

func (v *nameValue) Set(s string) error {
	check := v.check
	if check == nil {
		check = schemas.CheckName
	}
	if err := check("--"+v.flag, s); err != nil {
		return err
	}
	*v.p = s
	return nil
}

func (v *nameValue) String() string { return *v.p }
func (v *nameValue) Type() string   { return "string" }

// NameVar defines a string flag that takes a name (schemas.NamePattern).
func NameVar(fs *pflag.FlagSet, p *string, name, value, usage string) {
	*p = value
	fs.Var(&nameValue{p: p, flag: name}, name, usage)
}

// PersonVar defines a string flag that takes a person's name
// (schemas.PersonPattern).
func PersonVar(fs *pflag.FlagSet, p *string, name, value, usage string) {
	*p = value
	fs.Var(&nameValue{p: p, flag: name, check: schemas.CheckPerson}, name, usage)
}

// CommitVar defines a string flag that takes a commit
// (schemas.CommitPattern).
func CommitVar(fs *pflag.FlagSet, p *string, name, value, usage string) {
	*p = value
	fs.Var(&nameValue{p: p, flag: name, check: schemas.CheckCommit}, name, usage)
}

// nameSliceValue is a repeatable flag of names, comma-separated as
// pflag's string slices are.
type nameSliceValue struct {
	p       *[]string
	flag    string
	changed bool
}

func (v *nameSliceValue) Set(s string) error {
	parts := strings.Split(s, ",")
	for _, n := range parts {
		if err := schemas.CheckName("--"+v.flag, n); err != nil {
			return err
		}
	}
	if !v.changed {
		*v.p = nil
		v.changed = true
	}
	*v.p = append(*v.p, parts...)
	return nil
}

func (v *nameSliceValue) String() string { return "[" + strings.Join(*v.p, ",") + "]" }
func (v *nameSliceValue) Type() string   { return "strings" }

// NameSliceVar defines a repeatable flag of names.
func NameSliceVar(fs *pflag.FlagSet, p *[]string, name string, value []string, usage string) {
	*p = value
	fs.Var(&nameSliceValue{p: p, flag: name}, name, usage)
}

// EvalTimeoutVar defines --timeout, the limit of one policy evaluation.
func EvalTimeoutVar(fs *pflag.FlagSet, p *time.Duration) {
	fs.DurationVar(p, "timeout", engine.DefaultTimeout, "limit for one policy evaluation")
}

// MainBranchVar defines --main-branch, the branches that count as main.
func MainBranchVar(fs *pflag.FlagSet, p *[]string) {
	fs.StringSliceVar(p, "main-branch", []string{"main"}, "branches (local or remote-tracking) that count as main")
}
