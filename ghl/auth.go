package ghl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"golang.org/x/oauth2"
)

// TokenSource supplies access tokens per resource. userType is
// [UserTypeLocation] or [UserTypeCompany] and id the location or company id
// the request acts on; both are empty when the request names neither (see
// [WithLocation]). Implementations must be safe for concurrent use.
//
// The parameters are plain strings so that a token source in another package
// (ghl/oauth's TokenSource) satisfies this interface without importing ghl.
type TokenSource interface {
	Token(ctx context.Context, userType, id string) (string, error)
}

// TokenRefresher is a TokenSource that can replace a token GHL rejected.
// After a 401, [AuthTransport] calls Refresh once with the rejected token and
// retries the request once with the token it returns. An implementation
// should return its current token without refreshing when that differs from
// rejected (someone else already refreshed).
type TokenRefresher interface {
	TokenSource
	Refresh(ctx context.Context, userType, id, rejected string) (string, error)
}

// StaticToken is a TokenSource that returns the same token for every
// resource: a Private Integration Token or a fixed access token.
type StaticToken string

// Token returns the static token.
func (t StaticToken) Token(context.Context, string, string) (string, error) {
	return string(t), nil
}

// FromOAuth2 adapts a golang.org/x/oauth2 TokenSource, which knows one
// resource only, to TokenSource.
func FromOAuth2(ts oauth2.TokenSource) TokenSource {
	return oauth2Source{ts}
}

type oauth2Source struct{ ts oauth2.TokenSource }

// Token returns the wrapped source's access token, whatever the resource.
func (s oauth2Source) Token(context.Context, string, string) (string, error) {
	t, err := s.ts.Token()
	if err != nil {
		return "", err
	}
	return t.AccessToken, nil
}

// AuthTransport sets "Authorization: Bearer <token>" with a token from Source
// for the request's resource. When GHL answers 401 and Source is a
// [TokenRefresher], it refreshes once and retries the request once.
type AuthTransport struct {
	Source TokenSource
	Base   http.RoundTripper // nil means http.DefaultTransport
	Logger *slog.Logger      // nil discards
}

// RoundTrip implements http.RoundTripper.
func (t *AuthTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if skipAuth(ctx) {
		return t.base().RoundTrip(req)
	}
	res := ResourceFrom(ctx)
	tok, err := t.Source.Token(ctx, res.UserType, res.ID)
	if err != nil {
		closeBody(req)
		return nil, fmt.Errorf("ghl: token for %s: %w", describe(res), err)
	}
	resp, err := t.base().RoundTrip(authorized(req, tok))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	ref, ok := t.Source.(TokenRefresher)
	if !ok {
		return resp, nil
	}
	if notATokenProblem(resp) {
		// A valid token without the scope (or of the wrong class) stays
		// refused after a refresh; refreshing would only rotate the
		// single-use refresh token for nothing.
		return resp, nil
	}
	retry, err := rewind(req)
	if err != nil {
		return resp, nil // the body can't be sent twice; report the 401
	}
	drain(resp)
	t.logger().InfoContext(ctx, "ghl: 401, refreshing token", "resource", res.Key(), "url", req.URL.Path)
	fresh, err := ref.Refresh(ctx, res.UserType, res.ID, tok)
	if err != nil {
		closeBody(retry)
		return nil, fmt.Errorf("ghl: refresh token for %s after 401: %w", describe(res), err)
	}
	return t.base().RoundTrip(authorized(retry, fresh))
}

func (t *AuthTransport) base() http.RoundTripper {
	if t.Base == nil {
		return http.DefaultTransport
	}
	return t.Base
}

func (t *AuthTransport) logger() *slog.Logger {
	if t.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Logger
}

func describe(r Resource) string {
	if r.ID == "" {
		return "request without location (use ghl.WithLocation)"
	}
	return r.Key()
}

// authorized returns a shallow copy of req with the Authorization header set;
// a RoundTripper must not modify the request it was given.
func authorized(req *http.Request, token string) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

// rewind returns a copy of req with a fresh body from GetBody, for sending
// the request again.
func rewind(req *http.Request) (*http.Request, error) {
	r := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return r, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("ghl: request body cannot be replayed (no GetBody)")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r.Body = body
	return r, nil
}

// drain reads a little of an unwanted response body so that the connection
// can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

type skipAuthKey struct{}

// withoutAuth marks a request that must carry no bearer token (POST /oauth/token).
func withoutAuth(ctx context.Context) context.Context {
	return context.WithValue(ctx, skipAuthKey{}, true)
}

func skipAuth(ctx context.Context) bool {
	v, _ := ctx.Value(skipAuthKey{}).(bool)
	return v
}

// notATokenProblem reports whether a 401 says the token is valid but not
// allowed here (GHL's scope and auth-class messages). It leaves the body
// readable for the caller.
func notATokenProblem(resp *http.Response) bool {
	if resp.Body == nil {
		return false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return false
	}
	return bytes.Contains(head, []byte("not authorized for this scope")) || bytes.Contains(head, []byte("authClass type is not allowed"))
}
