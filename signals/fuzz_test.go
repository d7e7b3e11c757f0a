package signals_test

import (
	"os"
	"testing"

	"github.com/localizevideos/shipgate/signals"
)

// FuzzLoad: any bytes either load into signals that each have a source and
// a compiled condition, or fail with an error; never a panic, never a
// half-loaded set.
func FuzzLoad(f *testing.F) {
	for _, p := range []string{"../examples/localizevideos/signals.yaml", "../examples/localizevideos/signals-pm2.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("signals:\n  - {name: cpu, pm2: {field: cpu, app: a}, breach: observed > 1}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		set, err := signals.Load("fuzz.yaml", b)
		if err != nil {
			if set != nil {
				t.Fatalf("Load() = %v and a set", err)
			}
			return
		}
		if len(set.Signals) == 0 {
			t.Fatal("Load() = a set without signals, no error")
		}
		for _, s := range set.Signals {
			if s.Name == "" || s.Breach == "" || s.Source == "" {
				t.Fatalf("Load() loaded an incomplete signal %+v", s)
			}
		}
	})
}
