package ghl

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// ErrUnknownCustomField is returned (wrapped) when a custom field key does
// not name a custom field of the location.
var ErrUnknownCustomField = errors.New("ghl: unknown custom field key")

// fieldCache holds each location's contact custom fields, to resolve keys to
// ids without a call per contact write.
type fieldCache struct {
	ttl time.Duration
	sf  singleflight.Group

	mu      sync.Mutex
	entries map[string]*fieldEntry
}

type fieldEntry struct {
	byKey   map[string]string // normalized key → id
	ids     map[string]bool
	fetched time.Time
}

// minRefetch keeps an unknown key from causing a fetch per call.
const minRefetch = 10 * time.Second

func newFieldCache(ttl time.Duration) *fieldCache {
	return &fieldCache{ttl: ttl, entries: make(map[string]*fieldEntry)}
}

// normalizeFieldKey turns "{{ contact.pincode }}", "contact.pincode" and
// "pincode" into "pincode".
func normalizeFieldKey(k string) string {
	k = strings.TrimSpace(k)
	k = strings.TrimPrefix(k, "{{")
	k = strings.TrimSuffix(k, "}}")
	k = strings.ToLower(strings.TrimSpace(k))
	return strings.TrimPrefix(k, "contact.")
}

// InvalidateCustomFields drops the cached custom field list of a location,
// so that the next key lookup fetches it again. The client calls it when it
// creates, updates or deletes a custom field itself.
func (c *Client) InvalidateCustomFields(locationID string) {
	c.fields.mu.Lock()
	delete(c.fields.entries, locationID)
	c.fields.mu.Unlock()
}

func (c *Client) customFieldEntry(ctx context.Context, locationID string, refetch bool) (*fieldEntry, error) {
	c.fields.mu.Lock()
	e := c.fields.entries[locationID]
	c.fields.mu.Unlock()
	now := time.Now()
	if e != nil && now.Sub(e.fetched) < c.fields.ttl && (!refetch || now.Sub(e.fetched) < minRefetch) {
		return e, nil
	}
	v, err, _ := c.fields.sf.Do(locationID, func() (any, error) {
		fields, err := c.Locations.ListCustomFields(ctx, locationID, "contact")
		if err != nil {
			return nil, err
		}
		e := &fieldEntry{byKey: make(map[string]string, len(fields)), ids: make(map[string]bool, len(fields)), fetched: time.Now()}
		for _, f := range fields {
			e.ids[f.ID] = true
			if f.FieldKey != "" {
				e.byKey[normalizeFieldKey(f.FieldKey)] = f.ID
			}
		}
		c.fields.mu.Lock()
		c.fields.entries[locationID] = e
		c.fields.mu.Unlock()
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("ghl: custom fields of location %s: %w", locationID, err)
	}
	return v.(*fieldEntry), nil
}

// resolveCustomFields returns fields with every Key-only entry turned into
// an ID entry. It does not modify fields.
func (c *Client) resolveCustomFields(ctx context.Context, locationID string, fields []CustomFieldValue) ([]CustomFieldValue, error) {
	if !slices.ContainsFunc(fields, func(f CustomFieldValue) bool { return f.ID == "" && f.Key != "" }) {
		return fields, nil
	}
	if locationID == "" {
		return nil, errNoLocation("setting custom fields by key")
	}
	e, err := c.customFieldEntry(ctx, locationID, false)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(fields)
	for i := range out {
		if out[i].ID != "" || out[i].Key == "" {
			continue
		}
		id, ok := lookupField(e, out[i].Key)
		if !ok {
			// The field may be newer than the cached list.
			if e, err = c.customFieldEntry(ctx, locationID, true); err != nil {
				return nil, err
			}
			if id, ok = lookupField(e, out[i].Key); !ok {
				return nil, fmt.Errorf("%w %q in location %s", ErrUnknownCustomField, out[i].Key, locationID)
			}
		}
		out[i].ID, out[i].Key = id, ""
	}
	return out, nil
}

func lookupField(e *fieldEntry, key string) (string, bool) {
	if id, ok := e.byKey[normalizeFieldKey(key)]; ok {
		return id, true
	}
	if e.ids[key] {
		return key, true
	}
	return "", false
}
