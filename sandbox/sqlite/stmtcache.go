package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"sync"
)

// maxCachedStatements bounds the statements a connection keeps prepared.
// The store's fixed queries number a few dozen; search queries vary with the
// shape of their filter, and shapes past the bound are prepared per use.
const maxCachedStatements = 256

// cachingConnector wraps the modernc connector so that every connection
// keeps its prepared statements: modernc prepares a statement per query, and
// for the sandbox's small queries preparing costs more than running.
type cachingConnector struct {
	driver.Connector
}

// Connect implements driver.Connector.
func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		_ = conn.Close()
		return nil, errors.New("sqlite: driver connection lacks the context interfaces")
	}
	return &cachingConn{sqliteConn: inner, stmts: make(map[string]*cachedStmt)}, nil
}

// sqliteConn is what the modernc connection implements and cachingConn
// passes on.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// statement is what a modernc statement implements.
type statement interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachingConn is a connection whose ExecContext and QueryContext run
// statements prepared once per query text. database/sql calls a connection
// from one goroutine at a time; the mutex guards against any other use.
type cachingConn struct {
	sqliteConn
	mu    sync.Mutex
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	stmt  statement
	inUse bool // rows of it are open: a second use prepares afresh
}

// Unwrap returns the modernc connection.
func (c *cachingConn) Unwrap() driver.Conn { return c.sqliteConn }

// acquire returns a prepared statement for query and a func to call when
// done with it; ok is false for queries it does not cache (those without
// arguments, which may hold several statements, such as migrations).
func (c *cachingConn) acquire(ctx context.Context, query string, nargs int) (st statement, release func(), err error) {
	if nargs == 0 {
		return nil, nil, nil
	}
	c.mu.Lock()
	cs := c.stmts[query]
	if cs != nil && !cs.inUse {
		cs.inUse = true
		c.mu.Unlock()
		return cs.stmt, func() { c.mu.Lock(); cs.inUse = false; c.mu.Unlock() }, nil
	}
	full := len(c.stmts) >= maxCachedStatements
	c.mu.Unlock()

	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	st, ok := ds.(statement)
	if !ok {
		_ = ds.Close()
		return nil, nil, errors.New("sqlite: driver statement lacks the context interfaces")
	}
	if cs != nil || full {
		// In use already, or no room: this one is used once.
		return st, func() { _ = st.Close() }, nil
	}
	cs = &cachedStmt{stmt: st, inUse: true}
	c.mu.Lock()
	c.stmts[query] = cs
	c.mu.Unlock()
	return st, func() { c.mu.Lock(); cs.inUse = false; c.mu.Unlock() }, nil
}

// ExecContext implements driver.ExecerContext.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, release, err := c.acquire(ctx, query, len(args))
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	defer release()
	return st.ExecContext(ctx, args)
}

// QueryContext implements driver.QueryerContext.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, release, err := c.acquire(ctx, query, len(args))
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := st.QueryContext(ctx, args)
	if err != nil {
		release()
		return nil, err
	}
	return &releasingRows{Rows: rows, release: release}, nil
}

// Close finalizes the cached statements and closes the connection.
func (c *cachingConn) Close() error {
	c.mu.Lock()
	var errs []error
	for q, cs := range c.stmts {
		errs = append(errs, cs.stmt.Close())
		delete(c.stmts, q)
	}
	c.mu.Unlock()
	errs = append(errs, c.sqliteConn.Close())
	return errors.Join(errs...)
}

// releasingRows gives its statement back when closed.
type releasingRows struct {
	driver.Rows
	release func()
}

// Close implements driver.Rows.
func (r *releasingRows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}
