package policyset_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/localizevideos/shipgate/engine"
	examplekeys "github.com/localizevideos/shipgate/examples/localizevideos/keys"
	"github.com/localizevideos/shipgate/internal/policytest"
	"github.com/localizevideos/shipgate/policies"
	"github.com/localizevideos/shipgate/policyset"
)

// keyPair is a PEM private key and its PEM public key.
type keyPair struct{ priv, pub []byte }

func pemPair(t testing.TB, priv any, pub any) keyPair {
	t.Helper()
	p8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	px, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: px})}
}

// ed25519Key is the kind of key shipgate init writes.
func ed25519Key(t testing.TB) keyPair {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pemPair(t, priv, pub)
}

func ecdsaKey(t testing.TB) keyPair {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pemPair(t, k, &k.PublicKey)
}

// buildBundle writes the embedded policy set as a bundle file in a
// temporary directory, signed with key when it is not nil.
func buildBundle(t *testing.T, revision string, key []byte) string {
	t.Helper()
	b, err := engine.BuildBundle(context.Background(), engine.BundleOptions{Policies: policies.FS, Revision: revision, SigningKey: key})
	if err != nil {
		t.Fatalf("BuildBundle() = %v", err)
	}
	path := filepath.Join(t.TempDir(), "bundle.tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := policyset.WriteBundle(f, b); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func readBundleFile(t *testing.T, path string, verifyKey []byte) (*engine.Engine, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := policyset.ReadBundle(f, verifyKey)
	if err != nil {
		return nil, err
	}
	// The example evidence's approvals are signed with the EXAMPLE keys.
	return engine.Load(context.Background(), engine.Options{Bundle: b, People: examplekeys.People()})
}

// A signed bundle of the default policy set verifies, compiles to the same
// revision as the directory, and its decisions name the bundle revision.
func TestBundleSignedAccepted(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]keyPair{
		"ed25519": ed25519Key(t),
		"ES256":   ecdsaKey(t),
		"RS256":   pemPair(t, rsaKey, &rsaKey.PublicKey),
	}
	dir := defaultEngine(t)
	for name, key := range keys {
		t.Run(name, func(t *testing.T) {
			path := buildBundle(t, "v1.2.3", key.priv)
			e, err := readBundleFile(t, path, key.pub)
			if err != nil {
				t.Fatalf("read and load a valid signed bundle: %v", err)
			}
			if e.Revision() != dir.Revision() || e.BundleRevision() != "v1.2.3" {
				t.Errorf("Revision() = %s, BundleRevision() = %q; want %s, v1.2.3", e.Revision(), e.BundleRevision(), dir.Revision())
			}
			d, err := e.Evaluate(context.Background(), engine.Input{Gate: "deploy", Release: release, Now: deployAt, Evidence: deployEvidence(t)})
			if err != nil || !d.Allow {
				t.Fatalf("Evaluate() = allow %t, err %v; want allow", d.Allow, err)
			}
			if want := (engine.PolicyRef{Revision: dir.Revision(), Bundle: "v1.2.3"}); d.Policy != want {
				t.Errorf("Decision.Policy = %+v; want %+v", d.Policy, want)
			}
		})
	}
}

// The bundle holds the modules without tests, data.json with the config at
// its path, and a manifest with the revision (by default the policy
// revision digest) and the shipgate root.
func TestBundleContents(t *testing.T) {
	files := untar(t, buildBundle(t, "", nil))
	var names []string
	for _, f := range files {
		names = append(names, f.name)
	}
	for _, n := range names {
		if strings.HasSuffix(n, "_test.rego") {
			t.Errorf("bundle holds test file %s", n)
		}
	}
	for _, want := range []string{"/.manifest", "/data.json", "/shipgate/gates/deploy/deploy.rego", "/shipgate/lib/decision/decision.rego", "/shipgate/rules/forbidden/forbidden.rego"} {
		if !slices.Contains(names, want) {
			t.Errorf("bundle files %v lack %s", names, want)
		}
	}
	if slices.Contains(names, "/.signatures.json") {
		t.Errorf("an unsigned bundle holds .signatures.json")
	}
	var manifest struct {
		Revision    string   `json:"revision"`
		Roots       []string `json:"roots"`
		RegoVersion int      `json:"rego_version"`
	}
	if err := json.Unmarshal(fileData(t, files, "/.manifest"), &manifest); err != nil {
		t.Fatal(err)
	}
	want := struct {
		Revision    string   `json:"revision"`
		Roots       []string `json:"roots"`
		RegoVersion int      `json:"rego_version"`
	}{shippedEngine(t).Revision(), []string{"shipgate"}, 1}
	if diff := cmp.Diff(want, manifest); diff != "" {
		t.Errorf(".manifest (-want +got):\n%s", diff)
	}
	var data struct {
		Shipgate struct {
			Config struct {
				Approvers []string `json:"approvers"`
			} `json:"config"`
		} `json:"shipgate"`
	}
	if err := json.Unmarshal(fileData(t, files, "/data.json"), &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Shipgate.Config.Approvers) == 0 {
		t.Errorf("data.json = %s; want data.shipgate.config from data.yaml", fileData(t, files, "/data.json"))
	}
	// Unsigned and read without a key: accepted, as OPA does.
	if _, err := readBundleFile(t, buildBundle(t, "", nil), nil); err != nil {
		t.Errorf("unsigned bundle without a key: %v", err)
	}
}

