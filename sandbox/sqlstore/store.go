// Package sqlstore implements sandbox.Store once, on database/sql, for every
// SQL database the sandbox runs on. What differs between databases (the
// placeholder style, transaction options, how writers are serialised, the
// schema's type names) is described by a Dialect and by the embedded
// migrations of that dialect (migrations/<dialect>/*.sql); the SQL of the
// queries themselves is shared.
//
// Storage layout: records of every sandbox.Kind share one table with a few
// indexed columns and a JSON document; contacts have their own table with an
// indexed column per searchable field (sandbox.ContactFields), side tables
// for tags and custom field values, and a search_text column for free-text
// queries; events are appended to an outbox table whose seq orders them.
//
// The drivers sandbox/sqlite and sandbox/postgres open the databases and
// choose the dialect; cmd/ghlkit picks a driver.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/ghlkit/ghlkit/sandbox"
)

// Dialect describes what differs between the SQL databases a Store runs on.
type Dialect struct {
	// Name selects the embedded migrations, migrations/<Name>/*.sql:
	// "sqlite" or "postgres".
	Name string
	// NumberedParams rewrites the ? placeholders the queries are written
	// with into $1, $2, … (Postgres).
	NumberedParams bool
	// ReadTx and WriteTx are the options of Read and Write transactions.
	// Read transactions must see one consistent snapshot (on Postgres that
	// takes REPEATABLE READ).
	ReadTx, WriteTx sql.TxOptions
	// LockWrites, when set, runs first in every write transaction and in the
	// migration transaction. Postgres takes a transaction-scoped advisory
	// lock there, so that the writers of every process sharing the database
	// are serialised as sandbox.Store promises. SQLite needs none: its write
	// transactions begin IMMEDIATE on a single connection.
	LockWrites func(ctx context.Context, tx *sql.Tx) error
	// LooseReads makes ReadLoose run its statements on the read pool
	// outside a transaction, each with a snapshot of its own: on Postgres
	// that saves the BEGIN and ROLLBACK round trips of a transaction, on
	// SQLite their execution. When false ReadLoose is Read.
	LooseReads bool
	// NestSavepoints leaves each group-committed writer's savepoint
	// unreleased (the next one nests in it), which saves Postgres a round
	// trip per writer. SQLite leaves it false: it records every page write
	// in each open savepoint, so deep nesting costs more than a release.
	NestSavepoints bool
}

// Config configures a Store.
type Config struct {
	Dialect Dialect
	// ReadDB serves Read transactions; WriteDB serves Write transactions and
	// migrations. They may be the same *sql.DB. The Store owns both and
	// closes them on Close.
	ReadDB, WriteDB *sql.DB
	// Logger receives migration messages; discarded when nil.
	Logger *slog.Logger
}

// Store is a sandbox.Store on database/sql. It keeps no copy of any data in
// memory, so several processes may share one database (on Postgres).
type Store struct {
	dialect Dialect
	readDB  *sql.DB
	writeDB *sql.DB
	log     *slog.Logger

	// writeSem serialises this process's writers before they take a
	// connection, so that waiting writers hold no connection (Postgres
	// additionally serialises across processes with LockWrites).
	writeSem chan struct{}

	// readSem admits readers in arrival order (a channel's blocked senders
	// queue FIFO) up to the read pool's size; database/sql hands a freed
	// connection to a random waiter, which stretches tail latency.
	readSem chan struct{}

	// pending queues writers for the next group commit (see Write).
	pendingMu sync.Mutex
	pending   []*writeReq

	closeOnce sync.Once
	closeErr  error
}

var (
	_ sandbox.Store       = (*Store)(nil)
	_ sandbox.LooseReader = (*Store)(nil)
)

