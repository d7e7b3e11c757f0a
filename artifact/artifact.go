// Package artifact keeps the output of a passed build (dist/, say) as a
// content-addressed archive, so that a rollback can put the verified build
// back instead of rebuilding it: the releases directory of Capistrano or
// Deployer, the artifact cache of a CI system.
//
// An artifact is a gzip-compressed tar of the build output paths, written
// deterministically (sorted entries, no times, no owners), so the same
// output gives the same archive. Its digest is "sha256:" + the hex SHA-256
// of the archive file, and the store keeps it as DIR/<hex>.tar.gz.
//
// The archive digest names a file; the tree digest (Tree) names the build
// output itself: a hash of every path, permission and content, with no
// compression in between, so that the output on disk can be compared with
// what a Build recorded at any later time (the deploy gate, reconcile)
// without archiving it again. Put returns both, from the same walk.
//
// Restore puts an artifact back only once its digest matches the one the
// caller expects (the one recorded in the Build evidence): it unpacks into
// a staging directory beside the target while hashing, checks the digest
// at the end, and only then swaps the paths in. A missing file, a digest
// that does not match, an entry outside the recorded paths or an archive
// larger than the limit is an error, and nothing in the target changes.
//
// The store is bounded: MaxBytes limits one artifact (the archive and its
// unpacked content), MaxEntries its files, directories and links, and Keep is how many artifacts it keeps, the most
// recently stored or restored first; older ones are removed after each Put.
package artifact

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/internal/targz"
)

// Defaults of a Store.
const (
	DefaultDir      = ".shipgate/artifacts"
	DefaultKeep     = 10
	DefaultMaxBytes = 512 << 20
	// MaxEntries is the most files, directories and links one artifact
	// holds: a build output of a web app is thousands; a stored archive
	// of millions of empty entries is not one.
	MaxEntries = 100_000
	// entryOverhead bounds the tar headers of one entry (a header block,
	// PAX records for a long name or link, padding), so the unpacked
	// stream is bounded: MaxBytes of files plus this per entry.
	entryOverhead = 4 << 10
)

// Errors Restore and Put wrap; callers branch with errors.Is.
var (
	// ErrMissing: the store has no artifact with that digest.
	ErrMissing = errors.New("artifact not in the store")
	// ErrMismatch: the stored archive's content does not have the digest
	// it is named by (it was changed, or truncated).
	ErrMismatch = errors.New("artifact digest mismatch")
	// ErrTooLarge: the artifact is larger than MaxBytes.
	ErrTooLarge = errors.New("artifact too large")
)

// Store is a directory of artifacts.
type Store struct {
	// Dir holds the archives; created on the first Put.
	Dir string
	// Keep is how many artifacts stay after a Put; 0 is DefaultKeep.
	Keep int
	// MaxBytes limits one artifact, archived and unpacked; 0 is
	// DefaultMaxBytes.
	MaxBytes int64
	// Now reads the clock (an artifact's last use); nil is time.Now.
	Now func() time.Time
}

// Artifact is one stored build output.
type Artifact struct {
	// Digest is "sha256:" + the hex SHA-256 of the archive.
	Digest string
	// Tree is the tree digest of the build output it holds (see Tree):
	// Put fills it; Restore and List do not.
	Tree string
	// Paths are the build output paths it holds, relative to the checkout,
	// slash-separated, sorted.
	Paths []string
	// Size is the archive's size in bytes.
	Size int64
	// File is where the store keeps it.
	File string
}

func (s *Store) maxBytes() int64 {
	if s.MaxBytes > 0 {
		return s.MaxBytes
	}
	return DefaultMaxBytes
}

// streamBytes bounds an artifact's tar stream, decompressed: Put refuses
// to write a larger one and Restore stops reading past it, so whatever
// Put stored, Restore can read.
func (s *Store) streamBytes() int64 {
	return s.maxBytes() + MaxEntries*entryOverhead
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// File is where the store keeps the artifact with digest.
func (s *Store) File(digest string) (string, error) {
	hexd, err := parseDigest(digest)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.Dir, hexd+".tar.gz"), nil
}

