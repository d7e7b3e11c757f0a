package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gowebpki/jcs"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/loader/filter"

	"github.com/localizevideos/shipgate/internal/targz"
)

// BundleRoot is the one root a shipgate bundle claims: its modules and
// data all live under data.shipgate.
const BundleRoot = "shipgate"

// BundleOptions configure BuildBundle.
type BundleOptions struct {
	// Policies, Data and DataFiles are the policy set, as for Load.
	Policies  fs.FS
	Data      map[string]any
	DataFiles []DataFile
	// Revision is the manifest revision; empty uses the policy revision
	// digest (Engine.Revision).
	Revision string
	// SigningKey, when set, is a PEM private key that signs the bundle: see
	// SigningAlgorithm for the kinds accepted.
	SigningKey []byte
}

// BundleError reports a bundle that was refused: unreadable, unsigned when a
// key was given, signed by another key, or with a file list or file hashes
// that do not match its signature.
type BundleError struct {
	Err error
}

func (e *BundleError) Error() string { return "bundle refused: " + e.Err.Error() }

func (e *BundleError) Unwrap() error { return e.Err }

// BuildBundle compiles the policy set as Load does, refusing one that does
// not compile, and returns it as an OPA bundle: the modules (tests left
// out) with their source unchanged, the data (shipgate/config/data.yaml
// becomes data.shipgate.config), and a manifest with the revision and the
// root "shipgate"; signed when opts.SigningKey is set. Write it with
// WriteBundle.
func BuildBundle(ctx context.Context, opts BundleOptions) (*bundle.Bundle, error) {
	if opts.Policies == nil {
		return nil, &PolicyError{Err: errors.New("bundle: no policy source")}
	}
	set, err := dirSet(opts.Policies)
	if err != nil {
		return nil, err
	}
	set.docs = withData(set.docs, opts.Data)
	set.layers = dataLayers(set.own, opts.Data != nil, opts.DataFiles)
	// Ship only what compiles, exactly as a gate would compile it.
	e, err := load(ctx, set, Options{})
	if err != nil {
		return nil, err
	}
	docs := set.docs
	for k := range docs {
		if k != BundleRoot {
			return nil, &PolicyError{Err: fmt.Errorf("bundle: data %q is outside the bundle root %q", k, BundleRoot)}
		}
	}
	root := ast.MustParseRef("data." + BundleRoot)
	rev := opts.Revision
	if rev == "" {
		rev = e.Revision()
	}
	b := &bundle.Bundle{
		Manifest: bundle.Manifest{Revision: rev, Roots: &[]string{BundleRoot}},
		Data:     docs,
	}
	b.Manifest.SetRegoVersion(ast.RegoV1)
	for _, name := range slices.Sorted(maps.Keys(set.files)) {
		f := set.files[name]
		if !f.parsed.Package.Path.HasPrefix(root) {
			return nil, &PolicyError{Err: fmt.Errorf("bundle: %s: package %s is outside the bundle root %q", name, f.parsed.Package.Path, BundleRoot)}
		}
		p := "/" + path.Clean(f.name)
		b.Modules = append(b.Modules, bundle.ModuleFile{URL: p, Path: p, RelativePath: path.Clean(f.name), Raw: f.raw, Parsed: f.parsed})
	}
	if opts.SigningKey != nil {
		key, alg, kid, err := signingKey(opts.SigningKey)
		if err != nil {
			return nil, err
		}
		if err := b.GenerateSignature(bundle.NewSigningConfig(key, alg, ""), kid, true); err != nil {
			return nil, fmt.Errorf("sign bundle: %w", err)
		}
	}
	return b, nil
}

// WriteBundle writes b as an OPA bundle (tar.gz) with its modules'
// source as it is, so the signed hashes stay valid.
func WriteBundle(w io.Writer, b *bundle.Bundle) error {
	if err := bundle.NewWriter(w).UseModulePath(true).DisableFormat(true).Write(*b); err != nil {
		return fmt.Errorf("write bundle: %w", err)
	}
	return nil
}

