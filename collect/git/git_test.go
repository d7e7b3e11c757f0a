package git_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/collect/git"
)

// repo is a real repository in a temporary directory, built with go-git.
type repo struct {
	t   *testing.T
	dir string
	r   *gogit.Repository
	wt  *gogit.Worktree
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	r, err := gogit.PlainInitWithOptions(dir, &gogit.PlainInitOptions{
		InitOptions: gogit.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")},
	})
	if err != nil {
		t.Fatal(err)
	}
	wt, err := r.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return &repo{t: t, dir: dir, r: r, wt: wt}
}

func (r *repo) write(name, content string) {
	r.t.Helper()
	p := filepath.Join(r.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// commit writes the files, stages them and commits; it returns the hash.
func (r *repo) commit(msg string, files ...string) plumbing.Hash {
	r.t.Helper()
	for i := 0; i+1 < len(files); i += 2 {
		r.write(files[i], files[i+1])
		if _, err := r.wt.Add(files[i]); err != nil {
			r.t.Fatal(err)
		}
	}
	sig := &object.Signature{Name: "Dave", Email: "dave@example.com", When: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
	h, err := r.wt.Commit(msg, &gogit.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		r.t.Fatal(err)
	}
	return h
}

func (r *repo) checkout(o *gogit.CheckoutOptions) {
	r.t.Helper()
	if err := r.wt.Checkout(o); err != nil {
		r.t.Fatal(err)
	}
}

func (r *repo) facts(dir string) git.Facts {
	r.t.Helper()
	f, err := git.Collect(dir, []string{"main"})
	if err != nil {
		r.t.Fatalf("Collect(%s): %v", dir, err)
	}
	return f
}

func TestCollect(t *testing.T) {
	type setup func(r *repo) (dir string, commit plumbing.Hash)
	base := func(r *repo) plumbing.Hash {
		r.commit("initial", ".gitignore", "node_modules/\n*.log\n", "app.js", "v1\n")
		return r.commit("second", "app.js", "v2\n")
	}
	tests := []struct {
		name  string
		setup setup
		want  git.Facts
	}{
		{"commit on main", func(r *repo) (string, plumbing.Hash) {
			return r.dir, base(r)
		}, git.Facts{Repository: "app", Branch: "main", Clean: true, CommitKnown: true, OnMain: true}},
		{"subdirectory of the checkout", func(r *repo) (string, plumbing.Hash) {
			base(r)
			return filepath.Join(r.dir, "lib"), r.commit("lib", "lib/x.js", "x\n")
		}, git.Facts{Repository: "app", Branch: "main", Clean: true, CommitKnown: true, OnMain: true}},
		{"older commit of main, detached", func(r *repo) (string, plumbing.Hash) {
			first := r.commit("initial", "app.js", "v1\n")
			r.commit("second", "app.js", "v2\n")
			r.checkout(&gogit.CheckoutOptions{Hash: first})
			return r.dir, first
		}, git.Facts{Repository: "app", Branch: "", Clean: true, CommitKnown: true, OnMain: true}},
		{"feature branch commit not on main", func(r *repo) (string, plumbing.Hash) {
			base(r)
			r.checkout(&gogit.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("feature"), Create: true})
			return r.dir, r.commit("hotfix", "app.js", "v3\n")
		}, git.Facts{Repository: "app", Branch: "feature", Clean: true, CommitKnown: true, OnMain: false}},
		{"detached at a commit not on main", func(r *repo) (string, plumbing.Hash) {
			base(r)
			r.checkout(&gogit.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("feature"), Create: true})
			h := r.commit("hotfix", "app.js", "v3\n")
			r.checkout(&gogit.CheckoutOptions{Hash: h})
			return r.dir, h
		}, git.Facts{Repository: "app", Branch: "", Clean: true, CommitKnown: true, OnMain: false}},
		{"modified tracked file", func(r *repo) (string, plumbing.Hash) {
			h := base(r)
			r.write("app.js", "hot patch\n")
			return r.dir, h
		}, git.Facts{Repository: "app", Branch: "main", Clean: false, CommitKnown: true, OnMain: true}},
		{"staged change", func(r *repo) (string, plumbing.Hash) {
			h := base(r)
			r.write("app.js", "hot patch\n")
			if _, err := r.wt.Add("app.js"); err != nil {
				t.Fatal(err)
			}
			return r.dir, h
		}, git.Facts{Repository: "app", Branch: "main", Clean: false, CommitKnown: true, OnMain: true}},
		{"untracked file", func(r *repo) (string, plumbing.Hash) {
			h := base(r)
			r.write("patch.js", "new\n")
			return r.dir, h
		}, git.Facts{Repository: "app", Branch: "main", Clean: false, CommitKnown: true, OnMain: true}},
		{"ignored files only", func(r *repo) (string, plumbing.Hash) {
			h := base(r)
			r.write("node_modules/x/index.js", "dep\n")
			r.write("build.log", "log\n")
			return r.dir, h
		}, git.Facts{Repository: "app", Branch: "main", Clean: true, CommitKnown: true, OnMain: true}},
		{"reachable from a remote-tracking main only", func(r *repo) (string, plumbing.Hash) {
			h := base(r)
			if _, err := r.r.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{"git@github.com:localizevideos/app.git"}}); err != nil {
				t.Fatal(err)
			}
			if err := r.r.Storer.SetReference(plumbing.NewHashReference("refs/remotes/origin/main", h)); err != nil {
				t.Fatal(err)
			}
			// The local main moves elsewhere: only origin/main vouches for h.
			r.checkout(&gogit.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("release"), Create: true})
			if err := r.r.Storer.RemoveReference("refs/heads/main"); err != nil {
				t.Fatal(err)
			}
			return r.dir, h
		}, git.Facts{Repository: "localizevideos/app", Branch: "release", Clean: true, CommitKnown: true, OnMain: true}},
		{"history cut short, as in a shallow clone", func(r *repo) (string, plumbing.Hash) {
			first := r.commit("initial", "app.js", "v1\n")
			r.commit("second", "app.js", "v2\n")
			r.commit("third", "app.js", "v3\n")
			r.checkout(&gogit.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("feature"), Create: true})
			h := r.commit("hotfix", "app.js", "v4\n")
			hex := first.String()
			if err := os.Remove(filepath.Join(r.dir, ".git", "objects", hex[:2], hex[2:])); err != nil {
				t.Fatal(err)
			}
			return r.dir, h
		}, git.Facts{Repository: "app", Branch: "feature", Clean: true, CommitKnown: true, OnMain: false}},
		{"main of another name is not main", func(r *repo) (string, plumbing.Hash) {
			h := base(r)
			r.checkout(&gogit.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("mainline"), Create: true})
			if err := r.r.Storer.RemoveReference("refs/heads/main"); err != nil {
				t.Fatal(err)
			}
			return r.dir, h
		}, git.Facts{Repository: "app", Branch: "mainline", Clean: true, CommitKnown: true, OnMain: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRepo(t)
			dir, h := tt.setup(r)
			got := r.facts(dir)
			want := tt.want
			want.Commit = h.String()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Collect(%s) mismatch (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func TestCollectUnknownCommit(t *testing.T) {
	r := newRepo(t)
	r.commit("initial", "app.js", "v1\n")
	// HEAD names a commit the object store does not hold (a damaged or
	// shallow clone).
	missing := plumbing.NewHash("3f2c9a0e5b1d4c7a8e6f9b0c1d2e3f4a5b6c7d8e")
	if err := r.r.Storer.SetReference(plumbing.NewHashReference(plumbing.HEAD, missing)); err != nil {
		t.Fatal(err)
	}
	f, err := git.Collect(r.dir, []string{"main"})
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if f.Commit != missing.String() || f.CommitKnown || f.OnMain || f.Clean {
		t.Errorf("Collect = %+v; want commit %s, CommitKnown, OnMain and Clean false", f, missing)
	}
}

func TestCollectErrors(t *testing.T) {
	notRepo := t.TempDir()
	if _, err := git.Collect(notRepo, []string{"main"}); err == nil || !strings.Contains(err.Error(), notRepo) {
		t.Errorf("Collect(not a repository) = %v; want an error naming %s", err, notRepo)
	}
	empty := newRepo(t)
	if _, err := git.Collect(empty.dir, []string{"main"}); err == nil || !strings.Contains(err.Error(), empty.dir) {
		t.Errorf("Collect(no commit) = %v; want an error naming %s", err, empty.dir)
	}
}

func TestRepositoryFromURL(t *testing.T) {
	tests := []struct{ url, want string }{
		{"https://github.com/localizevideos/app.git", "localizevideos/app"},
		{"https://github.com/localizevideos/app", "localizevideos/app"},
		{"https://github.com/localizevideos/app.git/", "localizevideos/app"},
		{"https://token@gitlab.com/group/sub/app.git", "group/sub/app"},
		{"ssh://git@github.com:22/localizevideos/app.git", "localizevideos/app"},
		{"git@github.com:localizevideos/app.git", "localizevideos/app"},
		{"github.com:localizevideos/app", "localizevideos/app"},
		{"file:///srv/git/app.git", "app"},
		{"/srv/git/app.git", "app"},
		{"../app", "app"},
		{"", ""},
		{"https://github.com/", ""},
	}
	for _, tt := range tests {
		if got := git.RepositoryFromURL(tt.url); got != tt.want {
			t.Errorf("RepositoryFromURL(%q) = %q; want %q", tt.url, got, tt.want)
		}
	}
}