func parseDigest(digest string) (string, error) {
	hexd, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(hexd) != 64 || strings.ToLower(hexd) != hexd {
		return "", fmt.Errorf("artifact digest %q: want sha256: and 64 lower-case hex digits", digest)
	}
	if _, err := hex.DecodeString(hexd); err != nil {
		return "", fmt.Errorf("artifact digest %q: want sha256: and 64 lower-case hex digits", digest)
	}
	return hexd, nil
}

// CleanPaths checks build output paths and returns them slash-separated,
// cleaned, sorted and without duplicates. A path must be relative and stay
// inside the checkout, and must not be the checkout itself; one path may
// not contain another.
func CleanPaths(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, errors.New("no build output paths")
	}
	var out []string
	for _, p := range paths {
		c := path.Clean(filepath.ToSlash(p))
		switch {
		case p == "" || c == "." || path.IsAbs(c) || filepath.IsAbs(p) || c == ".." || strings.HasPrefix(c, "../"):
			return nil, fmt.Errorf("build output path %q: want a relative path inside the checkout, such as dist", p)
		case c == ".git" || strings.HasPrefix(c, ".git/"):
			return nil, fmt.Errorf("build output path %q: the repository itself is not build output", p)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	for i := 1; i < len(out); i++ {
		if strings.HasPrefix(out[i], out[i-1]+"/") {
			return nil, fmt.Errorf("build output paths %q and %q: one contains the other", out[i-1], out[i])
		}
	}
	return out, nil
}

// Put archives paths (relative to root) and keeps the archive in the store,
// then removes the artifacts past Keep. Storing the same content again
// gives the same digest and marks it as recently used.
func (s *Store) Put(root string, paths []string) (Artifact, error) {
	paths, err := CleanPaths(paths)
	if err != nil {
		return Artifact{}, err
	}
	if err := checkTops(root, paths); err != nil {
		return Artifact{}, err
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return Artifact{}, fmt.Errorf("artifact store: %w", err)
	}
	tmp, err := os.CreateTemp(s.Dir, ".put-*")
	if err != nil {
		return Artifact{}, fmt.Errorf("artifact store: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, h), max: s.maxBytes(), what: "archive"}
	tree, err := s.pack(cw, root, paths)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Artifact{}, err
	}
	a := Artifact{Digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), Tree: tree, Paths: paths, Size: cw.n}
	if a.File, err = s.File(a.Digest); err != nil {
		return Artifact{}, err
	}
	// Same content, same name: replacing an existing file also repairs one
	// that was damaged.
	if err := os.Rename(tmp.Name(), a.File); err != nil {
		return Artifact{}, fmt.Errorf("artifact store: %w", err)
	}
	s.touch(a.File)
	if err := s.prune(a.File); err != nil {
		return a, err
	}
	return a, nil
}

// pack writes the tar.gz of paths to w, deterministically, and returns
// the tree digest of what it archived (see Tree).
func (s *Store) pack(w io.Writer, root string, paths []string) (string, error) {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return "", err
	}
	tw := tar.NewWriter(&countWriter{w: zw, max: s.streamBytes(), what: "unpacked archive"})
	th := newTreeHash()
	unpacked, entries := int64(0), 0
	err = walk(root, paths, func(e entry) error {
		fi := e.info
		if entries++; entries > MaxEntries {
			return fmt.Errorf("%w: the build output holds more than %d files, directories and links (at %s)", ErrTooLarge, MaxEntries, e.name)
		}
		hdr := &tar.Header{Name: e.name, Mode: int64(fi.Mode().Perm()), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		switch {
		case fi.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, e.name+"/"
		case fi.Mode().IsRegular():
			hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
			unpacked += fi.Size()
			if unpacked > s.maxBytes() {
				return fmt.Errorf("%w: the build output holds more than %d bytes (at %s)", ErrTooLarge, s.maxBytes(), e.name)
			}
		default: // a symbolic link
			if err := checkLink(e.top, e.name, e.link); err != nil {
				return err
			}
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.link
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			return th.add(e, 0, nil)
		}
		f, err := os.Open(e.path)
		if err != nil {
			return err
		}
		defer f.Close()
		content := sha256.New()
		n, err := io.Copy(io.MultiWriter(tw, content), io.LimitReader(f, hdr.Size))
		if err == nil && n != hdr.Size {
			err = fmt.Errorf("build output %s changed while it was archived", e.name)
		}
		if err != nil {
			return err
		}
		return th.add(e, n, content)
	})
	if err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	if err := tw.Close(); err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("archive: %w", err)
	}
	return th.digest(), nil
}

