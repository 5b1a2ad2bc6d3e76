package ghl

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func rl(max, remaining int, interval time.Duration) RateLimit {
	return RateLimit{Max: max, Remaining: remaining, Interval: interval, DailyLimit: -1, DailyRemaining: -1}
}

// harness drives a Limiter inside a synctest bubble and keeps the answer
// callbacks of the requests it let through.
type harness struct {
	t       *testing.T
	l       Limiter
	pending map[string][]func(RateLimit)
}

func newHarness(t *testing.T, l Limiter) *harness {
	return &harness{t: t, l: l, pending: map[string][]func(RateLimit){}}
}

// send reports whether Wait for key returns at once (in bubble time).
func (h *harness) send(key string) bool {
	h.t.Helper()
	type result struct {
		done func(RateLimit)
		err  error
	}
	ch := make(chan result, 1)
	ctx, cancel := context.WithCancel(h.t.Context())
	defer cancel()
	go func() {
		done, err := h.l.Wait(ctx, key)
		ch <- result{done, err}
	}()
	synctest.Wait()
	select {
	case r := <-ch:
		if r.err != nil {
			h.t.Fatalf("Wait: %v", r.err)
		}
		h.pending[key] = append(h.pending[key], r.done)
		return true
	default:
		cancel()
		<-ch
		return false
	}
}

// answer delivers the answer to the i-th oldest unanswered request of key.
func (h *harness) answer(key string, i int, rl RateLimit) {
	f := h.pending[key][i]
	h.pending[key] = append(h.pending[key][:i], h.pending[key][i+1:]...)
	f(rl)
}

func TestMemoryLimiterFollowsRemainingHeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewMemoryLimiter(MemoryLimiterConfig{})
		h := newHarness(t, l)
		const key = "Location:a"
		if !h.send(key) {
			t.Fatal("first request blocked")
		}
		// Another client already used most of this window: GHL says 3 left.
		h.answer(key, 0, rl(100, 3, 10*time.Second))
		start := time.Now()
		for i := range 3 {
			if !h.send(key) {
				t.Fatalf("request %d of the 3 remaining blocked", i+1)
			}
		}
		if h.send(key) {
			t.Fatal("a 4th request went out although GHL said 3 remained")
		}
		// It goes once the window is surely renewed: one interval after the
		// last answer.
		if _, err := l.Wait(t.Context(), key); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 10*time.Second {
			t.Errorf("waited %v, want 10s", waited)
		}
	})
}

func TestMemoryLimiterCountsInFlightAndLateAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewMemoryLimiter(MemoryLimiterConfig{})
		h := newHarness(t, l)
		const key = "k"
		h.send(key)
		h.answer(key, 0, rl(100, 10, 10*time.Second))
		for range 4 {
			h.send(key)
		}
		// The answer to the first of the 4 says 8 left; 3 are still in
		// flight and may not have been counted: 5 may go.
		h.answer(key, 0, rl(100, 8, 10*time.Second))
		if got := l.Remaining(key); got != 5 {
			t.Errorf("Remaining = %d, want 5", got)
		}
		// The last request's answer overtakes the second's: 3 left, 2 in
		// flight.
		h.answer(key, 2, rl(100, 3, 10*time.Second))
		if got := l.Remaining(key); got != 1 {
			t.Errorf("Remaining = %d, want 1", got)
		}
		// The second request's answer arrives late, saying 7: it was
		// counted before the others and cannot raise the budget.
		h.answer(key, 0, rl(100, 7, 10*time.Second))
		if got := l.Remaining(key); got != 1 {
			t.Errorf("after a stale answer Remaining = %d, want 1", got)
		}
	})
}

func TestMemoryLimiterProbesFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, NewMemoryLimiter(MemoryLimiterConfig{}))
		h.send("k")
		if h.send("k") {
			t.Fatal("second request sent before the first answer told the budget")
		}
		if !h.send("other") {
			t.Fatal("keys are not independent")
		}
		h.answer("k", 0, ParseRateLimit(nil)) // an answer without headers ends probing too
		if !h.send("k") {
			t.Fatal("still probing after an answer")
		}
	})
}

func TestMemoryLimiterLearnsLimitsFromHeaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, NewMemoryLimiter(MemoryLimiterConfig{}))
		h.send("k")
		h.answer("k", 0, rl(2, 1, time.Second))
		h.send("k")
		h.answer("k", 0, rl(2, 0, time.Second))
		if h.send("k") {
			t.Fatal("sent with 0 remaining")
		}
		time.Sleep(time.Second)
		if !h.send("k") || !h.send("k") {
			t.Fatal("new window of Max=2 not granted")
		}
		if h.send("k") {
			t.Fatal("third request in a window of Max=2")
		}
	})
}

func TestMemoryLimiterWithoutHeadersIsFixedWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewMemoryLimiter(MemoryLimiterConfig{Max: 3, Interval: time.Minute})
		start := time.Now()
		for i := range 6 {
			done, err := l.Wait(t.Context(), "k")
			if err != nil {
				t.Fatal(err)
			}
			done(ParseRateLimit(nil))
			if want := time.Duration(i/3) * time.Minute; time.Since(start) != want {
				t.Errorf("request %d at %v, want %v", i, time.Since(start), want)
			}
		}
	})
}

