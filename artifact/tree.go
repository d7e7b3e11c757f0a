package artifact

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// treeHeader opens the listing a tree digest hashes; a new format gets a
// new header, so digests of two formats never collide.
const treeHeader = "shipgate-tree-v1\n"

// Tree returns the tree digest of the build output paths under root: what
// the build output is, independent of how it is archived or compressed,
// so that a Build, the Deploy of it and what runs later can be compared
// (built = deployed = running).
//
// The digest is "sha256:" + the hex SHA-256 of a listing that starts with
// the line "shipgate-tree-v1" and has one line per directory, regular file
// and symbolic link under the paths, in the order Put archives them (the
// paths sorted, each walked depth first with names sorted):
//
//	dir PERM "NAME"
//	file PERM SIZE SHA256-HEX "NAME"
//	symlink "TARGET" "NAME"
//
// PERM is the permission bits in four octal digits, NAME the path
// relative to root with slashes, and quoted strings are Go-quoted
// (strconv.Quote). Times, owners and anything outside the paths do not
// count: rebuilding the same files gives the same digest, and editing,
// adding, removing, renaming or chmod-ing one gives another. Other kinds
// of file (sockets, devices) are an error, as they are for Put.
func Tree(root string, paths []string) (string, error) {
	paths, err := CleanPaths(paths)
	if err != nil {
		return "", err
	}
	th := newTreeHash()
	err = walk(root, paths, func(e entry) error {
		if !e.info.Mode().IsRegular() {
			return th.add(e, 0, nil)
		}
		f, err := os.Open(e.path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return err
		}
		return th.add(e, n, h)
	})
	if err != nil {
		return "", fmt.Errorf("tree digest: %w", err)
	}
	return th.digest(), nil
}

// entry is one directory, regular file or symbolic link of build output.
type entry struct {
	top  string // the build output path it is under
	name string // slash-separated, relative to the root
	path string // where it is
	info fs.FileInfo
	link string // a symbolic link's target
}

// walk visits the build output paths under root, each a directory or a
// regular file, in a fixed order: paths as given (CleanPaths sorts them),
// each depth first with names sorted. Put and Tree both walk with it, so
// an archive and a tree digest list the same entries.
func walk(root string, paths []string, visit func(entry) error) error {
	if err := checkTops(root, paths); err != nil {
		return err
	}
	for _, top := range paths {
		base := filepath.Join(root, filepath.FromSlash(top))
		err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			e := entry{top: top, name: filepath.ToSlash(rel), path: p, info: fi}
			switch {
			case fi.IsDir(), fi.Mode().IsRegular():
			case fi.Mode()&fs.ModeSymlink != 0:
				if e.link, err = os.Readlink(p); err != nil {
					return err
				}
			default:
				return fmt.Errorf("build output %s: %s files are not build output", e.name, fi.Mode().Type())
			}
			return visit(e)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// checkTops requires each build output path to be a directory or a
// regular file (not a link that would lead elsewhere).
func checkTops(root string, paths []string) error {
	for _, p := range paths {
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p)))
		if err != nil {
			return fmt.Errorf("build output %s: %w", p, err)
		}
		if !fi.IsDir() && !fi.Mode().IsRegular() {
			return fmt.Errorf("build output %s: want a directory or a regular file, got %s", p, fi.Mode().Type())
		}
	}
	return nil
}

// treeHash accumulates the listing of a tree digest (see Tree).
type treeHash struct{ h hash.Hash }

func newTreeHash() *treeHash {
	t := &treeHash{h: sha256.New()}
	io.WriteString(t.h, treeHeader)
	return t
}

// add lists e; a regular file with its size and the hash of its content.
func (t *treeHash) add(e entry, size int64, content hash.Hash) error {
	perm := fmt.Sprintf("%04o", uint32(e.info.Mode().Perm()))
	var line string
	switch {
	case e.info.IsDir():
		line = "dir " + perm + " " + strconv.Quote(e.name)
	case e.info.Mode().IsRegular():
		if content == nil {
			return fmt.Errorf("build output %s: no content hash", e.name)
		}
		line = fmt.Sprintf("file %s %d %s %s", perm, size, hex.EncodeToString(content.Sum(nil)), strconv.Quote(e.name))
	default:
		line = "symlink " + strconv.Quote(e.link) + " " + strconv.Quote(e.name)
	}
	_, err := io.WriteString(t.h, line+"\n")
	return err
}

func (t *treeHash) digest() string { return "sha256:" + hex.EncodeToString(t.h.Sum(nil)) }
