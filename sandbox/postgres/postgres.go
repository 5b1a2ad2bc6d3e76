// Package postgres opens the sandbox's store on PostgreSQL, with
// jackc/pgx/v5 through database/sql. Any number of sandbox processes may
// share one database: the store keeps no data in memory, and write
// transactions take a transaction-scoped advisory lock, so writers are
// serialised across processes as sandbox.Store promises.
//
// The schema lives in the connection's search_path (set it in the URL, e.g.
// ?search_path=sandbox, to keep the sandbox in its own schema).
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/ghlkit/ghlkit/sandbox/sqlstore"
)

// Option configures Open.
type Option func(*options)

type options struct {
	maxConns int
	logger   *slog.Logger
}

// WithMaxConns bounds the connection pool (default 10).
func WithMaxConns(n int) Option { return func(o *options) { o.maxConns = n } }

// WithLogger sets the logger for migration messages.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Store is a sandbox.Store on PostgreSQL.
type Store struct {
	*sqlstore.Store
	url     string
	lockKey int64
}

// Open connects to the database at url (a postgres:// URL or a key=value
// DSN, as pgx parses them), applies pending migrations (once, even when
// several processes start at once) and returns the store.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	o := options{maxConns: 10}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxConns < 1 {
		o.maxConns = 1
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(o.maxConns)
	db.SetMaxIdleConns(o.maxConns)

	key, err := writeLockKey(ctx, db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	store, err := sqlstore.New(ctx, sqlstore.Config{
		Dialect: Dialect(key),
		ReadDB:  db,
		WriteDB: db,
		Logger:  o.logger,
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &Store{Store: store, url: url, lockKey: key}, nil
}

// Dialect returns the sqlstore dialect of PostgreSQL whose writers take the
// advisory lock lockKey.
func Dialect(lockKey int64) sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:           "postgres",
		NumberedParams: true,
		// Read transactions see one snapshot; writers see every commit
		// before theirs, which the advisory lock orders.
		ReadTx:  sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
		WriteTx: sql.TxOptions{Isolation: sql.LevelReadCommitted},
		// A read of one statement needs no transaction around it.
		LooseReads: true,
		// A savepoint release is a round trip; nesting them is not.
		NestSavepoints: true,
		LockWrites: func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey)
			return err
		},
	}
}

// writeLockKey derives the advisory lock key from the database and the
// search_path, so that stores on different schemas of one database do not
// wait for each other.
func writeLockKey(ctx context.Context, db *sql.DB) (int64, error) {
	var dbName, searchPath string
	err := db.QueryRowContext(ctx, `SELECT current_database(), current_setting('search_path')`).Scan(&dbName, &searchPath)
	if err != nil {
		return 0, fmt.Errorf("postgres: connect: %w", err)
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte("ghlkit/sandbox\x00" + dbName + "\x00" + searchPath))
	return int64(h.Sum64()), nil
}

// URL returns the URL the store was opened with, for other components that
// share the database (River's riverpgxv5 driver opens its own pgxpool on it).
func (s *Store) URL() string { return s.url }

// LockKey returns the advisory lock key that serialises this store's
// writers.
func (s *Store) LockKey() int64 { return s.lockKey }
