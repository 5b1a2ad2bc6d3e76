package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSQLiteHasSandboxOddPath: a sandbox database is found in a directory
// and a file whose names hold %41, #, ? and spaces, which a "file:" URI
// built by concatenation gets wrong (SQLite decodes %HH and ends the path
// at ? or #); and a command that needs an existing database accepts a
// --db with %41 in it (--db takes no ? or #).
func TestSQLiteHasSandboxOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a%41 #b?")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "s.db")
	newSandboxDB(t, plain)
	odd := filepath.Join(dir, "s%41#?.db")
	if err := os.Rename(plain, odd); err != nil {
		t.Fatal(err)
	}
	ok, err := sqliteHasSandbox(t.Context(), odd)
	if err != nil || !ok {
		t.Errorf("sqliteHasSandbox(%q) = %t, %v; want true", odd, ok, err)
	}

	// A relative path too: the URI is built from the absolute one.
	rel := filepath.Join(t.TempDir(), "%41")
	if err := os.Mkdir(rel, 0o755); err != nil {
		t.Fatal(err)
	}
	newSandboxDB(t, filepath.Join(rel, "r%41.db"))
	t.Chdir(rel)
	if ok, err := sqliteHasSandbox(t.Context(), "r%41.db"); err != nil || !ok {
		t.Errorf("sqliteHasSandbox of a relative path = %t, %v; want true", ok, err)
	}

	pct := filepath.Join(t.TempDir(), "x%41y", "t%41.db")
	newSandboxDB(t, pct)
	code, _, stderr := runCmd(t, "app", "create", "--db", "sqlite:"+pct, "--name", "Odd", "--redirect-uri", "http://localhost:3000/cb")
	if code != 0 {
		t.Errorf("app create on %s: exit %d: %s", pct, code, stderr)
	}
}
