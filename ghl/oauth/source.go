package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// ErrRefreshFailed is matched by the error of a token whose refresh failed
// before: its refresh token is not tried again.
var ErrRefreshFailed = errors.New("ghl/oauth: token refresh failed earlier; reauthorize the app")

// ErrNoResource is returned for a request that names no location or company.
var ErrNoResource = errors.New("ghl/oauth: request names no location or company (use ghl.WithLocation)")

// RefreshError is a failed refresh of the token of one location or company.
type RefreshError struct {
	Key Key
	Err error
}

// Error implements error.
func (e *RefreshError) Error() string {
	return fmt.Sprintf("ghl/oauth: refresh token of %s: %v", e.Key, e.Err)
}

// Unwrap returns the cause.
func (e *RefreshError) Unwrap() error { return e.Err }

// TokenSource supplies access tokens per location and company from a
// TokenStore, refreshing them when they are about to expire or when GHL
// rejects one. It satisfies ghl.TokenSource and ghl.TokenRefresher; give it
// to ghl.NewClient with ghl.WithTokenSource.
//
// Refreshes of one key are single-flight within the TokenSource and run
// inside TokenStore.Update, whose lock serializes them with every other
// process sharing the store: whoever gets the lock second finds the token
// already rotated and uses it without calling GHL. A refresh that reached
// GHL and failed is recorded in the store, reported to OnRefreshError and
// returned; it is not retried with the same refresh token. A location
// token minted from an agency token (no refresh token) is minted again
// from the agency token when it expires.
//
// Set the fields before first use; the zero value of the others is fine.
type TokenSource struct {
	Config *Config
	Store  TokenStore
	// OnRefreshError is called once per failed refresh attempt, with the
	// location id (the company id for an agency token) and the error.
	OnRefreshError func(locationID string, err error)
	// ExpiryMargin is how long before expiry a token is refreshed;
	// default 1 minute.
	ExpiryMargin time.Duration
	// RefreshTimeout bounds a refresh, which runs to completion even when
	// the caller that started it gives up; default 30s.
	RefreshTimeout time.Duration
	Logger         *slog.Logger

	sf    singleflight.Group
	mu    sync.Mutex
	cache map[Key]*Token
}

// NewTokenSource returns a TokenSource for cfg's app on store.
func NewTokenSource(cfg *Config, store TokenStore) *TokenSource {
	return &TokenSource{Config: cfg, Store: store}
}

func (s *TokenSource) margin() time.Duration {
	if s.ExpiryMargin > 0 {
		return s.ExpiryMargin
	}
	return time.Minute
}

func (s *TokenSource) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *TokenSource) cached(key Key) *Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache[key]
}

func (s *TokenSource) remember(key Key, t *Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache == nil {
		s.cache = make(map[Key]*Token)
	}
	if t == nil {
		delete(s.cache, key)
		return
	}
	s.cache[key] = t
}

func keyOf(userType, id string) (Key, error) {
	if id == "" {
		return Key{}, ErrNoResource
	}
	if userType == "" {
		userType = UserTypeLocation
	}
	return Key{UserType: userType, ID: id}, nil
}

