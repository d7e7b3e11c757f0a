package auditpack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/localizevideos/shipgate/auditpack"
	"github.com/localizevideos/shipgate/internal/targz/targztest"
)

// A pack of a few kilobytes whose policy bundle is a gzip bomb (nested:
// the pack's gzip holds the bundle's gzip, which inflates to gigabytes)
// stops the replay at that bundle, named with the limit it passed, with
// the heap small. The manifest is re-hashed, as an attacker would.
func TestPolicyBundleBomb(t *testing.T) {
	f := ledgerFixture(t)
	orig, err := auditpack.Read(bytes.NewReader(f.export(t, auditpack.ExportOptions{})), auditpack.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	manifest := targztest.File{Name: "/.manifest", Data: []byte(`{"revision":"r","roots":["shipgate"]}`)}
	bombs := []struct {
		name string
		arc  []byte
		want string
	}{
		{"a file of 1 GiB", targztest.Archive(manifest, targztest.File{Name: "/data.json", Zeros: 1 << 30}),
			fmt.Sprintf("policy bundle: /data.json: %d bytes exceeds the limit of 32 MiB for one file", 1<<30)},
		{"files of 128 MiB in all", targztest.Archive(manifest,
			targztest.File{Name: "/a/data.json", Zeros: 32 << 20}, targztest.File{Name: "/b/data.json", Zeros: 32 << 20},
			targztest.File{Name: "/c/data.json", Zeros: 32 << 20}, targztest.File{Name: "/d/data.json", Zeros: 32 << 20}),
			"policy bundle: decompressed size exceeds 64 MiB"},
	}
	for _, b := range bombs {
		t.Run(b.name, func(t *testing.T) {
			files := map[string][]byte{}
			for k, v := range orig.Files {
				files[k] = v
			}
			var policy string
			for _, ref := range orig.Manifest.Policies {
				policy = ref.File
				files[ref.File] = b.arc
			}
			files[auditpack.ManifestFile] = rehash(t, orig.Manifest, files)
			pack := repack(t, files)
			if len(pack) > 128<<10 {
				t.Fatalf("the pack is %d KiB; want a small one", len(pack)>>10)
			}
			var res *auditpack.Result
			start := time.Now()
			peak := targztest.PeakHeap(func() {
				a, rerr := auditpack.Read(bytes.NewReader(pack), auditpack.DefaultLimits)
				if rerr != nil {
					err = rerr
					return
				}
				res, err = auditpack.Check(context.Background(), a, auditpack.Options{Validator: validator(t), PublicKey: f.pub})
			})
			var fe *auditpack.FormatError
			if !errors.As(err, &fe) || fe.File != policy || !strings.HasSuffix(err.Error(), b.want) {
				t.Fatalf("replay of a %d KiB pack = %v (result %t); want a FormatError naming %s and %q", len(pack)>>10, err, res != nil, policy, b.want)
			}
			if peak > 256<<20 {
				t.Errorf("the replay used %d MiB of heap; want at most 256", peak>>20)
			}
			t.Logf("a %d KiB pack refused in %v (heap +%d MiB): %v", len(pack)>>10, time.Since(start).Round(time.Millisecond), peak>>20, err)
		})
	}
}
