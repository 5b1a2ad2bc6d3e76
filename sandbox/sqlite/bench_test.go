package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox/sqlite"
	"github.com/ghlkit/ghlkit/sandbox/storetest"
)

// benchContacts is the size of the benchmark location.
const benchContacts = 100_000

// benchFixture is one seeded store shared by the benchmarks of a test
// binary run: seeding 100k contacts takes seconds, and b.N rounds re-run
// each benchmark function.
var benchFixture struct {
	once  sync.Once
	dir   string
	store *sqlite.Store
	data  *storetest.BenchData
	err   error
}

func benchStore(b *testing.B) (*sqlite.Store, *storetest.BenchData) {
	f := &benchFixture
	f.once.Do(func() {
		f.dir, f.err = os.MkdirTemp("", "ghlkit-sqlite-bench-*")
		if f.err != nil {
			return
		}
		f.store, f.err = sqlite.Open(context.Background(), filepath.Join(f.dir, "bench.db"))
		if f.err != nil {
			return
		}
		f.data = storetest.Seed(b, f.store, benchContacts)
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.store, f.data
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchFixture.store != nil {
		_ = benchFixture.store.Close()
	}
	if benchFixture.dir != "" {
		_ = os.RemoveAll(benchFixture.dir)
	}
	os.Exit(code)
}

func BenchmarkGetContact(b *testing.B) {
	s, d := benchStore(b)
	storetest.BenchGetContact(b, s, d)
}

func BenchmarkSearchByEmail(b *testing.B) {
	s, d := benchStore(b)
	storetest.BenchSearchByEmail(b, s, d)
}

func BenchmarkSearchByTag(b *testing.B) {
	s, d := benchStore(b)
	storetest.BenchSearchByTag(b, s, d)
}
