package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
	"github.com/ghlkit/ghlkit/sandbox/storetest"
)

func open(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) sandbox.Store {
		return open(t, filepath.Join(t.TempDir(), "sandbox.db"))
	})
}

func TestReopen(t *testing.T) {
	storetest.ExerciseReopen(t, func(t *testing.T) sandbox.Store {
		return open(t, filepath.Join(t.TempDir(), "..", "reopen.db"))
	})
}

func TestOpenCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "sandbox.db")
	open(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
}

func TestMemory(t *testing.T) {
	s := open(t, sqlite.Memory)
	path := s.Path()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("temporary file: %v", err)
	}
	ctx := context.Background()
	c := &sandbox.Contact{ID: sandbox.NewID(), LocationID: "loc", Email: "m@example.com"}
	if err := s.Write(ctx, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("temporary file left after Close: %v", err)
	}
}

func TestMigrationsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.db")
	// Two stores opening a new file at once both succeed, and the schema
	// is applied once.
	var wg sync.WaitGroup
	stores := make([]*sqlite.Store, 2)
	errs := make([]error, 2)
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = sqlite.Open(context.Background(), path)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	// Migrations create their tables without IF NOT EXISTS: had both
	// stores applied them, one Open would have failed. Each sees the
	// other's writes.
	ctx := context.Background()
	c := &sandbox.Contact{ID: sandbox.NewID(), LocationID: "loc"}
	if err := stores[0].Write(ctx, func(tx sandbox.Tx) error { return tx.InsertContact(ctx, c) }); err != nil {
		t.Fatal(err)
	}
	if err := stores[1].Read(ctx, func(tx sandbox.Tx) error { _, err := tx.GetContact(ctx, c.ID); return err }); err != nil {
		t.Fatal(err)
	}
}

func TestBadPath(t *testing.T) {
	for _, p := range []string{"", "file:x.db", "x.db?mode=ro"} {
		if s, err := sqlite.Open(context.Background(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// TestStatementCacheNested runs one query twice on one connection while
// the first result is still open: the cached statement must not be reused
// under the open rows.
func TestStatementCacheNested(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "sandbox.db"))
	ctx := context.Background()
	var ids []string
	if err := s.Write(ctx, func(tx sandbox.Tx) error {
		for i := range 3 {
			c := &sandbox.Contact{ID: sandbox.NewID(), LocationID: "loc" + strconv.Itoa(i%2)}
			ids = append(ids, c.ID)
			if err := tx.InsertContact(ctx, c); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	conn, err := s.ReadDB().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const q = `SELECT id FROM contacts WHERE location_id = ? ORDER BY id`
	collect := func(rows *sql.Rows) []string {
		t.Helper()
		var out []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for range 3 { // the second round finds the statement cached
		r0, err := conn.QueryContext(ctx, q, "loc0")
		if err != nil {
			t.Fatal(err)
		}
		if !r0.Next() {
			t.Fatal("no first row")
		}
		r1, err := conn.QueryContext(ctx, q, "loc1")
		if err != nil {
			t.Fatal(err)
		}
		if got := collect(r1); len(got) != 1 || got[0] != ids[1] {
			t.Fatalf("nested query: %v", got)
		}
		var first string
		if err := r0.Scan(&first); err != nil {
			t.Fatal(err)
		}
		rest := collect(r0)
		if got := append([]string{first}, rest...); len(got) != 2 {
			t.Fatalf("outer query after nested one: %v", got)
		}
	}
}

// TestSearchPageMemory: a JSON search page whose first contact is huge
// reserves room for what it reads, not for a whole page of such contacts.
func TestSearchPageMemory(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "sandbox.db"))
	big := &sandbox.Contact{ID: "big", LocationID: "loc", FirstName: strings.Repeat("x", 500<<10), Tags: []string{}, CustomFields: []sandbox.CustomFieldValue{}}
	small := &sandbox.Contact{ID: "small", LocationID: "loc", FirstName: "Small", Tags: []string{}, CustomFields: []sandbox.CustomFieldValue{}}
	big.DateAdded.Time = time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	small.DateAdded.Time = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.Write(ctx, func(tx sandbox.Tx) error {
		if err := tx.InsertContact(ctx, big); err != nil {
			return err
		}
		return tx.InsertContact(ctx, small)
	}); err != nil {
		t.Fatal(err)
	}
	search := func() *sandbox.ContactPage {
		var p *sandbox.ContactPage
		if err := s.Read(ctx, func(tx sandbox.Tx) error {
			var err error
			p, err = tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: "loc", Limit: 100, JSON: true})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	search() // warm the statement cache
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p := search()
	runtime.ReadMemStats(&after)
	if len(p.JSON) != 2 || p.Total != 2 {
		t.Fatalf("page: %d documents, total %d", len(p.JSON), p.Total)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
		t.Errorf("a page with one 500 KiB contact allocated %d MiB", n>>20)
	}
}
