package redislimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"math/big"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/redislimit"
	"github.com/ghlkit/ghlkit/sandbox/sandboxtest"
)

// newRedis connects to GHLKIT_TEST_REDIS_URL, skipping the test when it is
// unset (failing it when GHLKIT_REQUIRE_SERVICES=1).
func newRedis(t *testing.T) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(sandboxtest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("redis: %v", err)
	}
	return rdb
}

// testPrefix is a key prefix of the test's own, so that parallel runs on
// one Redis never share keys.
func testPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "ghlkit-test:sandbox:" + hex.EncodeToString(b) + ":"
}

// newLimiter returns a Limiter on rdb under a fresh prefix, its keys
// deleted at cleanup. now nil uses the Redis clock.
func newLimiter(t *testing.T, rdb redis.UniversalClient, cfg sandbox.RateLimitConfig, now func() time.Time) *redislimit.Limiter {
	t.Helper()
	return newLimiterPrefix(t, rdb, cfg, now, testPrefix())
}

func newLimiterPrefix(t *testing.T, rdb redis.UniversalClient, cfg sandbox.RateLimitConfig, now func() time.Time, prefix string) *redislimit.Limiter {
	t.Helper()
	l := redislimit.New(rdb, cfg, redislimit.Options{Prefix: prefix, Now: now})
	t.Cleanup(func() {
		if err := l.Clear(context.Background()); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return l
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func take(t *testing.T, l sandbox.Limiter, key string) sandbox.RateStatus {
	t.Helper()
	st, err := l.Take(t.Context(), key)
	if err != nil {
		t.Fatalf("Take(%q): %v", key, err)
	}
	return st
}

func peek(t *testing.T, l sandbox.Limiter, key string) (int, int) {
	t.Helper()
	c, d, err := l.Peek(t.Context(), key)
	if err != nil {
		t.Fatalf("Peek(%q): %v", key, err)
	}
	return c, d
}

// checkSemantics is the sandbox's TestRateLimiter for any Limiter on clk
// (at 2026-03-10 12:00 UTC) with Burst 3, Interval 1s, Daily 5: a burst
// per interval window, a daily cap across windows, per-key budgets,
// refusals that cost nothing, Retry-After to the window's end or to
// midnight UTC, and Clear.
func checkSemantics(t *testing.T, l sandbox.Limiter, clk *clock) {
	t.Helper()
	for i := range 3 {
		st := take(t, l, "a")
		if !st.Allowed || st.Remaining != 2-i || st.DailyRemaining != 4-i || st.Limit != 3 || st.DailyLimit != 5 || st.Interval != time.Second || st.RetryAfter != 0 {
			t.Fatalf("request %d: %+v", i+1, st)
		}
	}
	clk.Advance(400 * time.Millisecond)
	for range 3 { // refused three times: none of them costs anything
		st := take(t, l, "a")
		if st.Allowed || st.Remaining != 0 || st.RetryAfter != 600*time.Millisecond || st.DailyRemaining != 2 {
			t.Fatalf("4th request in the window: %+v", st)
		}
	}
	if st := take(t, l, "b"); !st.Allowed || st.Remaining != 2 || st.DailyRemaining != 4 {
		t.Errorf("another key shares the budget: %+v", st)
	}
	if used, day := peek(t, l, "a"); used != 3 || day != 3 {
		t.Errorf("usage %d/%d, want 3/3 (refusals are free)", used, day)
	}
	if used, day := peek(t, l, "never"); used != 0 || day != 0 {
		t.Errorf("usage of an unseen key %d/%d", used, day)
	}
	clk.Advance(600 * time.Millisecond)
	if used, day := peek(t, l, "a"); used != 0 || day != 3 {
		t.Errorf("usage once the window closed %d/%d, want 0/3", used, day)
	}
	for i := range 2 {
		if st := take(t, l, "a"); !st.Allowed || st.DailyRemaining != 1-i || st.Remaining != 2-i {
			t.Fatalf("new window, request %d: %+v", i+1, st)
		}
	}
	clk.Advance(time.Second)
	noon := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for range 2 {
		st := take(t, l, "a")
		if st.Allowed || st.DailyRemaining != 0 || st.Remaining != 3 || st.RetryAfter != noon.Add(12*time.Hour).Sub(clk.Now()) {
			t.Fatalf("daily cap in a fresh window: %+v", st)
		}
	}
	if used, day := peek(t, l, "a"); used != 0 || day != 5 {
		t.Errorf("usage at the daily cap %d/%d, want 0/5", used, day)
	}
	clk.Advance(12 * time.Hour)
	if st := take(t, l, "a"); !st.Allowed || st.DailyRemaining != 4 || st.Remaining != 2 {
		t.Errorf("next UTC day: %+v", st)
	}
	if err := l.Clear(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if used, day := peek(t, l, k); used != 0 || day != 0 {
			t.Errorf("usage of %s after Clear %d/%d", k, used, day)
		}
	}
	if st := take(t, l, "a"); !st.Allowed || st.Remaining != 2 || st.DailyRemaining != 4 {
		t.Errorf("after Clear: %+v", st)
	}
}

var small = sandbox.RateLimitConfig{Enabled: true, Burst: 3, Interval: time.Second, Daily: 5}

// TestSemantics runs the same checks on the in-memory limiter and on
// Redis: same expectations, same answers.
func TestSemantics(t *testing.T) {
	start := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	t.Run("memory", func(t *testing.T) {
		clk := newClock(start)
		checkSemantics(t, sandbox.NewRateLimiter(small, clk.Now), clk)
	})
	t.Run("redis", func(t *testing.T) {
		clk := newClock(start)
		checkSemantics(t, newLimiter(t, newRedis(t), small, clk.Now), clk)
	})
}

// TestDefaults: zero limits are GHL's.
func TestDefaults(t *testing.T) {
	l := newLimiter(t, newRedis(t), sandbox.RateLimitConfig{Enabled: true}, nil)
	cfg := l.Config()
	if !cfg.Enabled || cfg.Burst != 100 || cfg.Interval != 10*time.Second || cfg.Daily != 200_000 {
		t.Errorf("Config %+v", cfg)
	}
	if st := take(t, l, "x"); !st.Allowed || st.Limit != 100 || st.Remaining != 99 || st.Interval != 10*time.Second || st.DailyLimit != 200_000 || st.DailyRemaining != 199_999 {
		t.Errorf("GHL's defaults: %+v", st)
	}
	if redislimit.New(nil, sandbox.RateLimitConfig{}, redislimit.Options{}).Prefix() != redislimit.DefaultPrefix {
		t.Error("default prefix")
	}
}

// TestMatchesMemoryLimiter drives the Redis limiter and the in-memory one
// with the same random requests, peeks and clock steps (across midnight
// UTC) and wants the same answer every time.
func TestMatchesMemoryLimiter(t *testing.T) {
	rdb := newRedis(t)
	clk := newClock(time.Date(2026, 3, 10, 23, 59, 50, 0, time.UTC))
	cfg := sandbox.RateLimitConfig{Enabled: true, Burst: 4, Interval: 1500 * time.Millisecond, Daily: 9}
	mem := sandbox.NewRateLimiter(cfg, clk.Now)
	red := newLimiter(t, rdb, cfg, clk.Now)
	n := func(max int64) int64 {
		v, _ := rand.Int(rand.Reader, big.NewInt(max))
		return v.Int64()
	}
	keys := []string{"app:x|loc1", "token:y|loc1", "app:x|loc2"}
	var burstRefusals, dailyRefusals int
	for step := range 600 {
		key := keys[n(int64(len(keys)))]
		switch r := n(100); {
		case r < 65:
			want := take(t, mem, key)
			if got := take(t, red, key); got != want {
				t.Fatalf("step %d at %s, Take(%s): redis %+v, memory %+v", step, clk.Now().Format(time.RFC3339Nano), key, got, want)
			}
			switch {
			case !want.Allowed && want.DailyRemaining == 0:
				dailyRefusals++
			case !want.Allowed:
				burstRefusals++
			}
		case r < 80:
			wc, wd := peek(t, mem, key)
			if c, d := peek(t, red, key); c != wc || d != wd {
				t.Fatalf("step %d, Peek(%s): redis %d/%d, memory %d/%d", step, key, c, d, wc, wd)
			}
		case r < 99:
			clk.Advance(time.Duration(n(700)) * time.Millisecond)
		default:
			clk.Advance(time.Duration(n(30)) * time.Hour)
		}
	}
	days := int(clk.Now().Sub(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
	t.Logf("%d burst refusals, %d daily refusals, %d midnights crossed", burstRefusals, dailyRefusals, days)
}

// TestConcurrentTakes: many requests at once from two limiters (two
// processes) on one key: exactly the burst is let through.
func TestConcurrentTakes(t *testing.T) {
	rdb := newRedis(t)
	prefix := testPrefix()
	cfg := sandbox.RateLimitConfig{Enabled: true, Burst: 25, Interval: time.Minute, Daily: 1000}
	lims := []*redislimit.Limiter{newLimiterPrefix(t, rdb, cfg, nil, prefix), newLimiterPrefix(t, newRedis(t), cfg, nil, prefix)}
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			st, err := lims[i%2].Take(context.Background(), "k")
			if err != nil {
				t.Error(err)
			} else if st.Allowed {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	if allowed.Load() != 25 {
		t.Errorf("%d requests allowed, want 25", allowed.Load())
	}
	if c, d := peek(t, lims[0], "k"); c != 25 || d != 25 {
		t.Errorf("usage %d/%d, want 25/25", c, d)
	}
}

// TestKeyExpiry: a key lives until both its windows close — midnight UTC,
// or the end of an interval window running past it — then Redis drops it.
func TestKeyExpiry(t *testing.T) {
	rdb := newRedis(t)
	ctx := t.Context()

	clk := newClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	l := newLimiter(t, rdb, small, clk.Now)
	take(t, l, "noon")
	if ttl := rdb.PTTL(ctx, l.Key("noon")).Val(); ttl <= 12*time.Hour-time.Minute || ttl > 12*time.Hour {
		t.Errorf("TTL at noon %s, want 12h (to midnight UTC)", ttl)
	}

	late := newClock(time.Date(2026, 3, 10, 23, 59, 59, 800_000_000, time.UTC))
	l2 := newLimiter(t, rdb, sandbox.RateLimitConfig{Enabled: true, Burst: 3, Interval: 500 * time.Millisecond, Daily: 5}, late.Now)
	take(t, l2, "late")
	if ttl := rdb.PTTL(ctx, l2.Key("late")).Val(); ttl <= 250*time.Millisecond || ttl > 500*time.Millisecond {
		t.Errorf("TTL of a window running past midnight %s, want 500ms", ttl)
	}
	deadline := time.Now().Add(3 * time.Second)
	for rdb.Exists(ctx, l2.Key("late")).Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("the key did not expire")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisClock: without Options.Now the windows follow the Redis
// server's clock.
func TestRedisClock(t *testing.T) {
	rdb := newRedis(t)
	l := newLimiter(t, rdb, sandbox.RateLimitConfig{Enabled: true, Burst: 2, Interval: 600 * time.Millisecond, Daily: 3}, nil)
	take(t, l, "k")
	take(t, l, "k")
	st := take(t, l, "k")
	if st.Allowed || st.RetryAfter <= 0 || st.RetryAfter > 600*time.Millisecond {
		t.Fatalf("3rd request: %+v", st)
	}
	time.Sleep(st.RetryAfter + 20*time.Millisecond)
	if st := take(t, l, "k"); !st.Allowed || st.Remaining != 1 || st.DailyRemaining != 0 {
		t.Fatalf("after the interval: %+v", st)
	}
	time.Sleep(620 * time.Millisecond)
	st = take(t, l, "k")
	rt, err := rdb.Time(t.Context()).Result()
	if err != nil {
		t.Fatal(err)
	}
	midnight := rt.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	if st.Allowed || st.DailyRemaining != 0 || (st.RetryAfter-midnight.Sub(rt)).Abs() > time.Second {
		t.Errorf("daily cap: %+v, want Retry-After ≈ %s (to midnight UTC by Redis's clock)", st, midnight.Sub(rt))
	}
}

// TestClear deletes the limiter's keys and only those.
func TestClear(t *testing.T) {
	rdb := newRedis(t)
	ctx := t.Context()
	base := testPrefix()
	mine := newLimiterPrefix(t, rdb, small, nil, base+"a:")
	other := newLimiterPrefix(t, rdb, small, nil, base+"b:")
	// A prefix with glob characters matches only itself.
	glob := newLimiterPrefix(t, rdb, small, nil, base+"[x]*")
	lookalike := newLimiterPrefix(t, rdb, small, nil, base+"x")
	for i := range 1200 { // more than one SCAN page
		if _, err := mine.Take(ctx, "k"+string(rune('a'+i%26))+hex.EncodeToString([]byte{byte(i), byte(i >> 8)})); err != nil {
			t.Fatal(err)
		}
	}
	take(t, other, "k")
	take(t, glob, "k")
	take(t, lookalike, "k")
	if err := mine.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(rdb.Keys(ctx, base+"a:*").Val()); n != 0 {
		t.Errorf("%d keys left after Clear", n)
	}
	if c, _ := peek(t, other, "k"); c != 1 {
		t.Errorf("Clear removed another prefix's key")
	}
	if err := glob.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if c, _ := peek(t, lookalike, "k"); c != 1 {
		t.Errorf("Clear of a prefix with glob characters removed another's key")
	}
	if c, _ := peek(t, glob, "k"); c != 0 {
		t.Errorf("Clear of a prefix with glob characters kept its key")
	}
}

// TestCheck: Check passes on a live Redis, leaving no key behind, and
// names the failure on a dead address.
func TestCheck(t *testing.T) {
	rdb := newRedis(t)
	l := newLimiter(t, rdb, small, nil)
	if err := l.Check(t.Context()); err != nil {
		t.Errorf("Check: %v", err)
	}
	if keys := rdb.Keys(t.Context(), l.Prefix()+"*").Val(); len(keys) != 0 {
		t.Errorf("Check left keys behind: %v", keys)
	}
	dead := redis.NewClient(redislimit.FailFast(&redis.Options{Addr: closedAddr(t)}))
	defer dead.Close()
	if err := redislimit.New(dead, small, redislimit.Options{}).Check(t.Context()); err == nil {
		t.Error("Check on a dead address passed")
	}
}

// TestCheckReadOnly: a read-only replica loads scripts and answers reads,
// but refuses every Take; Check must fail on it, saying why.
func TestCheckReadOnly(t *testing.T) {
	rdb := redis.NewClient(redislimit.FailFast(&redis.Options{Addr: startReplica(t)}))
	defer rdb.Close()
	err := redislimit.New(rdb, small, redislimit.Options{}).Check(t.Context())
	if err == nil || !strings.Contains(err.Error(), "read-only replica") || !redis.IsReadOnlyError(err) {
		t.Errorf("Check on a read-only replica: %v, want a READONLY error naming the replica", err)
	}
}

// TestFailFast: with FailFast's options a Take on a Redis that is down
// fails at once, not after go-redis's five dial attempts (400 ms of
// backoff); and one on a Redis that accepts connections but never answers
// fails after Options.Timeout, not after the client's 5 s read timeout.
// Neither needs a Redis.
func TestFailFast(t *testing.T) {
	down := redis.NewClient(redislimit.FailFast(&redis.Options{Addr: closedAddr(t)}))
	defer down.Close()
	l := redislimit.New(down, small, redislimit.Options{})
	for i := range 3 {
		start := time.Now()
		if _, err := l.Take(t.Context(), "k"); err == nil {
			t.Fatal("Take on a closed port passed")
		}
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("Take %d on a closed port took %s, want a single refused dial", i+1, d)
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	hung := redis.NewClient(redislimit.FailFast(&redis.Options{Addr: ln.Addr().String()}))
	defer hung.Close()
	l = redislimit.New(hung, small, redislimit.Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	if _, err := l.Take(t.Context(), "k"); err == nil {
		t.Fatal("Take on a Redis that never answers passed")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Take on a Redis that never answers took %s, want about the 200 ms timeout", d)
	}

	opt := redislimit.FailFast(&redis.Options{MaxRetries: 2, DialTimeout: time.Second, DialerRetries: 3})
	if opt.MaxRetries != 2 || opt.DialTimeout != time.Second || opt.DialerRetries != 3 || !opt.ContextTimeoutEnabled {
		t.Errorf("FailFast on options already set: MaxRetries %d, DialTimeout %s, DialerRetries %d, ContextTimeoutEnabled %t; want 2, 1s, 3, true",
			opt.MaxRetries, opt.DialTimeout, opt.DialerRetries, opt.ContextTimeoutEnabled)
	}
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startReplica starts a throwaway redis-server, a replica of a master that
// does not exist (so read-only, and touching no other Redis), on a port of
// 18350-18359, and returns its address. It skips the test when
// redis-server is not installed.
func startReplica(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	for port := 18350; port <= 18359; port++ {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--replicaof", "127.0.0.1", "1",
			"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--logfile", "")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		if replicaUp(t, addr, cmd.Process.Pid, exited) {
			t.Cleanup(stop)
			return addr
		}
		stop()
	}
	t.Skip("no free port in 18350-18359 for a redis-server replica")
	return ""
}

// replicaUp waits for the redis-server of process pid to answer on addr:
// false when it exits first (another holds the port) or takes over 5 s.
func replicaUp(t *testing.T, addr string, pid int, exited <-chan struct{}) bool {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
	defer rdb.Close()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			return false
		default:
		}
		if info, err := rdb.Info(t.Context(), "server").Result(); err == nil && strings.Contains(info, "process_id:"+strconv.Itoa(pid)+"\r\n") {
			return true
		}
	}
	return false
}
