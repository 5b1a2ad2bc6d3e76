package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ghlkit/ghlkit/sandbox"
)

// TestRateLimiter is the limiter alone: a burst per interval window, a
// daily cap across windows, per-key budgets, refusals that cost nothing.
func TestRateLimiter(t *testing.T) {
	clock := newTestClock()
	l := sandbox.NewRateLimiter(sandbox.RateLimitConfig{Enabled: true, Burst: 3, Interval: time.Second, Daily: 5}, clock.Now)
	usage := func(key string) (int, int) {
		t.Helper()
		c, d, err := l.Peek(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		return c, d
	}
	for i := range 3 {
		st := l.Allow("a")
		if !st.Allowed || st.Remaining != 2-i || st.DailyRemaining != 4-i || st.Limit != 3 || st.DailyLimit != 5 || st.Interval != time.Second {
			t.Fatalf("request %d: %+v", i+1, st)
		}
	}
	clock.Advance(400 * time.Millisecond)
	st := l.Allow("a")
	if st.Allowed || st.Remaining != 0 || st.RetryAfter != 600*time.Millisecond || st.DailyRemaining != 2 {
		t.Fatalf("4th request in the window: %+v", st)
	}
	if st := l.Allow("b"); !st.Allowed || st.Remaining != 2 {
		t.Errorf("another key shares the budget: %+v", st)
	}
	if used, day := usage("a"); used != 3 || day != 3 {
		t.Errorf("usage %d/%d, want 3/3 (refusals are free)", used, day)
	}
	clock.Advance(600 * time.Millisecond)
	for i := range 2 {
		if st := l.Allow("a"); !st.Allowed || st.DailyRemaining != 1-i {
			t.Fatalf("new window, request %d: %+v", i+1, st)
		}
	}
	clock.Advance(time.Second)
	st = l.Allow("a")
	noon := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	if st.Allowed || st.DailyRemaining != 0 || st.Remaining != 3 || st.RetryAfter != noon.Add(12*time.Hour).Sub(clock.Now()) {
		t.Fatalf("daily cap in a fresh window: %+v", st)
	}
	clock.Advance(12 * time.Hour)
	if st := l.Allow("a"); !st.Allowed || st.DailyRemaining != 4 {
		t.Errorf("next UTC day: %+v", st)
	}
	if err := l.Clear(t.Context()); err != nil {
		t.Fatal(err)
	}
	if used, day := usage("a"); used != 0 || day != 0 {
		t.Errorf("usage after Clear %d/%d", used, day)
	}
	def, err := sandbox.NewRateLimiter(sandbox.RateLimitConfig{}, nil).Take(t.Context(), "x")
	if err != nil || def.Limit != 100 || def.Interval != 10*time.Second || def.DailyLimit != 200_000 || !def.Allowed {
		t.Errorf("GHL's defaults: %+v", def)
	}
}

// wantRateHeaders checks the five X-RateLimit-* headers.
func wantRateHeaders(t *testing.T, res *response, remaining, dailyRemaining int) {
	t.Helper()
	want := map[string]string{
		"X-RateLimit-Max": "5", "X-RateLimit-Interval-Milliseconds": "1000", "X-RateLimit-Limit-Daily": "8",
		"X-RateLimit-Remaining": strconv.Itoa(remaining), "X-RateLimit-Daily-Remaining": strconv.Itoa(dailyRemaining),
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q (status %d)", k, got, v, res.Status)
		}
	}
}

