package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/postgres"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
)

// defaultDB is where the sandbox keeps its data unless told otherwise: a
// file next to where it runs, so a second `ghlkit dev` finds it again.
const defaultDB = "sqlite:./ghlkit-data/ghlkit.db"

// dbOpenTimeout bounds connecting to the database at start, so an
// unreachable Postgres host fails the command instead of hanging it.
const dbOpenTimeout = 15 * time.Second

// addDBFlag registers --db (env GHLKIT_DB).
func addDBFlag(fs *pflag.FlagSet, dst *string) {
	fs.StringVar(dst, "db", defaultDB, "database: sqlite:PATH (or a bare PATH) for a file, postgres://… for PostgreSQL")
	configurable(fs, "db")
}

// dbTarget is a parsed --db value.
type dbTarget struct {
	driver string // "sqlite" or "postgres"
	target string // the SQLite path or the Postgres URL
}

// parseDB reads a --db value: sqlite:PATH, sqlite://PATH, a bare path, or a
// postgres:// / postgresql:// URL. Any other scheme is a usage error.
func parseDB(v string) (dbTarget, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return dbTarget{}, fmt.Errorf("--db is empty")
	case strings.HasPrefix(v, "postgres://"), strings.HasPrefix(v, "postgresql://"):
		if _, err := url.Parse(v); err != nil {
			return dbTarget{}, fmt.Errorf("--db: invalid PostgreSQL URL: %v", err)
		}
		return dbTarget{driver: "postgres", target: v}, nil
	case strings.HasPrefix(v, "sqlite://"):
		return sqliteTarget(strings.TrimPrefix(v, "sqlite://"))
	case strings.HasPrefix(v, "sqlite:"):
		return sqliteTarget(strings.TrimPrefix(v, "sqlite:"))
	case strings.Contains(v, "://"):
		scheme, _, _ := strings.Cut(v, "://")
		return dbTarget{}, fmt.Errorf("--db: unsupported database %q (use sqlite:PATH or postgres://…)", scheme)
	}
	return sqliteTarget(v)
}

func sqliteTarget(path string) (dbTarget, error) {
	if path == "" {
		return dbTarget{}, fmt.Errorf("--db: sqlite: needs a file path, e.g. sqlite:./ghlkit-data/ghlkit.db")
	}
	if strings.ContainsAny(path, "?#") {
		return dbTarget{}, fmt.Errorf("--db: the SQLite path %q may not contain ? or #", path)
	}
	return dbTarget{driver: "sqlite", target: path}, nil
}

// String is the target for messages, without a Postgres password.
func (d dbTarget) String() string {
	if d.driver == "postgres" {
		if u, err := url.Parse(d.target); err == nil {
			return u.Redacted()
		}
		return "postgres://…"
	}
	return "sqlite:" + d.target
}

// open opens the store. The caller closes it.
func (d dbTarget) open(ctx context.Context, log *slog.Logger) (sandbox.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, dbOpenTimeout)
	defer cancel()
	var (
		st  sandbox.Store
		err error
	)
	if d.driver == "postgres" {
		st, err = postgres.Open(ctx, d.target, postgres.WithLogger(log))
	} else {
		st, err = sqlite.Open(ctx, d.target, sqlite.WithLogger(log))
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open database %s: %w", d, err)
	}
	return st, nil
}
