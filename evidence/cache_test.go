package evidence

import (
	"crypto/ed25519"
	"errors"
	"hash/maphash"
	"reflect"
	"testing"
)

// A ledger validator decodes the same bytes once: a second Decode returns
// what decoding again would (the caller's source, the same digest,
// signers and value), a key trusted since is seen, another validator's
// keys are not mixed up with its own, and a rejection is still a
// rejection every time.
func TestLedgerDecodeCache(t *testing.T) {
	ci, later := testKey("ci"), testKey("later")
	keys := NewKeyring(ci.Public().(ed25519.PublicKey))
	v := newValidator(t, DefaultLimits).WithKeys(keys).ForLedger()
	bare := readFile(t, "build.json")
	env := seal(t, ci, bare)

	first, err := v.Decode("first", env)
	if err != nil {
		t.Fatal(err)
	}
	fresh := *first
	again, err := v.Decode("again", env)
	if err != nil {
		t.Fatal(err)
	}
	if again.Source != "again" || first.Source != "first" {
		t.Errorf("sources = %q, %q; want first, again", first.Source, again.Source)
	}
	fresh.Source = "again"
	if !reflect.DeepEqual(*again, fresh) {
		t.Errorf("cached decode = %+v; want %+v", *again, fresh)
	}
	uncached := &Validator{reg: v.reg, lim: v.lim, keys: keys, recorded: true}
	direct, err := uncached.Decode("again", env)
	if err != nil || !reflect.DeepEqual(direct, again) {
		t.Errorf("decoded without the cache = %+v, %v; want %+v", direct, err, again)
	}

	// Signed by a key trusted only later: SignedBy follows the keyring.
	both := envelopeOf(t, env)
	both.Signatures = append(both.Signatures, envelopeOf(t, seal(t, later, bare)).Signatures...)
	two := marshalEnv(t, both)
	if d, err := v.Decode("ledger", two); err != nil || len(d.SignedBy) != 1 {
		t.Fatalf("before the key is trusted: SignedBy = %v, %v; want one", d.SignedBy, err)
	}
	keys.Add(later.Public().(ed25519.PublicKey))
	if d, err := v.Decode("ledger", two); err != nil || len(d.SignedBy) != 2 {
		t.Errorf("after the key is trusted: SignedBy = %v, %v; want both", d.SignedBy, err)
	}
	// A copy trusting no key shares the cache but not its signers.
	none := v.WithKeys(nil)
	if d, err := none.Decode("ledger", two); err != nil || len(d.SignedBy) != 0 {
		t.Errorf("without keys: SignedBy = %v, %v; want none", d.SignedBy, err)
	}

	forged := envelopeOf(t, env)
	forged.Signatures[0].Sig = envelopeOf(t, seal(t, later, bare)).Signatures[0].Sig
	bad := marshalEnv(t, forged)
	for range 2 {
		var ve ValidationErrors
		if _, err := v.Decode("ledger", bad); !errors.As(err, &ve) || ve[0].Keyword != KeywordSignature {
			t.Errorf("forged signature: %v; want a %q error", err, KeywordSignature)
		}
	}
}

// The cache stays within its bounds however many documents pass.
func TestLedgerDecodeCacheBounded(t *testing.T) {
	v := newValidator(t, DefaultLimits).ForLedger()
	bare := readFile(t, "build.json")
	for i := range cacheEntries + 10 {
		// The same document spelled with more spaces: other bytes.
		b := append(append([]byte{}, bare...), make([]byte, i)...)
		for j := len(bare); j < len(b); j++ {
			b[j] = ' '
		}
		if _, err := v.Decode("ledger", b); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(v.cache.docs); n > cacheEntries || v.cache.bytes > cacheBytes {
		t.Errorf("cache holds %d documents, %d bytes; want at most %d, %d", n, v.cache.bytes, cacheEntries, cacheBytes)
	}
}

// A hit is the very bytes decoded, not only their hash: other bytes under
// the same hash (as if they collided) are decoded, and take the place; and
// the caller's buffer changing afterwards changes nothing cached.
func TestLedgerDecodeCacheComparesBytes(t *testing.T) {
	v := newValidator(t, DefaultLimits).ForLedger()
	bare := readFile(t, "build.json")
	first, err := v.Decode("ledger", bare)
	if err != nil {
		t.Fatal(err)
	}
	other := append(append([]byte{}, bare...), ' ')
	key := cacheKey{hash: maphash.Bytes(v.cache.seed, other), keys: v.keys, gen: v.keys.generation()}
	v.cache.docs[key] = v.cache.docs[cacheKey{hash: maphash.Bytes(v.cache.seed, bare), keys: v.keys, gen: v.keys.generation()}]
	v.cache.bytes += len(bare)
	got, err := v.Decode("ledger", other)
	if err != nil || got.Digest != first.Digest || v.cache.docs[key].b[len(other)-1] != ' ' {
		t.Fatalf("Decode(other bytes, same hash) = %+v, %v; want them decoded and kept", got, err)
	}
	buf := append([]byte{}, bare...)
	if _, err := v.Decode("ledger", buf); err != nil {
		t.Fatal(err)
	}
	buf[0] = '['
	if d, err := v.Decode("ledger", bare); err != nil || d.Digest != first.Digest {
		t.Errorf("Decode after the caller's buffer changed = %v, %v; want %s", d, err, first.Digest)
	}
	if v.cache.bytes != len(bare)+len(other) {
		t.Errorf("cache counts %d bytes; want %d", v.cache.bytes, len(bare)+len(other))
	}
}