// Anything that does not match the signature, or no signature at all when
// a key is given, is refused.
func TestBundleRefused(t *testing.T) {
	key, other := ed25519Key(t), ecdsaKey(t)
	signed := buildBundle(t, "r1", key.priv)
	tests := []struct {
		name   string
		path   string
		key    []byte
		change func(files []tarFile) []tarFile
		want   string
	}{
		{"module byte changed", signed, key.pub, func(fs []tarFile) []tarFile {
			i := index(t, fs, "/shipgate/gates/deploy/deploy.rego")
			fs[i].data = bytes.Replace(fs[i].data, []byte("deploy"), []byte("dePloy"), 1)
			return fs
		}, "digest mismatch"},
		{"data changed", signed, key.pub, func(fs []tarFile) []tarFile {
			i := index(t, fs, "/data.json")
			fs[i].data = bytes.Replace(fs[i].data, []byte(`"alice"`), []byte(`"mallory"`), 1)
			return fs
		}, "digest mismatch"},
		{"manifest revision changed", signed, key.pub, func(fs []tarFile) []tarFile {
			i := index(t, fs, "/.manifest")
			fs[i].data = bytes.Replace(fs[i].data, []byte(`"r1"`), []byte(`"r2"`), 1)
			return fs
		}, "digest mismatch"},
		{"file added", signed, key.pub, func(fs []tarFile) []tarFile {
			return append(fs, tarFile{"/gates/extra.rego", []byte("package shipgate.gates.extra\n\nx := 1\n")})
		}, "not included in bundle signature"},
		{"file removed", signed, key.pub, func(fs []tarFile) []tarFile {
			return slices.Delete(fs, index(t, fs, "/shipgate/rules/forbidden/forbidden.rego"), index(t, fs, "/shipgate/rules/forbidden/forbidden.rego")+1)
		}, "not found in the target bundle"},
		{"signatures removed", signed, key.pub, func(fs []tarFile) []tarFile {
			return slices.Delete(fs, index(t, fs, "/.signatures.json"), index(t, fs, "/.signatures.json")+1)
		}, "missing .signatures.json"},
		{"signed by another key", buildBundle(t, "r1", other.priv), key.pub, nil, "failed to verify JWT signature"},
		{"unsigned with a key", buildBundle(t, "r1", nil), key.pub, nil, "missing .signatures.json"},
		{"signed without a key", signed, nil, nil, "verification key not provided"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if tt.change != nil {
				path = retar(t, tt.change(untar(t, tt.path)))
			}
			_, err := readBundleFile(t, path, tt.key)
			var be *policyset.BundleError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("read bundle = %v; want a *BundleError containing %q", err, tt.want)
			}
		})
	}
}

// A bundle's modules compile as a directory's do: strictly, type-checked
// against the evidence schemas, without network builtins.
func TestBundleCompiledStrictly(t *testing.T) {
	bad := fstest.MapFS{
		"shipgate/gates/deploy/deploy.rego": {Data: []byte("package shipgate.gates.deploy\n\ndecision := {\"allow\": b.data.colour == \"green\", \"violations\": [], \"rules\": [\"r\"]} if some b in input.evidence.Build\n")},
	}
	_, err := engine.BuildBundle(context.Background(), engine.BundleOptions{Policies: bad, Data: policytest.MinimalData(t)})
	if err == nil || !strings.Contains(err.Error(), "undefined ref") {
		t.Fatalf("BuildBundle() of a policy set that does not type-check = %v; want an undefined ref", err)
	}
	// A hand-made bundle (as another tool would write it) fails the same way.
	files := untar(t, buildBundle(t, "r", nil))
	i := index(t, files, "/shipgate/gates/deploy/deploy.rego")
	files[i].data = bad["shipgate/gates/deploy/deploy.rego"].Data
	f, err := os.Open(retar(t, files))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := policyset.ReadBundle(f, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.Load(context.Background(), engine.Options{Bundle: b})
	var pe *engine.PolicyError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "rego_type_error: undefined ref: b.data.colour") {
		t.Fatalf("Load(bundle) = %v; want the type error", err)
	}
}

func TestBundleKeys(t *testing.T) {
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  any
		alg  string
		kid  string
	}{
		{"ed25519", ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)), "EdDSA", "ed25519:"},
		{"P-384", &ec384.PublicKey, "ES384", "es:"},
	}
	for _, tt := range tests {
		alg, kid, err := policyset.SigningAlgorithm(tt.key)
		if err != nil || alg != tt.alg || !strings.HasPrefix(kid, tt.kid) {
			t.Errorf("SigningAlgorithm(%s) = %s, %s, %v; want %s, %s…", tt.name, alg, kid, err, tt.alg, tt.kid)
		}
	}
	if _, err := engine.BuildBundle(context.Background(), engine.BundleOptions{Policies: policies.FS, SigningKey: []byte("not a key")}); err == nil {
		t.Error("BuildBundle() with a malformed key succeeded")
	}
	// A private key is not a verification key.
	f, err := os.Open(buildBundle(t, "r", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := policyset.ReadBundle(f, ed25519Key(t).priv); err == nil || !strings.Contains(err.Error(), "not a private key") {
		t.Errorf("ReadBundle(private key) = %v; want refused", err)
	}
}

type tarFile struct {
	name string
	data []byte
}

func untar(t *testing.T, path string) []tarFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []tarFile
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tarFile{h.Name, data})
	}
}

func retar(t *testing.T, files []tarFile) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(f.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "changed.tar.gz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func index(t *testing.T, files []tarFile, name string) int {
	t.Helper()
	i := slices.IndexFunc(files, func(f tarFile) bool { return f.name == name })
	if i < 0 {
		t.Fatalf("bundle has no %s", name)
	}
	return i
}

func fileData(t *testing.T, files []tarFile, name string) []byte {
	t.Helper()
	return files[index(t, files, name)].data
}
