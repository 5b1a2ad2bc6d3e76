package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"time"
)

// Emit appends a GHL webhook event to the outbox inside tx, so the event
// commits or rolls back with the change that caused it. fields is the
// event's documented body (a struct or map, e.g. a *Contact for
// ContactCreate); Emit adds type, locationId, timestamp and webhookId.
func (s *Server) Emit(ctx context.Context, tx Tx, eventType, locationID, companyID string, fields any) error {
	return EmitEvent(ctx, tx, s.now(), eventType, locationID, companyID, fields)
}

// EmitEvent is Emit for callers without a Server (seeding, CLI commands).
func EmitEvent(ctx context.Context, tx Tx, now time.Time, eventType, locationID, companyID string, fields any) error {
	// The object's top-level fields stay encoded: only the envelope's are
	// added, and the map sorts the keys as before.
	body := map[string]json.RawMessage{}
	if fields != nil {
		raw, err := compactJSON(fields)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return err
		}
	}
	str := func(s string) json.RawMessage {
		b, _ := json.Marshal(s)
		return b
	}
	id := NewID()
	now = now.UTC().Truncate(time.Millisecond)
	// The event's own type always wins over a field of the object that
	// happens to be called "type" (a contact's "lead"/"customer").
	body["type"] = str(WireType(eventType))
	if locationID != "" {
		body["locationId"] = str(locationID)
	}
	body["timestamp"] = str(now.Format(TimeLayout))
	body["webhookId"] = str(id)
	payload, err := compactJSON(body)
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, &Event{ID: id, Type: eventType, LocationID: locationID, CompanyID: companyID, CreatedAt: now, Payload: payload})
}

// compactJSON encodes v without HTML escaping and without the trailing
// newline, so Node's JSON.stringify(JSON.parse(b)) gives the same bytes.
func compactJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	b = bytes.ReplaceAll(b, []byte(`\u2028`), []byte("\u2028"))
	b = bytes.ReplaceAll(b, []byte(`\u2029`), []byte("\u2029"))
	return b, nil
}

// WireType returns the value GHL sends in an event body's "type" field: the
// event name, except for the app lifecycle events.
func WireType(eventType string) string {
	switch eventType {
	case "AppInstall":
		return "INSTALL"
	case "AppUninstall":
		return "UNINSTALL"
	case "PlanChange":
		return "PLAN_CHANGE"
	}
	return eventType
}