// TestRateLimitHTTP runs GHL's limits, scaled down, through the API: 429
// with Retry-After after the burst, the budget back after the interval,
// the daily cap across windows, separate budgets per token, per app and
// per location, and the headers on every authenticated answer.
func TestRateLimitHTTP(t *testing.T) {
	clock := newTestClock()
	e := newTestEnv(t, func(c *sandbox.Config) {
		c.Now = clock.Now
		c.RateLimit = sandbox.RateLimitConfig{Enabled: true, Burst: 5, Interval: time.Second, Daily: 8}
	})
	ctx := context.Background()
	pit, pitTok, err := sandbox.CreatePrivateToken(ctx, e.Store, sandbox.PITParams{LocationID: e.L1})
	if err != nil {
		t.Fatal(err)
	}
	get := func(tok string) *response { return e.do("GET", "/locations/"+e.L1, tok, nil) }
	for i := range 5 {
		wantRateHeaders(t, get(pit).mustStatus(t, 200), 4-i, 7-i)
	}
	res := get(pit)
	wantError(t, res, 429, sandbox.MsgRateLimited)
	wantRateHeaders(t, res, 0, 3)
	if ra := res.Header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
	usage := e.do("GET", "/_ghlkit/ratelimit?tokenId="+pitTok.ID, "", nil).mustStatus(t, 200).JSON(t)
	if usage["key"] != "token:"+pitTok.ID+"|"+e.L1 || usage["used"] != float64(5) || usage["remaining"] != float64(0) || usage["dailyUsed"] != float64(5) ||
		usage["dailyRemaining"] != float64(3) || usage["enabled"] != true || usage["max"] != float64(5) || usage["intervalMilliseconds"] != float64(1000) {
		t.Errorf("usage %v", usage)
	}
	// Another token of the same location has its own budget.
	wantRateHeaders(t, get(e.TokL1).mustStatus(t, 200), 4, 7)

	// The burst comes back after the interval; the daily cap does not.
	clock.Advance(time.Second)
	for i := range 3 {
		wantRateHeaders(t, get(pit).mustStatus(t, 200), 4-i, 2-i)
	}
	res = get(pit)
	wantError(t, res, 429, sandbox.MsgRateLimited)
	wantRateHeaders(t, res, 2, 0)
	clock.Advance(time.Second)
	res = get(pit)
	wantError(t, res, 429, sandbox.MsgRateLimited)
	if ra := res.Header.Get("Retry-After"); ra != strconv.Itoa(12*3600-2) {
		t.Errorf("Retry-After at the daily cap %q, want the seconds to midnight UTC", ra)
	}
	// The admin API can give the budget back.
	e.do("DELETE", "/_ghlkit/ratelimit", "", nil).mustStatus(t, 200)
	wantRateHeaders(t, get(pit).mustStatus(t, 200), 4, 7)

	// OAuth tokens share their app's budget per location: two access
	// tokens of one app on L1 draw from one budget, the same app on L2 from
	// another.
	issue := func(loc string) string {
		var s string
		err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
			var err error
			s, err = sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenAccess, UserType: sandbox.UserTypeLocation, CompanyID: e.C1, LocationID: loc,
				AppID: "rateapp-12345678", Scopes: sandbox.AllScopes(), ExpiresAt: sandbox.Time{Time: clock.Now().Add(time.Hour)}}, clock.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a1, a2, b := issue(e.L1), issue(e.L1), issue(e.L2)
	for range 3 {
		get(a1).mustStatus(t, 200)
	}
	wantRateHeaders(t, get(a2).mustStatus(t, 200), 1, 4)
	wantRateHeaders(t, e.do("GET", "/locations/"+e.L2, b, nil).mustStatus(t, 200), 4, 7)
	if u := e.do("GET", "/_ghlkit/ratelimit?appId=rateapp-12345678&locationId="+e.L1, "", nil); u.Status != 404 {
		t.Errorf("usage of an unregistered app: %d", u.Status)
	}
	if u := e.do("GET", "/_ghlkit/ratelimit?key=app:rateapp-12345678|"+e.L1, "", nil).mustStatus(t, 200).JSON(t); u["used"] != float64(4) || u["dailyUsed"] != float64(4) {
		t.Errorf("app usage %v", u)
	}
	wantError(t, e.do("GET", "/_ghlkit/ratelimit", "", nil), 422, "key, tokenId or appId is required")

	// Every answer carries the headers, refusals included: those of the
	// caller's bucket once the token is known (a request with a valid token
	// counts, whatever its fate), else the limits with nothing used.
	wantRateHeaders(t, e.do("GET", "/contacts/"+sandbox.NewID(), e.TokL2, nil).mustStatus(t, 404), 4, 7)
	res = e.do("POST", "/contacts/", e.TokL2, map[string]any{"locationId": e.L1, "firstName": "X"})
	wantError(t, res, 403, sandbox.MsgLocation)
	wantRateHeaders(t, res, 3, 6)
	res = e.do("GET", "/locations/"+e.L1, e.TokL1Read, nil)
	wantError(t, res, 401, sandbox.MsgScope)
	wantRateHeaders(t, res, 4, 7)
	res = e.doH("GET", "/locations/"+e.L1, e.TokL1Read, nil, nil)
	wantError(t, res, 400, sandbox.MsgVersionHeader)
	wantRateHeaders(t, res, 3, 6)
	res = e.do("GET", "/locations/"+e.L1, "not-a-token", nil)
	wantError(t, res, 401, sandbox.MsgInvalidToken)
	wantRateHeaders(t, res, 5, 8)
	res = e.doH("GET", "/locations/"+e.L1, "", nil, nil)
	wantError(t, res, 400, sandbox.MsgVersionHeader)
	wantRateHeaders(t, res, 5, 8)
	res = e.do("GET", "/no/such/route", e.TokL1, nil)
	wantError(t, res, 404, "Cannot GET /no/such/route")
	wantRateHeaders(t, res, 5, 8)
	res = e.do("POST", "/oauth/token", "", "grant_type=nope")
	if res.Status < 400 {
		t.Errorf("bad grant answered %d", res.Status)
	}
	wantRateHeaders(t, res, 5, 8)
}

