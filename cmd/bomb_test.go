package cmd_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"slices"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/internal/targz/targztest"
)

// gzbomb OUT [PACK] writes to OUT a policy bundle that is a gzip bomb (a
// data.json of 1 GiB of zeros, about 1 MiB of gzip); with PACK, it writes
// PACK with every policy bundle replaced by that bomb and its manifest
// re-hashed, as an attacker would.
func gzbomb(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: gzbomb OUT [PACK]")
	}
	bomb := targztest.Archive(
		targztest.File{Name: "/.manifest", Data: []byte(`{"revision":"bomb","roots":["shipgate"]}`)},
		targztest.File{Name: "/data.json", Zeros: 1 << 30})
	if len(args) == 1 {
		ts.Check(os.WriteFile(ts.MkAbs(args[0]), bomb, 0o644))
		return
	}
	f, err := os.Open(ts.MkAbs(args[1]))
	ts.Check(err)
	defer f.Close()
	a, err := auditpack.Read(f, auditpack.Limits{})
	ts.Check(err)
	for _, ref := range a.Manifest.Policies {
		a.Files[ref.File] = bomb
	}
	m := a.Manifest
	m.Files = nil
	for _, n := range a.Names {
		if n != auditpack.ManifestFile {
			sum := sha256.Sum256(a.Files[n])
			m.Files = append(m.Files, auditpack.FileRef{Path: n, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(a.Files[n]))})
		}
	}
	mb, err := json.Marshal(m)
	ts.Check(err)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := slices.DeleteFunc(slices.Clone(a.Names), func(n string) bool { return n == auditpack.ManifestFile })
	a.Files[auditpack.ManifestFile] = mb
	for _, n := range append([]string{auditpack.ManifestFile}, names...) {
		ts.Check(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(a.Files[n]))}))
		_, err := tw.Write(a.Files[n])
		ts.Check(err)
	}
	ts.Check(tw.Close())
	ts.Check(zw.Close())
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), buf.Bytes(), 0o644))
}
