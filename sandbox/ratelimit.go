package sandbox

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RateLimitConfig sets GHL's two limits per (app or token, resource).
type RateLimitConfig struct {
	Enabled bool
	// Burst requests are allowed per Interval (GHL: 100 per 10 s).
	Burst    int
	Interval time.Duration
	// Daily requests are allowed per UTC day (GHL: 200,000).
	Daily int
}

// WithDefaults fills the zero limits with GHL's: 100 requests per 10 s and
// 200,000 per UTC day.
func (c RateLimitConfig) WithDefaults() RateLimitConfig {
	if c.Burst <= 0 {
		c.Burst = 100
	}
	if c.Interval <= 0 {
		c.Interval = 10 * time.Second
	}
	if c.Daily <= 0 {
		c.Daily = 200_000
	}
	return c
}

// Idle reports the limits (GHL's where zero) with nothing counted: the
// headers of answers that belong to no bucket, and of requests let through
// while the limiter is unavailable.
func (c RateLimitConfig) Idle() RateStatus {
	c = c.WithDefaults()
	return RateStatus{
		Allowed: true, Limit: c.Burst, Remaining: c.Burst, Interval: c.Interval,
		DailyLimit: c.Daily, DailyRemaining: c.Daily,
	}
}

// Limiter keeps a Server's rate-limit budgets. The in-memory RateLimiter
// is the default and serves one process; sandbox/redislimit keeps the
// budgets in Redis, so that any number of sandbox processes behind a load
// balancer spend one budget per key. Implementations must give the
// RateLimiter's semantics: per key, a fixed interval window that opens with
// the key's first request and a UTC-day window; a refused request consumes
// no budget; RetryAfter runs to the end of the interval window, or to
// midnight UTC at the daily cap.
//
// Failure policy: the server fails open. When Take returns an error (Redis
// down or slower than its timeout), the request is let through and
// answered with the Idle headers (the limits, nothing used), and the
// failure is logged as a warning at most once per 10 s. For a second after
// a failure the server does not ask the limiter at all, so that requests
// do not each wait for a Redis that is down: they are let through the same
// way; then one request asks it again, and its success resumes limiting.
// Every request let through unlimited, failed or not asked, is counted in
// ghlkit_sandbox_ratelimit_errors_total{op="take"}. A development sandbox
// must not go down with its limiter. Peek and Clear errors (the admin
// API's GET and DELETE /_ghlkit/ratelimit) are answered 500, counted under
// op="peek" and op="clear".
type Limiter interface {
	// Config returns the limits, with GHL's defaults filled in. When a
	// Limiter is given in Config.Limiter, its Config replaces
	// Config.RateLimit, Enabled included.
	Config() RateLimitConfig
	// Take counts one request for key if it is within both limits and
	// reports the outcome.
	Take(ctx context.Context, key string) (RateStatus, error)
	// Peek returns key's counts in its current windows without consuming
	// budget.
	Peek(ctx context.Context, key string) (count, dayCount int, err error)
	// Clear forgets every key's counts.
	Clear(ctx context.Context) error
}

var _ Limiter = (*RateLimiter)(nil)

// RateLimiter counts requests per key in fixed windows: an interval window
// that opens with the key's first request, and the UTC day.
type RateLimiter struct {
	cfg    RateLimitConfig
	now    func() time.Time
	shards [64]limiterShard
}

type limiterShard struct {
	mu   sync.Mutex
	keys map[string]*window
}

type window struct {
	start    time.Time
	count    int
	day      time.Time
	dayCount int
}

// RateStatus is the outcome of one request against the limits.
type RateStatus struct {
	Allowed        bool
	Limit          int
	Remaining      int
	Interval       time.Duration
	DailyLimit     int
	DailyRemaining int
	RetryAfter     time.Duration
}

// NewRateLimiter returns a limiter; now defaults to time.Now.
func NewRateLimiter(cfg RateLimitConfig, now func() time.Time) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	l := &RateLimiter{cfg: cfg.WithDefaults(), now: now}
	for i := range l.shards {
		l.shards[i].keys = map[string]*window{}
	}
	return l
}

