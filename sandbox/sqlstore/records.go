package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

const recordColumns = `kind, id, location_id, company_id, parent_id, key, created_at, updated_at, data`

// GetRecord implements sandbox.Tx. A write transaction remembers the
// records it has read (see tx.records).
func (t *tx) GetRecord(ctx context.Context, kind sandbox.Kind, id string) (*sandbox.Record, error) {
	key := string(kind) + "\x00" + clean(id)
	if r, ok := t.records[key]; ok {
		return copyRecord(r), nil
	}
	r, err := t.getRecord(ctx, kind, id)
	if err == nil && t.write {
		if t.records == nil {
			t.records = map[string]*sandbox.Record{}
		}
		t.records[key] = copyRecord(r)
	}
	return r, err
}

func copyRecord(r *sandbox.Record) *sandbox.Record {
	cp := *r
	cp.Data = bytes.Clone(r.Data)
	return &cp
}

// forgetRecords empties the write transaction's record and count caches:
// every statement that changes the records table, and every rollback to a
// savepoint, calls it.
func (t *tx) forgetRecords() {
	clear(t.records)
	clear(t.counts)
}

func (t *tx) getRecord(ctx context.Context, kind sandbox.Kind, id string) (*sandbox.Record, error) {
	rows, err := t.query(ctx, `SELECT `+recordColumns+` FROM records WHERE kind = ? AND id = ?`, string(kind), clean(id))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get record: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlstore: get record: %w", err)
		}
		return nil, sandbox.Errorf(sandbox.ENOTFOUND, "%s %s not found", kind, id)
	}
	r, err := scanRecord(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get record: %w", err)
	}
	return r, rows.Close()
}

// PutRecord implements sandbox.Tx. Timestamps are kept to the microsecond;
// a nil or empty Data is stored as NULL and read back as nil.
func (t *tx) PutRecord(ctx context.Context, r *sandbox.Record) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	t.forgetRecords()
	if r.Kind == "" || r.ID == "" {
		return sandbox.Errorf(sandbox.EINVALID, "record kind and id are required")
	}
	var data any
	if len(r.Data) > 0 {
		// Postgres' json column would refuse it; refuse it everywhere.
		if !json.Valid(r.Data) {
			return sandbox.Errorf(sandbox.EINVALID, "%s %s: data is not valid JSON", r.Kind, r.ID)
		}
		data = string(r.Data)
	}
	_, err := t.exec(ctx, `INSERT INTO records (`+recordColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (kind, id) DO UPDATE SET
	location_id = excluded.location_id, company_id = excluded.company_id,
	parent_id = excluded.parent_id, key = excluded.key,
	created_at = excluded.created_at, updated_at = excluded.updated_at,
	data = excluded.data`,
		clean(string(r.Kind)), clean(r.ID), clean(r.LocationID), clean(r.CompanyID), clean(r.ParentID), clean(r.Key),
		r.CreatedAt.UnixMicro(), r.UpdatedAt.UnixMicro(), data)
	if err != nil {
		return fmt.Errorf("sqlstore: put record: %w", err)
	}
	return nil
}

// DeleteRecord implements sandbox.Tx.
func (t *tx) DeleteRecord(ctx context.Context, kind sandbox.Kind, id string) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	t.forgetRecords()
	res, err := t.exec(ctx, `DELETE FROM records WHERE kind = ? AND id = ?`, string(kind), clean(id))
	if err != nil {
		return fmt.Errorf("sqlstore: delete record: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: delete record: %w", err)
	} else if n == 0 {
		return sandbox.Errorf(sandbox.ENOTFOUND, "%s %s not found", kind, id)
	}
	return nil
}

// ListRecords implements sandbox.Tx.
func (t *tx) ListRecords(ctx context.Context, q sandbox.RecordQuery) ([]*sandbox.Record, error) {
	where, args := recordWhere(q)
	query := `SELECT ` + recordColumns + ` FROM records WHERE ` + where + ` ORDER BY created_at, id`
	switch {
	case q.Limit > 0:
		query += ` LIMIT ? OFFSET ?`
		args = append(args, q.Limit, max(q.Offset, 0))
	case q.Offset > 0:
		query += ` LIMIT ? OFFSET ?`
		args = append(args, noLimit, q.Offset)
	}
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list records: %w", err)
	}
	defer rows.Close()
	var out []*sandbox.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list records: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list records: %w", err)
	}
	return out, nil
}

// CountRecords implements sandbox.Tx.
// A write transaction remembers its counts as it does its records (a
// contact write checks that each of its tags exists in the location).
func (t *tx) CountRecords(ctx context.Context, q sandbox.RecordQuery) (int, error) {
	if n, ok := t.counts[q]; ok {
		return n, nil
	}
	where, args := recordWhere(q)
	var n int
	if err := t.get(ctx, `SELECT COUNT(*) FROM records WHERE `+where, args, &n); err != nil {
		return 0, fmt.Errorf("sqlstore: count records: %w", err)
	}
	if t.write {
		if t.counts == nil {
			t.counts = map[sandbox.RecordQuery]int{}
		}
		t.counts[q] = n
	}
	return n, nil
}

// noLimit is the LIMIT that means none, for queries with only an OFFSET.
const noLimit = int64(1<<63 - 1)

// recordWhere returns the WHERE clause (without the keyword) and arguments
// for q. The clause's shape depends only on which fields are set, so a few
// shapes cover every query and each is prepared once.
func recordWhere(q sandbox.RecordQuery) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 5)
	b.WriteString(`kind = ?`)
	args = append(args, clean(string(q.Kind)))
	for _, f := range [...]struct{ col, val string }{
		{"location_id", q.LocationID}, {"company_id", q.CompanyID},
		{"parent_id", q.ParentID}, {"key", q.Key},
	} {
		if f.val != "" {
			b.WriteString(` AND ` + f.col + ` = ?`)
			args = append(args, clean(f.val))
		}
	}
	return b.String(), args
}

func scanRecord(rows *sql.Rows) (*sandbox.Record, error) {
	var (
		r                sandbox.Record
		kind             string
		created, updated int64
		data             sql.RawBytes
	)
	if err := rows.Scan(&kind, &r.ID, &r.LocationID, &r.CompanyID, &r.ParentID, &r.Key, &created, &updated, &data); err != nil {
		return nil, err
	}
	r.Kind = sandbox.Kind(kind)
	r.CreatedAt = time.UnixMicro(created).UTC()
	r.UpdatedAt = time.UnixMicro(updated).UTC()
	if data != nil {
		r.Data = append([]byte(nil), data...)
	}
	return &r, nil
}
