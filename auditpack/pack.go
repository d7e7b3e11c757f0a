package auditpack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/localizevideos/shipgate/internal/targz"
)

// Format names the pack layout this package writes and reads.
const Format = "shipgate-audit-pack/v1"

// Fixed file names.
const (
	ManifestFile   = "manifest.json"
	CheckpointFile = "checkpoint.json"
	PublicKeyFile  = "checkpoint.pub"
	ProofsFile     = "proofs.json"
)

// Manifest describes a pack. Its hashes name a changed file; what a file
// may be trusted for is established from the signed checkpoint (see the
// package documentation).
type Manifest struct {
	Format    string        `json:"format"`
	Created   time.Time     `json:"created"`
	Selection Selection     `json:"selection"`
	Files     []FileRef     `json:"files"`
	Entries   []EntryRef    `json:"entries"`
	Decisions []DecisionRef `json:"decisions"`
	Evidence  []EvidenceRef `json:"evidence"`
	Policies  []PolicyRef   `json:"policies"`
	// Keys are the public keys of the evidence signers (ExportOptions.
	// EvidenceKeys); absent in packs without signed evidence.
	Keys []KeyRef `json:"keys,omitempty"`
}

// KeyRef is an evidence signer's public key in the pack: its key id
// (evidence.KeyID) and the PEM file holding it. A key id is the digest of
// its key, so a file that does not hold the key it names is caught.
type KeyRef struct {
	ID   string `json:"id"`
	File string `json:"file"`
}

// Selection is what was exported: one release, decisions at or after a
// time, or both; empty fields select everything.
type Selection struct {
	Release string     `json:"release,omitempty"`
	Since   *time.Time `json:"since,omitempty"`
}

// FileRef is one file of the pack with its SHA-256 (hex) and size.
type FileRef struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// EntryRef is one ledger entry in the pack.
type EntryRef struct {
	Seq  int64  `json:"seq"`
	File string `json:"file"`
}

// DecisionRef is one decision: its ledger entry and its file.
type DecisionRef struct {
	ID    string `json:"id"`
	Entry int64  `json:"entry"`
	File  string `json:"file"`
}

// EvidenceRef is one evidence document: its digest, the ledger entry that
// recorded it, its file and, when it came signed, the file of its DSSE
// envelope as the entry keeps it.
type EvidenceRef struct {
	Digest   string `json:"digest"`
	Entry    int64  `json:"entry"`
	File     string `json:"file"`
	Envelope string `json:"envelope,omitempty"`
}

// PolicyRef is one policy set: the policy revision it computes (the digest
// decisions record as policy.revision), the bundle revision decisions made
// under it record as policy.bundle (empty when they were made from a
// directory), its file and, when the ledger recorded the set, that policy
// entry (in the pack, with its proof); 0 when the exporter supplied it.
type PolicyRef struct {
	Revision string `json:"revision"`
	Bundle   string `json:"bundle,omitempty"`
	File     string `json:"file"`
	Entry    int64  `json:"entry,omitempty"`
}

// Proofs is proofs.json: an inclusion proof per entry, against the
// checkpoint's tree.
type Proofs struct {
	TreeSize int64   `json:"treeSize"`
	Proofs   []Proof `json:"proofs"`
}

// Proof is the RFC 6962 audit path of the entry Seq (leaf Seq-1), each
// hash in hex.
type Proof struct {
	Seq    int64    `json:"seq"`
	Hashes []string `json:"hashes"`
}

// Limits bound what Read accepts from an archive nobody vouches for yet.
type Limits struct {
	// MaxFiles is the most files (and directories) an archive may hold.
	MaxFiles int
	// MaxFileBytes is the largest file, uncompressed.
	MaxFileBytes int64
	// MaxTotalBytes bounds the archive decompressed: its files, and the
	// tar headers and padding around them.
	MaxTotalBytes int64
}

// DefaultLimits fit a quarter of a busy service's releases with room to
// spare: 100 000 files, 64 MiB a file, 1 GiB in all.
var DefaultLimits = Limits{MaxFiles: 100_000, MaxFileBytes: 64 << 20, MaxTotalBytes: 1 << 30}

// FormatError means the archive cannot be read as a pack at all: not a
// gzip tar, a file past the limits, an unsafe or duplicate name, or a
// manifest that does not decode. File names the member, when there is one.
type FormatError struct {
	File   string
	Reason string
}

func (e *FormatError) Error() string {
	if e.File == "" {
		return "not a readable audit pack: " + e.Reason
	}
	return fmt.Sprintf("not a readable audit pack: %s: %s", e.File, e.Reason)
}

// Archive is a pack as read: its files by name, and its manifest.
type Archive struct {
	Manifest Manifest
	Files    map[string][]byte
	// Names lists the files in archive order.
	Names []string
}

