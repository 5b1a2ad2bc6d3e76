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

	"github.com/ghlkit/ghlkit/sandbox/postgres"
	"github.com/ghlkit/ghlkit/sandbox/storetest"
)

// benchContacts is the size of the benchmark location.
const benchContacts = 100_000

// benchFixture is one seeded store, in its own schema, shared by the
// benchmarks of a test binary run: seeding takes a while, and b.N rounds
// re-run each benchmark function.
var benchFixture struct {
	once   sync.Once
	base   string
	schema string
	store  *postgres.Store
	data   *storetest.BenchData
	err    error
}

func benchStore(b *testing.B) (*postgres.Store, *storetest.BenchData) {
	f := &benchFixture
	f.base = baseURL(b)
	f.once.Do(func() {
		var r [6]byte
		_, _ = rand.Read(r[:])
		f.schema = "ghlkit_bench_" + hex.EncodeToString(r[:])
		if f.err = execAdmin(f.base, `CREATE SCHEMA `+f.schema); f.err != nil {
			return
		}
		u, err := url.Parse(f.base)
		if err != nil {
			f.err = err
			return
		}
		q := u.Query()
		q.Set("search_path", f.schema)
		u.RawQuery = q.Encode()
		f.store, f.err = postgres.Open(context.Background(), u.String())
		if f.err != nil {
			return
		}
		f.data = storetest.Seed(b, f.store, benchContacts)
		// Fresh statistics and visibility map, as autovacuum would leave them.
		_, f.err = f.store.WriteDB().ExecContext(context.Background(), `VACUUM ANALYZE`)
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f.store, f.data
}

func execAdmin(base, stmt string) error {
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	_, err = db.ExecContext(context.Background(), stmt)
	return err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchFixture.store != nil {
		_ = benchFixture.store.Close()
	}
	if benchFixture.schema != "" {
		_ = execAdmin(benchFixture.base, `DROP SCHEMA `+benchFixture.schema+` CASCADE`)
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
