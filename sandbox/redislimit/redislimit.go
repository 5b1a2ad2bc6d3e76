// Package redislimit keeps the sandbox's rate-limit budgets in Redis, so
// that any number of sandbox processes behind a load balancer spend one
// budget per key instead of each allowing the full one:
//
//	rdb := redis.NewClient(redislimit.FailFast(opt))
//	lim := redislimit.New(rdb, sandbox.RateLimitConfig{Enabled: true}, redislimit.Options{})
//	srv, err := sandbox.NewServer(sandbox.Config{Store: st, Limiter: lim})
//
// A Limiter has exactly the semantics of the in-memory sandbox.RateLimiter:
// per key, a fixed interval window that opens with the key's first request
// and a UTC-day window; a refused request consumes no budget; RetryAfter
// runs to the end of the interval window, or to midnight UTC at the daily
// cap. Times are kept in milliseconds.
//
// Each key is one Redis hash, Prefix+key, holding the interval window's
// start and count and the day's number and count. Take and Peek are one
// round trip each: a Lua script (EVALSHA, falling back to EVAL) checks and
// updates the hash atomically, so concurrent processes never overspend.
// The hash expires by itself (PEXPIRE) when both its windows have closed:
// at midnight UTC, or at the end of an interval window that runs past it.
// Clear deletes the prefix's keys with SCAN, never KEYS.
//
// Clock: by default the windows follow the Redis server's clock (TIME,
// read inside the script), so every process sees the same time whatever
// the skew between their hosts. Options.Now replaces it with a clock of the
// caller's (tests, or a sandbox running on a simulated clock); every
// process sharing the keys must then use the same clock — NTP-synced
// hosts — since a skewed process opens windows early or late by its skew.
//
// Errors (Redis down, or slower than Options.Timeout) are returned; the
// sandbox server then fails open (see sandbox.Limiter). Give the client
// FailFast's options: with go-redis's defaults a Redis that is down makes
// each request wait for five dial attempts, and one that hangs for the
// client's read timeout, whatever Options.Timeout says.
package redislimit

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghlkit/ghlkit/sandbox"
)

// DefaultPrefix namespaces the keys unless Options.Prefix says otherwise.
// It is apart from the SDK limiter's (ghl/redislimit, "ghlkit:ratelimit"),
// so that an application and its sandbox can share one Redis.
const DefaultPrefix = "ghlkit:sandbox:ratelimit:"

// DefaultTimeout bounds each Redis call unless Options.Timeout says
// otherwise, so that a Redis that hangs delays requests by at most this
// before the server lets them through.
const DefaultTimeout = 500 * time.Millisecond

// Options configure a Limiter.
type Options struct {
	// Prefix is prepended to every key; DefaultPrefix when empty. Sandboxes
	// that must not share budgets use different prefixes.
	Prefix string
	// Now, when set, is the clock of the windows instead of the Redis
	// server's (see the package documentation).
	Now func() time.Time
	// Timeout bounds each Redis call; DefaultTimeout when zero, none when
	// negative.
	Timeout time.Duration
}

// Limiter is a sandbox.Limiter on Redis. It is safe for concurrent use.
type Limiter struct {
	rdb  redis.UniversalClient
	cfg  sandbox.RateLimitConfig
	opts Options
	// Fixed script arguments: burst, interval (ms), daily.
	burst, interval, daily string
}

var _ sandbox.Limiter = (*Limiter)(nil)

// New returns a Limiter with cfg's limits (GHL's where zero) on rdb, a
// *redis.Client or a *redis.ClusterClient (each key is one hash, so every
// script touches a single slot). The caller owns rdb and closes it.
func New(rdb redis.UniversalClient, cfg sandbox.RateLimitConfig, opts Options) *Limiter {
	cfg = cfg.WithDefaults()
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	return &Limiter{
		rdb: rdb, cfg: cfg, opts: opts,
		burst:    strconv.Itoa(cfg.Burst),
		interval: strconv.FormatInt(max(cfg.Interval.Milliseconds(), 1), 10),
		daily:    strconv.Itoa(cfg.Daily),
	}
}

