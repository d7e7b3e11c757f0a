package mutation_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/localizevideos/shipgate/engine"
	"github.com/localizevideos/shipgate/evidence"
	examplekeys "github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/gate"
)

var update = flag.Bool("update", false, "regenerate testdata/negative from corpus_test.go before running it")

// negativeRoot holds the negative corpus: one folder per case, with an
// expect.yaml and the evidence documents of the case.
const negativeRoot = "testdata/negative"

// minCorpus is the size issue #14 asks for.
const minCorpus = 150

// negCase is a case's expect.yaml.
//
// The case's evidence is its folder's *.json files plus, when base names an
// example case that allows (examples/localizevideos/evidence/<base>), the
// documents of that case's step at gate: a file of the folder with the same
// name replaces one of them, and without leaves some out.
type negCase struct {
	Description string    `yaml:"description"`
	Gate        string    `yaml:"gate"`
	Now         string    `yaml:"now"`
	Release     string    `yaml:"release"`
	Base        string    `yaml:"base,omitempty"`
	Without     []string  `yaml:"without,omitempty"`
	Expect      negExpect `yaml:"expect"`
}

// negExpect is what the denial must carry: one of codes (the decision's
// reason or a violation's rule) and, for invalid evidence, a validation
// error with keyword at pointer ("" is the whole document).
type negExpect struct {
	Codes   []string `yaml:"codes"`
	Keyword string   `yaml:"keyword,omitempty"`
	Pointer *string  `yaml:"pointer,omitempty"`
}

// corpusKey is the ed25519 key the corpus signs its DSSE cases with, from a
// fixed seed; the corpus gate trusts it and nothing else.
var corpusKey = ed25519.NewKeyFromSeed([]byte("shipgate negative corpus seed 32"))

// corpusGate is the harness's gate with a validator that trusts corpusKey.
func corpusGate(t *testing.T) *gate.Gate {
	g := decider(t)
	keys := examplekeys.Keyring()
	keys.Add(corpusKey.Public().(ed25519.PublicKey))
	return &gate.Gate{Engine: g.Engine, Validator: g.Validator.WithKeys(keys), NewID: g.NewID}
}

func TestNegativeCorpus(t *testing.T) {
	steps := loadSteps(t)
	if *update {
		writeCorpus(t, steps)
	}
	g := corpusGate(t)
	dirs, err := os.ReadDir(negativeRoot)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range dirs {
		if !e.IsDir() {
			continue
		}
		n++
		dir := filepath.Join(negativeRoot, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			c, paths, docs := loadCase(t, steps, dir)
			now, err := time.Parse(time.RFC3339, c.Now)
			if err != nil {
				t.Fatalf("now: %v", err)
			}
			d, err := g.Decide(context.Background(), gate.Request{
				Gate: c.Gate, Release: engine.Release{ID: c.Release}, Evidence: docs, EvidencePaths: paths, Now: now,
			})
			if d == nil {
				t.Fatalf("Decide returned no decision: %v", err)
			}
			if d.Allow {
				t.Fatalf("%s\nallows; want a denial with %s", c.Description, strings.Join(c.Expect.Codes, " or "))
			}
			if matched(d, c.Expect.Codes) == "" {
				t.Errorf("%s\n%s (%v); want a denial with %s", c.Description, describe(d), err, strings.Join(c.Expect.Codes, " or "))
			}
			if c.Expect.Keyword != "" || c.Expect.Pointer != nil {
				if !hasValidationError(err, c.Expect.Keyword, c.Expect.Pointer) {
					ptr := "any pointer"
					if c.Expect.Pointer != nil {
						ptr = fmt.Sprintf("%q", *c.Expect.Pointer)
					}
					t.Errorf("%s\nerror %v; want a validation error %s at %s", c.Description, err, c.Expect.Keyword, ptr)
				}
			}
		})
	}
	if n < minCorpus {
		t.Errorf("%d negative cases in %s; issue #14 asks for at least %d", n, negativeRoot, minCorpus)
	}
	t.Logf("%d negative cases", n)
}

// hasValidationError says whether err, or an error it joins or wraps,
// holds a validation error with keyword ("" any) at pointer (nil any).
func hasValidationError(err error, keyword string, pointer *string) bool {
	switch e := err.(type) {
	case nil:
		return false
	case evidence.ValidationErrors:
		return slices.ContainsFunc(e, func(ve evidence.ValidationError) bool {
			return (keyword == "" || ve.Keyword == keyword) && (pointer == nil || ve.Pointer == *pointer)
		})
	case interface{ Unwrap() []error }:
		return slices.ContainsFunc(e.Unwrap(), func(c error) bool { return hasValidationError(c, keyword, pointer) })
	}
	return hasValidationError(errors.Unwrap(err), keyword, pointer)
}

// loadCase reads dir's expect.yaml and returns the case, the paths of its
// own documents and the base documents it keeps.
func loadCase(t *testing.T, steps map[string]*step, dir string) (negCase, []string, []*evidence.Document) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "expect.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c negCase
	if err := yaml.UnmarshalWithOptions(b, &c, yaml.Strict()); err != nil {
		t.Fatalf("%s/expect.yaml: %s", dir, yaml.FormatError(err, false, true))
	}
	if c.Description == "" || c.Gate == "" || c.Now == "" || c.Release == "" || len(c.Expect.Codes) == 0 {
		t.Fatalf("%s/expect.yaml: description, gate, now, release and expect.codes are required", dir)
	}
	own, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []*evidence.Document
	if c.Base != "" {
		st := steps[c.Base+"/"+c.Gate]
		if st == nil {
			t.Fatalf("%s: base %s has no step at %s that allows", dir, c.Base, c.Gate)
		}
		for _, w := range c.Without {
			if st.doc(w) == nil {
				t.Fatalf("%s: without %s: base %s/%s has no such document", dir, w, c.Base, c.Gate)
			}
		}
		for _, d := range st.docs {
			replaced := slices.ContainsFunc(own, func(p string) bool { return filepath.Base(p) == d.name })
			if !replaced && !slices.Contains(c.Without, d.name) {
				docs = append(docs, d.decoded)
			}
		}
	}
	if len(own) == 0 && len(docs) == 0 {
		t.Fatalf("%s: no evidence", dir)
	}
	return c, own, docs
}
