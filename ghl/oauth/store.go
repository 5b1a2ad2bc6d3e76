package oauth

import (
	"context"
	"errors"
	"sync"
)

// ErrNoToken is returned by a TokenStore that holds no token for a key.
var ErrNoToken = errors.New("ghl/oauth: no token stored")

// Key names a stored token: a location's (UserTypeLocation, locationId) or
// an agency's (UserTypeCompany, companyId).
type Key struct {
	UserType string
	ID       string
}

// String returns "Location:<id>" or "Company:<id>".
func (k Key) String() string { return k.UserType + ":" + k.ID }

// TokenStore keeps tokens per location and company.
type TokenStore interface {
	// Get returns the token of key, or ErrNoToken.
	Get(ctx context.Context, key Key) (*Token, error)
	// Put stores tok under key, replacing what was there.
	Put(ctx context.Context, key Key, tok *Token) error
	// Delete removes the token of key; deleting nothing is not an error.
	Delete(ctx context.Context, key Key) error
	// Update calls fn with the token of key (nil if none) while holding a
	// lock that keeps every other Update of key waiting, in this process
	// and, for stores shared between processes, in the others. If fn
	// returns a token, it is stored before the lock is released, even when
	// fn also returns an error. Update returns what fn returned, or the
	// current token when fn returned none.
	//
	// TokenSource refreshes inside fn, so that a refresh token is used once.
	Update(ctx context.Context, key Key, fn func(cur *Token) (*Token, error)) (*Token, error)
}

// MemoryStore is a TokenStore in process memory, for tests and single
// processes.
type MemoryStore struct {
	mu     sync.Mutex
	tokens map[Key]Token
	locks  map[Key]*sync.Mutex
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{tokens: make(map[Key]Token), locks: make(map[Key]*sync.Mutex)}
}

// Get implements TokenStore.
func (s *MemoryStore) Get(_ context.Context, key Key) (*Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[key]
	if !ok {
		return nil, ErrNoToken
	}
	return &t, nil
}

// Put implements TokenStore.
func (s *MemoryStore) Put(_ context.Context, key Key, tok *Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[key] = *tok
	return nil
}

// Delete implements TokenStore.
func (s *MemoryStore) Delete(_ context.Context, key Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, key)
	return nil
}

// Update implements TokenStore.
func (s *MemoryStore) Update(ctx context.Context, key Key, fn func(cur *Token) (*Token, error)) (*Token, error) {
	s.mu.Lock()
	l := s.locks[key]
	if l == nil {
		l = new(sync.Mutex)
		s.locks[key] = l
	}
	s.mu.Unlock()
	l.Lock()
	defer l.Unlock()
	cur, err := s.Get(ctx, key)
	if err != nil && !errors.Is(err, ErrNoToken) {
		return nil, err
	}
	next, err := fn(cur)
	if next == nil {
		return cur, err
	}
	if perr := s.Put(ctx, key, next); perr != nil {
		return nil, errors.Join(err, perr)
	}
	return next, err
}
