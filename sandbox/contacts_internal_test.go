package sandbox

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestCloneContact: the copy is equal and shares nothing mutable.
func TestCloneContact(t *testing.T) {
	c := &Contact{
		ID: "c1", LocationID: "l1", FirstName: "Ada", Tags: []string{"a", "b"},
		DndSettings:        map[string]DndSetting{"SMS": {Status: "active"}},
		InboundDndSettings: map[string]DndSetting{},
		CustomFields: []CustomFieldValue{
			{ID: "f1", Value: "x"},
			{ID: "f2", Value: []any{"a", map[string]any{"k": []any{1.0}}}},
			{ID: "f3", Value: map[string]any{"url": "u"}},
		},
		Followers: []string{"u1"}, AttributionSource: json.RawMessage(`{"m":1}`), Attachments: []string{"f"},
	}
	d := cloneContact(c)
	if !reflect.DeepEqual(c, d) {
		t.Fatalf("clone differs:\n%+v\n%+v", c, d)
	}
	d.Tags[0] = "z"
	d.DndSettings["SMS"] = DndSetting{Status: "inactive"}
	d.CustomFields[1].Value.([]any)[1].(map[string]any)["k"].([]any)[0] = 2.0
	d.CustomFields[2].Value.(map[string]any)["url"] = "v"
	d.Followers[0] = "u2"
	d.AttributionSource[0] = '['
	d.Attachments[0] = "g"
	if c.Tags[0] != "a" || c.DndSettings["SMS"].Status != "active" || c.Followers[0] != "u1" || c.Attachments[0] != "f" ||
		c.CustomFields[1].Value.([]any)[1].(map[string]any)["k"].([]any)[0] != 1.0 || c.CustomFields[2].Value.(map[string]any)["url"] != "u" ||
		string(c.AttributionSource) != `{"m":1}` {
		t.Errorf("changing the clone changed the original: %+v", c)
	}
	// Empty and nil stay as they were, so unchanged settings compare equal.
	if d.InboundDndSettings == nil || cloneContact(&Contact{}).Tags != nil {
		t.Errorf("clone changed nil-ness")
	}
}

// fakeEventTx records AppendEvent; EmitEvent needs nothing else of a Tx.
type fakeEventTx struct {
	Tx
	events []*Event
}

func (f *fakeEventTx) AppendEvent(_ context.Context, e *Event) error {
	f.events = append(f.events, e)
	return nil
}

// TestEmitEventPayload pins the payload bytes: the object's fields with
// sorted keys, the envelope's fields winning over the object's ("type"),
// no HTML escaping, U+2028/U+2029 written raw as JavaScript's
// JSON.stringify does, numbers as the object encoded them.
func TestEmitEventPayload(t *testing.T) {
	tx := &fakeEventTx{}
	now := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	c := &Contact{ID: "c1", LocationID: "l1", FirstName: "<b>&\u2028x\u2029", Type: "lead", Tags: []string{}, CustomFields: []CustomFieldValue{{ID: "f", Value: 12345678901234567.0}}}
	if err := EmitEvent(context.Background(), tx, now, "ContactCreate", "l1", "co1", c); err != nil {
		t.Fatal(err)
	}
	e := tx.events[0]
	want := `{"customFields":[{"id":"f","value":12345678901234568}],"dateAdded":null,"dateUpdated":null,"dnd":false,"firstName":"<b>&` + "\u2028x\u2029" +
		`","id":"c1","locationId":"l1","tags":[],"timestamp":"2026-01-02T03:04:05.006Z","type":"ContactCreate","webhookId":"` + e.ID + `"}`
	if string(e.Payload) != want {
		t.Errorf("payload\n got %s\nwant %s", e.Payload, want)
	}
	if e.Type != "ContactCreate" || e.LocationID != "l1" || e.CompanyID != "co1" || !e.CreatedAt.Equal(now.Truncate(time.Millisecond)) {
		t.Errorf("event %+v", e)
	}
}

// TestCloneContactCoversEveryReference: cloneContact copies reference-typed
// fields one by one, so a new slice, map or pointer field of Contact must
// be added to it (and to this list) or it would be shared silently.
func TestCloneContactCoversEveryReference(t *testing.T) {
	cloned := map[string]bool{"Tags": true, "DndSettings": true, "InboundDndSettings": true, "CustomFields": true,
		"Followers": true, "AttributionSource": true, "Attachments": true}
	typ := reflect.TypeFor[Contact]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		switch f.Type.Kind() {
		case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface:
			if !cloned[f.Name] {
				t.Errorf("Contact.%s (%s) is a reference cloneContact does not copy", f.Name, f.Type)
			}
			delete(cloned, f.Name)
		}
	}
	for name := range cloned {
		t.Errorf("Contact has no reference field %s any more; update cloneContact and this list", name)
	}
}
