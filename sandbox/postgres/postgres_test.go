package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/postgres"
	"github.com/ghlkit/ghlkit/sandbox/storetest"
)

// baseURL returns the test database's URL, from GHLKIT_TEST_POSTGRES_URL.
// Without it the test is skipped, or fails when GHLKIT_REQUIRE_SERVICES=1.
func baseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("GHLKIT_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("GHLKIT_REQUIRE_SERVICES") == "1" {
			t.Fatal("GHLKIT_TEST_POSTGRES_URL is not set and GHLKIT_REQUIRE_SERVICES=1")
		}
		t.Skip("GHLKIT_TEST_POSTGRES_URL is not set")
	}
	return u
}

// adminExec runs a statement on the test database outside any store.
func adminExec(t testing.TB, base, stmt string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// newSchema creates a schema with a random name, dropped when the test
// ends, and returns the URL of the test database with search_path set to
// it: parallel test packages and runs never see each other's tables.
func newSchema(t testing.TB) string {
	t.Helper()
	base := baseURL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ghlkit_test_" + hex.EncodeToString(b[:])
	adminExec(t, base, `CREATE SCHEMA `+schema)
	t.Cleanup(func() { adminExec(t, base, `DROP SCHEMA `+schema+` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	baseURL(t)
	storetest.Exercise(t, func(t *testing.T) sandbox.Store {
		return open(t, newSchema(t))
	})
}

func TestReopen(t *testing.T) {
	baseURL(t)
	var mu sync.Mutex
	schemas := map[*testing.T]string{}
	storetest.ExerciseReopen(t, func(t *testing.T) sandbox.Store {
		mu.Lock()
		dsn, ok := schemas[t]
		if !ok {
			dsn = newSchema(t)
			schemas[t] = dsn
		}
		mu.Unlock()
		return open(t, dsn)
	})
}

// TestTwoStoresOneDatabase is the multi-process setup: two stores (as two
// sandbox processes would open them) share one database; what one writes
// the other reads at once, and migrations run once though both start at
// the same moment.
func TestTwoStoresOneDatabase(t *testing.T) {
	dsn := newSchema(t)
	var wg sync.WaitGroup
	stores := make([]*postgres.Store, 2)
	errs := make([]error, 2)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = postgres.Open(context.Background(), dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	a, b := stores[0], stores[1]
	if a.LockKey() != b.LockKey() {
		t.Fatalf("stores on one schema use different write locks")
	}
	if a.URL() != dsn {
		t.Errorf("URL() = %q, want %q", a.URL(), dsn)
	}

	ctx := context.Background()
	loc := sandbox.NewID()
	c := &sandbox.Contact{ID: sandbox.NewID(), LocationID: loc, Email: "shared@example.com", Tags: []string{"both"}}
	if err := a.Write(ctx, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) }); err != nil {
		t.Fatal(err)
	}
	err := b.Read(ctx, func(tx sandbox.Tx) error {
		got, err := tx.GetContact(ctx, c.ID)
		if err != nil {
			return err
		}
		if got.Email != c.Email {
			t.Errorf("store b reads email %q", got.Email)
		}
		p, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc, Filter: &sandbox.Filter{Field: "tags", Operator: sandbox.OpEq, Value: "both"}})
		if err != nil {
			return err
		}
		if p.Total != 1 {
			t.Errorf("store b finds %d contacts by tag", p.Total)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(ctx, func(tx sandbox.Tx) error { return tx.DeleteContact(ctx, c.ID) }); err != nil {
		t.Fatal(err)
	}
	err = a.Read(ctx, func(tx sandbox.Tx) error {
		_, err := tx.GetContact(ctx, c.ID)
		if !sandbox.IsNotFound(err) {
			t.Errorf("store a still reads the contact store b deleted: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := a.ReadDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no migrations recorded")
	}
}

// TestSchemasIsolated checks that stores on two schemas of one database have
// separate data and separate write locks.
func TestSchemasIsolated(t *testing.T) {
	a, b := open(t, newSchema(t)), open(t, newSchema(t))
	if a.LockKey() == b.LockKey() {
		t.Errorf("stores on different schemas share a write lock")
	}
	ctx := context.Background()
	c := &sandbox.Contact{ID: sandbox.NewID(), LocationID: "loc"}
	if err := a.Write(ctx, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) }); err != nil {
		t.Fatal(err)
	}
	err := b.Read(ctx, func(tx sandbox.Tx) error {
		_, err := tx.GetContact(ctx, c.ID)
		if !sandbox.IsNotFound(err) {
			t.Errorf("schema b sees schema a's contact: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
