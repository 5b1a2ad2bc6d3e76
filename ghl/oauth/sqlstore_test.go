package oauth_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/ghl/oauth"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// serviceURL returns the URL in env, skipping the test when it is unset,
// unless GHLKIT_REQUIRE_SERVICES=1, which makes that a failure.
func serviceURL(t *testing.T, env string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		if os.Getenv("GHLKIT_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is not set and GHLKIT_REQUIRE_SERVICES=1", env)
		}
		t.Skipf("%s not set", env)
	}
	return u
}

// sqliteStores opens a new *sql.DB on one SQLite file per call, as separate
// processes would.
func sqliteStores(t *testing.T) func(t *testing.T) oauth.TokenStore {
	path := filepath.Join(t.TempDir(), "tokens.db")
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	var once sync.Once
	return func(t *testing.T) oauth.TokenStore {
		db, err := sql.Open("sqlite", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := oauth.NewSQLStore(db, oauth.SQLite, "")
		if err != nil {
			t.Fatal(err)
		}
		var merr error
		once.Do(func() { merr = s.Migrate(t.Context()) })
		if merr != nil {
			t.Fatal(merr)
		}
		return s
	}
}

// postgresStores opens a new *sql.DB per call on GHLKIT_TEST_POSTGRES_URL,
// all using one table of a random name that is dropped afterwards, so that
// tests running concurrently on the same database don't meet.
func postgresStores(t *testing.T) func(t *testing.T) oauth.TokenStore {
	dsn := serviceURL(t, "GHLKIT_TEST_POSTGRES_URL")
	b := make([]byte, 6)
	rand.Read(b)
	table := "ghl_oauth_tokens_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table)
		admin.Close()
	})
	s, err := oauth.NewSQLStore(admin, oauth.Postgres, table)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T) oauth.TokenStore {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := oauth.NewSQLStore(db, oauth.Postgres, table)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

// exerciseStore checks the TokenStore contract.
func exerciseStore(t *testing.T, newStore func(t *testing.T) oauth.TokenStore) {
	ctx := t.Context()
	s := newStore(t)
	key := oauth.Key{UserType: "Location", ID: "loc1"}
	if _, err := s.Get(ctx, key); !errors.Is(err, oauth.ErrNoToken) {
		t.Fatalf("Get of nothing: %v", err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	tok := &oauth.Token{AccessToken: "a1", RefreshToken: "r1", UserType: "Location", LocationID: "loc1", CompanyID: "c1",
		Expiry: exp, Scope: "contacts.readonly", ApprovedLocations: []string{"loc1"}}
	if err := s.Put(ctx, key, tok); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, key)
	if err != nil || got.AccessToken != "a1" || got.RefreshToken != "r1" || !got.Expiry.Equal(exp) || got.ApprovedLocations[0] != "loc1" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	tok.AccessToken = "a2"
	if err := s.Put(ctx, key, tok); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, key); got.AccessToken != "a2" {
		t.Errorf("Put did not replace: %+v", got)
	}
	// Update: nil keeps, a token is stored even with an error.
	got, err = s.Update(ctx, key, func(cur *oauth.Token) (*oauth.Token, error) { return nil, nil })
	if err != nil || got.AccessToken != "a2" {
		t.Errorf("Update(nil) = %+v, %v", got, err)
	}
	boom := errors.New("boom")
	_, err = s.Update(ctx, key, func(cur *oauth.Token) (*oauth.Token, error) {
		n := *cur
		n.RefreshError = "invalid_grant"
		return &n, boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Update error = %v", err)
	}
	if got, _ := s.Get(ctx, key); got.RefreshError != "invalid_grant" {
		t.Errorf("token returned with an error not stored: %+v", got)
	}
	if _, err := s.Update(ctx, oauth.Key{UserType: "Location", ID: "none"}, func(cur *oauth.Token) (*oauth.Token, error) {
		if cur != nil {
			t.Error("cur for a missing key")
		}
		return nil, nil
	}); err != nil {
		t.Errorf("Update of a missing key: %v", err)
	}
	// Updates of one key exclude each other, also through other handles.
	s2 := newStore(t)
	var mu sync.Mutex
	inside, maxInside := 0, 0
	var wg sync.WaitGroup
	for i := range 6 {
		st := s
		if i%2 == 1 {
			st = s2
		}
		wg.Go(func() {
			_, err := st.Update(ctx, key, func(cur *oauth.Token) (*oauth.Token, error) {
				mu.Lock()
				inside++
				maxInside = max(maxInside, inside)
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
				mu.Lock()
				inside--
				mu.Unlock()
				n := *cur
				n.AccessToken += "+"
				return &n, nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if maxInside != 1 {
		t.Errorf("%d Updates ran at once", maxInside)
	}
	if got, _ := s.Get(ctx, key); got.AccessToken != "a2++++++" {
		t.Errorf("lost updates: %q", got.AccessToken)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, key); !errors.Is(err, oauth.ErrNoToken) {
		t.Errorf("after Delete: %v", err)
	}
	if err := s.Delete(ctx, key); err != nil {
		t.Errorf("Delete of nothing: %v", err)
	}
}

func TestMemoryStore(t *testing.T) {
	s := oauth.NewMemoryStore()
	exerciseStore(t, func(*testing.T) oauth.TokenStore { return s })
}

func TestSQLiteStore(t *testing.T) { exerciseStore(t, sqliteStores(t)) }

func TestPostgresStore(t *testing.T) { exerciseStore(t, postgresStores(t)) }

func TestConcurrentRefreshSQLite(t *testing.T) { concurrentRefresh(t, sqliteStores(t)) }

func TestConcurrentRefreshPostgres(t *testing.T) { concurrentRefresh(t, postgresStores(t)) }

func TestNewSQLStoreValidates(t *testing.T) {
	if _, err := oauth.NewSQLStore(nil, oauth.SQLite, "bad name; drop"); err == nil {
		t.Error("bad table name accepted")
	}
	if _, err := oauth.NewSQLStore(nil, 0, ""); err == nil {
		t.Error("no dialect accepted")
	}
}