// Read reads a pack archive within lim (zero fields take DefaultLimits),
// refusing it (a *FormatError naming the limit) as soon as it goes past
// one, before the rest is inflated. The policy bundles in a pack are read
// within the bundle limits of policyset.ReadBundle when Check loads them.
// It accepts only regular files and directories with clean relative names,
// each once, and a manifest of this Format; it checks nothing else.
func Read(r io.Reader, lim Limits) (*Archive, error) {
	if lim.MaxFiles <= 0 {
		lim.MaxFiles = DefaultLimits.MaxFiles
	}
	if lim.MaxFileBytes <= 0 {
		lim.MaxFileBytes = DefaultLimits.MaxFileBytes
	}
	if lim.MaxTotalBytes <= 0 {
		lim.MaxTotalBytes = DefaultLimits.MaxTotalBytes
	}
	tr, err := targz.NewReader(r, targz.Limits{MaxEntries: lim.MaxFiles, MaxFileBytes: lim.MaxFileBytes, MaxTotalBytes: lim.MaxTotalBytes})
	if err != nil {
		return nil, &FormatError{Reason: err.Error()}
	}
	defer tr.Close()
	a := &Archive{Files: map[string][]byte{}}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if le := (*targz.LimitError)(nil); errors.As(err, &le) {
			return nil, &FormatError{File: le.Entry, Reason: le.Reason}
		}
		if err != nil {
			return nil, &FormatError{Reason: err.Error()}
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if _, err := cleanName(strings.TrimSuffix(h.Name, "/")); err != nil {
				return nil, &FormatError{File: h.Name, Reason: err.Error()}
			}
			continue
		case tar.TypeReg:
		default:
			return nil, &FormatError{File: h.Name, Reason: fmt.Sprintf("tar entry type %q: want regular files only", h.Typeflag)}
		}
		name, err := cleanName(h.Name)
		if err != nil {
			return nil, &FormatError{File: h.Name, Reason: err.Error()}
		}
		if _, dup := a.Files[name]; dup {
			return nil, &FormatError{File: name, Reason: "appears twice"}
		}
		b, err := tr.ReadFile(h)
		if le := (*targz.LimitError)(nil); errors.As(err, &le) {
			return nil, &FormatError{File: name, Reason: le.Reason}
		}
		if err != nil {
			return nil, &FormatError{File: name, Reason: "read: " + err.Error()}
		}
		a.Files[name] = b
		a.Names = append(a.Names, name)
	}
	raw, ok := a.Files[ManifestFile]
	if !ok {
		return nil, &FormatError{File: ManifestFile, Reason: "missing"}
	}
	if err := decodeStrict(raw, &a.Manifest); err != nil {
		return nil, &FormatError{File: ManifestFile, Reason: err.Error()}
	}
	if a.Manifest.Format != Format {
		return nil, &FormatError{File: ManifestFile, Reason: fmt.Sprintf("/format is %q: want %q", a.Manifest.Format, Format)}
	}
	return a, nil
}

// cleanName accepts a relative slash-separated name without "." or ".."
// elements, backslashes or NUL.
func cleanName(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("empty name")
	case strings.HasPrefix(name, "/"):
		return "", errors.New("absolute name")
	case strings.ContainsAny(name, "\\\x00"):
		return "", errors.New("name with a backslash or NUL")
	case path.Clean(name) != name:
		return "", errors.New("name is not clean (\".\", \"..\", \"//\" or a trailing slash)")
	case name == ".." || strings.HasPrefix(name, "../"):
		return "", errors.New("name leaves the archive")
	}
	return name, nil
}

// decodeStrict decodes one JSON value with no unknown members and nothing
// after it.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writer writes a pack's files in order, with fixed metadata, so the same
// input gives the same bytes.
type writer struct {
	files []packFile
	names map[string]bool
}

type packFile struct {
	name string
	body []byte
}

func (w *writer) add(name string, body []byte) {
	if w.names == nil {
		w.names = map[string]bool{}
	}
	if w.names[name] {
		return
	}
	w.names[name] = true
	w.files = append(w.files, packFile{name, body})
}

// finish writes the manifest (listing every file) and then the files.
func (w *writer) finish(out io.Writer, m Manifest) error {
	m.Files = make([]FileRef, 0, len(w.files))
	for _, f := range w.files {
		m.Files = append(m.Files, FileRef{Path: f.name, SHA256: sha256Hex(f.body), Size: int64(len(f.body))})
	}
	slices.SortFunc(m.Files, func(a, b FileRef) int { return strings.Compare(a.Path, b.Path) })
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	mb = append(mb, '\n')
	zw, err := gzip.NewWriterLevel(out, gzip.BestCompression)
	if err != nil {
		return err
	}
	zw.ModTime = m.Created
	tw := tar.NewWriter(zw)
	put := func(name string, b []byte) error {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: m.Created, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(b)
		return err
	}
	if err := put(ManifestFile, mb); err != nil {
		return err
	}
	for _, f := range w.files {
		if err := put(f.name, f.body); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}
