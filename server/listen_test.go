package server_test

import (
	"strings"
	"testing"

	"github.com/localizevideos/shipgate/server"
)

func TestParseSessionKey(t *testing.T) {
	for _, tc := range []struct {
		in      string
		n       int
		wantErr bool
	}{
		{"", 0, false},
		{"  \n", 0, false},
		{strings.Repeat("ab", 32), 32, false},
		{" " + strings.Repeat("0f", 40) + "\n", 40, false},
		{strings.Repeat("ab", 31), 0, true},
		{strings.Repeat("zz", 32), 0, true},
	} {
		b, err := server.ParseSessionKey(tc.in)
		if (err != nil) != tc.wantErr || len(b) != tc.n {
			t.Errorf("ParseSessionKey(%q) = %d bytes, %v; want %d bytes, error %v", tc.in, len(b), err, tc.n, tc.wantErr)
		}
	}
}