func TestMemoryLimiterDailyExhausted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewMemoryLimiter(MemoryLimiterConfig{})
		h := newHarness(t, l)
		h.send("k")
		h.answer("k", 0, RateLimit{Max: 100, Remaining: 50, Interval: 10 * time.Second, DailyLimit: 200000, DailyRemaining: 0})
		_, err := l.Wait(t.Context(), "k")
		var rle *RateLimitError
		if !errors.As(err, &rle) || !rle.Daily || !errors.Is(err, ErrRateLimited) {
			t.Fatalf("Wait = %v, want a daily RateLimitError", err)
		}
		if want := nextMidnightUTC(time.Now()); !rle.ResetAt.Equal(want) {
			t.Errorf("ResetAt = %v, want %v", rle.ResetAt, want)
		}
		time.Sleep(time.Until(rle.ResetAt))
		if !h.send("k") {
			t.Fatal("still refused after the daily reset")
		}
	})
}

func TestMemoryLimiterWaitHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewMemoryLimiter(MemoryLimiterConfig{Max: 1, Interval: time.Hour})
		h := newHarness(t, l)
		h.send("k")
		h.answer("k", 0, ParseRateLimit(nil))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := l.Wait(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v", err)
		}
	})
}

// fixedWindowServer answers like GHL: max requests per window per
// location, X-RateLimit-* headers on every answer, 429 beyond the budget.
type fixedWindowServer struct {
	max      int
	interval time.Duration

	mu          sync.Mutex
	windowStart time.Time
	used        int
	rejected    int
	served      int
}

func (s *fixedWindowServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	now := time.Now()
	if now.Sub(s.windowStart) >= s.interval {
		s.windowStart, s.used = now, 0
	}
	s.used++
	over := s.used > s.max
	if over {
		s.rejected++
	} else {
		s.served++
	}
	remaining := max(s.max-s.used, 0)
	s.mu.Unlock()
	h := w.Header()
	h.Set("X-RateLimit-Max", strconv.Itoa(s.max))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Interval-Milliseconds", strconv.Itoa(int(s.interval/time.Millisecond)))
	h.Set("X-RateLimit-Limit-Daily", "200000")
	h.Set("X-RateLimit-Daily-Remaining", "199000")
	if over {
		w.WriteHeader(http.StatusTooManyRequests)
	}
	io.WriteString(w, `{}`)
}

// TestRateLimitTransportSharedLocation: another client has used most of
// the window; a limited client sending 20 requests from 8 goroutines never
// gets a 429.
func TestRateLimitTransportSharedLocation(t *testing.T) {
	srv := &fixedWindowServer{max: 6, interval: 300 * time.Millisecond}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	// The other client's usage.
	for range 4 {
		resp, err := http.Get(ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	hc := &http.Client{Transport: &RateLimitTransport{Limiter: NewMemoryLimiter(MemoryLimiterConfig{})}}
	var wg sync.WaitGroup
	var failed atomic.Int32
	jobs := make(chan int)
	for range 8 {
		wg.Go(func() {
			for range jobs {
				req, _ := http.NewRequestWithContext(WithLocation(context.Background(), "loc1"), "GET", ts.URL, nil)
				resp, err := hc.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				resp.Body.Close()
			}
		})
	}
	for i := range 20 {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d requests failed", failed.Load())
	}
	if srv.rejected != 0 {
		t.Errorf("server rejected %d requests with 429 (served %d)", srv.rejected, srv.served)
	}
	if srv.served != 24 {
		t.Errorf("served %d, want 24", srv.served)
	}
}

func TestParseRateLimit(t *testing.T) {
	h := http.Header{}
	h.Set("X-RateLimit-Limit-Daily", "200000")
	h.Set("X-RateLimit-Daily-Remaining", "199")
	h.Set("X-RateLimit-Interval-Milliseconds", "10000")
	h.Set("X-RateLimit-Max", "100")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("Retry-After", "3")
	want := RateLimit{Max: 100, Remaining: 0, Interval: 10 * time.Second, DailyLimit: 200000, DailyRemaining: 199, RetryAfter: 3 * time.Second}
	if got := ParseRateLimit(h); got != want {
		t.Errorf("ParseRateLimit = %+v, want %+v", got, want)
	}
	if got := ParseRateLimit(nil); got.Known() || got.DailyExhausted() {
		t.Errorf("no headers: %+v", got)
	}
	h = http.Header{"Retry-After": {time.Now().Add(time.Minute).UTC().Format(http.TimeFormat)}}
	if got := ParseRateLimit(h).RetryAfter; got < 58*time.Second || got > time.Minute {
		t.Errorf("Retry-After date: %v", got)
	}
}

// TestMemoryLimiterBoundsConstraints: a server whose Remaining never drops
// would otherwise add a constraint per answer.
func TestMemoryLimiterBoundsConstraints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewMemoryLimiter(MemoryLimiterConfig{})
		h := newHarness(t, l)
		for i := range 50 {
			if !h.send("k") {
				t.Fatalf("request %d blocked", i)
			}
			h.answer("k", 0, rl(100, 90, 10*time.Second))
			time.Sleep(10 * time.Millisecond)
		}
		if n := len(l.buckets["k"].limits); n > maxWindows {
			t.Errorf("%d constraints kept", n)
		}
		// The first answer said 90 remain and 49 requests went since, all
		// within one interval: 41 remain, merged constraints included.
		if got := l.Remaining("k"); got != 41 {
			t.Errorf("Remaining = %d, want 41", got)
		}
	})
}
