package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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
	var obj []byte
	if fields != nil {
		raw, err := compactJSON(fields)
		if err != nil {
			return err
		}
		obj = raw
	}
	id := NewID()
	now = now.UTC().Truncate(time.Millisecond)
	// The event's own type always wins over a field of the object that
	// happens to be called "type" (a contact's "lead"/"customer").
	env := []eventField{{"type", WireType(eventType)}}
	if locationID != "" {
		env = append(env, eventField{"locationId", locationID})
	}
	env = append(env, eventField{"timestamp", now.Format(TimeLayout)}, eventField{"webhookId", id})
	payload, err := eventPayload(obj, env)
	if err != nil {
		return err
	}
	return tx.AppendEvent(ctx, &Event{ID: id, Type: eventType, LocationID: locationID, CompanyID: companyID, CreatedAt: now, Payload: payload})
}

// eventField is an envelope field of an event body: a string value.
type eventField struct{ key, value string }

// jsonMember is a member of an encoded object: its key, and its bytes from
// the opening quote of the key to the end of the value.
type jsonMember struct {
	key string
	raw []byte
}

// eventPayload merges the envelope fields into obj, an object compactJSON
// encoded (or nil), and answers the members sorted by key: the bytes
// compactJSON gives for the object decoded into a map, the envelope set on
// it, without decoding and re-encoding the object's values.
func eventPayload(obj []byte, env []eventField) ([]byte, error) {
	var members []jsonMember
	if len(obj) > 0 && !bytes.Equal(obj, []byte("null")) {
		var err error
		if members, err = splitObject(obj); err != nil {
			return nil, err
		}
	}
	for _, f := range env {
		k, err := compactJSON(f.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		members = append(members, jsonMember{key: f.key, raw: append(append(k, ':'), v...)})
	}
	// As in a map, a later member of a key replaces an earlier one.
	slices.Reverse(members)
	slices.SortStableFunc(members, func(a, b jsonMember) int { return strings.Compare(a.key, b.key) })
	members = slices.CompactFunc(members, func(a, b jsonMember) bool { return a.key == b.key })
	n := 2
	for _, m := range members {
		n += len(m.raw) + 1
	}
	out := make([]byte, 0, n)
	out = append(out, '{')
	for i, m := range members {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, m.raw...)
	}
	out = append(out, '}')
	return jsLineSeparators(out), nil
}

// splitObject splits a compact encoded JSON object into its members.
func splitObject(b []byte) ([]jsonMember, error) {
	bad := func() ([]jsonMember, error) {
		return nil, fmt.Errorf("event fields: %.40q is not a JSON object", b)
	}
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return bad()
	}
	var out []jsonMember
	i := 1
	for i < len(b)-1 {
		start := i
		if b[i] != '"' {
			return bad()
		}
		end := skipJSONString(b, i)
		if end < 0 || end >= len(b) || b[end] != ':' {
			return bad()
		}
		key := string(b[i+1 : end-1])
		if bytes.IndexByte(b[i:end], '\\') >= 0 {
			if err := json.Unmarshal(b[i:end], &key); err != nil {
				return bad()
			}
		}
		i = skipJSONValue(b, end+1)
		if i < 0 || i >= len(b) {
			return bad()
		}
		out = append(out, jsonMember{key: key, raw: b[start:i]})
		if b[i] == ',' {
			i++
		} else if i != len(b)-1 {
			return bad()
		}
	}
	return out, nil
}

// skipJSONString answers the index after the string that starts at b[i]
// (a quote), or -1.
func skipJSONString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipJSONValue answers the index after the compact JSON value that starts
// at b[i], or -1.
func skipJSONValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipJSONString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipJSONString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
		i++
	}
	return i
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
	return jsLineSeparators(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// jsLineSeparators writes the escapes \u2028 and \u2029 that encoding/json
// makes as the characters themselves, as JSON.stringify does. A backslash
// that is itself escaped ("\\u2028", the text of an escape) is left alone.
func jsLineSeparators(b []byte) []byte {
	if bytes.Index(b, []byte(`\u202`)) < 0 {
		return b
	}
	out := b[:0:0]
	last := 0
	for i := 0; i+6 <= len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] == 'u' && b[i+2] == '2' && b[i+3] == '0' && b[i+4] == '2' && (b[i+5] == '8' || b[i+5] == '9') {
			out = append(out, b[last:i]...)
			if b[i+5] == '8' {
				out = append(out, "\u2028"...)
			} else {
				out = append(out, "\u2029"...)
			}
			last = i + 6
		}
		i++ // the escaped character is not an escape's start
	}
	if last == 0 {
		return b
	}
	return append(out, b[last:]...)
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
