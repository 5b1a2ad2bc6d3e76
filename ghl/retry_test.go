package ghl

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scripted answers each request with the next status of its script (the
// last one repeats) and records the bodies it got.
type scripted struct {
	mu       sync.Mutex
	statuses []int
	headers  []http.Header
	bodies   []string
	hits     int
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := min(s.hits, len(s.statuses)-1)
	s.hits++
	b, _ := io.ReadAll(r.Body)
	s.bodies = append(s.bodies, string(b))
	s.mu.Unlock()
	if i < len(s.headers) {
		for k, v := range s.headers[i] {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(s.statuses[i])
	io.WriteString(w, `{"statusCode":`+http.StatusText(s.statuses[i])+`}`)
}

// retryClient returns an HTTP client whose RetryTransport records its waits
// instead of sleeping.
func retryClient(p RetryPolicy, base http.RoundTripper) (*http.Client, *[]time.Duration) {
	var waits []time.Duration
	var mu sync.Mutex
	rt := &RetryTransport{Policy: p, Base: base, sleep: func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	}}
	return &http.Client{Transport: rt}, &waits
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestRetryPolicy(t *testing.T) {
	for _, tc := range []struct {
		name      string
		method    string
		ctx       func(context.Context) context.Context
		statuses  []int
		headers   []http.Header
		wantHits  int
		wantWaits []time.Duration // each wait must be in [w, w*1.1]; 0 means any backoff
		wantCode  int
	}{
		{name: "429 Retry-After", method: "POST", statuses: []int{429, 201},
			headers: []http.Header{hdr("Retry-After", "2", "X-RateLimit-Remaining", "0")}, wantHits: 2, wantWaits: []time.Duration{2 * time.Second}, wantCode: 201},
		{name: "429 interval header", method: "GET", statuses: []int{429, 200},
			headers: []http.Header{hdr("X-RateLimit-Interval-Milliseconds", "10000", "X-RateLimit-Remaining", "0")}, wantHits: 2, wantWaits: []time.Duration{10 * time.Second}, wantCode: 200},
		{name: "429 daily exhausted", method: "GET", statuses: []int{429, 200},
			headers: []http.Header{hdr("X-RateLimit-Daily-Remaining", "0", "Retry-After", "1")}, wantHits: 1, wantCode: 429},
		{name: "429 Retry-After too long", method: "GET", statuses: []int{429, 200},
			headers: []http.Header{hdr("Retry-After", "3600")}, wantHits: 1, wantCode: 429},
		{name: "503 GET", method: "GET", statuses: []int{503, 502, 200}, wantHits: 3, wantWaits: []time.Duration{0, 0}, wantCode: 200},
		{name: "504 DELETE", method: "DELETE", statuses: []int{504, 200}, wantHits: 2, wantWaits: []time.Duration{0}, wantCode: 200},
		{name: "503 POST not retried", method: "POST", statuses: []int{503, 200}, wantHits: 1, wantCode: 503},
		{name: "503 PUT not retried", method: "PUT", statuses: []int{503, 200}, wantHits: 1, wantCode: 503},
		{name: "503 POST marked idempotent", method: "POST", ctx: WithIdempotent, statuses: []int{503, 200}, wantHits: 2, wantWaits: []time.Duration{0}, wantCode: 200},
		{name: "503 Retry-After", method: "GET", statuses: []int{503, 200}, headers: []http.Header{hdr("Retry-After", "3")}, wantHits: 2, wantWaits: []time.Duration{3 * time.Second}, wantCode: 200},
		{name: "500 not retried", method: "GET", statuses: []int{500, 200}, wantHits: 1, wantCode: 500},
		{name: "404 not retried", method: "GET", statuses: []int{404, 200}, wantHits: 1, wantCode: 404},
		{name: "attempts capped", method: "GET", statuses: []int{503}, wantHits: 4, wantWaits: []time.Duration{0, 0, 0}, wantCode: 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &scripted{statuses: tc.statuses, headers: tc.headers}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			hc, waits := retryClient(RetryPolicy{MaxAttempts: 4}, nil)
			ctx := t.Context()
			if tc.ctx != nil {
				ctx = tc.ctx(ctx)
			}
			req, _ := http.NewRequestWithContext(ctx, tc.method, ts.URL, strings.NewReader(`{"a":1}`))
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode {
				t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantCode)
			}
			if srv.hits != tc.wantHits {
				t.Errorf("hits = %d, want %d", srv.hits, tc.wantHits)
			}
			for _, b := range srv.bodies {
				if b != `{"a":1}` {
					t.Errorf("retried body = %q", b)
				}
			}
			if len(*waits) != len(tc.wantWaits) {
				t.Fatalf("waits = %v, want %v", *waits, tc.wantWaits)
			}
			for i, w := range tc.wantWaits {
				got := (*waits)[i]
				if w == 0 {
					if got <= 0 || got > 30*time.Second {
						t.Errorf("backoff %d = %v", i, got)
					}
				} else if got < w || got > w+w/10+time.Millisecond {
					t.Errorf("wait %d = %v, want %v (+10%% jitter)", i, got, w)
				}
			}
		})
	}
}

func TestExponentialBackoffFullJitter(t *testing.T) {
	b := ExponentialBackoff{Base: 100 * time.Millisecond, Max: time.Second}
	for attempt, ceil := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: time.Second, 60: time.Second} {
		var maxSeen time.Duration
		for range 2000 {
			d := b.NextDuration(attempt)
			if d <= 0 || d > ceil {
				t.Fatalf("attempt %d: %v outside (0, %v]", attempt, d, ceil)
			}
			maxSeen = max(maxSeen, d)
		}
		if maxSeen < ceil*8/10 {
			t.Errorf("attempt %d: max %v of 2000 draws, want near %v (full jitter)", attempt, maxSeen, ceil)
		}
	}
}

func TestRetryConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: connections are refused
	var dials atomic.Int32
	base := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, a)
	}}
	hc, waits := retryClient(RetryPolicy{MaxAttempts: 3}, base)
	req, _ := http.NewRequest("POST", "http://"+addr+"/contacts/", strings.NewReader(`{}`))
	_, err = hc.Do(req)
	if err == nil {
		t.Fatal("no error")
	}
	if dials.Load() != 3 || len(*waits) != 2 {
		t.Errorf("POST to a refused port: %d dials, %d waits; want 3 and 2 (safe to retry)", dials.Load(), len(*waits))
	}
}

func TestRetryTimeoutOnlyIdempotent(t *testing.T) {
	var hits atomic.Int32
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-release:
		case <-time.After(2 * time.Second):
		}
	}))
	defer ts.Close()
	defer close(release)
	base := &http.Transport{ResponseHeaderTimeout: 50 * time.Millisecond}
	for _, tc := range []struct {
		method   string
		ctx      func(context.Context) context.Context
		wantHits int32
	}{
		{"POST", nil, 1},
		{"PATCH", nil, 1},
		{"GET", nil, 3},
		{"POST", WithIdempotent, 3},
	} {
		hits.Store(0)
		hc, _ := retryClient(RetryPolicy{MaxAttempts: 3}, base)
		ctx := t.Context()
		if tc.ctx != nil {
			ctx = tc.ctx(ctx)
		}
		req, _ := http.NewRequestWithContext(ctx, tc.method, ts.URL, strings.NewReader(`{}`))
		if _, err := hc.Do(req); err == nil {
			t.Fatalf("%s: no error", tc.method)
		}
		if got := hits.Load(); got != tc.wantHits {
			t.Errorf("%s after timeouts: server hit %d times, want %d", tc.method, got, tc.wantHits)
		}
	}
}

func TestRetryStopsAtMaxElapsedAndContext(t *testing.T) {
	srv := &scripted{statuses: []int{429}, headers: []http.Header{hdr("Retry-After", "50")}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	hc, waits := retryClient(RetryPolicy{MaxAttempts: 10, MaxElapsed: 30 * time.Second, MaxRetryAfter: time.Hour}, nil)
	resp, err := hc.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if srv.hits != 1 || len(*waits) != 0 {
		t.Errorf("a wait past MaxElapsed was made: hits %d waits %v", srv.hits, *waits)
	}

	// A wait that would end after the context's deadline is not started.
	hc, waits = retryClient(RetryPolicy{MaxAttempts: 10, MaxRetryAfter: time.Hour}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL, nil)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(*waits) != 0 {
		t.Errorf("waited %v past the context deadline", *waits)
	}

	// A real wait is cut short by cancellation.
	rt := &RetryTransport{Policy: RetryPolicy{MaxAttempts: 3, MaxRetryAfter: time.Hour}}
	ctx, cancel = context.WithCancel(t.Context())
	req, _ = http.NewRequestWithContext(ctx, "GET", ts.URL, nil)
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = (&http.Client{Transport: rt}).Do(req)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled wait: err %v after %v", err, time.Since(start))
	}
}

// TestClientDailyExhaustedFailsFast: once GHL says the daily budget is
// spent, the client returns a RateLimitError at once, without retrying and,
// for the next call, without sending.
func TestClientDailyExhaustedFailsFast(t *testing.T) {
	c, mux, _ := setup(t, WithRateLimiter(NewMemoryLimiter(MemoryLimiterConfig{})), WithRetryPolicy(RetryPolicy{MaxAttempts: 4, Backoff: ExponentialBackoff{Base: time.Millisecond}}))
	var hits atomic.Int32
	mux.HandleFunc("GET /contacts/c1", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("X-RateLimit-Limit-Daily", "200000")
		w.Header().Set("X-RateLimit-Daily-Remaining", "0")
		w.Header().Set("X-RateLimit-Remaining", "99")
		w.WriteHeader(429)
		io.WriteString(w, `{"statusCode":429,"message":"Too many requests"}`)
	})
	ctx := WithLocation(t.Context(), "loc1")
	start := time.Now()
	for i := range 2 {
		_, err := c.Contacts.Get(ctx, "c1")
		var rle *RateLimitError
		if !errors.As(err, &rle) || !rle.Daily || !errors.Is(err, ErrRateLimited) {
			t.Fatalf("call %d: err = %v", i, err)
		}
		if rle.ResetAt.Before(time.Now()) {
			t.Errorf("ResetAt %v is not in the future", rle.ResetAt)
		}
		if i == 0 {
			var ge *Error
			if !errors.As(err, &ge) || ge.StatusCode != 429 || ge.Message != "Too many requests" {
				t.Errorf("429 answer not reachable through errors.As: %v", ge)
			}
		}
	}
	if hits.Load() != 1 {
		t.Errorf("server hit %d times, want 1", hits.Load())
	}
	if time.Since(start) > time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}
