package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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

// openExisting opens the store of a sandbox that exists already, for the
// commands that work on its data (token create, app create). Unlike open,
// which creates a missing SQLite file, its directories and the schema (as
// `ghlkit dev` and `ghlkit sandbox` want), it refuses a database that is
// not there, touching nothing: a mistyped --db, or the default one looked
// for from another directory, is an error rather than a new, empty
// sandbox.
func (d dbTarget) openExisting(ctx context.Context, log *slog.Logger) (sandbox.Store, error) {
	if err := d.checkExists(ctx); err != nil {
		return nil, err
	}
	return d.open(ctx, log)
}

// errNoSandboxDB is the error of checkExists for a missing database.
var errNoSandboxDB = errors.New("no sandbox database")

// checkExists reports whether the database holds a sandbox: the SQLite
// file exists, or the PostgreSQL database (in the URL's search_path) has
// the sandbox's schema. It creates nothing.
func (d dbTarget) checkExists(ctx context.Context) error {
	if d.driver == "postgres" {
		ok, err := postgresHasSandbox(ctx, d.target)
		if err != nil {
			return fmt.Errorf("cannot open database %s: %w", d, err)
		}
		if !ok {
			return fmt.Errorf("%w in %s: it has no sandbox tables in its search_path; start `ghlkit sandbox --db URL` on it first (that creates them), or fix the URL's database or search_path", errNoSandboxDB, d)
		}
		return nil
	}
	hint := "start one with `ghlkit dev` or `ghlkit sandbox` (they create it), or pass --db (or GHLKIT_DB) naming the database a sandbox uses"
	if d.target == sqlite.Memory {
		return fmt.Errorf("%w: %s is a new, empty database each time; %s", errNoSandboxDB, d, hint)
	}
	where := d.sqlitePath()
	fi, err := os.Stat(d.target)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w at %s: %s", errNoSandboxDB, where, hint)
	case err != nil:
		return fmt.Errorf("cannot open database %s: %w", d, err)
	case fi.IsDir():
		return fmt.Errorf("cannot open database %s: %s is a directory, not a SQLite file", d, where)
	}
	ok, err := sqliteHasSandbox(ctx, d.target)
	switch {
	case err != nil:
		return fmt.Errorf("%w at %s: it is not a SQLite database a sandbox made (%v); %s", errNoSandboxDB, where, err, hint)
	case !ok:
		return fmt.Errorf("%w at %s: it has no sandbox tables; %s", errNoSandboxDB, where, hint)
	}
	return nil
}

// sqliteHasSandbox reports whether the SQLite file at path has the
// sandbox's schema, opening it read-only so that nothing is written to a
// file that turns out to be something else.
func sqliteHasSandbox(ctx context.Context, path string) (bool, error) {
	uri, err := sqliteReadOnlyURI(path)
	if err != nil {
		return false, err
	}
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		return false, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('schema_migrations', 'records')`).Scan(&n)
	return n == 2, err
}

// sqliteReadOnlyURI is the SQLite URI that opens the file at path
// read-only. The path is made absolute and escaped, since SQLite decodes
// %HH in a URI and ends its path at ? or #: "file:"+path would open
// another file for a name like a%41.db.
func sqliteReadOnlyURI(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive: file:///C:/…
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: "mode=ro&_pragma=busy_timeout(5000)"}
	return u.String(), nil
}

// postgresHasSandbox reports whether the database at url has the sandbox's
// schema (its migrations table and its records table, where the store's
// migrations put them), without creating it as opening the store would.
func postgresHasSandbox(ctx context.Context, url string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, dbOpenTimeout)
	defer cancel()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return false, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var ok bool
	err = conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL AND to_regclass('records') IS NOT NULL`).Scan(&ok)
	return ok, err
}

// sqlitePath is the SQLite file for messages: as given, and absolute when
// that differs, since a relative --db is relative to where ghlkit runs.
func (d dbTarget) sqlitePath() string {
	if abs, err := filepath.Abs(d.target); err == nil && abs != filepath.Clean(d.target) {
		return d.target + " (" + abs + ")"
	}
	return d.target
}

// newSQLiteFile reports whether d is a SQLite file that does not exist yet,
// so opening it creates a new database.
func (d dbTarget) newSQLiteFile() bool {
	if d.driver != "sqlite" || d.target == sqlite.Memory {
		return false
	}
	_, err := os.Stat(d.target)
	return errors.Is(err, fs.ErrNotExist)
}
