package sandbox

import (
	"context"
	"encoding/json"
	"time"
)

// GetRecordAs loads a record and decodes its document into v.
func GetRecordAs(ctx context.Context, tx Tx, kind Kind, id string, v any) error {
	rec, err := tx.GetRecord(ctx, kind, id)
	if err != nil {
		return err
	}
	return json.Unmarshal(rec.Data, v)
}

// PutRecordOf encodes v as the document of a record and stores it. ID and the
// indexed columns come from rec; CreatedAt/UpdatedAt default to now.
func PutRecordOf(ctx context.Context, tx Tx, rec Record, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = now
	}
	if rec.UpdatedAt.IsZero() {
		rec.UpdatedAt = now
	}
	rec.Data = data
	return tx.PutRecord(ctx, &rec)
}

// ListRecordsAs lists records and decodes each document into a new T.
func ListRecordsAs[T any](ctx context.Context, tx Tx, q RecordQuery) ([]*T, error) {
	recs, err := tx.ListRecords(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(recs))
	for _, r := range recs {
		v := new(T)
		if err := json.Unmarshal(r.Data, v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// getChildRecord loads a record that hangs off a parent (a contact's note
// or task) and decodes it. A record of another parent is reported as not
// found, with notFound as the message, so ids can't be probed across
// parents.
func getChildRecord[T any](ctx context.Context, tx Tx, kind Kind, parentID, id, notFound string) (*T, *Record, error) {
	rec, err := tx.GetRecord(ctx, kind, id)
	if err != nil && !IsNotFound(err) {
		return nil, nil, err
	}
	if err != nil || rec.ParentID != parentID {
		return nil, nil, Errorf(ENOTFOUND, "%s", notFound)
	}
	v := new(T)
	if err := json.Unmarshal(rec.Data, v); err != nil {
		return nil, nil, err
	}
	return v, rec, nil
}
