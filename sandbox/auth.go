package sandbox

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ghlkit/ghlkit/sandbox/spec"
)

// Token types.
const (
	TokenPIT     = "pit"     // Private Integration Token
	TokenAccess  = "access"  // OAuth access token
	TokenRefresh = "refresh" // OAuth refresh token (single use)
)

// User types of a token, as OAuth's user_type names them.
const (
	UserTypeLocation = "Location"
	UserTypeCompany  = "Company"
)

// Token is a stored credential. The secret itself is never stored: the
// record's Key is its SHA-256 (HashSecret), compared in constant time.
type Token struct {
	ID         string   `json:"id"`
	Type       string   `json:"type"`
	Name       string   `json:"name,omitempty"`
	UserType   string   `json:"userType"`
	CompanyID  string   `json:"companyId"`
	LocationID string   `json:"locationId,omitempty"`
	AppID      string   `json:"appId,omitempty"` // the marketplace app (client id) of OAuth tokens
	UserID     string   `json:"userId,omitempty"`
	Scopes     []string `json:"scopes"`
	Hash       string   `json:"hash"`
	CreatedAt  Time     `json:"createdAt"`
	ExpiresAt  Time     `json:"expiresAt,omitzero"` // zero: never (PITs), omitted
	Revoked    bool     `json:"revoked,omitempty"`
	// Used marks a refresh token that was exchanged; reuse is invalid_grant.
	Used bool `json:"used,omitempty"`
	// AccessID links a refresh token to the access token issued with it.
	AccessID string `json:"accessId,omitempty"`
}

// Auth is the authenticated caller of a request.
type Auth struct {
	Token  *Token
	scopes map[string]bool
	server *Server
}

// HasScope reports whether the token carries the scope.
func (a *Auth) HasScope(scope string) bool { return a.scopes[scope] }

// IsLocation reports whether this is a sub-account token.
func (a *Auth) IsLocation() bool { return a.Token.UserType == UserTypeLocation }

// RateKey identifies the caller for rate limiting: GHL limits each
// marketplace app (or, for a PIT, the token) per location or company.
func (a *Auth) RateKey() string {
	resource := a.Token.LocationID
	if !a.IsLocation() {
		resource = a.Token.CompanyID
	}
	if a.Token.AppID != "" {
		return "app:" + a.Token.AppID + "|" + resource
	}
	return "token:" + a.Token.ID + "|" + resource
}

// CheckLocation returns a 403 error unless the caller may act on the
// location: a location token only on its own, an agency token on the
// locations of its company. Operations without auth pass.
func (r *Request) CheckLocation(locationID string) error {
	if r.Auth == nil || locationID == "" {
		return nil
	}
	t := r.Auth.Token
	if t.UserType == UserTypeLocation {
		if t.LocationID != locationID {
			return Errorf(EFORBIDDEN, "%s", MsgLocation)
		}
		return nil
	}
	company, err := r.server.locationCompany(r.Context(), locationID)
	if err != nil {
		if IsNotFound(err) {
			return Errorf(EFORBIDDEN, "%s", MsgLocation)
		}
		return err
	}
	if company != t.CompanyID {
		return Errorf(EFORBIDDEN, "%s", MsgLocation)
	}
	return nil
}

// CheckCompany returns a 403 error unless the caller belongs to the company.
func (r *Request) CheckCompany(companyID string) error {
	if r.Auth == nil || companyID == "" {
		return nil
	}
	if r.Auth.Token.CompanyID != companyID {
		return Errorf(EFORBIDDEN, "The token does not have access to this company")
	}
	return nil
}

// locationCompany returns the company owning a location (cached: a
// location never changes company).
func (s *Server) locationCompany(ctx context.Context, locationID string) (string, error) {
	if c, ok := s.tokens.locCompany(locationID); ok {
		return c, nil
	}
	var loc Location
	err := s.read(ctx, func(tx Tx) error { return GetRecordAs(ctx, tx, KindLocation, locationID, &loc) })
	if err != nil {
		return "", err
	}
	s.tokens.setLocCompany(locationID, loc.CompanyID)
	return loc.CompanyID, nil
}