// Bundle limits: what ReadBundle inflates at most. A policy bundle is
// Rego source and policy data, kilobytes to a few megabytes; the limits
// leave room for large data files and refuse a gzip bomb after reading at
// most MaxBundleBytes.
const (
	// MaxBundleFiles is the most tar entries a bundle may hold.
	MaxBundleFiles = 10_000
	// MaxBundleFileBytes is the largest file of a bundle, uncompressed.
	MaxBundleFileBytes = 32 << 20
	// MaxBundleBytes bounds a bundle's decompressed tar stream.
	MaxBundleBytes = 64 << 20
)

// ReadBundle reads an OPA bundle (tar.gz). With verifyKey (a PEM public key
// or certificate, see SigningAlgorithm) the bundle must carry a
// .signatures.json signed by that key, listing exactly the bundle's files
// with their hashes; OPA's reader checks all of it. Without verifyKey only
// an unsigned bundle is read: a signature nobody checks is refused rather
// than trusted. Any refusal is a *BundleError.
//
// The archive is read within MaxBundleFiles, MaxBundleFileBytes and
// MaxBundleBytes: past one of them the refusal wraps a *targz.LimitError
// (errors.Is(err, targz.ErrLimit)) naming the limit.
func ReadBundle(r io.Reader, verifyKey []byte) (*bundle.Bundle, error) {
	tr, err := targz.NewReader(r, targz.Limits{MaxEntries: MaxBundleFiles, MaxFileBytes: MaxBundleFileBytes, MaxTotalBytes: MaxBundleBytes})
	if err != nil {
		return nil, &BundleError{Err: err}
	}
	defer tr.Close()
	// OPA's own tarball loader reads every file whole, whatever its
	// header claims and however many there are; boundedLoader reads
	// within the limits above, and the reader's own per-file limit stays
	// as a second fence.
	rd := bundle.NewCustomReader(&boundedLoader{r: tr}).
		WithSizeLimitBytes(MaxBundleFileBytes).
		WithRegoVersion(ast.RegoV1).WithProcessAnnotations(true)
	if verifyKey != nil {
		kc, kid, err := verificationKey(verifyKey)
		if err != nil {
			return nil, err
		}
		// The key id is pinned to the given key, so a bundle naming another
		// key in its JWT header is checked against this one, and fails.
		rd = rd.WithBundleVerificationConfig(bundle.NewVerificationConfig(map[string]*bundle.KeyConfig{kid: kc}, kid, "", nil))
	}
	b, err := rd.Read()
	if le := (*targz.LimitError)(nil); errors.As(err, &le) {
		return nil, &BundleError{Err: le} // without OPA's "bundle read failed"
	}
	if err != nil {
		return nil, &BundleError{Err: err}
	}
	if b.Type() != bundle.SnapshotBundleType {
		return nil, &BundleError{Err: errors.New("a delta bundle holds no policies")}
	}
	if len(b.WasmModules) > 0 || len(b.PlanModules) > 0 || len(b.Wasm) > 0 {
		return nil, &BundleError{Err: errors.New("wasm and plan modules are not supported: give Rego modules")}
	}
	return &b, nil
}

// boundedLoader gives OPA's bundle reader the regular files of a gzip tar
// read within limits, named as OPA's tarball loader names them; other
// entries (directories, links) are skipped, as OPA's loader skips them.
type boundedLoader struct {
	r *targz.Reader
}

var _ bundle.DirectoryLoader = (*boundedLoader)(nil)

func (l *boundedLoader) NextFile() (*bundle.Descriptor, error) {
	for {
		h, err := l.r.Next()
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		b, err := l.r.ReadFile(h)
		if err != nil {
			return nil, err
		}
		return bundle.NewDescriptor(filepath.Join("", h.Name), h.Name, bytes.NewBuffer(b)), nil
	}
}

