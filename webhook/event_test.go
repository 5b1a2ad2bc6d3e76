package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// eventsDoc is the part of internal/eventgen/events.json the tests read.
type eventsDoc struct {
	Events []struct {
		Name      string            `json:"name"`
		WireTypes []string          `json:"wireTypes"`
		Examples  []json.RawMessage `json:"examples"`
	} `json:"events"`
}

func loadEventsDoc(t *testing.T) *eventsDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("internal", "eventgen", "events.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d eventsDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestEventRegistry(t *testing.T) {
	d := loadEventsDoc(t)
	names := EventNames()
	if len(names) != len(d.Events) || len(names) != 58 {
		t.Fatalf("EventNames has %d names, events.json %d, want 58", len(names), len(d.Events))
	}
	if !slices.IsSorted(names) {
		t.Error("EventNames not sorted")
	}
	for _, ev := range d.Events {
		for _, wt := range append([]string{ev.Name}, ev.WireTypes...) {
			e := NewEvent(wt)
			if e == nil {
				t.Errorf("NewEvent(%q) = nil", wt)
				continue
			}
			if e.Type() != ev.Name {
				t.Errorf("NewEvent(%q).Type() = %q, want %q", wt, e.Type(), ev.Name)
			}
			if got := reflect.TypeOf(e).Elem().Name(); got != ev.Name {
				t.Errorf("NewEvent(%q) is %s, want %s", wt, got, ev.Name)
			}
		}
	}
	for _, wt := range []string{"", "one_time", "contactcreate", "Unknown"} {
		if e := NewEvent(wt); e != nil {
			t.Errorf("NewEvent(%q) = %T, want nil", wt, e)
		}
	}
}

// TestParseDocExamples parses every example payload of GHL's docs into its
// event type and checks that no documented field is lost on the way back
// out through Marshal.
func TestParseDocExamples(t *testing.T) {
	for _, ev := range loadEventsDoc(t).Events {
		for i, ex := range ev.Examples {
			for _, wt := range ev.WireTypes {
				body := withType(t, ex, wt)
				e, err := Parse(body)
				if err != nil {
					t.Errorf("%s example %d: %v", ev.Name, i, err)
					continue
				}
				if e.Type() != ev.Name || e.EventMeta().WireType != wt {
					t.Errorf("%s example %d: Type() = %q, WireType = %q", ev.Name, i, e.Type(), e.EventMeta().WireType)
				}
				out, err := Marshal(e)
				if err != nil {
					t.Fatal(err)
				}
				var want, got map[string]any
				mustUnmarshal(t, body, &want)
				mustUnmarshal(t, out, &got)
				if diff := lostFields("", want, got); diff != "" {
					t.Errorf("%s example %d: fields lost or changed by Parse+Marshal: %s\nin:  %s\nout: %s", ev.Name, i, diff, body, out)
				}
			}
		}
	}
}

// withType returns the JSON object b with "type" set to wireType.
func withType(t *testing.T, b []byte, wireType string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	mustUnmarshal(t, b, &m)
	m["type"], _ = json.Marshal(wireType)
	out, err := Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustUnmarshal(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
}

// lostFields reports the values of want that got lacks or has differently.
// A field got leaves out must hold a zero value in want ("", 0, false, null,
// [] or {}): the generated structs omit empty strings and slices.
func lostFields(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path + ": not an object"
		}
		var diffs []string
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				if !isZeroJSON(wv) {
					diffs = append(diffs, path+"."+k+": missing")
				}
				continue
			}
			if d := lostFields(path+"."+k, wv, gv); d != "" {
				diffs = append(diffs, d)
			}
		}
		slices.Sort(diffs)
		return strings.Join(diffs, "; ")
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path + ": array differs"
		}
		var diffs []string
		for i := range w {
			if d := lostFields(path+"[]", w[i], g[i]); d != "" {
				diffs = append(diffs, d)
			}
		}
		return strings.Join(diffs, "; ")
	default:
		if !reflect.DeepEqual(want, got) {
			return path + ": value differs"
		}
		return ""
	}
}

