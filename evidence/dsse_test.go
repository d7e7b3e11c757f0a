package evidence

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// testKey returns a fixed ed25519 key named by seed, so that the fuzz seeds
// in testdata stay valid.
func testKey(seed string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte(seed))
	return ed25519.NewKeyFromSeed(s[:])
}

func seal(t testing.TB, key ed25519.PrivateKey, doc []byte) []byte {
	t.Helper()
	env, err := NewSigner(key).Seal(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// envelopeOf decodes an envelope for tampering.
func envelopeOf(t testing.TB, b []byte) dsse.Envelope {
	t.Helper()
	var e dsse.Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func marshalEnv(t testing.TB, e any) []byte {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeyID(t *testing.T) {
	pub := testKey("ci").Public().(ed25519.PublicKey)
	sum := sha256.Sum256(pub)
	want := "sha256:" + hex.EncodeToString(sum[:])
	if got := KeyID(pub); got != want {
		t.Errorf("KeyID = %s; want %s", got, want)
	}
	if id, _ := NewSigner(testKey("ci")).KeyID(); id != want {
		t.Errorf("Signer.KeyID = %s; want %s", id, want)
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	ci, other := testKey("ci"), testKey("other")
	v := newValidator(t, DefaultLimits).WithKeys(NewKeyring(ci.Public().(ed25519.PublicKey), other.Public().(ed25519.PublicKey)))
	bare := readFile(t, "build.json")
	plain, err := v.Decode("build.json", bare)
	if err != nil {
		t.Fatal(err)
	}
	if plain.SignedBy != nil || plain.Envelope != nil {
		t.Errorf("bare document: SignedBy %v, Envelope %q; want none", plain.SignedBy, plain.Envelope)
	}
	env := seal(t, ci, bare)
	doc, err := v.Decode("build.dsse.json", env)
	if err != nil {
		t.Fatalf("Decode(envelope) = %v", err)
	}
	if doc.Digest != plain.Digest {
		t.Errorf("Digest of the signed document = %s; want the bare document's %s", doc.Digest, plain.Digest)
	}
	if want := []string{KeyID(ci.Public().(ed25519.PublicKey))}; !slices.Equal(doc.SignedBy, want) {
		t.Errorf("SignedBy = %v; want %v", doc.SignedBy, want)
	}
	if doc.Source != "build.dsse.json" || doc.Kind != "Build" {
		t.Errorf("Source, Kind = %q, %q", doc.Source, doc.Kind)
	}
	// The kept envelope verifies again, to the same document and signers.
	again, err := v.Decode("ledger", doc.Envelope)
	if err != nil {
		t.Fatalf("Decode(kept envelope) = %v", err)
	}
	if again.Digest != doc.Digest || !slices.Equal(again.SignedBy, doc.SignedBy) || !bytes.Equal(again.Envelope, doc.Envelope) {
		t.Errorf("kept envelope decodes to %s %v; want %s %v", again.Digest, again.SignedBy, doc.Digest, doc.SignedBy)
	}

	// Two signatures by two trusted keys: both are named, sorted.
	e := envelopeOf(t, env)
	e2 := envelopeOf(t, seal(t, other, bare))
	e.Signatures = append(e.Signatures, e2.Signatures...)
	doc, err = v.Decode("two", marshalEnv(t, e))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{KeyID(ci.Public().(ed25519.PublicKey)), KeyID(other.Public().(ed25519.PublicKey))}
	slices.Sort(want)
	if !slices.Equal(doc.SignedBy, want) {
		t.Errorf("SignedBy = %v; want %v", doc.SignedBy, want)
	}
}

func TestEnvelopeRejected(t *testing.T) {
	ci, stranger := testKey("ci"), testKey("stranger")
	ciID := KeyID(ci.Public().(ed25519.PublicKey))
	v := newValidator(t, DefaultLimits).WithKeys(NewKeyring(ci.Public().(ed25519.PublicKey)))
	bare := readFile(t, "build.json")
	good := seal(t, ci, bare)

	tampered := envelopeOf(t, good)
	tampered.Payload = base64.StdEncoding.EncodeToString(bytes.Replace(bare, []byte(`"passed"`), []byte(`"failed"`), 1))

	wrongKey := envelopeOf(t, seal(t, stranger, bare))
	wrongKey.Signatures[0].KeyID = ciID // claims the trusted key, signed by another

	typed := envelopeOf(t, good)
	typed.PayloadType = "application/vnd.in-toto+json"

	// A valid signature over a different payload type: the PAE binds the type.
	es, err := dsse.NewEnvelopeSigner(NewSigner(ci))
	if err != nil {
		t.Fatal(err)
	}
	other, err := es.SignPayload(context.Background(), "application/json", bare)
	if err != nil {
		t.Fatal(err)
	}

	extra := envelopeOf(t, good)
	extra.Signatures = append(extra.Signatures, envelopeOf(t, seal(t, stranger, bare)).Signatures...)

	badSig := envelopeOf(t, good)
	badSig.Signatures[0].Sig = "%%%"

	nested := seal(t, ci, good)
	notDoc := seal(t, ci, []byte(`{"kind": "Build"}`))
	notJSON := seal(t, ci, []byte(`not json`))

	tests := []struct {
		name    string
		b       []byte
		v       *Validator
		pointer string
		keyword string
		msg     string
	}{
		{"tampered payload", marshalEnv(t, tampered), v, "/signatures/0/sig", KeywordSignature, "does not verify"},
		{"wrong key", marshalEnv(t, wrongKey), v, "/signatures/0/sig", KeywordSignature, "does not verify"},
		{"unknown keyid", seal(t, stranger, bare), v, "/signatures/0/keyid", KeywordUnknownKey, "is not trusted"},
		{"one unknown signature among good ones", marshalEnv(t, extra), v, "/signatures/1/keyid", KeywordUnknownKey, "is not trusted"},
		{"no trusted keys", good, newValidator(t, DefaultLimits), "/signatures/0/keyid", KeywordUnknownKey, "no trusted keys are configured"},
		{"payload type mismatch", marshalEnv(t, typed), v, "/payloadType", KeywordPayloadType, `"application/vnd.in-toto+json" is not "application/vnd.shipgate.evidence+json"`},
		{"signed under another type", marshalEnv(t, other), v, "/payloadType", KeywordPayloadType, `"application/json"`},
		{"sig not base64", marshalEnv(t, badSig), v, "/signatures/0/sig", KeywordSignature, "does not verify"},
		{"no signatures", []byte(`{"payloadType": "application/vnd.shipgate.evidence+json", "payload": "e30=", "signatures": []}`), v, "/signatures", KeywordEnvelope, "non-empty signatures"},
		{"payload not base64", []byte(`{"payloadType": "application/vnd.shipgate.evidence+json", "payload": "!!", "signatures": [{"keyid": "` + ciID + `", "sig": "AA=="}]}`), v, "/payload", KeywordEnvelope, "not valid base64"},
		{"no keyid", []byte(`{"payloadType": "application/vnd.shipgate.evidence+json", "payload": "e30=", "signatures": [{"sig": "AA=="}]}`), v, "/signatures/0/keyid", KeywordEnvelope, "needs a keyid"},
		{"extra member", []byte(`{"payloadType": "application/vnd.shipgate.evidence+json", "payload": "e30=", "signatures": [{"keyid": "k", "sig": "AA=="}], "kindish": 1}`), v, "", KeywordEnvelope, `"kindish"`},
		{"extra signature member", []byte(`{"payloadType": "application/vnd.shipgate.evidence+json", "payload": "e30=", "signatures": [{"keyid": "k", "sig": "AA==", "cert": ""}]}`), v, "/signatures/0", KeywordEnvelope, `"cert"`},
		{"signature not an object", []byte(`{"payloadType": "application/vnd.shipgate.evidence+json", "payload": "e30=", "signatures": ["AA=="]}`), v, "/signatures/0", KeywordEnvelope, "must be an object"},
		{"payloadType not a string", []byte(`{"payloadType": 1, "payload": "e30=", "signatures": [{"keyid": "k", "sig": "AA=="}]}`), v, "/payloadType", KeywordEnvelope, "string payloadType"},
		{"signatures only", []byte(`{"signatures": [{"keyid": "k", "sig": "AA=="}]}`), v, "/payloadType", KeywordEnvelope, "string payloadType"},
		{"nested envelope", nested, v, "", KeywordEnvelope, "envelope inside an envelope"},
		{"payload not a document", notDoc, v, "/", "", ""},
		{"payload not JSON", notJSON, v, "", "syntax", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := tt.v.Decode("ev.json", tt.b)
			if err == nil {
				t.Fatalf("Decode = %s signed by %v; want an error", doc.Digest, doc.SignedBy)
			}
			var ves ValidationErrors
			if !errors.As(err, &ves) || len(ves) == 0 {
				t.Fatalf("Decode error = %v (%T); want ValidationErrors", err, err)
			}
			if tt.pointer == "/" { // the payload's own schema errors
				if !strings.HasPrefix(ves[0].Source, "ev.json (DSSE payload)") {
					t.Errorf("Source = %q; want the payload named", ves[0].Source)
				}
				return
			}
			e := ves[0]
			if tt.keyword != "" && (e.Pointer != tt.pointer || e.Keyword != tt.keyword) {
				t.Errorf("error = %v; want pointer %q keyword %q", e, tt.pointer, tt.keyword)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message = %q; want it to contain %q", e.Message, tt.msg)
			}
			if !strings.HasPrefix(e.Source, "ev.json") {
				t.Errorf("Source = %q; want ev.json", e.Source)
			}
		})
	}
}

// FuzzEnvelope checks that decoding arbitrary bytes with trusted keys
// never panics, rejects only with ValidationErrors, and never calls a
// document signed unless a trusted key really signed its payload: the kept
// envelope must hold a signature that verifies, over the PAE of exactly the
// document that was decoded. Seeds are in testdata/fuzz/FuzzEnvelope.
func FuzzEnvelope(f *testing.F) {
	ci := testKey("ci")
	keys := NewKeyring(ci.Public().(ed25519.PublicKey))
	v := newValidator(f, DefaultLimits).WithKeys(keys)
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := v.Decode("fuzz", b)
		if err != nil {
			var ves ValidationErrors
			if !errors.As(err, &ves) || len(ves) == 0 {
				t.Fatalf("Decode() error = %v (%T); want non-empty ValidationErrors", err, err)
			}
			return
		}
		if doc.Envelope == nil {
			if doc.SignedBy != nil {
				t.Fatalf("bare document signed by %v", doc.SignedBy)
			}
			return
		}
		if len(doc.SignedBy) == 0 {
			t.Fatal("envelope accepted with no signer")
		}
		var e dsse.Envelope
		if err := json.Unmarshal(doc.Envelope, &e); err != nil {
			t.Fatalf("kept envelope: %v", err)
		}
		payload, err := e.DecodeB64Payload()
		if err != nil {
			t.Fatalf("kept envelope payload: %v", err)
		}
		canon, err := Canonical(payload)
		if err != nil || DigestOf(canon) != doc.Digest {
			t.Fatalf("payload digest %s, %v; want %s", DigestOf(canon), err, doc.Digest)
		}
		verified := false
		for _, s := range e.Signatures {
			sig, err := base64.StdEncoding.DecodeString(s.Sig)
			if err != nil {
				sig, _ = base64.URLEncoding.DecodeString(s.Sig)
			}
			if ed25519.Verify(ci.Public().(ed25519.PublicKey), dsse.PAE(e.PayloadType, payload), sig) {
				verified = true
			}
		}
		if !verified || e.PayloadType != PayloadType {
			t.Fatalf("accepted an envelope no trusted key signed (type %q)", e.PayloadType)
		}
		again, err := v.Decode("again", doc.Envelope)
		if err != nil || again.Digest != doc.Digest || !slices.Equal(again.SignedBy, doc.SignedBy) {
			t.Fatalf("kept envelope decodes to %v, %v; want %s %v", again, err, doc.Digest, doc.SignedBy)
		}
	})
}

// TestEnvelopeFuzzSeeds keeps the signed seeds valid (they are signed with
// testKey("ci")), so that fuzzing starts from envelopes that verify.
// Regenerate them with SHIPGATE_UPDATE_SEEDS=1 go test -run TestEnvelopeFuzzSeeds.
func TestEnvelopeFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzEnvelope")
	ci := testKey("ci")
	if os.Getenv("SHIPGATE_UPDATE_SEEDS") != "" {
		bare := readFile(t, "build.json")
		env := seal(t, ci, bare)
		typed := envelopeOf(t, env)
		typed.PayloadType = "application/json"
		urlSafe := envelopeOf(t, env)
		toURL := strings.NewReplacer("+", "-", "/", "_").Replace
		urlSafe.Payload, urlSafe.Signatures[0].Sig = toURL(urlSafe.Payload), toURL(urlSafe.Signatures[0].Sig)
		seeds := map[string][]byte{
			"valid-build":       env,
			"valid-plan":        seal(t, ci, readFile(t, "plan.json")),
			"stranger":          seal(t, testKey("stranger"), bare),
			"payload-type":      marshalEnv(t, typed),
			"nested":            seal(t, ci, env),
			"no-signatures":     []byte(`{"payloadType":"application/vnd.shipgate.evidence+json","payload":"e30=","signatures":[]}`),
			"url-safe-base64":   marshalEnv(t, urlSafe),
			"duplicate-payload": []byte(`{"payloadType":"application/vnd.shipgate.evidence+json","payload":"e30=","payload":"e30=","signatures":[]}`),
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			if err := os.WriteFile(filepath.Join(dir, name), []byte("go test fuzz v1\n[]byte("+strconv.Quote(string(b))+")\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	v := newValidator(t, DefaultLimits).WithKeys(NewKeyring(ci.Public().(ed25519.PublicKey)))
	seeds, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(seeds) < 5 {
		t.Fatalf("want the seeds in %s: %v", dir, err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		lit, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "go test fuzz v1\n[]byte(")
		if !ok {
			t.Fatalf("%s: not a []byte corpus file", s)
		}
		in, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		_, err = v.Decode(s, []byte(in))
		if valid := strings.HasPrefix(filepath.Base(s), "valid-") || filepath.Base(s) == "url-safe-base64"; valid != (err == nil) {
			t.Errorf("Decode(%s) = %v; want valid=%t", s, err, valid)
		}
	}
}

// Read back from the ledger, an envelope by a key no longer (or not yet)
// trusted still decodes, unsigned for the policy; a forged signature by a
// trusted key is still refused.
func TestEnvelopeForLedger(t *testing.T) {
	ci, stranger := testKey("ci"), testKey("stranger")
	ciID := KeyID(ci.Public().(ed25519.PublicKey))
	strangerID := KeyID(stranger.Public().(ed25519.PublicKey))
	v := newValidator(t, DefaultLimits).WithKeys(NewKeyring(ci.Public().(ed25519.PublicKey)))
	bare := readFile(t, "build.json")

	byStranger := seal(t, stranger, bare)
	if _, err := v.Decode("in", byStranger); err == nil {
		t.Fatal("fresh evidence by an untrusted key decoded; want unknown-key")
	}
	d, err := v.ForLedger().Decode("ledger", byStranger)
	if err != nil {
		t.Fatalf("recorded evidence by a key not trusted now: %v", err)
	}
	if len(d.SignedBy) != 0 {
		t.Errorf("SignedBy = %v; want none (the stranger is not trusted)", d.SignedBy)
	}

	both := envelopeOf(t, seal(t, ci, bare))
	both.Signatures = append(both.Signatures, envelopeOf(t, byStranger).Signatures...)
	d, err = v.ForLedger().Decode("ledger", marshalEnv(t, both))
	if err != nil || len(d.SignedBy) != 1 || d.SignedBy[0] != ciID {
		t.Errorf("trusted + untrusted signer: SignedBy = %v, %v; want [%s] (not %s)", d.SignedBy, err, ciID, strangerID)
	}

	forged := envelopeOf(t, byStranger)
	forged.Signatures[0].KeyID = ciID // claims the trusted key, signed by another
	_, err = v.ForLedger().Decode("ledger", marshalEnv(t, forged))
	var ve ValidationErrors
	if !errors.As(err, &ve) || ve[0].Keyword != KeywordSignature {
		t.Errorf("forged signature by a trusted key read from the ledger: %v; want a %q error", err, KeywordSignature)
	}
}

// Trusting adds keys to those a validator trusts, and leaves the
// validator it was made from as it was.
func TestTrusting(t *testing.T) {
	ci, server := testKey("ci"), testKey("server")
	v := newValidator(t, DefaultLimits).WithKeys(NewKeyring(ci.Public().(ed25519.PublicKey)))
	both := v.Trusting(server.Public().(ed25519.PublicKey))
	bare := readFile(t, "build.json")
	for name, key := range map[string]ed25519.PrivateKey{"ci": ci, "server": server} {
		if _, err := both.Decode(name, seal(t, key, bare)); err != nil {
			t.Errorf("Trusting(): signed by %s: %v", name, err)
		}
	}
	if _, err := v.Decode("server", seal(t, server, bare)); err == nil {
		t.Error("the original validator trusts the added key")
	}
	if _, err := newValidator(t, DefaultLimits).Trusting(server.Public().(ed25519.PublicKey)).Decode("server", seal(t, server, bare)); err != nil {
		t.Errorf("Trusting() on a validator without keys: %v", err)
	}
}
