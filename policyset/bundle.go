package policyset

import (
	"archive/tar"
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/bundle"
	"github.com/open-policy-agent/opa/v1/loader/filter"

	"github.com/localizevideos/shipgate/internal/targz"
)

// BundleRoot is the one root a shipgate bundle claims: its modules and
// data all live under data.shipgate.
const BundleRoot = "shipgate"

// BundleError reports a bundle that was refused: unreadable, unsigned when a
// key was given, signed by another key, or with a file list or file hashes
// that do not match its signature.
type BundleError struct {
	Err error
}

func (e *BundleError) Error() string { return "bundle refused: " + e.Err.Error() }

func (e *BundleError) Unwrap() error { return e.Err }

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

// CheckRoot refuses a set with data or a package outside BundleRoot: a
// shipgate bundle claims that one root, so an OPA agent holding other
// bundles beside it keeps theirs.
func (s *Set) CheckRoot() error {
	for k := range s.docs {
		if k != BundleRoot {
			return fmt.Errorf("bundle: data %q is outside the bundle root %q", k, BundleRoot)
		}
	}
	root := ast.MustParseRef("data." + BundleRoot)
	for _, name := range slices.Sorted(maps.Keys(s.files)) {
		f := s.files[name]
		if !f.parsed.Package.Path.HasPrefix(root) {
			return fmt.Errorf("bundle: %s: package %s is outside the bundle root %q", name, f.parsed.Package.Path, BundleRoot)
		}
	}
	return nil
}

// Bundle returns the set as an OPA bundle: the modules (tests left out)
// with their source unchanged, the data (shipgate/config/data.yaml becomes
// data.shipgate.config), and a manifest with revision rev and the root
// "shipgate"; signed with key, a PEM private key (see
// SigningAlgorithm for the kinds accepted), when it is set. Call CheckRoot
// first: Bundle does not check the root. Write it with WriteBundle.
func (s *Set) Bundle(rev string, key []byte) (*bundle.Bundle, error) {
	b := &bundle.Bundle{
		Manifest: bundle.Manifest{Revision: rev, Roots: &[]string{BundleRoot}},
		Data:     s.docs,
	}
	b.Manifest.SetRegoVersion(ast.RegoV1)
	for _, name := range slices.Sorted(maps.Keys(s.files)) {
		f := s.files[name]
		p := "/" + path.Clean(f.name)
		b.Modules = append(b.Modules, bundle.ModuleFile{URL: p, Path: p, RelativePath: path.Clean(f.name), Raw: f.raw, Parsed: f.parsed})
	}
	if key != nil {
		pemKey, alg, kid, err := signingKey(key)
		if err != nil {
			return nil, err
		}
		if err := b.GenerateSignature(bundle.NewSigningConfig(pemKey, alg, ""), kid, true); err != nil {
			return nil, fmt.Errorf("sign bundle: %w", err)
		}
	}
	return b, nil
}
