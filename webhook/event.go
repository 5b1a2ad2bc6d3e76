package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Event is a parsed webhook delivery: a pointer to one of the generated event
// types ([*ContactCreate], [*AppInstall], …) or an [*UnknownEvent].
type Event interface {
	// Type returns the event's name as GHL's docs spell it ("ContactCreate",
	// "AppInstall"), which can differ from the payload's "type" field
	// ("INSTALL"); see [NewEvent]. For an [*UnknownEvent] it returns the
	// payload's "type" field.
	Type() string
	// EventMeta returns the fields every delivery carries.
	EventMeta() *Meta
}

// Meta holds the fields GHL puts in every webhook delivery besides the
// event's own data. Every event type embeds it.
type Meta struct {
	// WireType is the payload's "type" field as sent: usually the event name,
	// but "INSTALL", "UNINSTALL" and "PLAN_CHANGE" for app events and the
	// channel ("SMS", "Email") for ProviderOutboundMessage.
	WireType string `json:"type,omitempty"`
	// Timestamp is when GHL sent the delivery.
	Timestamp Timestamp `json:"timestamp,omitzero"`
	// WebhookID identifies the delivery; a redelivery has the same one.
	WebhookID string `json:"webhookId,omitempty"`
}

// EventMeta returns m.
func (m *Meta) EventMeta() *Meta { return m }

// Timestamp is a delivery time. It unmarshals from an RFC 3339 string with or
// without fractional seconds (GHL sends "2025-01-28T14:35:00Z" or
// "2025-01-28T14:35:00.123Z") or from a number of milliseconds since the Unix
// epoch, and marshals like JavaScript's Date.prototype.toISOString: UTC with
// milliseconds, "2025-01-28T14:35:00.000Z".
type Timestamp struct {
	time.Time
}

// isoFormat is JavaScript's Date.prototype.toISOString layout.
const isoFormat = "2006-01-02T15:04:05.000Z"

// MarshalJSON implements [json.Marshaler].
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte(`""`), nil
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("webhook: Timestamp year %d outside 0000-9999", y)
	}
	return []byte(`"` + t.UTC().Format(isoFormat) + `"`), nil
}

// UnmarshalJSON implements [json.Unmarshaler]. null and "" leave t zero.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	tm, err := parseTimestamp(b)
	if err != nil {
		return err
	}
	t.Time = tm
	return nil
}

// The epoch milliseconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z.
const (
	minEpochMS = -62167219200000
	maxEpochMS = 253402300799999
)

// parseTimestamp parses a JSON timestamp value; null, absent (empty input)
// and "" give the zero time.
func parseTimestamp(b []byte) (time.Time, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" || string(b) == `""` {
		return time.Time{}, nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return time.Time{}, fmt.Errorf("timestamp: %w", err)
		}
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %q is not RFC 3339", s)
		}
		return tm, nil
	}
	// Epoch milliseconds. Integral values are the norm; fractions are
	// tolerated. Years outside 0000–9999 are not: RFC 3339 cannot write them.
	if ms, err := strconv.ParseInt(string(b), 10, 64); err == nil && ms >= minEpochMS && ms <= maxEpochMS {
		return time.UnixMilli(ms).UTC(), nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || f < minEpochMS || f >= maxEpochMS {
		return time.Time{}, fmt.Errorf("timestamp %.40s is neither an RFC 3339 string nor epoch milliseconds", b)
	}
	whole := math.Floor(f)
	// float64 holds epoch milliseconds to about a microsecond.
	frac := time.Duration(math.Round((f-whole)*1e3)) * time.Microsecond
	return time.UnixMilli(int64(whole)).Add(frac).UTC(), nil
}

// UnknownEvent is a delivery whose "type" names no event this package knows
// (or that has no "type"). Raw keeps the whole body.
type UnknownEvent struct {
	Meta
	// Raw is the delivery body as received.
	Raw json.RawMessage
}

// Type returns the payload's "type" field.
func (e *UnknownEvent) Type() string { return e.WireType }

// MarshalJSON returns e.Raw, so that an unknown event is passed on unchanged.
func (e *UnknownEvent) MarshalJSON() ([]byte, error) {
	if len(e.Raw) == 0 {
		return []byte("null"), nil
	}
	return e.Raw, nil
}

// UnmarshalJSON keeps a copy of b in e.Raw and decodes the [Meta] fields.
func (e *UnknownEvent) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &e.Meta); err != nil {
		return err
	}
	e.Raw = bytes.Clone(b)
	return nil
}

// Parse decodes a delivery body into the event type its "type" field names
// (see [NewEvent]). A type this package does not know gives an
// [*UnknownEvent], not an error. A body that is not a JSON object, or whose
// fields do not have the documented JSON types, gives an error wrapping
// [ErrInvalidPayload].
//
// Parse does not verify anything; use a [Verifier] or [Handler] for
// deliveries from the network.
func Parse(body []byte) (Event, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("%w: body is not a JSON object", ErrInvalidPayload)
	}
	var probe struct {
		Type json.RawMessage `json:"type"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidPayload, err)
	}
	var wireType string
	if len(probe.Type) > 0 && probe.Type[0] == '"' {
		if err := json.Unmarshal(probe.Type, &wireType); err != nil {
			return nil, fmt.Errorf("%w: type: %w", ErrInvalidPayload, err)
		}
	}
	ev := NewEvent(wireType)
	if ev == nil {
		ev = new(UnknownEvent)
	}
	if err := json.Unmarshal(body, ev); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%w: %s event: field %q: JSON %s where %s was expected", ErrInvalidPayload, ev.Type(), te.Field, te.Value, te.Type)
		}
		return nil, fmt.Errorf("%w: %s event: %w", ErrInvalidPayload, ev.Type(), err)
	}
	return ev, nil
}