// checkLink refuses a symbolic link that is absolute or leads out of the
// build output path top it is in: restored, it would point elsewhere.
func checkLink(top, name, target string) error {
	if path.IsAbs(target) || filepath.IsAbs(target) {
		return fmt.Errorf("build output %s: symbolic link to the absolute path %s", name, target)
	}
	dest := path.Join(path.Dir(name), filepath.ToSlash(target))
	if dest != top && !strings.HasPrefix(dest, top+"/") {
		return fmt.Errorf("build output %s: symbolic link %s leads out of %s", name, target, top)
	}
	return nil
}

// Restore replaces paths under root with those of the artifact digest, once
// the archive is verified to have that digest. Paths are the ones the
// artifact was stored with (the Build evidence records them); the archive
// must hold each of them and nothing else. It returns the artifact.
func (s *Store) Restore(digest, root string, paths []string) (Artifact, error) {
	file, err := s.File(digest)
	if err != nil {
		return Artifact{}, err
	}
	paths, err = CleanPaths(paths)
	if err != nil {
		return Artifact{}, err
	}
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return Artifact{}, fmt.Errorf("%w: no %s", ErrMissing, file)
	}
	if err != nil {
		return Artifact{}, fmt.Errorf("open artifact: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Artifact{}, fmt.Errorf("open artifact: %w", err)
	}
	if fi.Size() > s.maxBytes() {
		return Artifact{}, fmt.Errorf("%w: %s has %d bytes, more than %d", ErrTooLarge, file, fi.Size(), s.maxBytes())
	}
	stage, err := os.MkdirTemp(root, ".shipgate-restore-")
	if err != nil {
		return Artifact{}, fmt.Errorf("restore artifact: %w", err)
	}
	defer os.RemoveAll(stage)
	h := sha256.New()
	uerr := s.unpack(io.TeeReader(f, h), stage, paths)
	// A damaged archive fails to unpack too: the digest says why first.
	if err := drainVerify(f, h, digest, file); err != nil {
		return Artifact{}, err
	}
	if uerr != nil {
		return Artifact{}, fmt.Errorf("restore %s: %w", file, uerr)
	}
	for _, p := range paths {
		if _, err := os.Lstat(filepath.Join(stage, filepath.FromSlash(p))); err != nil {
			return Artifact{}, fmt.Errorf("restore %s: the artifact has no %s", file, p)
		}
	}
	if err := swap(root, stage, paths); err != nil {
		return Artifact{}, fmt.Errorf("restore %s: %w", file, err)
	}
	s.touch(file)
	return Artifact{Digest: digest, Paths: paths, Size: fi.Size(), File: file}, nil
}

// drainVerify reads what the archive reader left (gzip padding, say) into h
// and compares the digest.
func drainVerify(r io.Reader, h hash.Hash, digest, file string) error {
	if _, err := io.Copy(h, r); err != nil {
		return fmt.Errorf("read artifact: %w", err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("%w: %s has digest %s, the Build recorded %s", ErrMismatch, file, got, digest)
	}
	return nil
}

// unpack extracts the archive into stage; every entry must be inside one
// of paths.
func (s *Store) unpack(r io.Reader, stage string, paths []string) error {
	// Entries and the stream are bounded; the files' sizes are added
	// below against MaxBytes, as Put added them.
	tr, err := targz.NewReader(r, targz.Limits{MaxEntries: MaxEntries, MaxTotalBytes: s.streamBytes()})
	if err != nil {
		return fmt.Errorf("%w: not a gzip archive: %v", ErrMismatch, err)
	}
	tr.Multistream(false)
	unpacked := int64(0)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, targz.ErrLimit) {
			return fmt.Errorf("%w: %v", ErrTooLarge, err)
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrMismatch, err)
		}
		name := strings.TrimSuffix(hdr.Name, "/")
		top := ""
		for _, p := range paths {
			if name == p || strings.HasPrefix(name, p+"/") {
				top = p
			}
		}
		if top == "" || path.Clean(name) != name {
			return fmt.Errorf("entry %q is outside the build output paths %s", hdr.Name, strings.Join(paths, ", "))
		}
		dst := filepath.Join(stage, filepath.FromSlash(name))
		mode := fs.FileMode(hdr.Mode).Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, mode|0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			unpacked += hdr.Size
			if unpacked > s.maxBytes() {
				return fmt.Errorf("%w: it unpacks to more than %d bytes", ErrTooLarge, s.maxBytes())
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := writeFile(dst, tr, hdr.Size, mode); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := checkLink(top, name, hdr.Linkname); err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(hdr.Linkname, dst); err != nil {
				return err
			}
		default:
			return fmt.Errorf("entry %q: type %q is not restored", hdr.Name, hdr.Typeflag)
		}
	}
	// The rest of the gzip stream (its trailer) is read by the caller's
	// hash through r; what the gzip member holds after the tar, within the
	// stream's bound.
	if err := tr.Drain(); err != nil {
		if errors.Is(err, targz.ErrLimit) {
			return fmt.Errorf("%w: %v", ErrTooLarge, err)
		}
		return err
	}
	return nil
}