// New returns a Store on the databases of cfg, after applying the dialect's
// pending migrations.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.ReadDB == nil || cfg.WriteDB == nil {
		return nil, errors.New("sqlstore: ReadDB and WriteDB are required")
	}
	if _, err := migrationFiles(cfg.Dialect.Name); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		dialect:  cfg.Dialect,
		readDB:   cfg.ReadDB,
		writeDB:  cfg.WriteDB,
		log:      logger,
		writeSem: make(chan struct{}, 1),
	}
	if n := cfg.ReadDB.Stats().MaxOpenConnections; n > 0 {
		s.readSem = make(chan struct{}, n)
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// ReadDB returns the connection pool that serves Read transactions, for
// maintenance and tests; the sandbox itself goes through Read.
func (s *Store) ReadDB() *sql.DB { return s.readDB }

// WriteDB returns the connection pool that serves Write transactions, for
// maintenance and tests. A transaction on it outside Write is not
// serialised with the store's writers (and on SQLite, whose write pool has
// one connection, it makes them wait).
func (s *Store) WriteDB() *sql.DB { return s.writeDB }

// Read implements sandbox.Store.
func (s *Store) Read(ctx context.Context, fn func(sandbox.Tx) error) error {
	if s.readSem != nil {
		select {
		case s.readSem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-s.readSem }()
	}
	opts := s.dialect.ReadTx
	sqlTx, err := s.readDB.BeginTx(ctx, &opts)
	if err != nil {
		return fmt.Errorf("sqlstore: begin read: %w", err)
	}
	t := &tx{q: sqlTx, numbered: s.dialect.NumberedParams}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
	}()
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	// A read-only transaction has nothing to commit; Rollback releases it
	// just the same and cannot fail for want of a lock.
	if err := sqlTx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("sqlstore: end read: %w", err)
	}
	return nil
}

// ReadLoose implements sandbox.LooseReader: fn's statements may each see a
// snapshot of their own (see Dialect.LooseReads); writes are refused as in
// Read.
func (s *Store) ReadLoose(ctx context.Context, fn func(sandbox.Tx) error) error {
	if !s.dialect.LooseReads {
		return s.Read(ctx, fn)
	}
	if s.readSem != nil {
		select {
		case s.readSem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-s.readSem }()
	}
	return fn(&tx{q: s.readDB, numbered: s.dialect.NumberedParams})
}

// Write implements sandbox.Store. Write must not be called from inside fn
// of another Write on the same Store (it would wait for itself); Read may.
//
// Writers are group-committed: while one batch commits, the writers that
// arrive queue up, and the next of them to take the write lock runs the
// whole queue in one database transaction, each fn inside its own
// SAVEPOINT. A fn that fails is rolled back to its savepoint alone; the
// others commit together, and every caller returns only after the commit
// that holds its changes (or with its error). On SQLite, whose single
// writer pays a WAL append per commit, this multiplies write throughput
// under concurrency; alone, a writer runs exactly as before.
func (s *Store) Write(ctx context.Context, fn func(sandbox.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.pendingMu.Lock()
	s.pending = append(s.pending, req)
	s.pendingMu.Unlock()

	select {
	case <-req.done:
	case s.writeSem <- struct{}{}:
		// Leader: run batches until ours has run. Our request is either
		// done or still pending, since no other batch runs meanwhile.
		for !req.finished() {
			batch := s.takeBatch()
			if len(batch) == 0 {
				break
			}
			s.runBatch(batch)
		}
		<-s.writeSem
		<-req.done
	case <-ctx.Done():
		if s.unqueue(req) {
			return ctx.Err()
		}
		<-req.done
	}
	if req.panicked {
		panic(req.panicVal)
	}
	return req.err
}

// writeReq is one caller's Write waiting in the group-commit queue.
type writeReq struct {
	ctx      context.Context
	fn       func(sandbox.Tx) error
	err      error
	panicked bool
	panicVal any
	done     chan struct{}
}

func (r *writeReq) finished() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// maxBatch bounds how many writers share one commit, so a batch's latency
// stays close to a single write's.
const maxBatch = 128

func (s *Store) takeBatch() []*writeReq {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	n := min(len(s.pending), maxBatch)
	batch := append([]*writeReq(nil), s.pending[:n]...)
	s.pending = append(s.pending[:0], s.pending[n:]...)
	return batch
}

// unqueue removes a request that no batch has taken yet.
func (s *Store) unqueue(req *writeReq) bool {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	for i, r := range s.pending {
		if r == req {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			return true
		}
	}
	return false
}

// runBatch runs a batch of writers in one transaction and reports to each.
func (s *Store) runBatch(batch []*writeReq) {
	defer func() {
		for _, r := range batch {
			close(r.done)
		}
	}()
	// The transaction outlives any one caller's cancellation; each fn still
	// runs its statements with its own context.
	sqlTx, err := s.beginWrite(context.WithoutCancel(batch[0].ctx))
	if err != nil {
		for _, r := range batch {
			r.err = err
		}
		return
	}
	t := &tx{q: sqlTx, numbered: s.dialect.NumberedParams, write: true}
	savepoints := len(batch) > 1
	committed := 0
	fail := func(err error) {
		_ = sqlTx.Rollback()
		for _, r := range batch {
			if r.err == nil && !r.panicked {
				r.err = err
			}
		}
	}
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		if savepoints {
			if _, err := sqlTx.ExecContext(r.ctx, "SAVEPOINT ghlkit_write"); err != nil {
				fail(fmt.Errorf("sqlstore: savepoint: %w", err))
				return
			}
		}
		r.err = runFn(r, t)
		ok := r.err == nil && !r.panicked
		if ok {
			committed++
		} else {
			t.forgetRecords()
		}
		if !savepoints {
			if !ok {
				_ = sqlTx.Rollback()
				return
			}
			continue
		}
		bg := context.WithoutCancel(r.ctx)
		if !ok {
			if _, err := sqlTx.ExecContext(bg, "ROLLBACK TO SAVEPOINT ghlkit_write"); err != nil {
				fail(fmt.Errorf("sqlstore: rollback to savepoint: %w", err))
				return
			}
		}
		// With NestSavepoints the savepoint stays: the next writer's nests
		// in it, and ROLLBACK TO always undoes the innermost, which holds
		// one writer's changes alone.
		if !s.dialect.NestSavepoints {
			if _, err := sqlTx.ExecContext(bg, "RELEASE SAVEPOINT ghlkit_write"); err != nil {
				fail(fmt.Errorf("sqlstore: release savepoint: %w", err))
				return
			}
		}
	}
	if committed == 0 {
		_ = sqlTx.Rollback()
		return
	}
	if err := sqlTx.Commit(); err != nil {
		for _, r := range batch {
			if r.err == nil && !r.panicked {
				r.err = fmt.Errorf("sqlstore: commit: %w", err)
			}
		}
	}
}

