package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// This file reads the event outbox for outbound webhooks (sandbox.EventOutbox,
// ClaimEvents) and keeps their delivery log (sandbox.WebhookLog).

var (
	_ sandbox.EventOutbox = (*Store)(nil)
	_ sandbox.WebhookLog  = (*Store)(nil)
)

const eventColumns = `seq, id, type, location_id, company_id, created_at, payload`

func scanEvent(rows *sql.Rows) (sandbox.OutboxEvent, error) {
	var (
		e       sandbox.OutboxEvent
		created int64
		payload string
	)
	if err := rows.Scan(&e.Seq, &e.ID, &e.Type, &e.LocationID, &e.CompanyID, &created, &payload); err != nil {
		return e, err
	}
	e.CreatedAt = time.UnixMicro(created).UTC()
	e.Payload = json.RawMessage(payload)
	return e, nil
}

// queryEvents runs a query returning eventColumns on q.
func queryEvents(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, d Dialect, query string, args ...any) ([]sandbox.OutboxEvent, error) {
	rows, err := q.QueryContext(ctx, rebind(query, d.NumberedParams), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read events: %w", err)
	}
	defer rows.Close()
	var out []sandbox.OutboxEvent
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: read events: %w", err)
	}
	return out, nil
}

// EventsAfter implements sandbox.EventOutbox.
func (s *Store) EventsAfter(ctx context.Context, after int64, limit int) ([]sandbox.OutboxEvent, error) {
	if limit <= 0 {
		limit = 100
	}
	return queryEvents(ctx, s.ReadDB(), s.Dialect(), `SELECT `+eventColumns+` FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
}

// LastEventSeq implements sandbox.EventOutbox.
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	var seq sql.NullInt64
	if err := s.ReadDB().QueryRowContext(ctx, `SELECT MAX(seq) FROM events`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("sqlstore: last event: %w", err)
	}
	return seq.Int64, nil
}

// GetEvent implements sandbox.EventOutbox.
func (s *Store) GetEvent(ctx context.Context, id string) (*sandbox.OutboxEvent, error) {
	events, err := queryEvents(ctx, s.ReadDB(), s.Dialect(), `SELECT `+eventColumns+` FROM events WHERE id = ?`, clean(id))
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, sandbox.Errorf(sandbox.ENOTFOUND, "Event not found")
	}
	return &events[0], nil
}

// ClaimEvents hands the next events of the outbox after consumer's cursor
// (at most limit, in seq order) to fn and, when fn returns nil, moves the
// cursor past them. It returns how many events fn was given; 0 when none
// were pending or another process holds the cursor.
//
// It all happens in one transaction on the write pool, which fn receives, so
// work fn records in the same database (River jobs) commits or rolls back
// with the cursor. On Postgres the cursor row is taken FOR UPDATE SKIP
// LOCKED: dispatchers of several processes sharing the database take turns,
// and one that finds the row taken returns at once rather than waiting. The
// transaction does not take the store's write lock, so the sandbox's writers
// do not wait for it (on SQLite they wait for the single write connection).
// Because writers are serialised, seq values become visible in order, and a
// cursor never skips an event that commits later.
func (s *Store) ClaimEvents(ctx context.Context, consumer string, limit int, fn func(ctx context.Context, tx *sql.Tx, events []sandbox.OutboxEvent) error) (int, error) {
	if limit <= 0 {
		limit = 100
	}
	d := s.Dialect()
	// Look on the read pool first, so an idle dispatcher polling often does
	// not take the write connection for nothing.
	var pending bool
	err := s.ReadDB().QueryRowContext(ctx, rebind(`SELECT EXISTS (SELECT 1 FROM events WHERE seq > COALESCE((SELECT seq FROM outbox_cursors WHERE consumer = ?), 0))`, d.NumberedParams), consumer).Scan(&pending)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: claim events: %w", err)
	}
	if !pending {
		return 0, nil
	}

	opts := d.WriteTx
	sqlTx, err := s.WriteDB().BeginTx(ctx, &opts)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: claim events: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }()
	if _, err := sqlTx.ExecContext(ctx, rebind(`INSERT INTO outbox_cursors (consumer, seq) VALUES (?, 0) ON CONFLICT (consumer) DO NOTHING`, d.NumberedParams), consumer); err != nil {
		return 0, fmt.Errorf("sqlstore: claim events: %w", err)
	}
	lock := ""
	if d.Name == "postgres" {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	var cursor int64
	err = sqlTx.QueryRowContext(ctx, rebind(`SELECT seq FROM outbox_cursors WHERE consumer = ?`+lock, d.NumberedParams), consumer).Scan(&cursor)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // another process holds the cursor
	} else if err != nil {
		return 0, fmt.Errorf("sqlstore: claim events: %w", err)
	}
	events, err := queryEvents(ctx, sqlTx, d, `SELECT `+eventColumns+` FROM events WHERE seq > ? ORDER BY seq LIMIT ?`, cursor, limit)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	if err := fn(ctx, sqlTx, events); err != nil {
		return 0, err
	}
	if _, err := sqlTx.ExecContext(ctx, rebind(`UPDATE outbox_cursors SET seq = ? WHERE consumer = ?`, d.NumberedParams), events[len(events)-1].Seq, consumer); err != nil {
		return 0, fmt.Errorf("sqlstore: claim events: %w", err)
	}
	if err := sqlTx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlstore: claim events: commit: %w", err)
	}
	return len(events), nil
}

// EventCursor returns consumer's cursor: the seq of the last event it has
// claimed (0 before the first).
func (s *Store) EventCursor(ctx context.Context, consumer string) (int64, error) {
	var seq int64
	err := s.ReadDB().QueryRowContext(ctx, rebind(`SELECT seq FROM outbox_cursors WHERE consumer = ?`, s.Dialect().NumberedParams), consumer).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: event cursor: %w", err)
	}
	return seq, nil
}

// AppendWebhookAttempts implements sandbox.WebhookLog, in one transaction
// on the write pool (without the store's write lock: the log is not part of
// the state whose changes emit events).
func (s *Store) AppendWebhookAttempts(ctx context.Context, attempts []*sandbox.WebhookAttempt) error {
	if len(attempts) == 0 {
		return nil
	}
	opts := s.Dialect().WriteTx
	sqlTx, err := s.WriteDB().BeginTx(ctx, &opts)
	if err != nil {
		return fmt.Errorf("sqlstore: append webhook attempts: %w", err)
	}
	defer func() { _ = sqlTx.Rollback() }()
	query := rebind(`INSERT INTO webhook_attempts (id, delivery_id, event_id, event_type, subscription_id, location_id, created_at, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, s.Dialect().NumberedParams)
	for _, a := range attempts {
		if a.ID == "" {
			return sandbox.Errorf(sandbox.EINVALID, "webhook attempt id is required")
		}
		data, err := json.Marshal(a)
		if err != nil {
			return err
		}
		created := a.CreatedAt.Time
		if created.IsZero() {
			created = time.Now()
		}
		if _, err := sqlTx.ExecContext(ctx, query, clean(a.ID), clean(a.DeliveryID), clean(a.EventID), clean(a.EventType),
			clean(a.SubscriptionID), clean(a.LocationID), created.UnixMicro(), clean(string(data))); err != nil {
			return fmt.Errorf("sqlstore: append webhook attempts: %w", err)
		}
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: append webhook attempts: %w", err)
	}
	return nil
}

// ListWebhookAttempts implements sandbox.WebhookLog.
func (s *Store) ListWebhookAttempts(ctx context.Context, q sandbox.WebhookAttemptQuery) ([]*sandbox.WebhookAttempt, error) {
	var (
		where []string
		args  []any
	)
	for _, f := range []struct{ col, val string }{{"event_id", q.EventID}, {"subscription_id", q.SubscriptionID}, {"delivery_id", q.DeliveryID}} {
		if f.val != "" {
			where = append(where, f.col+" = ?")
			args = append(args, clean(f.val))
		}
	}
	query := `SELECT data FROM webhook_attempts`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	return s.queryAttempts(ctx, query, args...)
}

// GetWebhookAttempt implements sandbox.WebhookLog.
func (s *Store) GetWebhookAttempt(ctx context.Context, id string) (*sandbox.WebhookAttempt, error) {
	out, err := s.queryAttempts(ctx, `SELECT data FROM webhook_attempts WHERE id = ?`, clean(id))
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, sandbox.Errorf(sandbox.ENOTFOUND, "Delivery not found")
	}
	return out[0], nil
}

func (s *Store) queryAttempts(ctx context.Context, query string, args ...any) ([]*sandbox.WebhookAttempt, error) {
	rows, err := s.ReadDB().QueryContext(ctx, rebind(query, s.Dialect().NumberedParams), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: webhook attempts: %w", err)
	}
	defer rows.Close()
	var out []*sandbox.WebhookAttempt
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("sqlstore: webhook attempts: %w", err)
		}
		a := new(sandbox.WebhookAttempt)
		if err := json.Unmarshal([]byte(data), a); err != nil {
			return nil, fmt.Errorf("sqlstore: webhook attempts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
