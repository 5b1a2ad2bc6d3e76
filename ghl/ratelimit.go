package ghl

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// GHL's documented limits per app and resource (location or company).
const (
	DefaultBurstMax      = 100
	DefaultBurstInterval = 10 * time.Second
	DefaultDailyLimit    = 200_000
)

// Limiter paces requests per resource key ([Resource.Key]; "" for requests
// that name no resource).
//
// Wait blocks until a request for key may be sent, or returns an error: the
// context's, or a [*RateLimitError] when the daily budget is known to be
// spent. On success it returns done, which the caller must call exactly
// once, with what the response's X-RateLimit-* headers said
// ([ParseRateLimit]; ParseRateLimit(nil) when the request got no response).
// Returning done, rather than offering a separate Observe method, pairs
// every answer with exactly one request let through, which limiters need
// to count the requests in flight.
type Limiter interface {
	Wait(ctx context.Context, key string) (done func(RateLimit), err error)
}

// RateLimitTransport waits on Limiter before each request and reports the
// X-RateLimit-* headers of each response to it.
type RateLimitTransport struct {
	Limiter Limiter
	Base    http.RoundTripper // nil means http.DefaultTransport
}

// RoundTrip implements http.RoundTripper.
func (t *RateLimitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	key := ResourceFrom(req.Context()).Key()
	done, err := t.Limiter.Wait(req.Context(), key)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		done(ParseRateLimit(nil))
		return nil, err
	}
	done(ParseRateLimit(resp.Header))
	return resp, nil
}

// MemoryLimiterConfig holds the starting limits of a [MemoryLimiter]; the
// X-RateLimit-Max and -Interval-Milliseconds headers override them per key
// as responses arrive. Zero fields take GHL's documented defaults.
type MemoryLimiterConfig struct {
	Max      int           // requests per interval; default 100
	Interval time.Duration // default 10s
}

// MemoryLimiter is an in-process [Limiter]. GHL counts requests per
// window but does not say when its window started, so the limiter treats
// every answer as a constraint: "GHL will take at most Remaining more
// requests (less those still in flight, which it may not have counted yet)
// until one interval from now", when that window has surely been renewed.
// It keeps the constraints that are not implied by a tighter one, spends
// every request against all of them, and lets a request through only while
// each has budget left and the client itself has sent fewer than Max
// requests in the last Interval (a sliding log, so that no window of
// GHL's, however aligned, gets more than Max from this client). So:
//
//   - a client that starts mid-window, or shares a location with other
//     clients, follows the server's count rather than its own: when GHL
//     says 3 remain, at most 3 more go before the window is surely renewed;
//   - an answer that arrives late, after a fresher one, only adds a looser
//     constraint and cannot raise the budget;
//   - X-RateLimit-Max and -Interval-Milliseconds replace the configured
//     limits; Retry-After with Remaining: 0 says when the window renews;
//   - X-RateLimit-Daily-Remaining: 0 makes Wait fail at once with a daily
//     [*RateLimitError] until the estimated reset (Retry-After, else the next
//     midnight UTC), instead of blocking for hours.
//
// Without headers it is a sliding window of Max requests per Interval. Until
// the first answer for a key arrives, only one request for that key is in
// flight, so a fresh process learns the real budget before spending it.
// Buckets are kept for the life of the limiter (with GHL's limits, about
// 3 KB per location).
type MemoryLimiter struct {
	cfg MemoryLimiterConfig
	now func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	max      int
	interval time.Duration
	limits   []window
	// sends[head:] are the times of this client's requests in the last
	// interval, oldest first.
	sends    []time.Time
	head     int
	inflight int
	observed bool
	// dailyReset is set while GHL has said the daily budget is spent.
	dailyReset time.Time
	changed    chan struct{} // closed and replaced on every answer
}

// window is one constraint from GHL: at most remaining more requests until
// expires.
type window struct {
	remaining int
	expires   time.Time
}

// NewMemoryLimiter returns a MemoryLimiter with the given starting limits.
func NewMemoryLimiter(cfg MemoryLimiterConfig) *MemoryLimiter {
	if cfg.Max <= 0 {
		cfg.Max = DefaultBurstMax
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultBurstInterval
	}
	return &MemoryLimiter{cfg: cfg, now: time.Now, buckets: make(map[string]*bucket)}
}

func (l *MemoryLimiter) bucket(key string) *bucket {
	b := l.buckets[key]
	if b == nil {
		b = &bucket{max: l.cfg.Max, interval: l.cfg.Interval, changed: make(chan struct{})}
		l.buckets[key] = b
	}
	return b
}

