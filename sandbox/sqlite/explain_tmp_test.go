package sqlite_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox/sqlite"
	"github.com/ghlkit/ghlkit/sandbox/storetest"
)

func TestExplainTmp(t *testing.T) {
	path := "/tmp/ghlkit-explain/bench.db"
	_, statErr := os.Stat(path)
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	loc := ""
	if statErr != nil {
		d := storetest.Seed(t, s, 100000)
		loc = d.LocationID
	} else {
		s.ReadDB().QueryRow(`SELECT location_id FROM contacts LIMIT 1`).Scan(&loc)
	}
	for _, q := range strings.Split(os.Getenv("Q"), ";;") {
		if q == "" {
			continue
		}
		q = strings.ReplaceAll(q, "LOC", "'"+loc+"'")
		rows, err := s.ReadDB().Query(q)
		if err != nil {
			t.Fatal(err)
		}
		t.Log(q)
		for rows.Next() {
			var a, b, c int
			var d string
			rows.Scan(&a, &b, &c, &d)
			t.Log("  ", a, b, c, d)
		}
		rows.Close()
	}
}
