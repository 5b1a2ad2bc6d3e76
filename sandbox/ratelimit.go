package sandbox

import (
	"net/http"
	"strconv"
	"sync"
	"time"
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

func (c RateLimitConfig) withDefaults() RateLimitConfig {
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
	l := &RateLimiter{cfg: cfg.withDefaults(), now: now}
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

// Idle reports the limits with nothing counted: the headers of answers
// that belong to no bucket (no valid token, or the limiter off).
func (l *RateLimiter) Idle() RateStatus {
	return RateStatus{
		Allowed: true, Limit: l.cfg.Burst, Remaining: l.cfg.Burst, Interval: l.cfg.Interval,
		DailyLimit: l.cfg.Daily, DailyRemaining: l.cfg.Daily,
	}
}

// Allow counts one request for key and reports whether it is within both
// limits. A refused request does not consume budget.
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

// Usage returns the current counts for a key without consuming budget.
func (l *RateLimiter) Usage(key string) (count, dayCount int) {
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
	return count, dayCount
}

// Reset forgets every key's counts.
func (l *RateLimiter) Reset() {
	for i := range l.shards {
		l.shards[i].mu.Lock()
		l.shards[i].keys = map[string]*window{}
		l.shards[i].mu.Unlock()
	}
}

// SetHeaders writes GHL's X-RateLimit-* headers.
func (st RateStatus) SetHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit-Daily", strconv.Itoa(st.DailyLimit))
	h.Set("X-RateLimit-Daily-Remaining", strconv.Itoa(st.DailyRemaining))
	h.Set("X-RateLimit-Interval-Milliseconds", strconv.FormatInt(st.Interval.Milliseconds(), 10))
	h.Set("X-RateLimit-Max", strconv.Itoa(st.Limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(st.Remaining))
}