// TestRateLimitDisabled: with limits off no request is refused, and the
// headers report the limits with nothing used, so that clients reading them
// (the Go SDK's limiter does) never hold back.
func TestRateLimitDisabled(t *testing.T) {
	e := newTestEnv(t, func(c *sandbox.Config) { c.RateLimit = sandbox.RateLimitConfig{Burst: 1, Daily: 1} })
	for range 3 {
		res := e.do("GET", "/locations/"+e.L1, e.TokL1, nil).mustStatus(t, 200)
		if h, d := res.Header.Get("X-RateLimit-Remaining"), res.Header.Get("X-RateLimit-Daily-Remaining"); h != "1" || d != "1" {
			t.Fatalf("headers with limits off: %v", res.Header)
		}
	}
	if u := e.do("GET", "/_ghlkit/ratelimit?key=x", "", nil).mustStatus(t, 200).JSON(t); u["enabled"] != false {
		t.Errorf("usage %v", u)
	}
}

// countingLimiter is a Limiter of the test's own: the memory limiter with
// every Take counted, or failing with err.
type countingLimiter struct {
	*sandbox.RateLimiter
	mu    sync.Mutex
	takes int
	err   error
}

func (l *countingLimiter) Take(ctx context.Context, key string) (sandbox.RateStatus, error) {
	l.mu.Lock()
	l.takes++
	err := l.err
	l.mu.Unlock()
	if err != nil {
		return sandbox.RateStatus{}, err
	}
	return l.RateLimiter.Take(ctx, key)
}

// Takes is the number of Take calls.
func (l *countingLimiter) Takes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.takes
}

// SetErr makes the limiter fail with err, or work when err is nil.
func (l *countingLimiter) SetErr(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.err = err
}

func (l *countingLimiter) Peek(ctx context.Context, key string) (int, int, error) {
	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	if err != nil {
		return 0, 0, err
	}
	return l.RateLimiter.Peek(ctx, key)
}

func (l *countingLimiter) Clear(ctx context.Context) error {
	l.mu.Lock()
	err := l.err
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return l.RateLimiter.Clear(ctx)
}

// TestConfigLimiter: a Limiter in Config.Limiter replaces the built-in
// one, and its limits replace Config.RateLimit.
func TestConfigLimiter(t *testing.T) {
	clock := newTestClock()
	lim := &countingLimiter{RateLimiter: sandbox.NewRateLimiter(sandbox.RateLimitConfig{Enabled: true, Burst: 5, Interval: time.Second, Daily: 8}, clock.Now)}
	e := newTestEnv(t, func(c *sandbox.Config) {
		c.RateLimit = sandbox.RateLimitConfig{Burst: 1, Daily: 1} // off, and ignored
		c.Limiter = lim
	})
	if e.Server.Limiter() != sandbox.Limiter(lim) {
		t.Errorf("Server.Limiter() is not Config.Limiter")
	}
	for i := range 5 {
		wantRateHeaders(t, e.do("GET", "/locations/"+e.L1, e.TokL1, nil).mustStatus(t, 200), 4-i, 7-i)
	}
	res := e.do("GET", "/locations/"+e.L1, e.TokL1, nil)
	wantError(t, res, 429, sandbox.MsgRateLimited)
	wantRateHeaders(t, res, 0, 3)
	wantRateHeaders(t, e.do("GET", "/no/such/route", e.TokL1, nil), 5, 8)
	lim.mu.Lock()
	if lim.takes != 6 {
		t.Errorf("the server took %d times from Config.Limiter, want 6", lim.takes)
	}
	lim.mu.Unlock()
	if u := e.do("GET", "/_ghlkit/ratelimit?key=x", "", nil).mustStatus(t, 200).JSON(t); u["enabled"] != true || u["max"] != float64(5) {
		t.Errorf("usage %v: the limits are the Limiter's", u)
	}
}