func isZeroJSON(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case float64:
		return v == 0
	case bool:
		return !v
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

func TestSamplePayload(t *testing.T) {
	d := loadEventsDoc(t)
	for _, ev := range d.Events {
		b := SamplePayload(ev.Name)
		if b == nil {
			t.Errorf("SamplePayload(%q) = nil", ev.Name)
			continue
		}
		e, err := Parse(b)
		if err != nil {
			t.Errorf("Parse(SamplePayload(%q)): %v", ev.Name, err)
			continue
		}
		if e.Type() != ev.Name || e.EventMeta().WireType != ev.WireTypes[0] {
			t.Errorf("SamplePayload(%q): Type() %q, WireType %q", ev.Name, e.Type(), e.EventMeta().WireType)
		}
		if !bytes.HasPrefix(b, []byte(`{"`)) || bytes.Contains(b, []byte("\n")) {
			t.Errorf("SamplePayload(%q) is not compact: %s", ev.Name, b)
		}
		b[0] = 'X' // a fresh slice each call
		if SamplePayload(ev.Name)[0] != '{' {
			t.Fatal("SamplePayload returns shared memory")
		}
	}
	if SamplePayload("NoSuchEvent") != nil {
		t.Error("SamplePayload of an unknown name is not nil")
	}
}

func TestParseWireTypes(t *testing.T) {
	tests := []struct {
		body     string
		wantType string // Event.Type()
		wantGo   string // Go type name
	}{
		{`{"type":"INSTALL","appId":"a","locationId":"l"}`, EventAppInstall, "AppInstall"},
		{`{"type":"UNINSTALL","appId":"a"}`, EventAppUninstall, "AppUninstall"},
		{`{"type":"PLAN_CHANGE","newPlanId":"p2"}`, EventPlanChange, "PlanChange"},
		{`{"type":"ConversationUnreadUpdate","unreadCount":3}`, EventConversationUnreadWebhook, "ConversationUnreadWebhook"},
		{`{"type":"SMS","message":"hi","phone":"+1555"}`, EventProviderOutboundMessage, "ProviderOutboundMessage"},
		{`{"type":"Email","emailTo":["a@example.com"],"subject":"s"}`, EventProviderOutboundMessage, "ProviderOutboundMessage"},
		{`{"type":"AppointmentDelete","appointment":{"id":"x"}}`, EventAppointmentDelete, "AppointmentDelete"},
		{`{"type":"InvoicePaid","_id":"i","amountPaid":10.5}`, EventInvoicePaid, "InvoicePaid"},
		{`{"type":"RecordCreate","id":"r","timestamp":"2025-02-10T08:26:05.961Z"}`, EventRecordCreate, "RecordCreate"},
		{`{"type":"OutboundMessage","messageType":"CALL","callDuration":120}`, EventOutboundMessage, "OutboundMessage"},
		{`{"type":"one_time","_id":"p"}`, "one_time", "UnknownEvent"},
		{`{"type":"SomeFutureEvent","x":[1,2,3]}`, "SomeFutureEvent", "UnknownEvent"},
		{`{"_id":"no type"}`, "", "UnknownEvent"},
		{`{"type":null}`, "", "UnknownEvent"},
		{` {"type":"NoteCreate"} `, EventNoteCreate, "NoteCreate"},
	}
	for _, tt := range tests {
		e, err := Parse([]byte(tt.body))
		if err != nil {
			t.Errorf("Parse(%s): %v", tt.body, err)
			continue
		}
		if e.Type() != tt.wantType || reflect.TypeOf(e).Elem().Name() != tt.wantGo {
			t.Errorf("Parse(%s) = %T with Type() %q, want %s with %q", tt.body, e, e.Type(), tt.wantGo, tt.wantType)
		}
		if u, ok := e.(*UnknownEvent); ok && string(u.Raw) != tt.body {
			t.Errorf("UnknownEvent.Raw = %s, want the body", u.Raw)
		}
	}
}

func TestParseFields(t *testing.T) {
	body := deliveryBody(t, EventContactCreate, testNow, "wh-1")
	e, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	c := e.(*ContactCreate)
	if c.ID != "nmFmQEsNgz6AVpgLVUJ0" || c.LocationID != "ve9EPM428h8vShlRW1KT" || !c.Dnd ||
		len(c.Tags) != 2 || len(c.CustomFields) != 1 || string(c.CustomFields[0].Value) != `"XYZ Corp"` {
		t.Errorf("ContactCreate = %+v", c)
	}
	if c.WebhookID != "wh-1" || !c.Timestamp.Equal(testNow) {
		t.Errorf("Meta = %+v", c.Meta)
	}

	e, err = Parse(SamplePayload(EventOrderCreate))
	if err != nil {
		t.Fatal(err)
	}
	o := e.(*OrderCreate)
	if o.Amount != 150.1 || len(o.Items) != 2 || o.Items[0].Qty != 1 || o.Source == nil || o.Source.Type != "website" ||
		o.AmountSummary == nil || o.AmountSummary.Tax != 12.1 || o.ContactSnapshot == nil || o.ContactSnapshot.FirstName != "Maxwell" {
		t.Errorf("OrderCreate = %+v", o)
	}

	e, err = Parse(SamplePayload(EventContactDndUpdate))
	if err != nil {
		t.Fatal(err)
	}
	d := e.(*ContactDndUpdate)
	if d.DndSettings == nil || d.DndSettings.SMS == nil || d.DndSettings.Email == nil {
		t.Errorf("ContactDndUpdate.DndSettings = %+v", d.DndSettings)
	}
}

func TestParseErrors(t *testing.T) {
	for _, body := range []string{
		``,
		`   `,
		`null`,
		`[]`,
		`"ContactCreate"`,
		`{`,
		`{"type":"ContactCreate"`,
		`{"type":"ContactCreate"} trailing`,
		`{"type":1}`,
		`{"type":["ContactCreate"]}`,
		`{"type":"ContactCreate","dnd":"yes"}`,
		`{"type":"ContactCreate","tags":"vip"}`,
		`{"type":"OpportunityCreate","monetaryValue":"100"}`,
		`{"type":"AppInstall","trial":[]}`,
		`{"type":"ContactCreate","timestamp":"yesterday"}`,
		`{"type":"ContactCreate","timestamp":true}`,
		`{"type":"Unknown","timestamp":{}}`,
		`{"type":"Unknown","webhookId":7}`,
		"{\"type\":\"ContactCreate\",\"name\":\"\x00\"}",
	} {
		e, err := Parse([]byte(body))
		if !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("Parse(%q) = %v, %v; want ErrInvalidPayload", body, e, err)
		}
	}
}

func TestTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{`"2025-01-28T14:35:00Z"`, testNow},
		{`"2025-01-28T14:35:00.000Z"`, testNow},
		{`"2025-01-28T14:35:00.123Z"`, testNow.Add(123 * time.Millisecond)},
		{`"2025-01-28T15:35:00+01:00"`, testNow},
		{`1738074900000`, testNow},
		{`1738074900123`, testNow.Add(123 * time.Millisecond)},
		{`1.738074900123e12`, testNow.Add(123 * time.Millisecond)},
		{`null`, time.Time{}},
		{`""`, time.Time{}},
	}
	for _, tt := range tests {
		var ts Timestamp
		if err := json.Unmarshal([]byte(tt.in), &ts); err != nil {
			t.Errorf("Unmarshal(%s): %v", tt.in, err)
			continue
		}
		if !ts.Equal(tt.want) {
			t.Errorf("Unmarshal(%s) = %v, want %v", tt.in, ts.Time, tt.want)
		}
	}
	for _, bad := range []string{`"2025-01-28"`, `"14:35"`, `true`, `{}`, `[]`, `1e20`, `NaN`, `"2025-01-28T14:35:00"`} {
		var ts Timestamp
		if err := json.Unmarshal([]byte(bad), &ts); err == nil {
			t.Errorf("Unmarshal(%s) succeeded: %v", bad, ts.Time)
		}
	}

	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{testNow, `"2025-01-28T14:35:00.000Z"`},
		{testNow.Add(123456789 * time.Nanosecond), `"2025-01-28T14:35:00.123Z"`},
		{testNow.In(time.FixedZone("X", 3600)), `"2025-01-28T14:35:00.000Z"`},
		{time.Time{}, `""`},
	} {
		b, err := json.Marshal(Timestamp{tt.t})
		if err != nil || string(b) != tt.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", tt.t, b, err, tt.want)
		}
	}

	b, err := Marshal(&NoteCreate{Body: "x"})
	if err != nil || string(b) != `{"body":"x"}` {
		t.Errorf("zero Meta not omitted: %s, %v", b, err)
	}
}

func TestUnknownEventMarshal(t *testing.T) {
	body := []byte(`{"type":"Future", "nested": {"b":1,"a":[true,null]}, "html":"<b>&</b>"}`)
	e, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"Future","nested":{"b":1,"a":[true,null]},"html":"<b>&</b>"}`; string(out) != want {
		t.Errorf("Marshal(UnknownEvent) = %s, want %s", out, want)
	}
	if b, _ := (&UnknownEvent{}).MarshalJSON(); string(b) != "null" {
		t.Errorf("empty UnknownEvent marshals to %s", b)
	}
}
