// Package redislimit is a ghl.Limiter kept in Redis, so that every process
// calling GHL for the same locations spends one shared budget. It lives
// apart from package ghl so that the SDK does not depend on go-redis.
//
// Per key (location or company) it keeps, under one hash tag so that a
// Redis Cluster holds them on one shard:
//
//	{prefix:key}:log      sorted set of the send times of every process's
//	                      requests in the last interval (a sliding log: at
//	                      most Max per Interval, whatever GHL's alignment)
//	{prefix:key}:lim      what GHL's latest answers leave: X-RateLimit-
//	                      Remaining less the requests sent after the
//	                      answered one and still in flight, expiring one
//	                      interval after the answer
//	{prefix:key}:sent     sorted set of the requests let through and not
//	                      yet answered, by send time
//	{prefix:key}:cfg      Max and Interval learned from the headers
//	{prefix:key}:daily    present while GHL says the daily budget is spent
//
// Each Wait and each answer is one Lua script, so the check and the update
// are atomic across processes; times come from Redis's clock.
//
// Compared with ghl.MemoryLimiter it keeps a single GHL constraint per key
// (the tightest, dropping a looser one that would outlive it) and does not
// hold back a fresh process until its first answer.
package redislimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/ghlkit/ghlkit/ghl"
	"github.com/redis/go-redis/v9"
)

// Options configure a Limiter. Zero fields take GHL's documented limits.
type Options struct {
	// Prefix namespaces the keys; default "ghlkit:ratelimit".
	Prefix string
	// Max requests per Interval before the headers say otherwise; default 100.
	Max int
	// Interval is the burst window; default 10s.
	Interval time.Duration
	// InflightTTL bounds how long a request that never reported back (its
	// process died) counts as in flight; default 1 minute.
	InflightTTL time.Duration
}

// Limiter implements ghl.Limiter on Redis.
type Limiter struct {
	rdb    redis.Scripter
	opts   Options
	wait   *redis.Script
	answer *redis.Script
}

// New returns a Limiter on rdb (a *redis.Client, *redis.ClusterClient or
// any redis.Scripter).
func New(rdb redis.Scripter, opts Options) *Limiter {
	if opts.Prefix == "" {
		opts.Prefix = "ghlkit:ratelimit"
	}
	if opts.Max <= 0 {
		opts.Max = ghl.DefaultBurstMax
	}
	if opts.Interval <= 0 {
		opts.Interval = ghl.DefaultBurstInterval
	}
	if opts.InflightTTL <= 0 {
		opts.InflightTTL = time.Minute
	}
	return &Limiter{rdb: rdb, opts: opts, wait: redis.NewScript(waitLua), answer: redis.NewScript(answerLua)}
}

func (l *Limiter) keys(key string) []string {
	base := "{" + l.opts.Prefix + ":" + key + "}:"
	return []string{base + "log", base + "lim", base + "sent", base + "cfg", base + "daily"}
}

// waitLua returns {1, 0} when the request may go (and records it),
// {0, ms} when it must wait ms, {-2, ms} when the daily budget is spent
// for ms more.
const waitLua = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dttl = redis.call('PTTL', KEYS[5])
if dttl > 0 then return {-2, dttl} end
local max = tonumber(redis.call('HGET', KEYS[4], 'max') or ARGV[1])
local interval = tonumber(redis.call('HGET', KEYS[4], 'interval') or ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - interval)
local n = redis.call('ZCARD', KEYS[1])
if n >= max then
  local oldest = redis.call('ZRANGE', KEYS[1], n - max, n - max, 'WITHSCORES')
  return {0, math.max(tonumber(oldest[2]) + interval - now, 1)}
end
local rem = redis.call('GET', KEYS[2])
if rem and tonumber(rem) <= 0 then
  local p = redis.call('PTTL', KEYS[2])
  if p == 0 then p = 1 elseif p < 0 then p = interval end -- 0: expires within the millisecond
  return {0, p}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], interval)
if rem then redis.call('DECR', KEYS[2]) end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[4]))
redis.call('ZADD', KEYS[3], now, ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return {1, 0}
`

// answerLua applies one answer: ARGV max, interval ms, remaining (-1 if
// unknown), retry-after ms, daily block ms (0 if the budget is not spent),
// default interval ms, the answered request's member.
//
// GHL's Remaining already counts every request it served before this one;
// of the requests still in flight, only those sent after the answered one
// can still spend budget unseen. Subtracting all in-flight requests (as an
// earlier version did) double-counts and wastes up to one slot per request
// in flight every window.
const answerLua = `
local sent = redis.call('ZSCORE', KEYS[3], ARGV[7])
redis.call('ZREM', KEYS[3], ARGV[7])
local inflight
if sent then
  -- inclusive: a request sent in the same millisecond may have come later
  inflight = redis.call('ZCOUNT', KEYS[3], sent, '+inf')
else
  inflight = redis.call('ZCARD', KEYS[3])
end
local max, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
if max > 0 and interval > 0 then
  redis.call('HSET', KEYS[4], 'max', max, 'interval', interval)
  redis.call('PEXPIRE', KEYS[4], 86400000)
end
interval = tonumber(redis.call('HGET', KEYS[4], 'interval') or ARGV[6])
local remaining = tonumber(ARGV[3])
if remaining >= 0 then
  local r = math.max(remaining - inflight, 0)
  local ttl = interval
  if remaining == 0 and tonumber(ARGV[4]) > 0 then ttl = tonumber(ARGV[4]) end
  local cur = redis.call('GET', KEYS[2])
  if not cur or tonumber(cur) >= r then
    redis.call('SET', KEYS[2], r, 'PX', ttl)
  end
end
if tonumber(ARGV[5]) > 0 then redis.call('SET', KEYS[5], 1, 'PX', ARGV[5]) end
return 1
`

// Wait implements ghl.Limiter.
func (l *Limiter) Wait(ctx context.Context, key string) (func(ghl.RateLimit), error) {
	keys := l.keys(key)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		member := make([]byte, 12)
		rand.Read(member)
		res, err := l.wait.Run(ctx, l.rdb, keys, l.opts.Max, l.opts.Interval.Milliseconds(), hex.EncodeToString(member), l.opts.InflightTTL.Milliseconds()).Int64Slice()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("redislimit: %w", err)
		}
		d := time.Duration(res[1]) * time.Millisecond
		switch res[0] {
		case 1:
			m := hex.EncodeToString(member)
			return func(rl ghl.RateLimit) { l.observe(keys, m, rl) }, nil
		case -2:
			return nil, &ghl.RateLimitError{Daily: true, RetryAfter: d, ResetAt: time.Now().Add(d),
				RateLimit: ghl.RateLimit{Max: -1, Remaining: -1, DailyLimit: -1, DailyRemaining: 0}}
		}
		if timer == nil {
			timer = time.NewTimer(d)
		} else {
			timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

func (l *Limiter) observe(keys []string, member string, rl ghl.RateLimit) {
	var daily time.Duration
	if rl.DailyExhausted() {
		daily = rl.RetryAfter
		if daily <= 0 {
			now := time.Now().UTC()
			daily = time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC).Sub(now)
		}
	}
	// The answer must be recorded even if the request's context is done.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// An error here leaves the key's in-flight count high until its TTL:
	// the limiter errs on the slow side.
	_ = l.answer.Run(ctx, l.rdb, keys, rl.Max, rl.Interval.Milliseconds(), rl.Remaining,
		rl.RetryAfter.Milliseconds(), daily.Milliseconds(), l.opts.Interval.Milliseconds(), member).Err()
}