func writeFile(dst string, r io.Reader, size int64, mode fs.FileMode) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n != size {
		err = fmt.Errorf("%w: %s is truncated", ErrMismatch, dst)
	}
	return err
}

// swap moves each staged path into root, and what was there aside into the
// stage (removed with it). When a move fails, the paths already swapped
// are put back.
func swap(root, stage string, paths []string) error {
	type moved struct{ live, old string }
	var done []moved
	undo := func() {
		for _, m := range slices.Backward(done) {
			os.RemoveAll(m.live)
			if m.old != "" {
				os.Rename(m.old, m.live)
			}
		}
	}
	for i, p := range paths {
		live := filepath.Join(root, filepath.FromSlash(p))
		m := moved{live: live}
		if _, err := os.Lstat(live); err == nil {
			m.old = filepath.Join(stage, fmt.Sprintf(".old-%d", i))
			if err := os.Rename(live, m.old); err != nil {
				undo()
				return err
			}
		} else if err := os.MkdirAll(filepath.Dir(live), 0o755); err != nil {
			undo()
			return err
		}
		done = append(done, m)
		if err := os.Rename(filepath.Join(stage, filepath.FromSlash(p)), live); err != nil {
			undo()
			return err
		}
	}
	return nil
}

// touch marks an artifact as used now: pruning keeps the most recent.
func (s *Store) touch(file string) {
	t := s.now()
	_ = os.Chtimes(file, t, t)
}

// List returns the store's artifacts, the most recently used first.
func (s *Store) List() ([]Artifact, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("artifact store: %w", err)
	}
	type item struct {
		a   Artifact
		mod time.Time
	}
	var items []item
	for _, e := range entries {
		hexd, ok := strings.CutSuffix(e.Name(), ".tar.gz")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if _, err := parseDigest("sha256:" + hexd); err != nil {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		items = append(items, item{Artifact{Digest: "sha256:" + hexd, Size: fi.Size(), File: filepath.Join(s.Dir, e.Name())}, fi.ModTime()})
	}
	slices.SortStableFunc(items, func(a, b item) int {
		if c := b.mod.Compare(a.mod); c != 0 {
			return c
		}
		return strings.Compare(a.a.Digest, b.a.Digest)
	})
	out := make([]Artifact, len(items))
	for i, it := range items {
		out[i] = it.a
	}
	return out, nil
}

// prune removes the least recently used artifacts past Keep, never the
// file keep.
func (s *Store) prune(keep string) error {
	n := s.Keep
	if n <= 0 {
		n = DefaultKeep
	}
	all, err := s.List()
	if err != nil {
		return err
	}
	others := 0 // kept besides keep
	for _, a := range all {
		if a.File == keep {
			continue
		}
		if others < n-1 {
			others++
			continue
		}
		if err := os.Remove(a.File); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("prune artifact store: %w", err)
		}
	}
	return nil
}

// countWriter counts bytes and fails past max; what names them.
type countWriter struct {
	w    io.Writer
	n    int64
	max  int64
	what string
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.n+int64(len(p)) > c.max {
		return 0, fmt.Errorf("%w: the %s is larger than %d bytes", ErrTooLarge, c.what, c.max)
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
