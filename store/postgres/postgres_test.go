package postgres

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/localizevideos/shipgate/evidence"
	"github.com/localizevideos/shipgate/store"
	"github.com/localizevideos/shipgate/store/postgres/pgtest"
	"github.com/localizevideos/shipgate/store/storetest"
)

var _ storetest.Store = (*DB)(nil)

// The tests run against the server pgtest.Env names; every test makes a
// database of its own there and drops it.
var (
	serverURL   = pgtest.ServerURL
	newDatabase = pgtest.NewDatabase
)

// openT opens the ledger at url and closes it when t ends.
func openT(t testing.TB, url string) *DB {
	t.Helper()
	return pgtest.Open(t, url, Open)
}

func TestStore(t *testing.T) {
	serverURL(t)
	var urls sync.Map // *testing.T → database URL: one database per test
	storetest.Run(t, func(t *testing.T) storetest.Store {
		u, ok := urls.Load(t)
		if !ok {
			u, _ = urls.LoadOrStore(t, newDatabase(t))
		}
		return openT(t, u.(string))
	})
}

// Several servers opening a new database at once migrate it once.
func TestConcurrentFirstOpen(t *testing.T) {
	url := newDatabase(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			db, err := Open(context.Background(), url)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open() %d = %v", i, err)
		}
	}
	db := openT(t, url)
	var versions, applied int
	if err := db.pool.QueryRow(context.Background(),
		"SELECT COUNT(*), COUNT(DISTINCT version_id) FROM "+versionTable).Scan(&versions, &applied); err != nil {
		t.Fatal(err)
	}
	if versions != applied {
		t.Errorf("%s has %d rows for %d versions: a migration ran twice", versionTable, versions, applied)
	}
}

// A server that cannot be reached, or a URL that does not parse, fails
// Open, naming the database but never the password. Needs no server.
func TestOpenUnreachable(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct{ url, want string }{
		{"postgres://shipgate:s3cret@127.0.0.1:1/ledger?sslmode=disable&connect_timeout=5", "127.0.0.1:1/ledger"},
		{"host=127.0.0.1 port=1 user=shipgate password=s3cret dbname=ledger sslmode=disable connect_timeout=5", "127.0.0.1:1/ledger"},
		{"postgres://shipgate:s3cret@127.0.0.1:notaport/ledger", "open ledger"},
	} {
		db, err := Open(ctx, tt.url)
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) = nil; want an error", tt.url)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%q) = %v; want an error naming %s, without the password", tt.url, err, tt.want)
		}
	}
}

// The ledger table refuses changes through an ordinary session.
func TestAppendOnly(t *testing.T) {
	ctx := context.Background()
	db := openT(t, newDatabase(t))
	storetest.Fill(t, db, storetest.T0, 0, 2)
	for _, sql := range []string{
		"UPDATE entries SET key = 'x' WHERE seq = 1",
		"DELETE FROM entries WHERE seq = 2",
		"TRUNCATE entries CASCADE",
	} {
		if _, err := db.pool.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s = %v; want the append-only error", sql, err)
		}
	}
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Errorf("Verify() = %v", err)
	}
}

func TestMain(m *testing.M) {
	if u := os.Getenv(pgtest.Env); u != "" {
		// Fail fast, and once, when the server named is not there.
		conn, err := pgx.Connect(context.Background(), u)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", pgtest.Env, err)
			os.Exit(1)
		}
		conn.Close(context.Background())
	}
	os.Exit(m.Run())
}

// Entry bodies are compressed with lz4 where the server has it
// (00005_entries_lz4.sql), and read back byte for byte.
func TestEntriesLZ4(t *testing.T) {
	ctx := context.Background()
	db := openT(t, newDatabase(t))
	var lz4 bool
	if err := db.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals))").Scan(&lz4); err != nil {
		t.Fatal(err)
	}
	if !lz4 {
		t.Skip("this PostgreSQL has no lz4")
	}
	// A body over 2 kB, which PostgreSQL compresses.
	ev := storetest.NewEvidence(t, "Plan", "rel-1", "app", storetest.T0, 1)
	ev.Body = bytes.Replace(ev.Body, []byte(`"note":"`), []byte(`"note":"`+strings.Repeat("shipgate ", 500)), 1)
	ev.Digest = evidence.DigestOf(ev.Body)
	if _, err := db.AddEvidence(ctx, storetest.T0, []store.Evidence{ev}); err != nil {
		t.Fatal(err)
	}
	var method *string
	if err := db.pool.QueryRow(ctx, "SELECT pg_column_compression(body) FROM entries WHERE key = $1", ev.Digest).Scan(&method); err != nil {
		t.Fatal(err)
	}
	if method == nil || *method != "lz4" {
		t.Errorf("the body is stored compressed with %v; want lz4", method)
	}
	got, err := db.Evidence(ctx, "rel-1")
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Body, ev.Body) {
		t.Errorf("Evidence() = %d documents, %v; want the body recorded", len(got), err)
	}
	if _, err := db.Verify(ctx, nil); err != nil {
		t.Errorf("Verify() = %v", err)
	}
}
