package sandbox

import (
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox/spec"
)

func TestRouterMatchesSpecPaths(t *testing.T) {
	rt := newRouter()
	for _, op := range spec.MustOperations() {
		rt.add(&route{method: op.Method, segments: splitPath(op.Path), op: op})
	}
	tests := []struct {
		method, path, wantOp string
		params               map[string]string
	}{
		{"POST", "/contacts/", "create-contact", nil},
		{"POST", "/contacts", "create-contact", nil},
		{"GET", "/contacts/abc", "get-contact", map[string]string{"contactId": "abc"}},
		{"GET", "/contacts/search/duplicate", "get-duplicate-contact", nil},
		{"POST", "/contacts/search", "search-contacts-advanced", nil},
		{"POST", "/contacts/upsert", "upsert-contact", nil},
		{"DELETE", "/contacts/c1/campaigns/removeAll", "remove-contact-from-every-campaign", map[string]string{"contactId": "c1"}},
		{"DELETE", "/contacts/c1/campaigns/k9", "remove-contact-from-campaign", map[string]string{"contactId": "c1", "campaignId": "k9"}},
		{"GET", "/locations/L1/customFields/F1", "get-custom-field", map[string]string{"locationId": "L1", "id": "F1"}},
		{"GET", "/custom-fields/object-key/contact", "get-custom-fields-by-object-key", map[string]string{"objectKey": "contact"}},
		{"GET", "/users/", "get-user-by-location", nil},
		{"POST", "/oauth/token", "get-access-token", nil},
	}
	for _, tt := range tests {
		r, params, _ := rt.match(tt.method, tt.path)
		if r == nil {
			t.Errorf("%s %s: no route", tt.method, tt.path)
			continue
		}
		if r.op.ID != tt.wantOp {
			t.Errorf("%s %s: matched %s, want %s", tt.method, tt.path, r.op.ID, tt.wantOp)
		}
		for k, v := range tt.params {
			if params[k] != v {
				t.Errorf("%s %s: param %s=%q, want %q", tt.method, tt.path, k, params[k], v)
			}
		}
	}
	if r, _, known := rt.match("PATCH", "/contacts/abc"); r != nil || !known {
		t.Errorf("PATCH /contacts/abc: route %v known %v; want no route, path known", r, known)
	}
	if r, _, known := rt.match("GET", "/nope/at/all"); r != nil || known {
		t.Errorf("unknown path matched")
	}
	if r, _, _ := rt.match("GET", "/contacts//"); r != nil && r.op.ID == "get-contact" {
		t.Errorf("empty path parameter matched get-contact")
	}
}

func TestRateLimiterWindows(t *testing.T) {
	now := mustTime("2026-01-01T00:00:00Z")
	clock := func() time.Time { return now }
	l := NewRateLimiter(RateLimitConfig{Enabled: true, Burst: 3, Interval: 10 * time.Second, Daily: 5}, clock)
	for i := 0; i < 3; i++ {
		if st := l.Allow("k"); !st.Allowed || st.Remaining != 2-i {
			t.Fatalf("request %d: %+v", i, st)
		}
	}
	st := l.Allow("k")
	if st.Allowed || st.RetryAfter != 10*time.Second {
		t.Fatalf("4th request in window: %+v", st)
	}
	if other := l.Allow("other"); !other.Allowed {
		t.Fatalf("other key limited: %+v", other)
	}
	now = now.Add(10 * time.Second)
	if st := l.Allow("k"); !st.Allowed || st.DailyRemaining != 1 {
		t.Fatalf("after interval: %+v", st)
	}
	l.Allow("k")
	if st := l.Allow("k"); st.Allowed || st.DailyRemaining != 0 || st.RetryAfter <= 10*time.Second {
		t.Fatalf("daily cap: %+v", st)
	}
	now = now.Add(24 * time.Hour)
	if st := l.Allow("k"); !st.Allowed {
		t.Fatalf("next day: %+v", st)
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
