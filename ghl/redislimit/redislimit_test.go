package redislimit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/ghl"
	"github.com/redis/go-redis/v9"
)

var _ ghl.Limiter = (*Limiter)(nil)

// newRedis connects to GHLKIT_TEST_REDIS_URL, skipping the test when it is
// unset unless GHLKIT_REQUIRE_SERVICES=1. It returns the client and a key
// prefix of this test alone; the keys are deleted afterwards.
func newRedis(t *testing.T) (*redis.Client, string) {
	t.Helper()
	u := os.Getenv("GHLKIT_TEST_REDIS_URL")
	if u == "" {
		if os.Getenv("GHLKIT_REQUIRE_SERVICES") == "1" {
			t.Fatal("GHLKIT_TEST_REDIS_URL is not set and GHLKIT_REQUIRE_SERVICES=1")
		}
		t.Skip("GHLKIT_TEST_REDIS_URL not set")
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("redis: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "ghlkit-test:" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, "{"+prefix+":*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
		rdb.Close()
	})
	return rdb, prefix
}

// sent counts how many Waits across limiters succeed within d.
func sent(t *testing.T, lims []*Limiter, key string, tries int, d time.Duration) int {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	var n atomic.Int32
	var wg sync.WaitGroup
	for i := range tries {
		wg.Go(func() {
			if _, err := lims[i%len(lims)].Wait(ctx, key); err == nil {
				n.Add(1)
			} else if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Wait: %v", err)
			}
		})
	}
	wg.Wait()
	return int(n.Load())
}

// TestSharedBudget: two limiters (two processes) share Max per Interval.
func TestSharedBudget(t *testing.T) {
	rdb, prefix := newRedis(t)
	opts := Options{Prefix: prefix, Max: 5, Interval: 2 * time.Second}
	a, b := New(rdb, opts), New(rdb, opts)
	if n := sent(t, []*Limiter{a, b}, "Location:l1", 12, 500*time.Millisecond); n != 5 {
		t.Errorf("%d requests went out in one window of 5", n)
	}
	if n := sent(t, []*Limiter{a, b}, "Location:l2", 3, 500*time.Millisecond); n != 3 {
		t.Errorf("another location: %d of 3", n)
	}
}

// TestHeadersShared: GHL's answer to one process bounds the other.
func TestHeadersShared(t *testing.T) {
	rdb, prefix := newRedis(t)
	a, b := New(rdb, Options{Prefix: prefix}), New(rdb, Options{Prefix: prefix})
	ctx := t.Context()
	done, err := a.Wait(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	done(ghl.RateLimit{Max: 100, Remaining: 2, Interval: 10 * time.Second, DailyLimit: -1, DailyRemaining: 5000})
	if n := sent(t, []*Limiter{b}, "k", 5, 300*time.Millisecond); n != 2 {
		t.Errorf("after GHL said 2 remain, the other process sent %d", n)
	}

	done, err = b.Wait(ctx, "daily")
	if err != nil {
		t.Fatal(err)
	}
	done(ghl.RateLimit{Max: 100, Remaining: 50, Interval: 10 * time.Second, DailyLimit: 200000, DailyRemaining: 0})
	start := time.Now()
	_, err = a.Wait(ctx, "daily")
	var rle *ghl.RateLimitError
	if !errors.As(err, &rle) || !rle.Daily || !errors.Is(err, ghl.ErrRateLimited) || rle.ResetAt.Before(time.Now()) {
		t.Fatalf("daily spent: err = %v", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("daily refusal took %v", time.Since(start))
	}
}

// TestTransportsShareServerBudget: two clients with their own transports
// and one Redis budget against a GHL-like server never get a 429.
func TestTransportsShareServerBudget(t *testing.T) {
	rdb, prefix := newRedis(t)
	var mu sync.Mutex
	var start time.Time
	used, rejected := 0, 0
	const max, interval = 6, 400 * time.Millisecond
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if time.Since(start) >= interval {
			start, used = time.Now(), 0
		}
		used++
		over := used > max
		if over {
			rejected++
		}
		rem := max - used
		mu.Unlock()
		w.Header().Set("X-RateLimit-Max", strconv.Itoa(max))
		w.Header().Set("X-RateLimit-Remaining", strconv.Itoa(rem))
		w.Header().Set("X-RateLimit-Interval-Milliseconds", strconv.Itoa(int(interval/time.Millisecond)))
		if over {
			w.WriteHeader(429)
		}
		io.WriteString(w, "{}")
	}))
	defer srv.Close()
	var wg sync.WaitGroup
	for p := range 2 {
		// The processes are configured with the server's limits: unlike
		// ghl.MemoryLimiter this one does not probe before the first answer.
		hc := &http.Client{Transport: &ghl.RateLimitTransport{Limiter: New(rdb, Options{Prefix: prefix, Max: max, Interval: interval})}}
		for range 4 {
			wg.Go(func() {
				for range 3 {
					req, _ := http.NewRequestWithContext(ghl.WithLocation(context.Background(), "loc1"), "GET", srv.URL, nil)
					resp, err := hc.Do(req)
					if err != nil {
						t.Errorf("process %d: %v", p, err)
						return
					}
					resp.Body.Close()
				}
			})
		}
	}
	wg.Wait()
	if rejected != 0 {
		t.Errorf("server answered 429 to %d of 24 requests", rejected)
	}
}
