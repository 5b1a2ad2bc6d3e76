package webhook

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver
	_ "modernc.org/sqlite"             // "sqlite" driver
)

func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "seen.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres connects to GHLKIT_TEST_POSTGRES_URL, or skips the test (fails
// it when GHLKIT_REQUIRE_SERVICES=1).
func openPostgres(t *testing.T) *sql.DB {
	t.Helper()
	url := os.Getenv("GHLKIT_TEST_POSTGRES_URL")
	if url == "" {
		if os.Getenv("GHLKIT_REQUIRE_SERVICES") == "1" {
			t.Fatal("GHLKIT_TEST_POSTGRES_URL is not set and GHLKIT_REQUIRE_SERVICES=1")
		}
		t.Skip("GHLKIT_TEST_POSTGRES_URL is not set")
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	return db
}

// uniqueTable returns a fresh table name, dropped when the test ends, so
// that parallel runs against one database do not collide.
func uniqueTable(t *testing.T, db *sql.DB) string {
	t.Helper()
	name := "ghlkit_seen_test_" + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() { db.Exec("DROP TABLE IF EXISTS " + name) })
	return name
}

func newSQLStore(t *testing.T, db *sql.DB, dialect Dialect, clock func() time.Time) *SQLSeenStore {
	t.Helper()
	s, err := NewSQLSeenStore(db, dialect, WithSQLTable(uniqueTable(t, db)), WithSQLClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	return s
}

func TestSQLSeenStoreSQLite(t *testing.T) {
	db := openSQLite(t)
	exerciseSeenStore(t, func(t *testing.T, clock func() time.Time) SeenStore {
		return newSQLStore(t, db, DialectSQLite, clock)
	})
	t.Run("delete expired", func(t *testing.T) { testDeleteExpired(t, db, DialectSQLite) })
}

func TestSQLSeenStorePostgres(t *testing.T) {
	db := openPostgres(t)
	exerciseSeenStore(t, func(t *testing.T, clock func() time.Time) SeenStore {
		return newSQLStore(t, db, DialectPostgres, clock)
	})
	t.Run("delete expired", func(t *testing.T) { testDeleteExpired(t, db, DialectPostgres) })
}

func testDeleteExpired(t *testing.T, db *sql.DB, dialect Dialect) {
	ctx := context.Background()
	c := newTestClock()
	s := newSQLStore(t, db, dialect, c.now)
	for i := range 5 {
		if _, err := s.Seen(ctx, fmt.Sprint("short-", i), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Seen(ctx, "long", time.Hour); err != nil {
		t.Fatal(err)
	}
	c.advance(2 * time.Minute)
	n, err := s.DeleteExpired(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("DeleteExpired = %d, want 5", n)
	}
	if dup, _ := s.Seen(ctx, "long", time.Hour); !dup {
		t.Error("live id deleted")
	}

	// Seen purges expired rows on its own once per interval.
	c.advance(2 * time.Hour) // "long" expires
	if _, err := s.Seen(ctx, "trigger", time.Minute); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+s.table).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Errorf("%d rows after automatic purge, want 1", rows)
	}
}

func TestNewSQLSeenStore(t *testing.T) {
	db := openSQLite(t)
	for _, name := range []string{"", "1abc", "a-b", "a.b", "a b", `a"b`, strings.Repeat("a", 64)} {
		if _, err := NewSQLSeenStore(db, DialectSQLite, WithSQLTable(name)); err == nil {
			t.Errorf("table name %q accepted", name)
		}
	}
	if _, err := NewSQLSeenStore(nil, DialectSQLite); err == nil {
		t.Error("nil db accepted")
	}
	if _, err := NewSQLSeenStore(db, Dialect(0)); err == nil {
		t.Error("zero dialect accepted")
	}
	if _, err := NewSQLSeenStore(db, DialectSQLite, WithSQLClock(nil)); err == nil {
		t.Error("nil clock accepted")
	}
	pg, err := NewSQLSeenStore(db, DialectPostgres, WithSQLTable("seen"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pg.insertSQL, "VALUES ($1, $2)") || !strings.Contains(pg.insertSQL, "seen.expires_at <= $3") || strings.Contains(pg.insertSQL, "?") {
		t.Errorf("postgres insert = %s", pg.insertSQL)
	}
	if pg.forgetSQL != "DELETE FROM seen WHERE webhook_id = $1" {
		t.Errorf("postgres forget = %s", pg.forgetSQL)
	}
	if DialectSQLite.String() != "sqlite" || DialectPostgres.String() != "postgres" || Dialect(9).String() != "Dialect(9)" {
		t.Error("Dialect.String")
	}
	// Seen and Migrate fail cleanly on a closed database.
	s, _ := NewSQLSeenStore(db, DialectSQLite)
	db.Close()
	if _, err := s.Seen(context.Background(), "a", time.Minute); err == nil {
		t.Error("Seen on closed db succeeded")
	}
	if err := s.Migrate(context.Background()); err == nil {
		t.Error("Migrate on closed db succeeded")
	}
}

// TestVerifierWithSQLSeenStore runs the replay guard over SQLite end to end.
func TestVerifierWithSQLSeenStore(t *testing.T) {
	_, k := loadVectors(t)
	ctx := context.Background()
	store := newSQLStore(t, openSQLite(t), DialectSQLite, time.Now)
	v := testVerifier(t, WithSeenStore(store))
	body := deliveryBody(t, EventOpportunityStageUpdate, testNow, "wh-sql")
	h := mustSign(t, body, Ed25519Signer{k.edPriv})
	if err := v.Verify(ctx, h, body); err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(ctx, h, body); !isErr(err, ErrDuplicate) {
		t.Fatalf("second = %v, want ErrDuplicate", err)
	}
}

func TestSQLSeenStorePurgeOff(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t)
	c := newTestClock()
	s, err := NewSQLSeenStore(db, DialectSQLite, WithSQLPurgeInterval(0), WithSQLClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := s.Seen(ctx, id, time.Minute); err != nil {
			t.Fatal(err)
		}
		c.advance(2 * time.Minute)
	}
	var rows int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + DefaultSeenTable).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 2 {
		t.Errorf("%d rows, want 2: nothing purged", rows)
	}
}
