package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ghlkit/ghlkit/sandbox/sandboxtest"
)

// postgresSchema creates a schema of its own in the test database (dropped
// at cleanup) and returns a --db URL whose search_path selects it.
func postgresSchema(t *testing.T) string {
	t.Helper()
	base := sandboxtest.PostgresURL(t) // skips, or fails under GHLKIT_REQUIRE_SERVICES=1
	exec := func(stmt string) {
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
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ghlkit_cli_" + hex.EncodeToString(b[:])
	exec("CREATE SCHEMA " + schema)
	t.Cleanup(func() { exec("DROP SCHEMA " + schema + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestSandboxOnPostgres runs the server and the token command on
// PostgreSQL: demo data seeded once, a minted token usable, data kept
// across a restart.
func TestSandboxOnPostgres(t *testing.T) {
	db := postgresSchema(t)
	addr := freeAddr(t)
	s := startServer(t, "sandbox", "--db", db, "--seed", "demo", "--json", "--listen", addr)
	if !strings.HasPrefix(s.info.Token, "pit-") {
		t.Fatalf("startup = %+v", s.info)
	}
	code, stdout, stderr := runCmd(t, "token", "create", "--db", db, "--location", s.info.LocationID, "--scopes", "contacts.readonly")
	if code != 0 {
		t.Fatalf("token create on postgres: exit %d: %s", code, stderr)
	}
	minted := strings.TrimSpace(stdout)
	if res := s.get(t, addr, "/contacts/?locationId="+s.info.LocationID, minted); res.StatusCode != 200 {
		t.Errorf("minted token on postgres: %d", res.StatusCode)
	}
	if code := s.stop(t); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr)
	}
	again := startServer(t, "sandbox", "--db", db, "--seed", "demo", "--json", "--listen", addr)
	if again.info != s.info {
		t.Errorf("restart on postgres: %+v, first %+v", again.info, s.info)
	}
	if res := again.get(t, addr, "/contacts/?locationId="+s.info.LocationID, minted); res.StatusCode != 200 {
		t.Errorf("minted token after restart: %d", res.StatusCode)
	}
	if strings.Contains(again.stderr.String(), "loaded the demo data") {
		t.Errorf("demo data loaded twice:\n%s", again.stderr)
	}
}

// TestDataCommandsNeedPostgresSchema: token create and app create refuse a
// PostgreSQL database (schema) a sandbox never ran on, and leave it empty.
func TestDataCommandsNeedPostgresSchema(t *testing.T) {
	db := postgresSchema(t)
	for _, args := range [][]string{
		{"token", "create", "--db", db, "--company", "5DP4iH6HLkQsiKESj6rh"},
		{"app", "create", "--db", db, "--name", "X", "--redirect-uri", "https://x.example/cb"},
	} {
		code, stdout, stderr := runCmd(t, args...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, "no sandbox database in postgres://") || !strings.Contains(stderr, "ghlkit sandbox --db") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args[:2], code, stdout, stderr)
		}
	}
	cfg, err := pgx.ParseConfig(db)
	if err != nil {
		t.Fatal(err)
	}
	conn := stdlib.OpenDB(*cfg)
	defer conn.Close()
	var tables int
	if err := conn.QueryRowContext(context.Background(), `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 0 {
		t.Errorf("%d tables created in the schema", tables)
	}
}