// authenticate resolves the Authorization header to a live token.
func (s *Server) authenticate(ctx context.Context, header string) (*Auth, error) {
	raw, ok := strings.CutPrefix(header, "Bearer ")
	if !ok {
		raw, ok = strings.CutPrefix(header, "bearer ")
	}
	raw = strings.TrimSpace(raw)
	if !ok || raw == "" {
		return nil, &Error{Code: EUNAUTHORIZED, Message: MsgInvalidToken}
	}
	hash := HashSecret(raw)
	tok, found := s.tokens.get(hash, s.now())
	if !found {
		var err error
		tok, err = s.lookupToken(ctx, hash)
		if err != nil {
			return nil, err
		}
		s.tokens.put(hash, tok, s.now())
	}
	if tok == nil || subtle.ConstantTimeCompare([]byte(tok.Hash), []byte(hash)) != 1 {
		return nil, &Error{Code: EUNAUTHORIZED, Message: MsgInvalidToken}
	}
	if tok.Revoked || tok.Type == TokenRefresh {
		return nil, &Error{Code: EUNAUTHORIZED, Message: MsgInvalidToken}
	}
	if !tok.ExpiresAt.IsZero() && !s.now().Before(tok.ExpiresAt.Time) {
		return nil, &Error{Code: EUNAUTHORIZED, Message: MsgInvalidToken}
	}
	a := &Auth{Token: tok, scopes: make(map[string]bool, len(tok.Scopes)), server: s}
	for _, sc := range tok.Scopes {
		a.scopes[sc] = true
	}
	return a, nil
}

// lookupToken finds a token by hash; (nil, nil) when there is none.
func (s *Server) lookupToken(ctx context.Context, hash string) (*Token, error) {
	var tok *Token
	err := s.readLoose(ctx, func(tx Tx) error {
		recs, err := tx.ListRecords(ctx, RecordQuery{Kind: KindToken, Key: hash, Limit: 1})
		if err != nil || len(recs) == 0 {
			return err
		}
		tok = new(Token)
		return json.Unmarshal(recs[0].Data, tok)
	})
	return tok, err
}

// authorize checks the token's class and scopes against the operation's
// security alternatives.
func authorize(op *spec.Operation, a *Auth) error {
	classOK := false
	for _, alt := range op.Security {
		if !classMatches(alt.Class, a.Token) {
			continue
		}
		classOK = true
		all := true
		for _, sc := range alt.Scopes {
			if !a.scopes[sc] {
				all = false
				break
			}
		}
		if all {
			return nil
		}
	}
	if len(op.Security) == 0 {
		return nil
	}
	if !classOK {
		return &Error{Code: EUNAUTHORIZED, Message: MsgAuthClass}
	}
	return &Error{Code: EUNAUTHORIZED, Message: MsgScope}
}

func classMatches(c spec.TokenClass, t *Token) bool {
	switch c {
	case spec.Location:
		return t.UserType == UserTypeLocation
	case spec.LocationOAuthOnly:
		return t.UserType == UserTypeLocation && t.Type == TokenAccess
	case spec.Agency:
		return t.UserType == UserTypeCompany
	case spec.AgencyOAuthOnly:
		return t.UserType == UserTypeCompany && t.Type == TokenAccess
	}
	return false
}

// AllScopes returns every scope any spec operation requires, plus the
// documented scopes no operation names; a demo token carries them all.
func AllScopes() []string {
	seen := map[string]bool{}
	for _, op := range spec.MustOperations() {
		for _, sc := range op.Scopes() {
			seen[sc] = true
		}
	}
	for _, sc := range []string{"workflows.readonly", "forms.readonly", "forms.write", "conversations.readonly", "conversations.write",
		"calendars.readonly", "calendars.write", "opportunities.readonly", "opportunities.write", "campaigns.readonly",
		"courses.write", "snapshots.readonly", "saas/location.read", "saas/location.write", "saas/company.write"} {
		seen[sc] = true
	}
	out := make([]string, 0, len(seen))
	for sc := range seen {
		out = append(out, sc)
	}
	sort.Strings(out)
	return out
}

// ScopeKnown reports whether a scope is one GHL defines.
func ScopeKnown(scope string) bool {
	for _, s := range AllScopes() {
		if s == scope {
			return true
		}
	}
	return false
}

