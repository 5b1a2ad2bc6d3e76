package webhook

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"
)

// A SeenStore remembers the webhookIds of accepted deliveries so that a
// redelivery or replay is detected. Implementations must be safe for
// concurrent use, and Seen must be atomic: of two concurrent calls with the
// same id, exactly one reports it as new.
type SeenStore interface {
	// Seen records id for ttl and reports whether it was already recorded
	// and not yet expired (a duplicate). A duplicate's expiry is not
	// extended.
	Seen(ctx context.Context, id string, ttl time.Duration) (dup bool, err error)
	// Forget removes id, so that its redelivery is accepted again. A
	// [Handler] calls it when a callback fails.
	Forget(ctx context.Context, id string) error
}

// DefaultMemorySeenStoreSize is the capacity of the [MemorySeenStore] that
// [NewVerifier] creates when no [SeenStore] is given.
const DefaultMemorySeenStoreSize = 100_000

// MemorySeenStore is a [SeenStore] in memory, for a single process. It holds
// at most a fixed number of ids: expired ids are dropped first, and when all
// are live the one closest to expiry is evicted (a duplicate of an evicted id
// goes undetected). It is safe for concurrent use.
type MemorySeenStore struct {
	mu      sync.Mutex
	max     int
	now     func() time.Time
	entries map[string]int64 // id -> expiry, Unix nanoseconds
	queue   expiryQueue      // may hold stale items, see Seen and Forget
}

// A MemorySeenStoreOption configures a [MemorySeenStore].
type MemorySeenStoreOption func(*MemorySeenStore)

// WithMemoryClock sets the function a [MemorySeenStore] reads the current
// time from; tests use it.
func WithMemoryClock(now func() time.Time) MemorySeenStoreOption {
	return func(s *MemorySeenStore) {
		if now != nil {
			s.now = now
		}
	}
}

// NewMemorySeenStore returns a MemorySeenStore holding at most maxEntries ids
// (at least 1).
func NewMemorySeenStore(maxEntries int, opts ...MemorySeenStoreOption) *MemorySeenStore {
	s := &MemorySeenStore{
		max:     max(maxEntries, 1),
		now:     time.Now,
		entries: map[string]int64{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Seen implements [SeenStore].
func (s *MemorySeenStore) Seen(_ context.Context, id string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errors.New("webhook: MemorySeenStore.Seen: ttl must be positive")
	}
	now := s.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	if exp, ok := s.entries[id]; ok && now < exp {
		return true, nil
	}
	s.expire(now)
	for len(s.entries) >= s.max && s.queue.Len() > 0 {
		it := heap.Pop(&s.queue).(expiryItem)
		if s.entries[it.id] == it.exp {
			delete(s.entries, it.id)
		}
	}
	exp := now + int64(ttl)
	s.entries[id] = exp
	heap.Push(&s.queue, expiryItem{id: id, exp: exp})
	// Forget leaves stale items behind; rebuild once they dominate.
	if s.queue.Len() > 2*len(s.entries)+64 {
		s.rebuild()
	}
	return false, nil
}

// Forget implements [SeenStore].
func (s *MemorySeenStore) Forget(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.entries, id) // its queue item turns stale
	return nil
}

// Len returns the number of ids held, including expired ones not yet dropped.
func (s *MemorySeenStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

func (s *MemorySeenStore) expire(now int64) {
	for s.queue.Len() > 0 && s.queue[0].exp <= now {
		it := heap.Pop(&s.queue).(expiryItem)
		if s.entries[it.id] == it.exp {
			delete(s.entries, it.id)
		}
	}
}

func (s *MemorySeenStore) rebuild() {
	s.queue = s.queue[:0]
	for id, exp := range s.entries {
		s.queue = append(s.queue, expiryItem{id: id, exp: exp})
	}
	heap.Init(&s.queue)
}

type expiryItem struct {
	id  string
	exp int64
}

// expiryQueue is a min-heap of expiry times.
type expiryQueue []expiryItem

func (q expiryQueue) Len() int           { return len(q) }
func (q expiryQueue) Less(i, j int) bool { return q[i].exp < q[j].exp }
func (q expiryQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *expiryQueue) Push(x any)        { *q = append(*q, x.(expiryItem)) }
func (q *expiryQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}
