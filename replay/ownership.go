package replay

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/localizevideos/shipgate/policyset"
)

// RolloutKeys are the policy data the release document describes: the
// declared capabilities (canary releases, automation), the rollout
// strategies, the pipeline triggers (CI/CD) and the freeze. Its
// "Documentation Ownership" section says it must be updated when they
// change. "*" matches any key.
var RolloutKeys = []string{"services.*.capabilities", "flags", "deploy.allowed_triggers", "freeze"}

// DataFiles are where a policy tree keeps data.shipgate.config: where the
// engine looks for it (policyset.DataPaths).
var DataFiles = policyset.DataPaths

// ReadData returns the data.shipgate.config of a policy tree and the file
// it came from (policyset.ReadOwnData).
func ReadData(fsys fs.FS) (map[string]any, string, error) { return policyset.ReadOwnData(fsys) }

// RolloutChanges lists the paths under RolloutKeys whose values differ
// between the base and head data, most specific first within a key: a
// changed map is reported by the keys that changed in it, a changed list
// as a whole.
func RolloutChanges(base, head map[string]any) []string {
	var out []string
	for _, k := range RolloutKeys {
		out = append(out, watch(strings.Split(k, "."), "", base, head)...)
	}
	return out
}

func watch(pattern []string, prefix string, a, b any) []string {
	if len(pattern) == 0 {
		return changed(prefix, a, b)
	}
	am, _ := a.(map[string]any)
	bm, _ := b.(map[string]any)
	keys := []string{pattern[0]}
	if pattern[0] == "*" {
		keys = union(am, bm)
	}
	var out []string
	for _, k := range keys {
		out = append(out, watch(pattern[1:], join(prefix, k), am[k], bm[k])...)
	}
	return out
}

func changed(path string, a, b any) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if !aok || !bok {
		if reflect.DeepEqual(a, b) {
			return nil
		}
		return []string{path}
	}
	var out []string
	for _, k := range union(am, bm) {
		out = append(out, changed(join(path, k), am[k], bm[k])...)
	}
	return out
}

func union(a, b map[string]any) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// Ownership is the documentation check of a policy change: rollout data
// that changed, and whether the release document changed with it.
type Ownership struct {
	// Changes are the rollout data paths that differ (RolloutChanges).
	Changes []string `json:"changes"`
	// Docs is the release document; empty when none is configured.
	Docs string `json:"docs,omitempty"`
	// DocsChanged is whether Docs differs from the base revision.
	DocsChanged bool `json:"docsChanged"`
	// Unknown, when set, says why DocsChanged could not be established.
	Unknown string `json:"unknown,omitempty"`
}

// CheckOwnership compares the rollout data of the base and head policy
// trees and, when the base is the git revision rev of repo, whether the
// release document docs (a path on disk) changed since.
func CheckOwnership(base, head fs.FS, repo *Repo, rev, docs string) (Ownership, error) {
	bd, name, err := ReadData(base)
	if err != nil {
		return Ownership{}, fmt.Errorf("base policies %s: %w", name, err)
	}
	hd, name, err := ReadData(head)
	if err != nil {
		return Ownership{}, fmt.Errorf("head policies %s: %w", name, err)
	}
	o := Ownership{Changes: RolloutChanges(bd, hd), Docs: docs}
	if o.Changes == nil {
		o.Changes = []string{}
	}
	switch {
	case docs == "":
		o.Unknown = "no release document is configured (docs: in shipgate.yaml, or --docs)"
	case repo == nil:
		o.Unknown = "the base is a directory, not a git revision"
	default:
		if o.DocsChanged, err = repo.Changed(rev, docs); err != nil {
			return Ownership{}, err
		}
	}
	return o, nil
}

// Missing reports rollout data that changed without the document.
func (o Ownership) Missing() bool { return len(o.Changes) > 0 && !o.DocsChanged }

// Changed reports whether file on disk differs from its content at rev
// (a file added or removed counts as changed).
func (r *Repo) Changed(rev, file string) (bool, error) {
	old, existed, err := r.File(rev, file)
	if err != nil {
		return false, err
	}
	now, err := os.ReadFile(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return existed, nil
	case err != nil:
		return false, fmt.Errorf("read %s: %w", file, err)
	}
	return !existed || !bytes.Equal(old, now), nil
}
