package oauth

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Dialect selects the SQL a SQLStore speaks.
type Dialect int

// The dialects SQLStore supports, with the database/sql drivers it is
// tested with.
const (
	// SQLite, e.g. modernc.org/sqlite (driver "sqlite").
	SQLite Dialect = iota + 1
	// Postgres, e.g. github.com/jackc/pgx/v5/stdlib (driver "pgx").
	Postgres
)

// DefaultTable is the table a SQLStore uses unless told otherwise.
const DefaultTable = "ghl_oauth_tokens"

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// SQLStore is a TokenStore in a SQL database, shared by every process that
// opens the database. Update locks the token's row (PostgreSQL: SELECT …
// FOR UPDATE in a transaction) or the database (SQLite: BEGIN IMMEDIATE on
// a dedicated connection), so a refresh happens in one process at a time.
//
// Tokens are stored as written, refresh tokens included: protect the
// database accordingly. For SQLite, open the database with a busy timeout
// (modernc: "?_pragma=busy_timeout(10000)") and preferably WAL, so that
// reads wait out a refresh in another process instead of failing.
type SQLStore struct {
	db      *sql.DB
	dialect Dialect
	table   string
	// now is the clock for updated_at; tests replace it.
	now func() time.Time
}

// NewSQLStore returns a SQLStore on db using table (DefaultTable if empty).
// Call Migrate once to create the table.
func NewSQLStore(db *sql.DB, dialect Dialect, table string) (*SQLStore, error) {
	if table == "" {
		table = DefaultTable
	}
	if !tableName.MatchString(table) {
		return nil, fmt.Errorf("ghl/oauth: invalid table name %q", table)
	}
	if dialect != SQLite && dialect != Postgres {
		return nil, fmt.Errorf("ghl/oauth: unknown dialect %d", dialect)
	}
	return &SQLStore{db: db, dialect: dialect, table: table, now: time.Now}, nil
}

