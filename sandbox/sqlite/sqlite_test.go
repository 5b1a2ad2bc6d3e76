package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

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
