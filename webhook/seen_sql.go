package webhook

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Dialect is the SQL dialect of the database behind a [SQLSeenStore]; the
// dialects differ in their placeholders (? and $1).
type Dialect int

// Dialects a [SQLSeenStore] supports.
const (
	// DialectSQLite is SQLite 3.24 or later (for example modernc.org/sqlite).
	DialectSQLite Dialect = iota + 1
	// DialectPostgres is PostgreSQL 9.5 or later (for example pgx's
	// database/sql driver).
	DialectPostgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case DialectSQLite:
		return "sqlite"
	case DialectPostgres:
		return "postgres"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// DefaultSeenTable is the table a [SQLSeenStore] uses unless told otherwise.
const DefaultSeenTable = "ghlkit_webhook_seen"

// DefaultPurgeInterval is how often a [SQLSeenStore] deletes expired rows as a
// side effect of [SQLSeenStore.Seen].
const DefaultPurgeInterval = time.Minute

// SQLSeenStore is a [SeenStore] in a SQL table, shared by every process that
// uses the same database. Seen is a single insert-if-absent statement
// (INSERT … ON CONFLICT DO UPDATE … WHERE expired), atomic on both SQLite
// and PostgreSQL. Expiry times come from the store's clock, so processes
// sharing a table should have synchronized clocks.
//
// The table has two columns, webhook_id (text, primary key: the id, or its
// SHA-256 when it is long or not storable as text) and expires_at (Unix
// milliseconds); create it with [SQLSeenStore.Migrate]. With SQLite,
// set a busy timeout on the database (for modernc.org/sqlite,
// "?_pragma=busy_timeout(5000)") so that concurrent writers wait instead of
// failing.
type SQLSeenStore struct {
	db            *sql.DB
	dialect       Dialect
	table         string
	now           func() time.Time
	purgeInterval time.Duration
	lastPurge     atomic.Int64 // Unix nanoseconds

	insertSQL, forgetSQL, purgeSQL string
}

// A SQLSeenStoreOption configures a [SQLSeenStore].
type SQLSeenStoreOption func(*SQLSeenStore) error

// WithSQLTable sets the table name (a plain SQL identifier: letters, digits,
// underscores). The default is [DefaultSeenTable].
func WithSQLTable(name string) SQLSeenStoreOption {
	return func(s *SQLSeenStore) error {
		if !validIdent(name) {
			return fmt.Errorf("webhook: invalid SQL table name %q", name)
		}
		s.table = name
		return nil
	}
}

// WithSQLClock sets the function a [SQLSeenStore] reads the current time
// from; tests use it.
func WithSQLClock(now func() time.Time) SQLSeenStoreOption {
	return func(s *SQLSeenStore) error {
		if now == nil {
			return errors.New("webhook: WithSQLClock: nil clock")
		}
		s.now = now
		return nil
	}
}

// WithSQLPurgeInterval sets how often Seen deletes expired rows; d <= 0
// turns that off (call [SQLSeenStore.DeleteExpired] yourself). The default
// is [DefaultPurgeInterval].
func WithSQLPurgeInterval(d time.Duration) SQLSeenStoreOption {
	return func(s *SQLSeenStore) error {
		s.purgeInterval = d
		return nil
	}
}

// NewSQLSeenStore returns a SQLSeenStore on db. It does not touch the
// database; call [SQLSeenStore.Migrate] to create the table.
func NewSQLSeenStore(db *sql.DB, dialect Dialect, opts ...SQLSeenStoreOption) (*SQLSeenStore, error) {
	if db == nil {
		return nil, errors.New("webhook: NewSQLSeenStore: nil db")
	}
	if dialect != DialectSQLite && dialect != DialectPostgres {
		return nil, fmt.Errorf("webhook: NewSQLSeenStore: unsupported dialect %v", dialect)
	}
	s := &SQLSeenStore{
		db:            db,
		dialect:       dialect,
		table:         DefaultSeenTable,
		now:           time.Now,
		purgeInterval: DefaultPurgeInterval,
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	t := s.table
	s.insertSQL = s.bind(`INSERT INTO ` + t + ` (webhook_id, expires_at) VALUES (?, ?)
		ON CONFLICT (webhook_id) DO UPDATE SET expires_at = excluded.expires_at
		WHERE ` + t + `.expires_at <= ?`)
	s.forgetSQL = s.bind(`DELETE FROM ` + t + ` WHERE webhook_id = ?`)
	s.purgeSQL = s.bind(`DELETE FROM ` + t + ` WHERE expires_at <= ?`)
	return s, nil
}

// bind rewrites ? placeholders for the dialect. The statements above have no
// string literals, so every ? is a placeholder.
func (s *SQLSeenStore) bind(q string) string {
	if s.dialect != DialectPostgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Migrate creates the table and its expiry index if they do not exist.
func (s *SQLSeenStore) Migrate(ctx context.Context) error {
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS ` + s.table + ` (
			webhook_id TEXT PRIMARY KEY,
			expires_at BIGINT NOT NULL
		)`,
		`CREATE INDEX IF NOT EXISTS ` + s.table + `_expires_at_idx ON ` + s.table + ` (expires_at)`,
	}
	for _, q := range stmts {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("webhook: migrate %s: %w", s.table, err)
		}
	}
	return nil
}

// Seen implements [SeenStore]. Every [DefaultPurgeInterval] (see
// [WithSQLPurgeInterval]) it also deletes expired rows, best effort.
func (s *SQLSeenStore) Seen(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errors.New("webhook: SQLSeenStore.Seen: ttl must be positive")
	}
	now := s.now()
	nowMS := now.UnixMilli()
	res, err := s.db.ExecContext(ctx, s.insertSQL, sqlKey(id), now.Add(ttl).UnixMilli(), nowMS)
	if err != nil {
		return false, fmt.Errorf("webhook: record webhookId: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("webhook: record webhookId: %w", err)
	}
	s.maybePurge(ctx, now)
	return n == 0, nil
}

func (s *SQLSeenStore) maybePurge(ctx context.Context, now time.Time) {
	if s.purgeInterval <= 0 {
		return
	}
	last := s.lastPurge.Load()
	if now.UnixNano()-last < int64(s.purgeInterval) || !s.lastPurge.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	// Best effort: a failed purge is retried next interval and must not fail
	// a delivery whose id is already recorded.
	_, _ = s.db.ExecContext(ctx, s.purgeSQL, now.UnixMilli())
}

// Forget implements [SeenStore].
func (s *SQLSeenStore) Forget(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.forgetSQL, sqlKey(id)); err != nil {
		return fmt.Errorf("webhook: forget webhookId: %w", err)
	}
	return nil
}

// DeleteExpired deletes expired rows and returns how many it deleted.
func (s *SQLSeenStore) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.purgeSQL, s.now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("webhook: delete expired webhookIds: %w", err)
	}
	return res.RowsAffected()
}

// sqlKey returns the webhook_id column value for id: id itself when it is
// short, valid UTF-8 without NUL (PostgreSQL text cannot hold NUL), else
// "sha256:" and the hex SHA-256 of id. Ids that start with "sha256:" are
// hashed too, so that the two forms cannot collide.
func sqlKey(id string) string {
	if len(id) <= 200 && utf8.ValidString(id) && !strings.ContainsRune(id, 0) && !strings.HasPrefix(id, "sha256:") {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// validIdent reports whether name is a plain SQL identifier that needs no
// quoting: a letter or underscore, then letters, digits and underscores, at
// most 63 bytes (PostgreSQL's limit).
func validIdent(name string) bool {
	if name == "" || len(name) > 63 {
		return false
	}
	for i, c := range []byte(name) {
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return true
}
