package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// migrationsFS holds the schema of every dialect, one directory each, with
// files applied in the order of their names (0001_init.sql, 0002_….sql).
//
//go:embed migrations
var migrationsFS embed.FS

// migration is one embedded schema change: SQL, or a Go function for
// changes SQL cannot express (re-encoding stored documents).
type migration struct {
	version string // the file name without .sql
	sql     string
	fn      func(ctx context.Context, tx *sql.Tx, d Dialect) error
}

// goMigrations are the migrations written in Go, by version; they are
// ordered with the SQL files of every dialect.
var goMigrations = map[string]func(ctx context.Context, tx *sql.Tx, d Dialect) error{
	"0011_contact_api_json": reencodeContacts,
}

// reencodeContacts rewrites every stored contact in the form of
// sandbox.ContactJSON, which reads answer as is (stores made before 0011
// kept the bare contact, without GHL's lower-cased copies).
func reencodeContacts(ctx context.Context, sqlTx *sql.Tx, d Dialect) error {
	const batch = 1000
	update := rebind(`UPDATE contacts SET data = ? WHERE id = ?`, d.NumberedParams)
	sel := rebind(`SELECT id, data FROM contacts WHERE id > ? ORDER BY id LIMIT ?`, d.NumberedParams)
	after := ""
	for {
		rows, err := sqlTx.QueryContext(ctx, sel, after, batch)
		if err != nil {
			return err
		}
		type doc struct {
			id   string
			data []byte
		}
		var docs []doc
		for rows.Next() {
			var d doc
			if err := rows.Scan(&d.id, &d.data); err != nil {
				rows.Close()
				return err
			}
			docs = append(docs, d)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, d := range docs {
			var c sandbox.Contact
			if err := json.Unmarshal(d.data, &c); err != nil {
				return fmt.Errorf("contact %s: %w", d.id, err)
			}
			b, err := sandbox.ContactJSON(&c)
			if err != nil {
				return fmt.Errorf("contact %s: %w", d.id, err)
			}
			if _, err := sqlTx.ExecContext(ctx, update, string(b), d.id); err != nil {
				return err
			}
		}
		if len(docs) < batch {
			return nil
		}
		after = docs[len(docs)-1].id
	}
}

// migrationFiles returns the migrations of a dialect in order.
func migrationFiles(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationsFS, dir)
	if err != nil || dialect == "" {
		return nil, fmt.Errorf("sqlstore: no migrations for dialect %q", dialect)
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		b, err := fs.ReadFile(migrationsFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: strings.TrimSuffix(name, ".sql"), sql: string(b)})
	}
	for v, fn := range goMigrations {
		ms = append(ms, migration{version: v, fn: fn})
	}
	slices.SortFunc(ms, func(a, b migration) int { return strings.Compare(a.version, b.version) })
	return ms, nil
}

// migrate applies the pending migrations in one write transaction and
// records each in schema_migrations. The transaction takes the dialect's
// write lock first (and SQLite's begins IMMEDIATE), so two processes starting
// at once apply each migration once: the second waits, then finds them
// recorded.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrationFiles(s.dialect.Name)
	if err != nil {
		return err
	}
	sqlTx, err := s.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = sqlTx.Rollback() }()

	if _, err := sqlTx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
	version TEXT NOT NULL PRIMARY KEY,
	applied_at BIGINT NOT NULL
)`); err != nil {
		return fmt.Errorf("sqlstore: create schema_migrations: %w", err)
	}
	applied := map[string]bool{}
	rows, err := sqlTx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("sqlstore: read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return fmt.Errorf("sqlstore: read schema_migrations: %w", err)
		}
		applied[v] = true
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("sqlstore: read schema_migrations: %w", err)
	}

	insert := rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, s.dialect.NumberedParams)
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if m.fn != nil {
			err = m.fn(ctx, sqlTx, s.dialect)
		} else {
			_, err = sqlTx.ExecContext(ctx, m.sql)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: migration %s/%s: %w", s.dialect.Name, m.version, err)
		}
		if _, err := sqlTx.ExecContext(ctx, insert, m.version, time.Now().UnixMilli()); err != nil {
			return fmt.Errorf("sqlstore: record migration %s: %w", m.version, err)
		}
		s.log.InfoContext(ctx, "sandbox store migrated", "dialect", s.dialect.Name, "version", m.version)
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit migrations: %w", err)
	}
	return nil
}
