// Package git collects the facts about a checkout that a release gate needs:
// the commit at HEAD, the branch, whether the working tree is clean, whether
// the commit is in the repository and reachable from a main branch, and the
// repository's name. It reads the repository with go-git; no git binary is
// needed.
package git

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"slices"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Facts describe a checkout at one moment.
type Facts struct {
	// Repository is owner/name from the origin remote's URL, or the name of
	// the working tree's directory when there is no origin.
	Repository string
	// Commit is HEAD's commit, 40 lower-case hex characters.
	Commit string
	// Branch is the short name of the checked-out branch; "" when HEAD is
	// detached.
	Branch string
	// Clean is true when the working tree and the index match HEAD: no
	// modified, staged, deleted or untracked file, except the files the
	// repository's .gitignore files and .git/info/exclude ignore (not the
	// user's global excludes file: the repository alone says what is
	// ignored). It is false when the commit is unknown.
	Clean bool
	// CommitKnown is true when HEAD resolves to a commit object stored in
	// the repository.
	CommitKnown bool
	// OnMain is true when HEAD is reachable from refs/heads/<main> or
	// refs/remotes/*/<main> for one of the main branch names.
	OnMain bool
}

// Collect reads the facts of the checkout that contains dir (dir or one of
// its parents holds .git). mainBranches are the branch names that count as
// main, e.g. "main".
func Collect(dir string, mainBranches []string) (Facts, error) {
	repo, err := gogit.PlainOpenWithOptions(dir, &gogit.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return Facts{}, fmt.Errorf("open git repository %s: %w", dir, err)
	}
	head, err := repo.Head()
	if err != nil {
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return Facts{}, fmt.Errorf("git repository %s: HEAD names no commit yet", dir)
		}
		return Facts{}, fmt.Errorf("read HEAD of %s: %w", dir, err)
	}
	f := Facts{Commit: head.Hash().String()}
	if head.Name().IsBranch() {
		f.Branch = head.Name().Short()
	}

	wt, err := repo.Worktree()
	if err != nil {
		return Facts{}, fmt.Errorf("open worktree of %s: %w", dir, err)
	}
	f.Repository = repositoryName(repo, filepath.Base(wt.Filesystem.Root()))

	commit, err := repo.CommitObject(head.Hash())
	switch {
	case errors.Is(err, plumbing.ErrObjectNotFound):
		// A damaged clone: the commit is unknown, and so are its ancestry
		// and what the tree should hold (Clean stays false).
		return f, nil
	case err != nil:
		return Facts{}, fmt.Errorf("read commit %s in %s: %w", f.Commit, dir, err)
	}
	f.CommitKnown = true
	st, err := wt.Status()
	if err != nil {
		return Facts{}, fmt.Errorf("status of %s: %w", dir, err)
	}
	f.Clean = st.IsClean()
	f.OnMain, err = onMain(repo, commit, mainBranches)
	if err != nil {
		return Facts{}, fmt.Errorf("check whether %s is on %s in %s: %w", f.Commit, strings.Join(mainBranches, "/"), dir, err)
	}
	return f, nil
}

// onMain reports whether c is reachable from a local or remote-tracking
// branch named like one of mains.
func onMain(repo *gogit.Repository, c *object.Commit, mains []string) (bool, error) {
	refs, err := repo.References()
	if err != nil {
		return false, err
	}
	defer refs.Close()
	var tips []plumbing.Hash
	err = refs.ForEach(func(r *plumbing.Reference) error {
		if r.Type() == plumbing.HashReference && isMain(r.Name(), mains) {
			tips = append(tips, r.Hash())
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	for _, h := range tips {
		if h == c.Hash {
			return true, nil
		}
	}
	for _, h := range tips {
		tip, err := repo.CommitObject(h)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			continue // a ref to a missing object proves nothing
		}
		if err != nil {
			return false, err
		}
		ok, err := c.IsAncestor(tip)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			continue // a shallow clone ends the history before c was found
		}
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// isMain matches refs/heads/<main> and refs/remotes/<remote>/<main>.
func isMain(n plumbing.ReferenceName, mains []string) bool {
	s := n.String()
	if b, ok := strings.CutPrefix(s, "refs/heads/"); ok {
		return slices.Contains(mains, b)
	}
	if rest, ok := strings.CutPrefix(s, "refs/remotes/"); ok {
		if _, b, ok := strings.Cut(rest, "/"); ok {
			return slices.Contains(mains, b)
		}
	}
	return false
}

func repositoryName(repo *gogit.Repository, dirName string) string {
	remote, err := repo.Remote("origin")
	if err != nil || len(remote.Config().URLs) == 0 {
		return dirName
	}
	if name := RepositoryFromURL(remote.Config().URLs[0]); name != "" {
		return name
	}
	return dirName
}

// RepositoryFromURL returns owner/name (the path on the host, without
// ".git") from a remote URL: https://host/owner/name.git,
// ssh://git@host/owner/name, git@host:owner/name.git. A local path or
// file:// URL gives its last element. It returns "" when it finds no name.
func RepositoryFromURL(raw string) string {
	raw = strings.TrimSpace(raw)
	var p string
	switch {
	case strings.Contains(raw, "://"):
		u, err := url.Parse(raw)
		if err != nil {
			return ""
		}
		p = u.Path
		if u.Scheme == "file" || u.Host == "" {
			p = path.Base(strings.TrimRight(p, "/"))
		}
	case isSCPLike(raw):
		_, p, _ = strings.Cut(raw, ":")
	default:
		p = filepath.Base(filepath.Clean(raw))
	}
	p = strings.Trim(p, "/")
	p = strings.TrimSuffix(p, ".git")
	p = strings.TrimRight(p, "/")
	if p == "" || p == "." || p == ".." {
		return ""
	}
	return p
}

// isSCPLike reports the scp-like syntax [user@]host:path, where no slash
// comes before the first colon (so ./a:b and /a:b are paths).
func isSCPLike(s string) bool {
	colon := strings.Index(s, ":")
	slash := strings.Index(s, "/")
	return colon > 0 && (slash < 0 || colon < slash) && !(colon == 1 && len(s) > 2 && (s[2] == '\\' || s[2] == '/'))
}
