// Package cases reads the LocalizeVideos example cases: each folder of
// examples/localizevideos/evidence holds evidence documents and a case.yaml
// naming, step by step, which gate is asked at what time with which
// evidence, and the expected decision. The example table test and the demo
// both run them.
package cases

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/goccy/go-yaml"
)

// Case is one case.yaml.
type Case struct {
	Name        string `yaml:"-"`
	Dir         string `yaml:"-"`
	Description string `yaml:"description"`
	Release     string `yaml:"release"`
	Steps       []Step `yaml:"steps"`
}

// Step is one gate evaluation; Evidence lists every document that exists at
// that time, relative to the case folder.
type Step struct {
	Gate     string    `yaml:"gate"`
	Now      time.Time `yaml:"now"`
	Evidence []string  `yaml:"evidence"`
	Expect   Outcome   `yaml:"expect"`
}

// Paths returns the step's evidence paths joined to the case folder.
func (c Case) Paths(s Step) []string {
	out := make([]string, len(s.Evidence))
	for i, p := range s.Evidence {
		out[i] = filepath.Join(c.Dir, p)
	}
	return out
}

// Outcome is what a step compares: rule ids, obligation kinds and ignored
// reasons are lists, sorted, so a rule that fires twice appears twice.
type Outcome struct {
	Allow       bool     `yaml:"allow"`
	Reason      string   `yaml:"reason"`
	Violations  []string `yaml:"violations"`
	Warnings    []string `yaml:"warnings"`
	Overridden  []string `yaml:"overridden"`
	Obligations []string `yaml:"obligations"`
	Ignored     []string `yaml:"ignored"`
}

// Sorted returns o with every list sorted and never nil.
func (o Outcome) Sorted() Outcome {
	s := func(xs []string) []string { out := append([]string{}, xs...); slices.Sort(out); return out }
	o.Violations, o.Warnings, o.Overridden = s(o.Violations), s(o.Warnings), s(o.Overridden)
	o.Obligations, o.Ignored = s(o.Obligations), s(o.Ignored)
	return o
}

// Load reads every root/*/case.yaml strictly, the "allowed" case first,
// then by name.
func Load(root string) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(root, "*", "case.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no %s/*/case.yaml", root)
	}
	var out []Case
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var c Case
		if err := yaml.UnmarshalWithOptions(b, &c, yaml.Strict()); err != nil {
			return nil, fmt.Errorf("%s: %s", f, yaml.FormatError(err, false, true))
		}
		c.Dir, c.Name = filepath.Dir(f), filepath.Base(filepath.Dir(f))
		if c.Description == "" || c.Release == "" || len(c.Steps) == 0 {
			return nil, fmt.Errorf("%s: description, release and at least one step are required", f)
		}
		for i, s := range c.Steps {
			if s.Gate == "" || s.Now.IsZero() || len(s.Evidence) == 0 {
				return nil, fmt.Errorf("%s: steps[%d]: gate, now and evidence are required", f, i)
			}
			for _, p := range c.Paths(s) {
				if _, err := os.Stat(p); err != nil {
					return nil, fmt.Errorf("%s: steps[%d]: %w", f, i, err)
				}
			}
		}
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b Case) int {
		switch {
		case a.Name == b.Name:
			return 0
		case a.Name == "allowed":
			return -1
		case b.Name == "allowed":
			return 1
		case a.Name < b.Name:
			return -1
		}
		return 1
	})
	return out, nil
}