// The options of a directory loader do not apply to an archive read as it
// is: each returns the loader unchanged.
func (l *boundedLoader) WithFilter(filter.LoaderFilter) bundle.DirectoryLoader { return l }
func (l *boundedLoader) WithPathFormat(bundle.PathFormat) bundle.DirectoryLoader {
	return l
}
func (l *boundedLoader) WithSizeLimitBytes(int64) bundle.DirectoryLoader { return l }
func (l *boundedLoader) WithFollowSymlinks(bool) bundle.DirectoryLoader  { return l }

// bundleSet is a verified bundle's policy set, named as the directory it
// was built from, so both have the same revision.
func bundleSet(b *bundle.Bundle) (*policySet, error) {
	if b.Type() != bundle.SnapshotBundleType || len(b.WasmModules) > 0 || len(b.PlanModules) > 0 || len(b.Wasm) > 0 {
		return nil, &PolicyError{Err: errors.New("load policies: want a snapshot bundle of Rego modules")}
	}
	set := &policySet{files: map[string]policyFile{}, docs: b.Data, bundle: b.Manifest.Revision}
	if set.docs == nil {
		set.docs = map[string]any{}
	}
	for _, m := range b.Modules {
		name := strings.TrimPrefix(path.Clean("/"+m.Path), "/")
		if isTestFile(name) {
			continue
		}
		if m.Parsed == nil {
			return nil, &PolicyError{Err: fmt.Errorf("load policies: bundle module %s is not parsed", m.Path)}
		}
		if _, dup := set.files[name]; dup {
			return nil, &PolicyError{Err: fmt.Errorf("load policies: bundle module %s appears twice", name)}
		}
		set.files[name] = policyFile{name: name, raw: m.Raw, parsed: m.Parsed}
	}
	return set, nil
}

// SigningAlgorithm names the JWT algorithm for a key: EdDSA for ed25519
// (the key shipgate init writes), ES256/ES384/ES512 for ECDSA P-256/P-384/
// P-521, RS256 for RSA. OPA's bundle reader and signer handle all of them;
// OPA's configuration file (keys: ... algorithm:) accepts only the ES, RS,
// PS and HS families, so sign with an ECDSA or RSA key when OPA agents
// configured that way must verify the bundle too.
func SigningAlgorithm(key any) (alg, kid string, err error) {
	var der []byte
	switch k := key.(type) {
	case ed25519.PublicKey:
		// Named as ledger checkpoints name the same key.
		sum := sha256.Sum256(k)
		return "EdDSA", "ed25519:" + hex.EncodeToString(sum[:8]), nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			alg = "ES256"
		case elliptic.P384():
			alg = "ES384"
		case elliptic.P521():
			alg = "ES512"
		default:
			return "", "", fmt.Errorf("ECDSA curve %s: want P-256, P-384 or P-521", k.Curve.Params().Name)
		}
		der, err = x509.MarshalPKIXPublicKey(k)
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", "", fmt.Errorf("RSA key of %d bits: want at least 2048", k.N.BitLen())
		}
		alg = "RS256"
		der, err = x509.MarshalPKIXPublicKey(k)
	default:
		return "", "", fmt.Errorf("key type %T: want ed25519, ECDSA or RSA", key)
	}
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(der)
	return alg, strings.ToLower(alg[:2]) + ":" + hex.EncodeToString(sum[:8]), nil
}