// TestRateLimitFailOpen: a failing Limiter (Redis down) lets every request
// through with the Idle headers, counts each, and warns once; it is asked
// once, the requests that follow within the pause are not made to wait for
// it; the admin API answers 500.
func TestRateLimitFailOpen(t *testing.T) {
	lim := &countingLimiter{RateLimiter: sandbox.NewRateLimiter(sandbox.RateLimitConfig{Enabled: true, Burst: 5, Interval: time.Second, Daily: 8}, nil),
		err: errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")}
	reg := prometheus.NewRegistry()
	logs := &lockedLog{}
	e := newTestEnv(t, func(c *sandbox.Config) {
		c.Limiter, c.Registry, c.Logger = lim, reg, slog.New(slog.NewTextHandler(logs, nil))
	})
	start := time.Now()
	for range 7 {
		wantRateHeaders(t, e.do("GET", "/locations/"+e.L1, e.TokL1, nil).mustStatus(t, 200), 5, 8)
	}
	if lim.Takes() != 1 && time.Since(start) < 900*time.Millisecond {
		t.Errorf("the limiter was asked %d times within the pause after its failure, want once", lim.Takes())
	}
	wantError(t, e.do("GET", "/_ghlkit/ratelimit?key=x", "", nil), 500, "Internal Server Error")
	wantError(t, e.do("DELETE", "/_ghlkit/ratelimit", "", nil), 500, "Internal Server Error")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "ghlkit_sandbox_ratelimit_errors_total" {
			for _, m := range mf.GetMetric() {
				got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if got["take"] != 7 || got["peek"] != 1 || got["clear"] != 1 {
		t.Errorf("ghlkit_sandbox_ratelimit_errors_total %v, want take 7, peek 1, clear 1", got)
	}
	if n := strings.Count(logs.String(), "fail open"); n != 1 || !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("%d fail-open warnings, want 1 naming the error:\n%s", n, logs.String())
	}
}

// TestRateLimitPause: after a failure the server stops asking the
// Limiter for a second, letting requests through (and counting them) as
// when it fails; then one request asks it again: a failure pauses it once
// more, a success resumes limiting.
func TestRateLimitPause(t *testing.T) {
	lim := &countingLimiter{RateLimiter: sandbox.NewRateLimiter(sandbox.RateLimitConfig{Enabled: true, Burst: 5, Interval: time.Second, Daily: 8}, nil)}
	lim.SetErr(errors.New("dial tcp 127.0.0.1:6379: connect: connection refused"))
	reg := prometheus.NewRegistry()
	e := newTestEnv(t, func(c *sandbox.Config) {
		c.Limiter, c.Registry, c.Logger = lim, reg, slog.New(slog.DiscardHandler)
	})
	get := func() *response {
		t.Helper()
		return e.do("GET", "/locations/"+e.L1, e.TokL1, nil)
	}
	// burst sends n requests, all let through untouched; the limiter must
	// be asked want times in all, unless the requests outlasted the pause.
	burst := func(what string, n, want int) {
		t.Helper()
		start := time.Now()
		for range n {
			wantRateHeaders(t, get().mustStatus(t, 200), 5, 8)
		}
		if got := lim.Takes(); got != want && time.Since(start) < 800*time.Millisecond {
			t.Fatalf("%s: the limiter was asked %d times in all, want %d", what, got, want)
		}
	}
	burst("failing", 10, 1)
	time.Sleep(1100 * time.Millisecond)
	burst("still failing after the pause", 10, 2)
	time.Sleep(1100 * time.Millisecond)
	lim.SetErr(nil)
	for i := range 5 {
		wantRateHeaders(t, get().mustStatus(t, 200), 4-i, 7-i)
	}
	wantError(t, get(), 429, sandbox.MsgRateLimited)
	if lim.Takes() != 8 {
		t.Errorf("the limiter was asked %d times in all, want 8 (2 failing, then every request)", lim.Takes())
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "ghlkit_sandbox_ratelimit_errors_total" {
			if n := mf.GetMetric()[0].GetCounter().GetValue(); n != 20 {
				t.Errorf("requests let through counted %v, want 20", n)
			}
		}
	}
}

// lockedLog is a log sink that handlers and the test may share.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
