package sqlstore

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// TestContactColumns keeps contactColumns in step with sandbox.ContactFields.
func TestContactColumns(t *testing.T) {
	for field, typ := range sandbox.ContactFields {
		if typ == sandbox.FieldTags {
			if _, ok := contactColumns[field]; ok {
				t.Errorf("%s has a column; tags live in contact_tags", field)
			}
			continue
		}
		col, ok := contactColumns[field]
		if !ok {
			t.Errorf("sandbox.ContactFields has %q, contactColumns does not", field)
			continue
		}
		if col.typ != typ {
			t.Errorf("%s: column type %v, ContactFields says %v", field, col.typ, typ)
		}
		if !strings.Contains(contactInsertColumns, col.name) {
			t.Errorf("%s: column %s is not inserted", field, col.name)
		}
	}
	for field := range contactColumns {
		if _, ok := sandbox.ContactFields[field]; !ok {
			t.Errorf("contactColumns has %q, sandbox.ContactFields does not", field)
		}
	}
	args, err := contactArgs(&sandbox.Contact{ID: "x", LocationID: "l"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Split(contactInsertColumns, ",")); n != len(args) || n != strings.Count(contactPlaceholders, "?") {
		t.Errorf("%d columns, %d values, %d placeholders", n, len(args), strings.Count(contactPlaceholders, "?"))
	}
}

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`a = ? AND b IN (?, ?)`, `a = $1 AND b IN ($2, $3)`},
	} {
		if got := rebind(tc.in, true); got != tc.want {
			t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := rebind(tc.in, false); got != tc.in {
			t.Errorf("rebind(%q, false) = %q", tc.in, got)
		}
	}
	if got := rebind(strings.Repeat("?,", 12), true); !strings.HasSuffix(got, "$11,$12,") {
		t.Errorf("rebind past 9 = %q", got)
	}
}

func TestLikeContains(t *testing.T) {
	for in, want := range map[string]string{
		"abc":    `%abc%`,
		"100%":   `%100\%%`,
		"a_b":    `%a\_b%`,
		`back\s`: `%back\\s%`,
		"":       `%%`,
	} {
		if got := likeContains(in); got != want {
			t.Errorf("likeContains(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValuesList(t *testing.T) {
	if got := valuesList(2, 3); got != "(?, ?, ?), (?, ?, ?)" {
		t.Errorf("valuesList(2, 3) = %q", got)
	}
}

func TestClean(t *testing.T) {
	if got := clean("a\x00b\xffc"); got != "ab\uFFFDc" {
		t.Errorf("clean = %q", got)
	}
	long := strings.Repeat("é", maxIndexedText) // 2 bytes each
	got := fold(long)
	if len(got) > maxIndexedText || !strings.HasPrefix(long, got) || len(got) < maxIndexedText-1 {
		t.Errorf("fold of a long value: %d bytes", len(got))
	}
}

func TestCustomValue(t *testing.T) {
	for _, tc := range []struct {
		in   any
		text string
		num  any
		ok   bool
	}{
		{"Gold", "gold", nil, true},
		{"  ", "", nil, false},
		{nil, "", nil, false},
		{42.0, "42", 42.0, true},
		{25.5, "25.5", 25.5, true},
		{7, "7", 7.0, true},
		{json.Number("3.5"), "3.5", 3.5, true},
		{"12", "12", 12.0, true},
		{"2024-05-01", "2024-05-01", float64(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixMilli()), true},
		{"2024-05-01T10:00:00Z", "2024-05-01t10:00:00z", float64(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC).UnixMilli()), true},
		{"phone: 555-1234", "phone: 555-1234", nil, true},
		{true, "true", nil, true},
		{map[string]any{"url": "X"}, `{"url":"x"}`, nil, true},
		{map[string]any{}, "", nil, false},
	} {
		text, num, ok := customValue(tc.in)
		if text != tc.text || num != tc.num || ok != tc.ok {
			t.Errorf("customValue(%#v) = %q, %v, %v; want %q, %v, %v", tc.in, text, num, ok, tc.text, tc.num, tc.ok)
		}
	}
	rows := customValueRows([]sandbox.CustomFieldValue{
		{ID: "multi", Value: []any{"Red", "red", "Blue", ""}},
		{ID: "", Value: "no id"},
		{ID: "s", Value: []string{"a"}},
	})
	if len(rows) != 3 || rows[0].text != "red" || rows[1].text != "blue" || rows[2].fieldID != "s" {
		t.Errorf("customValueRows = %+v", rows)
	}
}

func TestMillisOf(t *testing.T) {
	want := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC).UnixMilli()
	for _, v := range []any{
		want, int(want), float64(want), json.Number("1709294400000"), "1709294400000",
		"2024-03-01T12:00:00.000Z", "2024-03-01T12:00:00Z", time.UnixMilli(want),
		sandbox.Time{Time: time.UnixMilli(want)},
	} {
		if got, ok := millisOf(v); !ok || got != want {
			t.Errorf("millisOf(%#v) = %d, %v", v, got, ok)
		}
	}
	for _, v := range []any{"soon", true, nil, []any{1}} {
		if _, ok := millisOf(v); ok {
			t.Errorf("millisOf(%#v) accepted", v)
		}
	}
}

func TestMigrationFiles(t *testing.T) {
	for _, d := range []string{"sqlite", "postgres"} {
		ms, err := migrationFiles(d)
		if err != nil || len(ms) == 0 {
			t.Fatalf("%s: %d migrations, %v", d, len(ms), err)
		}
		for i := 1; i < len(ms); i++ {
			if ms[i-1].version >= ms[i].version {
				t.Errorf("%s: migrations out of order: %s, %s", d, ms[i-1].version, ms[i].version)
			}
		}
	}
	if _, err := migrationFiles("oracle"); err == nil {
		t.Error("migrations for an unknown dialect")
	}
	if _, err := migrationFiles(""); err == nil {
		t.Error("migrations for an empty dialect")
	}
}