// budget drops expired constraints and returns how many requests may go
// now, and when that may change if none may.
func (b *bucket) budget(now time.Time) (int, time.Time) {
	live := b.limits[:0]
	for _, w := range b.limits {
		if now.Before(w.expires) {
			live = append(live, w)
		}
	}
	b.limits = live
	cutoff := now.Add(-b.interval)
	for b.head < len(b.sends) && !b.sends[b.head].After(cutoff) {
		b.head++
	}
	if b.head > 64 && b.head*2 > len(b.sends) {
		b.sends = b.sends[:copy(b.sends, b.sends[b.head:])]
		b.head = 0
	}
	sent := len(b.sends) - b.head
	n, next := b.max-sent, time.Time{}
	if n <= 0 {
		next = b.sends[len(b.sends)-b.max].Add(b.interval)
	}
	for _, w := range b.limits {
		n = min(n, w.remaining)
		if w.remaining <= 0 && (next.IsZero() || w.expires.Before(next)) {
			next = w.expires
		}
	}
	return max(n, 0), next
}

// spend takes one request from every constraint.
func (b *bucket) spend(now time.Time) {
	b.sends = append(b.sends, now)
	for i := range b.limits {
		b.limits[i].remaining--
	}
	b.inflight++
}

// maxWindows bounds the constraints kept per key.
const maxWindows = 8

// add records a constraint from GHL, dropping the constraints the new one
// implies (no tighter, expiring no later). Past maxWindows the two oldest
// are merged into one as tight and as long as both, which is safe.
func (b *bucket) add(w window) {
	kept := b.limits[:0]
	for _, o := range b.limits {
		if o.remaining >= w.remaining && !o.expires.After(w.expires) {
			continue
		}
		kept = append(kept, o)
	}
	b.limits = append(kept, w)
	for len(b.limits) > maxWindows {
		m := window{remaining: min(b.limits[0].remaining, b.limits[1].remaining), expires: b.limits[0].expires}
		if b.limits[1].expires.After(m.expires) {
			m.expires = b.limits[1].expires
		}
		b.limits = append([]window{m}, b.limits[2:]...)
	}
}

// Wait implements Limiter.
func (l *MemoryLimiter) Wait(ctx context.Context, key string) (func(RateLimit), error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l.mu.Lock()
		now := l.now()
		b := l.bucket(key)
		if !b.dailyReset.IsZero() {
			if now.Before(b.dailyReset) {
				reset := b.dailyReset
				l.mu.Unlock()
				return nil, &RateLimitError{
					Daily:      true,
					RateLimit:  RateLimit{Max: b.max, Remaining: -1, Interval: b.interval, DailyLimit: -1, DailyRemaining: 0},
					RetryAfter: reset.Sub(now),
					ResetAt:    reset,
				}
			}
			b.dailyReset = time.Time{}
		}
		n, next := b.budget(now)
		var wake <-chan time.Time
		switch {
		case !b.observed && b.inflight > 0:
			// Probing: wait for the first answer.
		case n <= 0:
			d := next.Sub(now)
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			wake = timer.C
		default:
			b.spend(now)
			l.mu.Unlock()
			return func(rl RateLimit) { l.observe(key, rl) }, nil
		}
		changed := b.changed
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wake:
		case <-changed:
		}
	}
}

// observe applies the answer to one request of key.
func (l *MemoryLimiter) observe(key string, rl RateLimit) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.bucket(key)
	if b.inflight > 0 {
		b.inflight--
	}
	b.observed = true
	if rl.Max > 0 {
		b.max = rl.Max
	}
	if rl.Interval > 0 {
		b.interval = rl.Interval
	}
	if rl.Remaining >= 0 {
		w := window{remaining: min(max(rl.Remaining-b.inflight, 0), b.max), expires: now.Add(b.interval)}
		if rl.Remaining == 0 && rl.RetryAfter > 0 {
			w.expires = now.Add(rl.RetryAfter)
		}
		b.add(w)
	}
	if rl.DailyExhausted() {
		if rl.RetryAfter > 0 {
			b.dailyReset = now.Add(rl.RetryAfter)
		} else {
			b.dailyReset = nextMidnightUTC(now)
		}
	}
	close(b.changed)
	b.changed = make(chan struct{})
}

// Remaining returns how many requests for key the limiter would let through
// now without waiting; for tests and metrics.
func (l *MemoryLimiter) Remaining(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, _ := l.bucket(key).budget(l.now())
	return n
}