// Token returns a valid access token for the location (userType
// "Location") or company ("Company") id, refreshing it first if it expires
// within ExpiryMargin.
func (s *TokenSource) Token(ctx context.Context, userType, id string) (string, error) {
	key, err := keyOf(userType, id)
	if err != nil {
		return "", err
	}
	now := time.Now()
	if t := s.cached(key); t.ValidAt(now, s.margin()) {
		return t.AccessToken, nil
	}
	t, err := s.Store.Get(ctx, key)
	if err != nil {
		return "", err
	}
	if t.ValidAt(now, s.margin()) {
		s.remember(key, t)
		return t.AccessToken, nil
	}
	t, err = s.refresh(ctx, key, t.AccessToken)
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// Refresh returns a token to use instead of rejected, which GHL refused:
// the stored token if another refresh already replaced rejected, else a
// newly refreshed one.
func (s *TokenSource) Refresh(ctx context.Context, userType, id, rejected string) (string, error) {
	key, err := keyOf(userType, id)
	if err != nil {
		return "", err
	}
	t, err := s.refresh(ctx, key, rejected)
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// refresh replaces the token of key unless the stored one is valid and is
// not stale (the access token found expired or rejected).
func (s *TokenSource) refresh(ctx context.Context, key Key, stale string) (*Token, error) {
	ch := s.sf.DoChan(key.String(), func() (any, error) {
		// A refresh spends a single-use refresh token: finish it even if
		// the caller that started it goes away.
		timeout := s.RefreshTimeout
		if timeout <= 0 {
			timeout = 30 * time.Second
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
		defer cancel()
		return s.rotate(rctx, key, stale)
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Token), nil
	}
}

func (s *TokenSource) rotate(ctx context.Context, key Key, stale string) (*Token, error) {
	// A location token minted from an agency token is renewed with the
	// agency token, fetched (and maybe refreshed) before taking the
	// location's lock: taking the company's lock inside it could deadlock
	// on SQLite, whose lock covers the whole database.
	var agency string
	if cur, err := s.Store.Get(ctx, key); err == nil && cur.RefreshToken == "" && key.UserType == UserTypeLocation &&
		cur.CompanyID != "" && (cur.AccessToken == stale || !cur.ValidAt(time.Now(), s.margin())) {
		if agency, err = s.Token(ctx, UserTypeCompany, cur.CompanyID); err != nil {
			return nil, fmt.Errorf("ghl/oauth: agency token to renew %s: %w", key, err)
		}
	}
	attempted := false
	tok, err := s.Store.Update(ctx, key, func(cur *Token) (*Token, error) {
		switch {
		case cur == nil:
			return nil, ErrNoToken
		case cur.AccessToken != stale && cur.ValidAt(time.Now(), s.margin()):
			return nil, nil // rotated by someone else meanwhile
		case cur.RefreshError != "":
			return nil, &RefreshError{Key: key, Err: fmt.Errorf("%w: %s", ErrRefreshFailed, cur.RefreshError)}
		case cur.RefreshToken == "" && agency != "":
			t, err := s.Config.LocationToken(ctx, agency, cur.CompanyID, key.ID)
			if err != nil {
				return nil, fmt.Errorf("ghl/oauth: mint location token for %s: %w", key, err)
			}
			return t, nil
		case cur.RefreshToken == "":
			return nil, fmt.Errorf("ghl/oauth: token of %s expired and has no refresh token", key)
		}
		attempted = true
		userType := cur.UserType
		if userType == "" {
			userType = key.UserType
		}
		t, err := s.Config.Refresh(ctx, cur.RefreshToken, userType)
		if err != nil {
			rerr := &RefreshError{Key: key, Err: err}
			if neverSent(err) {
				return nil, rerr // GHL never saw the refresh token: it is still good
			}
			failed := *cur
			failed.RefreshError = err.Error()
			return &failed, rerr
		}
		// Keep what the refresh answer may omit.
		if t.LocationID == "" {
			t.LocationID = cur.LocationID
		}
		if t.CompanyID == "" {
			t.CompanyID = cur.CompanyID
		}
		if t.UserType == "" {
			t.UserType = userType
		}
		return t, nil
	})
	if err != nil {
		s.remember(key, nil)
		if attempted {
			s.logger().ErrorContext(ctx, "ghl/oauth: token refresh failed", "key", key.String(), "err", err)
			if s.OnRefreshError != nil {
				s.OnRefreshError(key.ID, err)
			}
		}
		return nil, err
	}
	if attempted {
		s.logger().InfoContext(ctx, "ghl/oauth: token refreshed", "key", key.String(), "expiry", tok.Expiry)
	}
	s.remember(key, tok)
	return tok, nil
}