func fnv(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Config returns the limits, GHL's where the configuration left them zero.
func (l *RateLimiter) Config() RateLimitConfig { return l.cfg }

// Take counts one request for key if it is within both limits; it never
// fails.
func (l *RateLimiter) Take(_ context.Context, key string) (RateStatus, error) {
	return l.Allow(key), nil
}

// Allow is Take without a context or an error. A refused request does not
// consume budget.
func (l *RateLimiter) Allow(key string) RateStatus {
	now := l.now()
	day := now.UTC().Truncate(24 * time.Hour)
	sh := &l.shards[fnv(key)%uint32(len(l.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	w := sh.keys[key]
	if w == nil {
		if len(sh.keys) >= 4096 {
			l.prune(sh, now, day)
		}
		w = &window{start: now, day: day}
		sh.keys[key] = w
	}
	if now.Sub(w.start) >= l.cfg.Interval {
		w.start, w.count = now, 0
	}
	if !w.day.Equal(day) {
		w.day, w.dayCount = day, 0
	}
	st := RateStatus{Limit: l.cfg.Burst, Interval: l.cfg.Interval, DailyLimit: l.cfg.Daily}
	switch {
	case w.dayCount >= l.cfg.Daily:
		st.RetryAfter = day.Add(24 * time.Hour).Sub(now)
	case w.count >= l.cfg.Burst:
		st.RetryAfter = w.start.Add(l.cfg.Interval).Sub(now)
	default:
		st.Allowed = true
		w.count++
		w.dayCount++
	}
	st.Remaining = max(l.cfg.Burst-w.count, 0)
	st.DailyRemaining = max(l.cfg.Daily-w.dayCount, 0)
	return st
}

// prune drops keys idle for a whole interval and not counted today, so
// the limiter's memory follows the active keys, not every key ever seen.
func (l *RateLimiter) prune(sh *limiterShard, now, day time.Time) {
	for k, w := range sh.keys {
		if now.Sub(w.start) >= l.cfg.Interval && !w.day.Equal(day) {
			delete(sh.keys, k)
		}
	}
}

// Peek returns key's counts in its current windows without consuming
// budget; it never fails.
func (l *RateLimiter) Peek(_ context.Context, key string) (count, dayCount int, err error) {
	sh := &l.shards[fnv(key)%uint32(len(l.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if w := sh.keys[key]; w != nil {
		if l.now().Sub(w.start) < l.cfg.Interval {
			count = w.count
		}
		if w.day.Equal(l.now().UTC().Truncate(24 * time.Hour)) {
			dayCount = w.dayCount
		}
	}
	return count, dayCount, nil
}

// Clear forgets every key's counts; it never fails.
func (l *RateLimiter) Clear(context.Context) error {
	for i := range l.shards {
		l.shards[i].mu.Lock()
		l.shards[i].keys = map[string]*window{}
		l.shards[i].mu.Unlock()
	}
	return nil
}

// limiterGuard is the server's side of a Limiter: it applies the failure
// policy (see Limiter) and counts the failures.
type limiterGuard struct {
	l      Limiter
	cfg    RateLimitConfig
	log    *slog.Logger
	errors *prometheus.CounterVec
	// lastWarn is when the last failure was logged (Unix ns); requests let
	// through unlimited since then are counted in quiet.
	lastWarn atomic.Int64
	quiet    atomic.Int64
	// skipUntil (Unix ns) ends the pause after a failure, during which the
	// limiter is not asked; 0 while it works. The request that moves it
	// on, once past, probes the limiter.
	skipUntil atomic.Int64
}

// limiterWarnEvery spaces the warnings of a failing limiter.
const limiterWarnEvery = 10 * time.Second

// limiterPause is how long the server stops asking a limiter that failed.
const limiterPause = time.Second

func newLimiterGuard(l Limiter, cfg RateLimitConfig, log *slog.Logger) *limiterGuard {
	return &limiterGuard{l: l, cfg: cfg, log: log, errors: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ghlkit_sandbox_ratelimit_errors_total",
		Help: "Rate limiter failures by operation (take: a request let through unlimited, the limiter failing or paused after a failure).",
	}, []string{"op"})}
}

// Idle is the status of answers that belong to no bucket.
func (g *limiterGuard) Idle() RateStatus { return g.cfg.Idle() }

// Allow takes one request from key's budget, failing open: when the
// limiter fails, or is paused after a failure, the request is allowed with
// the Idle status.
func (g *limiterGuard) Allow(ctx context.Context, key string) RateStatus {
	var probe int64 // the pause's end this request moved on from, if any
	if until := g.skipUntil.Load(); until != 0 {
		now := time.Now().UnixNano()
		// Paused, or another request is probing: let it through unasked.
		if now < until || !g.skipUntil.CompareAndSwap(until, now+int64(limiterPause)) {
			g.errors.WithLabelValues("take").Inc()
			g.quiet.Add(1)
			return g.Idle()
		}
		probe = until
	}
	st, err := g.l.Take(ctx, key)
	switch {
	case err == nil:
		if g.skipUntil.Load() != 0 {
			g.skipUntil.Store(0)
		}
		return st
	case ctx.Err() != nil: // the client left: not the limiter's failure
		if probe != 0 {
			g.skipUntil.Store(probe) // past: the next request probes
		}
	default:
		g.skipUntil.Store(time.Now().Add(limiterPause).UnixNano())
		g.errors.WithLabelValues("take").Inc()
		g.warn(err)
	}
	return g.Idle()
}

// warn logs a failure, at most once per limiterWarnEvery.
func (g *limiterGuard) warn(err error) {
	now := time.Now().UnixNano()
	last := g.lastWarn.Load()
	if now-last < int64(limiterWarnEvery) || !g.lastWarn.CompareAndSwap(last, now) {
		g.quiet.Add(1)
		return
	}
	g.log.Warn("rate limiter unavailable: letting requests through unlimited (fail open)", "err", err, "alsoLetThroughSinceLastWarning", g.quiet.Swap(0))
}

// Usage returns key's counts.
func (g *limiterGuard) Usage(ctx context.Context, key string) (count, dayCount int, err error) {
	count, dayCount, err = g.l.Peek(ctx, key)
	if err != nil {
		g.errors.WithLabelValues("peek").Inc()
		return 0, 0, fmt.Errorf("rate limiter: %w", err)
	}
	return count, dayCount, nil
}

// Reset clears every budget.
func (g *limiterGuard) Reset(ctx context.Context) error {
	if err := g.l.Clear(ctx); err != nil {
		g.errors.WithLabelValues("clear").Inc()
		return fmt.Errorf("rate limiter: %w", err)
	}
	return nil
}

// SetHeaders writes GHL's X-RateLimit-* headers.
func (st RateStatus) SetHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit-Daily", strconv.Itoa(st.DailyLimit))
	h.Set("X-RateLimit-Daily-Remaining", strconv.Itoa(st.DailyRemaining))
	h.Set("X-RateLimit-Interval-Milliseconds", strconv.FormatInt(st.Interval.Milliseconds(), 10))
	h.Set("X-RateLimit-Max", strconv.Itoa(st.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(st.Remaining))
}
