package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// referencePayload is the plain way to build an event body: decode the
// object into a map, set the envelope, encode the map. eventPayload must
// give the same bytes without the decode.
func referencePayload(t *testing.T, fields any, env []eventField) []byte {
	t.Helper()
	body := map[string]json.RawMessage{}
	if fields != nil {
		raw, err := compactJSON(fields)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, []byte("null")) {
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range env {
		v, _ := json.Marshal(f.value)
		body[f.key] = v
	}
	out, err := compactJSON(body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEventPayloadMatchesMapEncoding(t *testing.T) {
	env := []eventField{{"type", "ContactCreate"}, {"locationId", "l<1>"}, {"timestamp", "2026-01-02T03:04:05.006Z"}, {"webhookId", "w&1"}}
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "Z", "type", "id", "é", "\u2028", "\u2029", `\u2028`, `\`, `"`, "<", "&", " ", "{", "}", "[", "]", ",", ":", "\x01", "😀", "locationId"}
	str := func() string {
		var b strings.Builder
		for n := rng.IntN(5); n > 0; n-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	var value func(depth int) any
	value = func(depth int) any {
		switch k := rng.IntN(8); {
		case k == 0:
			return nil
		case k == 1:
			return rng.IntN(2) == 0
		case k == 2:
			return rng.NormFloat64() * 1e6
		case k == 3 && depth < 3:
			m := map[string]any{}
			for n := rng.IntN(4); n > 0; n-- {
				m[str()] = value(depth + 1)
			}
			return m
		case k == 4 && depth < 3:
			var a []any
			for n := rng.IntN(4); n > 0; n-- {
				a = append(a, value(depth+1))
			}
			return a
		default:
			return str()
		}
	}
	cases := []any{
		nil,
		(*Contact)(nil),
		map[string]any{},
		&Contact{ID: "c1", LocationID: "l1", FirstName: `<b>&` + "\u2028x\u2029" + `\u2028`, Type: "lead", Tags: []string{"a\\"}, CustomFields: []CustomFieldValue{{ID: "f", Value: 1.5}}},
		json.RawMessage(`{"b":1, "a" : [1,{"x":"}"}] ,"type":"lead"}`),
	}
	for i := 0; i < 2000; i++ {
		m := map[string]any{}
		for n := rng.IntN(8); n > 0; n-- {
			m[str()] = value(0)
		}
		cases = append(cases, m)
	}
	for i, c := range cases {
		got, err := eventPayload(mustCompact(t, c), env)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		want := referencePayload(t, c, env)
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d (%#v):\n got %s\nwant %s", i, c, got, want)
		}
		if !json.Valid(got) {
			t.Fatalf("case %d: invalid JSON %s", i, got)
		}
	}
}

func mustCompact(t *testing.T, v any) []byte {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := compactJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEventPayloadRejectsNonObjects(t *testing.T) {
	for _, v := range []any{[]int{1}, "x", 3, json.RawMessage(`{"a":`)} {
		if b, err := compactJSON(v); err == nil {
			if _, err := eventPayload(b, nil); err == nil {
				t.Errorf("eventPayload(%s) accepted a non-object", b)
			}
		}
	}
	tx := &fakeEventTx{}
	if err := EmitEvent(context.Background(), tx, time.Now(), "ContactCreate", "l1", "", []string{"x"}); err == nil || len(tx.events) != 0 {
		t.Errorf("EmitEvent of an array: err %v, %d events", err, len(tx.events))
	}
}

// TestJSLineSeparators: the escapes become the characters; the text of an
// escape (an escaped backslash before "u2028") stays, so the string decodes
// to what it was.
func TestJSLineSeparators(t *testing.T) {
	for _, s := range []string{"a\u2028b\u2029c", `a\u2028b`, `\\u2029`, "\\\u2028", `x\`, "\u2028\u2028"} {
		b, err := compactJSON(s)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(`\u2028`)) && !strings.Contains(s, `\u2028`) {
			t.Errorf("%q encoded %s: escape left", s, b)
		}
		var back string
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%q encoded %s decodes to %q (%v)", s, b, back, err)
		}
	}
}
