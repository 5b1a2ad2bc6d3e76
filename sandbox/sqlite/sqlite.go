// Package sqlite opens the sandbox's store on an SQLite file, with
// modernc.org/sqlite (pure Go, no cgo). It is the default store: nothing to
// install, one file to keep or delete.
//
// The database runs in WAL mode with two connection pools: one connection
// for writers, whose transactions begin IMMEDIATE (they take the write lock
// first, so they never fail upgrading a read lock), and several read-only
// connections for readers, which WAL lets run while a writer works.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ghlkit/ghlkit/sandbox/sqlstore"
)

// Memory is the path that opens a private database in a temporary file,
// removed on Close (the two pools need a file to share).
const Memory = ":memory:"

// Option configures Open.
type Option func(*options)

type options struct {
	readConns   int
	busyTimeout time.Duration
	cacheKiB    int
	mmapBytes   int64
	logger      *slog.Logger
}

// WithReadConns sets the size of the read pool (default: twice the number
// of CPUs, at least 4).
func WithReadConns(n int) Option { return func(o *options) { o.readConns = n } }

// WithBusyTimeout sets how long a connection waits for a lock another
// process holds before failing with SQLITE_BUSY (default 10 s).
func WithBusyTimeout(d time.Duration) Option { return func(o *options) { o.busyTimeout = d } }

// WithCacheSize sets SQLite's page cache per connection, in KiB (default
// 16 MiB; reads mostly go through the memory map instead).
func WithCacheSize(kib int) Option { return func(o *options) { o.cacheKiB = kib } }

// WithMmapSize sets how much of the file SQLite memory-maps (default 1 GiB
// on 64-bit platforms, none on 32-bit ones, whose address space is small);
// 0 turns it off.
func WithMmapSize(bytes int64) Option { return func(o *options) { o.mmapBytes = bytes } }

// WithLogger sets the logger for migration messages.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Store is a sandbox.Store on an SQLite file.
type Store struct {
	*sqlstore.Store
	path    string
	tempDir string // removed on Close, for Memory
}

// Open opens (creating it and its directory when needed) the SQLite database
// at path, applies pending migrations, and returns the store. Path is a file
// name, not a URI; Memory opens a temporary one.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{
		readConns:   max(4, 2*runtime.NumCPU()),
		busyTimeout: 10 * time.Second,
		cacheKiB:    16 << 10,
	}
	if strconv.IntSize == 64 {
		o.mmapBytes = 1 << 30
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.readConns < 1 {
		o.readConns = 1
	}
	s := &Store{path: path}
	if path == Memory {
		dir, err := os.MkdirTemp("", "ghlkit-sandbox-*")
		if err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
		s.tempDir = dir
		s.path = filepath.Join(dir, "sandbox.db")
	} else {
		if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
			return nil, fmt.Errorf("sqlite: invalid database path %q (a file name, without ? or #)", path)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("sqlite: %w", err)
		}
	}

	write, err := openDB(s.path, o, true)
	if err != nil {
		_ = s.removeTemp()
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	read, err := openDB(s.path, o, false)
	if err != nil {
		_ = write.Close()
		_ = s.removeTemp()
		return nil, err
	}
	read.SetMaxOpenConns(o.readConns)
	read.SetMaxIdleConns(o.readConns)

	// The write connection opens first and alone, so it is the one that
	// switches a new file to WAL.
	if err := pingBusy(ctx, write, o.busyTimeout); err != nil {
		_ = write.Close()
		_ = read.Close()
		_ = s.removeTemp()
		return nil, fmt.Errorf("sqlite: open %s: %w", s.path, err)
	}
	store, err := sqlstore.New(ctx, sqlstore.Config{
		Dialect: Dialect(),
		ReadDB:  read,
		WriteDB: write,
		Logger:  o.logger,
	})
	if err != nil {
		_ = write.Close()
		_ = read.Close()
		_ = s.removeTemp()
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	s.Store = store
	return s, nil
}

// pingBusy opens db's first connection, retrying while another process
// holds the lock: switching a new file to WAL takes an exclusive lock, and
// SQLite fails that at once with SQLITE_BUSY rather than waiting under
// busy_timeout.
func pingBusy(ctx context.Context, db *sql.DB, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := db.PingContext(ctx)
		var serr *msqlite.Error
		if err == nil || !errors.As(err, &serr) || serr.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Dialect returns the sqlstore dialect of SQLite.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:   "sqlite",
		ReadTx: sql.TxOptions{ReadOnly: true},
		// A statement outside a transaction takes and drops its read lock
		// itself: a loose read saves executing BEGIN and ROLLBACK.
		LooseReads: true,
	}
}

// openDB opens a pool on path whose connections are set up with the
// sandbox's pragmas and keep their prepared statements; the write pool's
// transactions begin IMMEDIATE, the read pool's connections are query-only.
// The file is memory-mapped so that the read connections share the
// operating system's page cache instead of copying pages into a cache each.
func openDB(path string, o options, write bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(o.busyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "temp_store(MEMORY)")
	if o.mmapBytes > 0 {
		q.Add("_pragma", "mmap_size("+strconv.FormatInt(o.mmapBytes, 10)+")")
	}
	q.Add("_pragma", "cache_size(-"+strconv.Itoa(o.cacheKiB)+")")
	if write {
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	connector, err := msqlite.NewConnector(path + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return sql.OpenDB(cachingConnector{connector}), nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the store (and removes the temporary file of Memory).
func (s *Store) Close() error {
	err := s.Store.Close()
	if rmErr := s.removeTemp(); rmErr != nil {
		err = errors.Join(err, rmErr)
	}
	return err
}

func (s *Store) removeTemp() error {
	if s.tempDir == "" {
		return nil
	}
	dir := s.tempDir
	s.tempDir = ""
	return os.RemoveAll(dir)
}
