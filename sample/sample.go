// Package sample writes a sample release of the LocalizeVideos example,
// dated from a given time, so that the README's walkthrough works on any
// day: every document is fresh when it is written, and the release goes to
// staging, which the default policy data does not freeze.
package sample

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"text/template"
	"time"
)

//go:embed templates/*.json
var templates embed.FS

// Release names the sample release.
type Release struct {
	ID          string
	Service     string
	Environment string
	Commit      string
}

// Default is the sample release: the LocalizeVideos app's commit of the
// example evidence, released to staging.
var Default = Release{
	ID:          "lv-sample.1",
	Service:     "localizevideos-app",
	Environment: "staging",
	Commit:      "3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e",
}

// Files are the documents of the release, by file name, in the order the
// walkthrough adds them. Each is dated relative to now: the plan 35 minutes
// before, the build 15, the approval 3, the incident snapshot 2 and the
// deploy request 1, inside a planned window from an hour before to two
// hours after.
func Files(r Release, now time.Time) (names []string, docs map[string][]byte, err error) {
	entries, err := fs.ReadDir(templates, "templates")
	if err != nil {
		return nil, nil, err
	}
	docs = map[string][]byte{}
	funcs := template.FuncMap{
		// at renders now moved by a Go duration, in RFC 3339.
		"at": func(d string) (string, error) {
			dur, err := time.ParseDuration(d)
			if err != nil {
				return "", err
			}
			return now.Add(dur).UTC().Truncate(time.Second).Format(time.RFC3339), nil
		},
	}
	for _, e := range entries {
		b, err := fs.ReadFile(templates, path.Join("templates", e.Name()))
		if err != nil {
			return nil, nil, err
		}
		t, err := template.New(e.Name()).Funcs(funcs).Option("missingkey=error").Parse(string(b))
		if err != nil {
			return nil, nil, fmt.Errorf("sample template %s: %w", e.Name(), err)
		}
		var out bytes.Buffer
		if err := t.Execute(&out, r); err != nil {
			return nil, nil, fmt.Errorf("sample template %s: %w", e.Name(), err)
		}
		docs[e.Name()] = out.Bytes()
	}
	for _, n := range order {
		if _, ok := docs[n]; !ok {
			return nil, nil, fmt.Errorf("sample template %s: missing", n)
		}
		names = append(names, n)
	}
	if len(names) != len(docs) {
		return nil, nil, fmt.Errorf("sample templates: %d files, %d in the walkthrough's order", len(docs), len(names))
	}
	return names, docs, nil
}

// order is the walkthrough's: the approval comes last, so that the gate
// first denies without it.
var order = strings.Fields("plan.json incidents.json build.json deploy-requested.json approval.json")
