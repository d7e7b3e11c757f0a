package postgres

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/localizevideos/shipgate/store/storetest"
)

var _ storetest.Store = (*DB)(nil)

// serverEnv names the URL of the PostgreSQL server the tests run against,
// as a role that may create databases (and, for the tamper tests, a
// superuser). Every test makes a database of its own there and drops it.
const serverEnv = "SHIPGATE_TEST_POSTGRES"

// serverURL returns the test server's URL, or skips t when there is none.
func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(serverEnv)
	if u == "" {
		t.Skipf("%s is not set. To run the PostgreSQL store tests, start a throwaway server with `make pg` "+
			"and export the URL it prints, e.g. %s='postgres://shipgate@127.0.0.1:55432/shipgate_test?sslmode=disable'; "+
			"CI (.ci/run) always does", serverEnv, serverEnv)
	}
	return u
}

// newDatabase creates an empty database on the test server, dropped when t
// ends, and returns its URL.
func newDatabase(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	server := serverURL(t)
	name := "shipgate_test_" + strings.ToLower(rand.Text())
	ident := pgx.Identifier{name}.Sanitize()
	admin := func(sql string) error {
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := admin("CREATE DATABASE " + ident); err != nil {
		t.Fatalf("create the test database: %v", err)
	}
	t.Cleanup(func() {
		// FORCE ends the sessions of handles a failed test left open.
		if err := admin("DROP DATABASE IF EXISTS " + ident + " WITH (FORCE)"); err != nil {
			t.Errorf("drop the test database %s: %v", name, err)
		}
	})
	return withDatabase(t, server, name)
}

// withDatabase returns the connection string s naming the database name.
func withDatabase(t testing.TB, s, name string) string {
	t.Helper()
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatalf("%s: %v", serverEnv, err)
		}
		u.Path = "/" + name
		return u.String()
	}
	// key=value form: a later key wins.
	return s + " dbname=" + name
}

// openT opens the ledger at url and closes it when t ends.
func openT(t testing.TB, url string) *DB {
	t.Helper()
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
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
	if u := os.Getenv(serverEnv); u != "" {
		// Fail fast, and once, when the server named is not there.
		conn, err := pgx.Connect(context.Background(), u)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", serverEnv, err)
			os.Exit(1)
		}
		conn.Close(context.Background())
	}
	os.Exit(m.Run())
}