// Migrate creates the token table and its index if they do not exist.
func (s *SQLStore) Migrate(ctx context.Context) error {
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS ` + s.table + ` (
			user_type     TEXT   NOT NULL,
			resource_id   TEXT   NOT NULL,
			company_id    TEXT   NOT NULL DEFAULT '',
			access_token  TEXT   NOT NULL,
			refresh_token TEXT   NOT NULL DEFAULT '',
			expires_at    BIGINT NOT NULL DEFAULT 0,
			refresh_error TEXT   NOT NULL DEFAULT '',
			data          TEXT   NOT NULL,
			updated_at    BIGINT NOT NULL,
			PRIMARY KEY (user_type, resource_id)
		)`,
		`CREATE INDEX IF NOT EXISTS ` + s.table + `_company ON ` + s.table + ` (company_id)`,
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("ghl/oauth: migrate: %w", err)
		}
	}
	return nil
}

// q rewrites ? placeholders to $n for PostgreSQL.
func (s *SQLStore) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (s *SQLStore) get(ctx context.Context, db queryer, key Key, forUpdate bool) (*Token, error) {
	query := `SELECT data FROM ` + s.table + ` WHERE user_type = ? AND resource_id = ?`
	if forUpdate && s.dialect == Postgres {
		query += ` FOR UPDATE`
	}
	var data string
	err := db.QueryRowContext(ctx, s.q(query), key.UserType, key.ID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoToken
	}
	if err != nil {
		return nil, fmt.Errorf("ghl/oauth: read token %s: %w", key, err)
	}
	var t Token
	if err := json.Unmarshal([]byte(data), &t); err != nil {
		return nil, fmt.Errorf("ghl/oauth: decode token %s: %w", key, err)
	}
	return &t, nil
}

func (s *SQLStore) put(ctx context.Context, db queryer, key Key, t *Token) error {
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	var expires int64
	if !t.Expiry.IsZero() {
		expires = t.Expiry.UnixMilli()
	}
	_, err = db.ExecContext(ctx, s.q(`INSERT INTO `+s.table+`
		(user_type, resource_id, company_id, access_token, refresh_token, expires_at, refresh_error, data, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_type, resource_id) DO UPDATE SET
			company_id = excluded.company_id, access_token = excluded.access_token,
			refresh_token = excluded.refresh_token, expires_at = excluded.expires_at,
			refresh_error = excluded.refresh_error, data = excluded.data, updated_at = excluded.updated_at`),
		key.UserType, key.ID, t.CompanyID, t.AccessToken, t.RefreshToken, expires, t.RefreshError, string(data), s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("ghl/oauth: store token %s: %w", key, err)
	}
	return nil
}

// Get implements TokenStore.
func (s *SQLStore) Get(ctx context.Context, key Key) (*Token, error) {
	return s.get(ctx, s.db, key, false)
}

// Put implements TokenStore.
func (s *SQLStore) Put(ctx context.Context, key Key, tok *Token) error {
	return s.put(ctx, s.db, key, tok)
}

// Delete implements TokenStore.
func (s *SQLStore) Delete(ctx context.Context, key Key) error {
	_, err := s.db.ExecContext(ctx, s.q(`DELETE FROM `+s.table+` WHERE user_type = ? AND resource_id = ?`), key.UserType, key.ID)
	if err != nil {
		return fmt.Errorf("ghl/oauth: delete token %s: %w", key, err)
	}
	return nil
}

// Update implements TokenStore. fn runs inside the transaction, holding the
// lock; the write and the commit use a context detached from ctx's
// cancellation, so that a token fn obtained (and paid for with a
// single-use refresh token) is not lost to a caller that gave up.
func (s *SQLStore) Update(ctx context.Context, key Key, fn func(cur *Token) (*Token, error)) (*Token, error) {
	if s.dialect == SQLite {
		return s.updateSQLite(ctx, key, fn)
	}
	// database/sql rolls a transaction back when its context ends; the
	// transaction must outlive a caller that gives up mid-refresh.
	tx, err := s.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return nil, fmt.Errorf("ghl/oauth: lock token %s: %w", key, err)
	}
	defer tx.Rollback()
	return s.updateIn(ctx, tx, key, fn, func(c context.Context) error { return tx.Commit() })
}

// updateSQLite takes SQLite's write lock up front with BEGIN IMMEDIATE on a
// dedicated connection: a deferred transaction would let two processes
// read the same stale token before either writes.
func (s *SQLStore) updateSQLite(ctx context.Context, key Key, fn func(cur *Token) (*Token, error)) (*Token, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 10000`); err != nil {
		return nil, fmt.Errorf("ghl/oauth: busy_timeout: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return nil, fmt.Errorf("ghl/oauth: lock token %s: %w", key, err)
	}
	done := false
	defer func() {
		if !done {
			conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		}
	}()
	return s.updateIn(ctx, conn, key, fn, func(c context.Context) error {
		_, err := conn.ExecContext(c, `COMMIT`)
		done = err == nil
		return err
	})
}

func (s *SQLStore) updateIn(ctx context.Context, db queryer, key Key, fn func(*Token) (*Token, error), commit func(context.Context) error) (*Token, error) {
	cur, err := s.get(ctx, db, key, true)
	if err != nil && !errors.Is(err, ErrNoToken) {
		return nil, err
	}
	next, ferr := fn(cur)
	if next == nil {
		if cerr := commit(ctx); cerr != nil && ferr == nil {
			return nil, cerr
		}
		return cur, ferr
	}
	wctx := context.WithoutCancel(ctx)
	if err := s.put(wctx, db, key, next); err != nil {
		return nil, errors.Join(ferr, err)
	}
	if err := commit(wctx); err != nil {
		return nil, errors.Join(ferr, fmt.Errorf("ghl/oauth: commit token %s: %w", key, err))
	}
	return next, ferr
}
