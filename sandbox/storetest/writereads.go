package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
)

// testWriteReads checks that reads inside a write see the write's own
// changes and nothing of a rolled-back writer, however a store serves them
// (the SQL stores cache the records a write transaction has read).
func testWriteReads(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc := sandbox.NewID()
	rec := func(kind sandbox.Kind, id, parent string, n int) *sandbox.Record {
		return &sandbox.Record{Kind: kind, ID: id, LocationID: loc, ParentID: parent, CreatedAt: t0, UpdatedAt: t0,
			Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
	}
	get := func(tx sandbox.Tx, kind sandbox.Kind, id string) string {
		r, err := tx.GetRecord(ctx, kind, id)
		if sandbox.IsNotFound(err) {
			return "not found"
		}
		if err != nil {
			t.Fatal(err)
		}
		return string(r.Data)
	}
	c := newContact(loc, "Write", "Reads", 1)
	write(t, s, func(tx sandbox.Tx) error {
		if err := tx.InsertContact(ctx, c); err != nil {
			return err
		}
		if err := tx.PutRecord(ctx, rec(sandbox.KindTag, "t1", "", 1)); err != nil {
			return err
		}
		return tx.PutRecord(ctx, rec(sandbox.KindNote, "note1", c.ID, 1))
	})
	write(t, s, func(tx sandbox.Tx) error {
		// A caller that changes the record it got changes nothing stored.
		r, err := tx.GetRecord(ctx, sandbox.KindTag, "t1")
		if err != nil {
			return err
		}
		copy(r.Data, `{"n":9}`)
		r.LocationID = "elsewhere"
		if got, _ := tx.GetRecord(ctx, sandbox.KindTag, "t1"); string(got.Data) != `{"n":1}` || got.LocationID != loc {
			t.Errorf("second read after changing the first's result: %s in %s", got.Data, got.LocationID)
		}
		tags := sandbox.RecordQuery{Kind: sandbox.KindTag, LocationID: loc}
		count := func(q sandbox.RecordQuery) int {
			n, err := tx.CountRecords(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(tags); n != 1 {
			t.Errorf("tags = %d, want 1", n)
		}
		if err := tx.PutRecord(ctx, rec(sandbox.KindTag, "t2", "", 1)); err != nil {
			return err
		}
		if n := count(tags); n != 2 {
			t.Errorf("tags after a put = %d, want 2", n)
		}
		if err := tx.DeleteRecord(ctx, sandbox.KindTag, "t2"); err != nil {
			return err
		}
		if n := count(tags); n != 1 {
			t.Errorf("tags after a delete = %d, want 1", n)
		}
		if err := tx.PutRecord(ctx, rec(sandbox.KindTag, "t1", "", 2)); err != nil {
			return err
		}
		if got := get(tx, sandbox.KindTag, "t1"); got != `{"n":2}` {
			t.Errorf("read after put = %s, want the put", got)
		}
		if err := tx.DeleteRecord(ctx, sandbox.KindTag, "t1"); err != nil {
			return err
		}
		if got := get(tx, sandbox.KindTag, "t1"); got != "not found" {
			t.Errorf("read after delete = %s", got)
		}
		// Deleting a contact deletes its notes: a read of one already made
		// in this transaction is not answered again.
		if got := get(tx, sandbox.KindNote, "note1"); got != `{"n":1}` {
			t.Errorf("note = %s", got)
		}
		notes := sandbox.RecordQuery{Kind: sandbox.KindNote, ParentID: c.ID}
		if n := count(notes); n != 1 {
			t.Errorf("notes = %d, want 1", n)
		}
		if err := tx.DeleteContact(ctx, c.ID); err != nil {
			return err
		}
		if got := get(tx, sandbox.KindNote, "note1"); got != "not found" {
			t.Errorf("note of a deleted contact read as %s", got)
		}
		if n := count(notes); n != 0 {
			t.Errorf("notes of a deleted contact counted %d", n)
		}
		return nil
	})

	// Concurrent increments of one counter, of which every third writer
	// fails after incrementing and reading its own increment back: the
	// count is exactly the successful writers', so no writer read a value a
	// rolled-back writer left behind.
	write(t, s, func(tx sandbox.Tx) error { return tx.PutRecord(ctx, rec(sandbox.KindTag, "counter", "", 0)) })
	const n = 90
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Write(ctx, func(tx sandbox.Tx) error {
				r, err := tx.GetRecord(ctx, sandbox.KindTag, "counter")
				if err != nil {
					return err
				}
				var v struct{ N int }
				if err := json.Unmarshal(r.Data, &v); err != nil {
					return err
				}
				if err := tx.PutRecord(ctx, rec(sandbox.KindTag, "counter", "", v.N+1)); err != nil {
					return err
				}
				if _, err := tx.GetRecord(ctx, sandbox.KindTag, "counter"); err != nil {
					return err
				}
				if i%3 == 0 {
					return sandbox.Errorf(sandbox.EUNPROCESSABLE, "writer %d fails", i)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case i%3 == 0 && sandbox.ErrorCode(err) != sandbox.EUNPROCESSABLE:
			t.Errorf("writer %d: %v, want its own failure", i, err)
		case i%3 != 0 && err != nil:
			t.Errorf("writer %d: %v", i, err)
		case i%3 != 0:
			ok++
		}
	}
	read(t, s, func(tx sandbox.Tx) error {
		if got := get(tx, sandbox.KindTag, "counter"); got != `{"n":`+strconv.Itoa(ok)+`}` {
			t.Errorf("counter = %s after %d successful increments", got, ok)
		}
		return nil
	})

	// Concurrent writers add a record while fewer than 10 exist; every
	// third fails after adding and counting again. Exactly 10 land: no
	// writer counted what a rolled-back writer added.
	const limit = 10
	q := sandbox.RecordQuery{Kind: sandbox.KindNote, LocationID: loc, ParentID: "capped"}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Write(ctx, func(tx sandbox.Tx) error {
				k, err := tx.CountRecords(ctx, q)
				if err != nil || k >= limit {
					return err
				}
				if err := tx.PutRecord(ctx, rec(sandbox.KindNote, fmt.Sprintf("capped-%d", i), "capped", i)); err != nil {
					return err
				}
				if _, err := tx.CountRecords(ctx, q); err != nil {
					return err
				}
				if i%3 == 0 {
					return sandbox.Errorf(sandbox.EUNPROCESSABLE, "writer %d fails", i)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	read(t, s, func(tx sandbox.Tx) error {
		if k, err := tx.CountRecords(ctx, q); err != nil || k != limit {
			t.Errorf("capped records = %d (%v), want %d", k, err, limit)
		}
		return nil
	})
}
