// Package pgtest gives tests a PostgreSQL database of their own on the
// server $SHIPGATE_TEST_POSTGRES names (`eval "$(make -s pg)"` starts a
// throwaway one; CI always sets it): a fresh, empty database per test,
// dropped when the test ends. Without the variable the test skips.
//
// It imports no package of this module, so the internal tests of
// store/postgres can use it too: the store is opened through the Open
// function passed in, e.g. pgtest.NewStore(t, postgres.Open).
package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Env names the URL of the PostgreSQL server the tests run against, as a
// role that may create databases (and, for the tamper tests of
// store/postgres, a superuser).
const Env = "SHIPGATE_TEST_POSTGRES"

// ServerURL returns the test server's URL, or skips t when there is none.
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		t.Skipf("%s is not set: start a throwaway server with eval \"$(make -s pg)\" (CI does)", Env)
	}
	return u
}

// NewDatabase creates an empty database on the test server, dropped when t
// ends, and returns its URL; without a server it skips t.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	server := ServerURL(t)
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
			t.Fatalf("%s: %v", Env, err)
		}
		u.Path = "/" + name
		return u.String()
	}
	// key=value form: a later key wins.
	return s + " dbname=" + name
}

// Open opens the store at url with open and closes it when t ends.
func Open[DB interface{ Close() error }](t testing.TB, url string, open func(context.Context, string) (DB, error)) DB {
	t.Helper()
	db, err := open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open() = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// NewStore opens, with open, a store in a new database (NewDatabase), and
// closes it when t ends; without a server it skips t.
func NewStore[DB interface{ Close() error }](t testing.TB, open func(context.Context, string) (DB, error)) DB {
	t.Helper()
	return Open(t, NewDatabase(t), open)
}
