package replay

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing/fstest"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Repo is the git repository that holds a policy folder, for reading the
// folder (and the documentation beside it) as it was at a revision.
type Repo struct {
	repo *git.Repository
	root string
}

// OpenRepo opens the repository containing dir, looking upwards for .git.
func OpenRepo(dir string) (*Repo, error) {
	abs, err := realPath(dir)
	if err != nil {
		return nil, err
	}
	repo, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("open git repository of %s: %w", dir, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("open git repository of %s: %w", dir, err)
	}
	root, err := realPath(wt.Filesystem.Root())
	if err != nil {
		return nil, err
	}
	return &Repo{repo: repo, root: root}, nil
}

// realPath is the absolute path of p with symbolic links resolved, so that
// it compares with the work tree's root; a path that does not exist (a
// folder deleted since the revision) keeps its parent's resolution.
func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("path %s: %w", p, err)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r, nil
	}
	parent, err := realPath(filepath.Dir(abs))
	if err != nil || parent == filepath.Dir(abs) {
		return abs, nil
	}
	return filepath.Join(parent, filepath.Base(abs)), nil
}

// rel converts a path on disk to its slash-separated path in the repository.
func (r *Repo) rel(p string) (string, error) {
	abs, err := realPath(p)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(r.root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is outside the git work tree %s", p, r.root)
	}
	return filepath.ToSlash(rel), nil
}

func (r *Repo) tree(rev string) (*object.Tree, error) {
	h, err := r.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("resolve git revision %q: %w", rev, err)
	}
	c, err := r.repo.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	t, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("read tree of %s: %w", h, err)
	}
	return t, nil
}

// Tree returns the folder dir (a path on disk inside the work tree) as it
// was committed at rev: its regular files, read into memory.
func (r *Repo) Tree(rev, dir string) (fs.FS, error) {
	rel, err := r.rel(dir)
	if err != nil {
		return nil, err
	}
	t, err := r.tree(rev)
	if err != nil {
		return nil, err
	}
	if rel != "." {
		if t, err = t.Tree(rel); err != nil {
			return nil, fmt.Errorf("%s at %s: %w", rel, rev, err)
		}
	}
	out := fstest.MapFS{}
	err = t.Files().ForEach(func(f *object.File) error {
		if f.Mode != filemode.Regular && f.Mode != filemode.Executable {
			return nil
		}
		rd, err := f.Reader()
		if err != nil {
			return err
		}
		defer rd.Close()
		b, err := io.ReadAll(rd)
		if err != nil {
			return err
		}
		out[f.Name] = &fstest.MapFile{Data: b, Mode: 0o644}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", rel, rev, err)
	}
	return out, nil
}

// File returns the content of file (a path on disk inside the work tree) at
// rev; ok is false when it did not exist then.
func (r *Repo) File(rev, file string) (b []byte, ok bool, err error) {
	rel, err := r.rel(file)
	if err != nil {
		return nil, false, err
	}
	t, err := r.tree(rev)
	if err != nil {
		return nil, false, err
	}
	f, err := t.File(rel)
	if errors.Is(err, object.ErrFileNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%s at %s: %w", rel, rev, err)
	}
	s, err := f.Contents()
	if err != nil {
		return nil, false, fmt.Errorf("%s at %s: %w", rel, rev, err)
	}
	return []byte(s), true, nil
}