// clockLua sets now (ms): ARGV[1] when the caller passed a clock, else
// the Redis server's.
const clockLua = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local day = math.floor(now / 86400000)
`

// takeScript counts one request. KEYS[1] the key's hash; ARGV now (ms, or
// "" for the Redis clock), burst, interval (ms), daily. It answers
// {allowed 0|1, count, dayCount, retryAfter ms}, the counts after the
// request. As in sandbox.RateLimiter, a window that has closed restarts
// at now even when the request is then refused by the daily cap.
var takeScript = redis.NewScript(clockLua + `
local burst, interval, daily = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local h = redis.call('HMGET', KEYS[1], 's', 'c', 'd', 'dc')
local s, c, d, dc = tonumber(h[1]), tonumber(h[2]) or 0, tonumber(h[3]), tonumber(h[4]) or 0
if not s or now - s >= interval then s, c = now, 0 end
if d ~= day then d, dc = day, 0 end
local allowed, retry = 0, 0
if dc >= daily then
  retry = (day + 1) * 86400000 - now
elseif c >= burst then
  -- capped at interval: under a caller's clock a skewed process may have
  -- opened the window in its future
  retry = math.min(s + interval - now, interval)
else
  allowed, c, dc = 1, c + 1, dc + 1
end
redis.call('HSET', KEYS[1], 's', s, 'c', c, 'd', d, 'dc', dc)
redis.call('PEXPIRE', KEYS[1], math.max(math.max(s + interval, (day + 1) * 86400000) - now, 1))
return {allowed, c, dc, retry}
`)

// peekScript reads a key's counts in its current windows. KEYS[1] the
// hash; ARGV now (or ""), interval (ms). It answers {count, dayCount}.
var peekScript = redis.NewScript(clockLua + `
local h = redis.call('HMGET', KEYS[1], 's', 'c', 'd', 'dc')
local count, dayCount = 0, 0
if h[1] and now - tonumber(h[1]) < tonumber(ARGV[2]) then count = tonumber(h[2]) end
if h[3] and tonumber(h[3]) == day then dayCount = tonumber(h[4]) end
return {count, dayCount}
`)

// Config returns the limits, GHL's where they were zero.
func (l *Limiter) Config() sandbox.RateLimitConfig { return l.cfg }

// Prefix returns the key prefix.
func (l *Limiter) Prefix() string { return l.opts.Prefix }

// Key returns the Redis key of a rate-limit key.
func (l *Limiter) Key(key string) string { return l.opts.Prefix + key }

// now is the script's clock argument: the caller's clock in ms, or "" for
// the Redis server's.
func (l *Limiter) now() string {
	if l.opts.Now == nil {
		return ""
	}
	return strconv.FormatInt(l.opts.Now().UnixMilli(), 10)
}

func (l *Limiter) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if l.opts.Timeout < 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, l.opts.Timeout)
}

// Take counts one request for key if it is within both limits.
func (l *Limiter) Take(ctx context.Context, key string) (sandbox.RateStatus, error) {
	ctx, cancel := l.withTimeout(ctx)
	defer cancel()
	v, err := ints(takeScript.Run(ctx, l.rdb, []string{l.Key(key)}, l.now(), l.burst, l.interval, l.daily), 4)
	if err != nil {
		return sandbox.RateStatus{}, fmt.Errorf("redislimit: take %q: %w", key, err)
	}
	return sandbox.RateStatus{
		Allowed:        v[0] == 1,
		Limit:          l.cfg.Burst,
		Remaining:      max(l.cfg.Burst-int(v[1]), 0),
		Interval:       l.cfg.Interval,
		DailyLimit:     l.cfg.Daily,
		DailyRemaining: max(l.cfg.Daily-int(v[2]), 0),
		RetryAfter:     time.Duration(v[3]) * time.Millisecond,
	}, nil
}

// Peek returns key's counts without consuming budget.
func (l *Limiter) Peek(ctx context.Context, key string) (count, dayCount int, err error) {
	ctx, cancel := l.withTimeout(ctx)
	defer cancel()
	v, err := ints(peekScript.Run(ctx, l.rdb, []string{l.Key(key)}, l.now(), l.interval), 2)
	if err != nil {
		return 0, 0, fmt.Errorf("redislimit: peek %q: %w", key, err)
	}
	return int(v[0]), int(v[1]), nil
}

// Clear deletes every key under the prefix, on every master of a cluster.
// Keys of other prefixes are left alone.
func (l *Limiter) Clear(ctx context.Context) error {
	var err error
	if cc, ok := l.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return l.clear(ctx, c) })
	} else {
		err = l.clear(ctx, l.rdb)
	}
	if err != nil {
		return fmt.Errorf("redislimit: clear: %w", err)
	}
	return nil
}

func (l *Limiter) clear(ctx context.Context, c redis.Cmdable) error {
	pattern := globEscape(l.opts.Prefix) + "*"
	var cursor uint64
	for {
		sctx, cancel := l.withTimeout(ctx)
		keys, next, err := c.Scan(sctx, cursor, pattern, 500).Result()
		if err == nil && len(keys) > 0 {
			// One UNLINK per key: a cluster refuses multi-key commands
			// across slots.
			_, err = c.Pipelined(sctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Unlink(sctx, k)
				}
				return nil
			})
		}
		cancel()
		if err != nil {
			return err
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// Check verifies that Redis answers and lets the limiter write: it loads
// the scripts (so the first requests need no EVAL fallback) and counts one
// request on a probe key of its own, deleted at once and set to expire
// within an interval anyway. Call it at start to fail fast on a wrong
// address or password, a server without scripting, or a read-only
// replica, which would answer every Take with an error, so that the
// server, failing open, would never limit anything. Unlike the other
// methods it is bounded by ctx alone, as a first connection may take
// longer than Options.Timeout.
func (l *Limiter) Check(ctx context.Context) error {
	for _, s := range []*redis.Script{takeScript, peekScript} {
		if err := s.Load(ctx, l.rdb).Err(); err != nil {
			return fmt.Errorf("redislimit: %w", err)
		}
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	probe := l.Key(fmt.Sprintf("check:%x", b))
	// The probe's clock is one second before a UTC midnight, so that the
	// key's expiry (the later of the interval window's end and midnight)
	// is at most an interval away should the DEL below not happen.
	now := strconv.FormatInt(probeMidnight.Add(-time.Second).UnixMilli(), 10)
	if _, err := ints(takeScript.Run(ctx, l.rdb, []string{probe}, now, l.burst, l.interval, l.daily), 4); err != nil {
		if redis.IsReadOnlyError(err) {
			return fmt.Errorf("redislimit: Redis refuses writes (a read-only replica? give the master's address): %w", err)
		}
		return fmt.Errorf("redislimit: %w", err)
	}
	if err := l.rdb.Del(ctx, probe).Err(); err != nil {
		return fmt.Errorf("redislimit: %w", err)
	}
	return nil
}

// probeMidnight is a UTC midnight for Check's probe clock.
var probeMidnight = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// FailFast sets the options of a Limiter's client that go-redis's
// defaults leave unfit for a limiter on every request's path, unless they
// are set already: one dial attempt per connection instead of five 100 ms
// apart (DialerRetries), no command retries (MaxRetries -1), a dial
// timeout of DialTimeout instead of 5 s, and ContextTimeoutEnabled, without
// which a Redis that hangs holds a request for the client's ReadTimeout (5
// s) rather than for Options.Timeout. With Redis down a request then waits
// for one refused dial, not for Options.Timeout. It returns opt.
//
//	opt, err := redis.ParseURL(url)
//	rdb := redis.NewClient(redislimit.FailFast(opt))
func FailFast(opt *redis.Options) *redis.Options {
	if opt.DialerRetries <= 0 {
		opt.DialerRetries = 1
	}
	if opt.MaxRetries == 0 {
		opt.MaxRetries = -1
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = DialTimeout
	}
	opt.ContextTimeoutEnabled = true
	return opt
}

// DialTimeout is FailFast's dial timeout: long enough for a TLS handshake
// across a region, short enough that a start on a host that drops packets
// fails within seconds.
const DialTimeout = 2 * time.Second

// globEscape quotes SCAN MATCH's special characters.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ints reads a script's answer: an array of n integers.
func ints(cmd *redis.Cmd, n int) ([]int64, error) {
	v, err := cmd.Int64Slice()
	if err != nil {
		return nil, err
	}
	if len(v) != n {
		return nil, fmt.Errorf("script answered %d values, want %d", len(v), n)
	}
	return v, nil
}
