package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// TestMain lets the test binary act as the sandbox child process: the
// crash test starts it again with WEBHOOKLOAD_SERVE=1.
func TestMain(m *testing.M) {
	if os.Getenv("WEBHOOKLOAD_SERVE") == "1" {
		if err := serve(os.Args[1:]); err != nil {
			os.Stderr.WriteString(err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func testChild(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "WEBHOOKLOAD_SERVE=1")
	return cmd
}

// crash runs the crash check: 10,000 events (2,000 with -short), the
// sandbox killed with SIGKILL after 30% of them, restarted; every event must
// arrive, and a duplicate only as the same webhookId with the same bytes.
func crash(t *testing.T, db string) {
	events := 10000
	if testing.Short() {
		events = 2000
	}
	var out bytes.Buffer
	o := &options{db: db, events: events, rsa: true, workers: 100, child: testChild, out: &out,
		childArgs: []string{"-timeout", "2s"}}
	if err := runCrash(context.Background(), o); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	t.Log(strings.TrimSpace(out.String()))
}

func TestCrashSQLite(t *testing.T) {
	crash(t, "sqlite:"+filepath.Join(t.TempDir(), "sandbox.db"))
}

func TestCrashPostgres(t *testing.T) {
	base := os.Getenv("GHLKIT_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("GHLKIT_REQUIRE_SERVICES") == "1" {
			t.Fatal("GHLKIT_TEST_POSTGRES_URL is not set but GHLKIT_REQUIRE_SERVICES=1")
		}
		t.Skip("GHLKIT_TEST_POSTGRES_URL is not set")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ghlkit_whcrash_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	defer admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	crash(t, u.String())
}