// runFn calls a writer's fn, turning a panic into a value re-raised in the
// caller's goroutine.
func runFn(r *writeReq, t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked, r.panicVal = true, p
			err = fmt.Errorf("sqlstore: write panicked: %v", p)
		}
	}()
	return r.fn(t)
}

// beginWrite begins a write transaction and takes the dialect's write lock.
func (s *Store) beginWrite(ctx context.Context) (*sql.Tx, error) {
	opts := s.dialect.WriteTx
	sqlTx, err := s.writeDB.BeginTx(ctx, &opts)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: begin write: %w", err)
	}
	if s.dialect.LockWrites != nil {
		if err := s.dialect.LockWrites(ctx, sqlTx); err != nil {
			_ = sqlTx.Rollback()
			return nil, fmt.Errorf("sqlstore: lock writes: %w", err)
		}
	}
	return sqlTx, nil
}

// Close implements sandbox.Store. It closes both connection pools; calling
// it again returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.readDB != s.writeDB {
			errs = append(errs, s.readDB.Close())
		}
		errs = append(errs, s.writeDB.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// rebind rewrites ? placeholders into $1, $2, … when numbered is set. The
// queries of this package never contain a literal question mark.
func rebind(query string, numbered bool) string {
	if !numbered || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// tx implements sandbox.Tx on a *sql.Tx. Queries are passed as text every
// time: drivers cache their prepared statements per connection (pgx does;
// sandbox/sqlite wraps modernc's connections to).
type tx struct {
	q        querier // the transaction, or the read pool in ReadLoose
	numbered bool    // rebind ? to $n
	write    bool

	// records caches, in a write transaction, the records GetRecord has
	// read, by kind and id (ListRecords reads afresh): the group-committed writers of a batch share
	// one transaction, and each contact write reads its location. Writers
	// are serialised (no other can change a record meanwhile), every
	// change to the records table through this tx empties the cache, and so
	// does the rollback of a writer's savepoint.
	records map[string]*sandbox.Record
	// counts caches CountRecords the same way.
	counts map[sandbox.RecordQuery]int
}

// querier is what tx runs statements on: a *sql.Tx or a *sql.DB.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

var _ sandbox.Tx = (*tx)(nil)

// errReadOnly is returned by writes attempted in a Read transaction.
var errReadOnly = errors.New("sqlstore: write in a read-only transaction")

func (t *tx) checkWrite() error {
	if !t.write {
		return errReadOnly
	}
	return nil
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.q.QueryContext(ctx, rebind(query, t.numbered), args...)
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.q.ExecContext(ctx, rebind(query, t.numbered), args...)
}

// get runs a query that returns at most one row and scans it into dest; it
// returns sql.ErrNoRows when there is no row.
func (t *tx) get(ctx context.Context, query string, args []any, dest ...any) error {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}
