package pgtest

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The database is named in both forms of connection string. Needs no
// server.
func TestWithDatabase(t *testing.T) {
	for _, tt := range []struct{ server, want string }{
		{"postgres://shipgate@127.0.0.1:5432/shipgate_test?sslmode=disable", "postgres://shipgate@127.0.0.1:5432/db1?sslmode=disable"},
		{"postgresql://shipgate@127.0.0.1/", "postgresql://shipgate@127.0.0.1/db1"},
		{"host=127.0.0.1 user=shipgate dbname=shipgate_test", "host=127.0.0.1 user=shipgate dbname=shipgate_test dbname=db1"},
	} {
		if got := withDatabase(t, tt.server, "db1"); got != tt.want {
			t.Errorf("withDatabase(%q) = %q; want %q", tt.server, got, tt.want)
		}
	}
}

// A test gets an empty database of its own, which is gone when the test
// ends.
func TestNewDatabase(t *testing.T) {
	server := ServerURL(t)
	ctx := context.Background()
	var name string
	t.Run("inner", func(t *testing.T) {
		u := NewDatabase(t)
		other := NewDatabase(t)
		if u == other {
			t.Fatalf("two databases at the same URL %s", u)
		}
		conn := Open(t, u, func(ctx context.Context, u string) (*closer, error) {
			c, err := pgx.Connect(ctx, u)
			return &closer{c}, err
		})
		if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(u, "/"+name) {
			t.Errorf("connected to %s through %s", name, u)
		}
		var tables int
		if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("the new database has %d tables; want none", tables)
		}
	})
	if name == "" {
		t.Fatal("the inner test did not reach its database")
	}
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var left int
	if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM pg_database WHERE datname = $1", name).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("database %s is still there after its test ended", name)
	}
}

// closer is a pgx connection as Open takes a store: closed without a
// context.
type closer struct{ *pgx.Conn }

func (c *closer) Close() error { return c.Conn.Close(context.Background()) }
