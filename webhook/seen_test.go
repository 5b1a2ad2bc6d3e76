package webhook

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is a settable clock, safe for concurrent use.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.set(testNow)
	return c
}
func (c *testClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// exerciseSeenStore is the behavior every SeenStore must have. newStore
// returns an empty store that reads the time from clock.
func exerciseSeenStore(t *testing.T, newStore func(t *testing.T, clock func() time.Time) SeenStore) {
	ctx := context.Background()
	seen := func(t *testing.T, s SeenStore, id string, ttl time.Duration, want bool) {
		t.Helper()
		dup, err := s.Seen(ctx, id, ttl)
		if err != nil {
			t.Fatalf("Seen(%q): %v", id, err)
		}
		if dup != want {
			t.Fatalf("Seen(%q) = %v, want %v", id, dup, want)
		}
	}

	t.Run("duplicate", func(t *testing.T) {
		c := newTestClock()
		s := newStore(t, c.now)
		seen(t, s, "a", time.Minute, false)
		seen(t, s, "a", time.Minute, true)
		seen(t, s, "b", time.Minute, false)
		seen(t, s, "a", time.Minute, true)
	})
	t.Run("expiry", func(t *testing.T) {
		c := newTestClock()
		s := newStore(t, c.now)
		seen(t, s, "a", time.Minute, false)
		c.advance(59 * time.Second)
		seen(t, s, "a", time.Minute, true) // not extended by the duplicate
		c.advance(time.Second)
		seen(t, s, "a", time.Minute, false)
		seen(t, s, "a", time.Minute, true)
	})
	t.Run("forget", func(t *testing.T) {
		c := newTestClock()
		s := newStore(t, c.now)
		seen(t, s, "a", time.Minute, false)
		if err := s.Forget(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		seen(t, s, "a", time.Minute, false)
		seen(t, s, "a", time.Minute, true)
		if err := s.Forget(ctx, "never seen"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("odd ids", func(t *testing.T) {
		c := newTestClock()
		s := newStore(t, c.now)
		for _, id := range []string{"'; DROP TABLE x; --", "ünïcödé 👋", "?", "$1", string(make([]byte, 300)), "nul\x00byte", "bad\xffutf8", "sha256:x", strings.Repeat("long", 100)} {
			seen(t, s, id, time.Minute, false)
			seen(t, s, id, time.Minute, true)
		}
	})
	t.Run("ttl must be positive", func(t *testing.T) {
		s := newStore(t, newTestClock().now)
		if _, err := s.Seen(ctx, "a", 0); err == nil {
			t.Error("Seen with ttl 0 succeeded")
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		c := newTestClock()
		s := newStore(t, c.now)
		const workers, ids = 8, 20
		var news atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Go(func() {
				for i := range ids {
					dup, err := s.Seen(ctx, fmt.Sprintf("id-%d", i), time.Minute)
					if err != nil {
						errs <- err
						return
					}
					if !dup {
						news.Add(1)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := news.Load(); got != ids {
			t.Errorf("%d ids reported new, want %d (each exactly once)", got, ids)
		}
	})
}

func TestMemorySeenStore(t *testing.T) {
	exerciseSeenStore(t, func(t *testing.T, clock func() time.Time) SeenStore {
		return NewMemorySeenStore(1000, WithMemoryClock(clock))
	})
}

func TestMemorySeenStoreBounded(t *testing.T) {
	ctx := context.Background()
	c := newTestClock()
	s := NewMemorySeenStore(3, WithMemoryClock(c.now))
	for i, id := range []string{"a", "b", "c"} {
		if _, err := s.Seen(ctx, id, time.Duration(i+1)*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	// Full: "d" evicts the id closest to expiry, "a".
	if dup, _ := s.Seen(ctx, "d", time.Hour); dup {
		t.Fatal("d reported duplicate")
	}
	if s.Len() != 3 {
		t.Fatalf("Len = %d, want 3", s.Len())
	}
	if dup, _ := s.Seen(ctx, "b", time.Hour); !dup {
		t.Error("b was evicted instead of a")
	}
	if dup, _ := s.Seen(ctx, "a", time.Hour); dup {
		t.Error("a was not evicted")
	}
	// Expired ids go before live ones.
	c.advance(3 * time.Minute)
	if dup, _ := s.Seen(ctx, "e", time.Hour); dup {
		t.Fatal("e reported duplicate")
	}
	for _, id := range []string{"d", "a", "e"} {
		if dup, _ := s.Seen(ctx, id, time.Hour); !dup {
			t.Errorf("%s was dropped", id)
		}
	}
	if NewMemorySeenStore(0).max != 1 {
		t.Error("capacity below 1 not raised to 1")
	}
}

func TestMemorySeenStoreForgetDoesNotLeak(t *testing.T) {
	ctx := context.Background()
	s := NewMemorySeenStore(10)
	for range 10000 {
		if _, err := s.Seen(ctx, "same", time.Hour); err != nil {
			t.Fatal(err)
		}
		_ = s.Forget(ctx, "same")
	}
	s.mu.Lock()
	n := s.queue.Len()
	s.mu.Unlock()
	if n > 100 {
		t.Errorf("expiry queue holds %d items for at most 1 id", n)
	}
}