// IssueToken stores t (filling ID, Hash, CreatedAt) and returns the secret
// the caller presents. Access tokens are JWT-shaped like GHL's, so clients
// that decode them find authClass and authClassId; the sandbox never trusts
// their content, only the stored hash.
func IssueToken(ctx context.Context, tx Tx, t *Token, now time.Time) (string, error) {
	if t.ID == "" {
		t.ID = NewID()
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = Time{now.UTC().Truncate(time.Millisecond)}
	}
	var secret string
	switch t.Type {
	case TokenPIT:
		r := strings.ToLower(randomString(32))
		secret = "pit-" + r[0:8] + "-" + r[8:12] + "-" + r[12:16] + "-" + r[16:20] + "-" + r[20:32]
	case TokenAccess:
		secret = jwtShaped(t, now)
	default:
		secret = strings.ToLower(randomString(8)) + "-" + randomString(40)
	}
	return secret, StoreToken(ctx, tx, t, secret)
}

// StoreToken stores t under the hash of a secret the caller chose (the
// demo seed's well-known tokens); IssueToken is the usual way in. It fills
// Hash and, when empty, ID and CreatedAt.
func StoreToken(ctx context.Context, tx Tx, t *Token, secret string) error {
	if t.ID == "" {
		t.ID = NewID()
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = Now()
	}
	t.Hash = HashSecret(secret)
	data, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return tx.PutRecord(ctx, &Record{Kind: KindToken, ID: t.ID, LocationID: t.LocationID, CompanyID: t.CompanyID, ParentID: t.AppID, Key: t.Hash, CreatedAt: t.CreatedAt.Time, UpdatedAt: t.CreatedAt.Time, Data: data})
}

func jwtShaped(t *Token, now time.Time) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	classID := t.LocationID
	if t.UserType == UserTypeCompany {
		classID = t.CompanyID
	}
	claims := map[string]any{
		"authClass": t.UserType, "authClassId": classID, "source": "INTEGRATION", "sourceId": t.AppID,
		"channel": "OAUTH", "primaryAuthClassId": classID,
		"oauthMeta": map[string]any{"scopes": t.Scopes, "client": t.AppID},
		"iat":       now.Unix(), "exp": t.ExpiresAt.Unix(), "jti": t.ID,
	}
	payload, _ := json.Marshal(claims)
	return header + "." + enc.EncodeToString(payload) + "." + randomString(43)
}

// tokenCache keeps recently resolved tokens for a few seconds so a hot
// client does not cost a store read per request. Revocations in this
// process evict at once; other processes see them within the TTL.
type tokenCache struct {
	ttl   time.Duration
	mu    sync.RWMutex
	byKey map[string]cachedToken
	locs  map[string]string
}

type cachedToken struct {
	tok *Token
	at  time.Time
}

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, byKey: map[string]cachedToken{}, locs: map[string]string{}}
}

func (c *tokenCache) get(hash string, now time.Time) (*Token, bool) {
	c.mu.RLock()
	e, ok := c.byKey[hash]
	c.mu.RUnlock()
	if !ok || now.Sub(e.at) > c.ttl || e.tok == nil {
		return nil, false
	}
	return e.tok, true
}

func (c *tokenCache) put(hash string, t *Token, now time.Time) {
	if t == nil {
		return
	}
	c.mu.Lock()
	if len(c.byKey) > 100_000 {
		c.byKey = map[string]cachedToken{}
	}
	c.byKey[hash] = cachedToken{tok: t, at: now}
	c.mu.Unlock()
}

// Evict drops a token from the cache (after revocation or refresh).
func (c *tokenCache) evict(hash string) {
	c.mu.Lock()
	delete(c.byKey, hash)
	c.mu.Unlock()
}

func (c *tokenCache) locCompany(loc string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.locs[loc]
	return v, ok
}

func (c *tokenCache) setLocCompany(loc, company string) {
	c.mu.Lock()
	c.locs[loc] = company
	c.mu.Unlock()
}

// InvalidateToken evicts a token hash from the server's auth cache.
func (s *Server) InvalidateToken(hash string) { s.tokens.evict(hash) }
