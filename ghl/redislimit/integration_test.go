package redislimit_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghlkit/ghlkit/ghl"
	"github.com/ghlkit/ghlkit/ghl/redislimit"
	"github.com/ghlkit/ghlkit/sandbox/sandboxtest"
)

// wireCounter counts the answers below the SDK's retry layer, so that a 429
// a retry hid still counts.
type wireCounter struct {
	base     http.RoundTripper
	total    atomic.Int64
	tooMany  atomic.Int64
	failures atomic.Int64
}

func (w *wireCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.base.RoundTrip(req)
	w.total.Add(1)
	switch {
	case err != nil || resp.StatusCode >= 500:
		w.failures.Add(1)
	case resp.StatusCode == http.StatusTooManyRequests:
		w.tooMany.Add(1)
	}
	return resp, err
}

// TestIntegrationSharedBudget runs 3 SDK clients, each with its own Redis
// connection as 3 processes would have, against one location of the
// sandbox with its limiter on, for GHLKIT_REDIS_LIMITER_SOAK (default 15s, in
// whole 5 s windows).
// They share one budget through the Redis limiter: no request may be
// answered 429, and together they must use most of the budget. The limits
// are 50 per 5 s rather than GHL's 100 per 10 s so that the run crosses two
// window boundaries in little CI time; the limiter is configured with them as a
// deployment is configured with GHL's.
func TestIntegrationSharedBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test; runs without -short")
	}
	url := sandboxtest.RedisURL(t)
	d := 15 * time.Second
	if v := os.Getenv("GHLKIT_REDIS_LIMITER_SOAK"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d <= 0 {
			t.Fatalf("GHLKIT_REDIS_LIMITER_SOAK=%q: want a duration such as 30s", v)
		}
	}
	const burst, interval = 50, 5 * time.Second
	sb := sandboxtest.New(t, sandboxtest.WithRateLimit(burst, interval, 0))
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "ghlkit-test:" + hex.EncodeToString(b)
	t.Cleanup(func() {
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		ctx := context.Background()
		for it := rdb.Scan(ctx, 0, "{"+prefix+":*", 100).Iterator(); it.Next(ctx); {
			rdb.Del(ctx, it.Val())
		}
	})

	wire := &wireCounter{base: sb.HTTP.Client().Transport}
	clients := make([]*ghl.Client, 3)
	for i := range clients {
		rdb := redis.NewClient(opt)
		t.Cleanup(func() { rdb.Close() })
		if err := rdb.Ping(t.Context()).Err(); err != nil {
			t.Fatalf("redis: %v", err)
		}
		lim := redislimit.New(rdb, redislimit.Options{Prefix: prefix, Max: burst, Interval: interval})
		clients[i] = sb.NewClient(t, ghl.WithHTTPClient(&http.Client{Transport: wire}), ghl.WithRateLimiter(lim),
			ghl.WithPrivateIntegrationToken(sb.Token), ghl.WithDefaultLocation(sb.LocationID))
	}

	// Whole windows, so that the share of the budget used is meaningful;
	// stop just before the next would open.
	windows := max(1, int(d/interval))
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(windows)*interval-50*time.Millisecond)
	defer cancel()
	start := time.Now()
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for ci, c := range clients {
		for g := range 2 {
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					res, err := c.Contacts.Upsert(ctx, ghl.UpsertContactParams{CreateContactParams: ghl.CreateContactParams{
						LocationID: sb.LocationID, Email: fmt.Sprintf("shared-%d-%d-%d@example.com", ci, g, i%20), FirstName: fmt.Sprint(i)}})
					if err == nil {
						var got *ghl.Contact
						if got, err = c.Contacts.Get(ctx, res.Contact.ID); err == nil && got.FirstName != fmt.Sprint(i) {
							err = fmt.Errorf("read back firstName %q, want %d", got.FirstName, i)
						}
					}
					if err != nil && ctx.Err() == nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err)
					}
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("%s (%d windows of %s): %d requests from 3 clients, %d answered 429, %d failed calls, %.1f%% of the budget of %d a window",
		elapsed.Round(time.Millisecond), windows, interval, wire.total.Load(), wire.tooMany.Load(), failed.Load(),
		float64(wire.total.Load())/float64(windows*burst)*100, burst)
	if n := wire.tooMany.Load(); n != 0 {
		t.Errorf("%d requests answered 429", n)
	}
	if n := sb.Requests(t, "")[http.StatusTooManyRequests]; n != 0 {
		t.Errorf("the sandbox counted %d 429s", n)
	}
	if n := failed.Load(); n != 0 {
		t.Errorf("%d calls failed; first: %v", n, firstErr.Load())
	}
	if n := wire.failures.Load(); n != 0 {
		t.Errorf("%d requests failed on the wire", n)
	}
	if want := int64(burst * windows * 3 / 4); wire.total.Load() < want {
		t.Errorf("only %d requests in %s; want at least %d", wire.total.Load(), elapsed, want)
	}
}