// signingKey parses a PEM private key and returns it re-encoded for OPA's
// signer, with its algorithm and key id.
func signingKey(b []byte) (pemKey, alg, kid string, err error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return "", "", "", errors.New("signing key: want a PEM private key")
	}
	var k any
	switch blk.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	default:
		return "", "", "", fmt.Errorf("signing key: PEM %q: want PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY", blk.Type)
	}
	if err != nil {
		return "", "", "", fmt.Errorf("signing key: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return "", "", "", fmt.Errorf("signing key: unsupported key type %T", k)
	}
	alg, kid, err = SigningAlgorithm(signer.Public())
	if err != nil {
		return "", "", "", fmt.Errorf("signing key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: blk.Type, Bytes: blk.Bytes})), alg, kid, nil
}

// verificationKey parses a PEM public key or certificate into OPA's key
// configuration, keyed by its id.
func verificationKey(b []byte) (*bundle.KeyConfig, string, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, "", errors.New("verification key: want a PEM public key")
	}
	var k any
	var err error
	switch blk.Type {
	case "PUBLIC KEY":
		k, err = x509.ParsePKIXPublicKey(blk.Bytes)
	case "RSA PUBLIC KEY":
		k, err = x509.ParsePKCS1PublicKey(blk.Bytes)
	case "CERTIFICATE":
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(blk.Bytes); err == nil {
			k = c.PublicKey
		}
	default:
		return nil, "", fmt.Errorf("verification key: PEM %q: want PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE (not a private key)", blk.Type)
	}
	if err != nil {
		return nil, "", fmt.Errorf("verification key: %w", err)
	}
	alg, kid, err := SigningAlgorithm(k)
	if err != nil {
		return nil, "", fmt.Errorf("verification key: %w", err)
	}
	return &bundle.KeyConfig{Key: string(pem.EncodeToMemory(&pem.Block{Type: blk.Type, Bytes: blk.Bytes})), Algorithm: alg}, kid, nil
}

// PolicySet is the policy set an engine was loaded from, as the ledger
// records it once per revision: every module's source and the whole data
// tree, in canonical form. Revision is what Engine.Revision returns, the
// digest of exactly these modules and data, so the set can be checked
// against it without compiling anything.
type PolicySet struct {
	Revision string
	// Modules are sorted by path (slash-separated, relative to the set).
	Modules []PolicyModule
	// Data is the canonical JSON (RFC 8785) of the data tree, with
	// data.shipgate.config mounted.
	Data []byte
}

// PolicyModule is one Rego module of a PolicySet.
type PolicyModule struct {
	Path   string `json:"path"`
	Source string `json:"source"`
}

// newPolicySet builds the PolicySet of a set as loaded; Load calls it once.
func newPolicySet(files map[string]policyFile, docs map[string]any, rev string) (*PolicySet, error) {
	p := &PolicySet{Revision: rev, Modules: make([]PolicyModule, 0, len(files))}
	for _, f := range files {
		p.Modules = append(p.Modules, PolicyModule{Path: path.Clean(f.name), Source: string(f.raw)})
	}
	slices.SortFunc(p.Modules, func(a, b PolicyModule) int { return strings.Compare(a.Path, b.Path) })
	b, err := json.Marshal(docs)
	if err != nil {
		return nil, fmt.Errorf("policy set: %w", err)
	}
	if p.Data, err = jcs.Transform(b); err != nil {
		return nil, fmt.Errorf("policy set: %w", err)
	}
	return p, nil
}

// PolicySet returns the policy set the engine was loaded from, computed
// once at Load; callers must not change it.
func (e *Engine) PolicySet() *PolicySet { return e.policy }

// Bundle returns p as an unsigned OPA bundle whose manifest revision is
// name (a decision's policy.bundle; empty for a set loaded from a
// directory), ready for WriteBundle. Loading it computes p.Revision again
// only if the modules and data are p's unchanged.
func (p *PolicySet) Bundle(name string) (*bundle.Bundle, error) {
	dec := json.NewDecoder(bytes.NewReader(p.Data))
	dec.UseNumber()
	var docs map[string]any
	if err := dec.Decode(&docs); err != nil {
		return nil, fmt.Errorf("policy set %s: data: %w", p.Revision, err)
	}
	b := &bundle.Bundle{Manifest: bundle.Manifest{Revision: name}, Data: docs}
	b.Manifest.SetRegoVersion(ast.RegoV1)
	for _, m := range p.Modules {
		if m.Path == "" || path.Clean("/"+m.Path) != "/"+m.Path {
			return nil, fmt.Errorf("policy set %s: module path %q is not clean", p.Revision, m.Path)
		}
		u := "/" + m.Path
		b.Modules = append(b.Modules, bundle.ModuleFile{URL: u, Path: u, RelativePath: m.Path, Raw: []byte(m.Source)})
	}
	return b, nil
}
