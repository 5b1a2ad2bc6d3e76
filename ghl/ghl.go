package ghl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	// DefaultBaseURL is GHL's API v2 host.
	DefaultBaseURL = "https://services.leadconnectorhq.com"

	// Version20210728 is the Version header of the contacts, locations,
	// custom-fields, users, companies, oauth and most other namespaces.
	Version20210728 = "2021-07-28"
	// Version20210415 is the Version header of the calendars and
	// conversations namespaces.
	Version20210415 = "2021-04-15"

	defaultUserAgent = "ghlkit-go"
)

// VersionFor returns the Version header value GHL's specs declare for the
// namespace of an API path such as "contacts/search" or "/calendars/".
func VersionFor(path string) string {
	path = strings.TrimPrefix(path, "/")
	ns, _, _ := strings.Cut(path, "/")
	ns, _, _ = strings.Cut(ns, "?")
	switch ns {
	case "calendars", "conversations", "agent-studio", "conversation-ai",
		"knowledge-bases", "saas-api", "voice-ai":
		return Version20210415
	default:
		return Version20210728
	}
}

// A service is the shared part of every XxxService: the client it calls.
type service struct {
	client *Client
}

// Client calls the GHL API. It is safe for concurrent use; build it once with
// [NewClient] and share it.
type Client struct {
	baseURL         *url.URL
	httpClient      *http.Client
	userAgent       string
	version         string
	defaultLocation string
	logger          *slog.Logger
	fields          *fieldCache

	common service

	// Contacts is the contacts namespace (/contacts/…).
	Contacts *ContactsService
	// Locations is the sub-account namespace (/locations/…): locations,
	// their tags, tasks, custom fields, custom values, timezones, templates.
	Locations *LocationsService
	// CustomFields is the Custom Fields V2 namespace (/custom-fields/…).
	CustomFields *CustomFieldsService
	// Users is the users namespace (/users/…).
	Users *UsersService
	// Companies is the companies (agency) namespace (/companies/…).
	Companies *CompaniesService
	// OAuth is the /oauth/… namespace: token, locationToken, installedLocations.
	OAuth *OAuthService
}

// Option configures a [Client] in [NewClient].
type Option func(*options) error

type options struct {
	baseURL         string
	httpClient      *http.Client
	version         string
	tokens          TokenSource
	limiter         Limiter
	limiterSet      bool
	retry           RetryPolicy
	retrySet        bool
	userAgent       string
	logger          *slog.Logger
	defaultLocation string
	fieldCacheTTL   time.Duration
}

// WithBaseURL sets the API root, e.g. a sandbox's "http://127.0.0.1:8080".
// The default is [DefaultBaseURL].
func WithBaseURL(u string) Option {
	return func(o *options) error { o.baseURL = u; return nil }
}

// WithHTTPClient sets the HTTP client whose Transport, Timeout, Jar and
// CheckRedirect the Client builds on. The client is copied, not modified.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error {
		if hc == nil {
			return errors.New("ghl: WithHTTPClient(nil)")
		}
		o.httpClient = hc
		return nil
	}
}

// WithVersion sends v as the Version header on every request instead of the
// per-namespace value of [VersionFor] (the official Node SDK sends "2023-02-21").
func WithVersion(v string) Option {
	return func(o *options) error { o.version = v; return nil }
}

// WithPrivateIntegrationToken authenticates every request with a Private
// Integration Token of a sub-account or agency.
func WithPrivateIntegrationToken(token string) Option {
	return WithAccessToken(token)
}

// WithAccessToken authenticates every request with one fixed access token.
func WithAccessToken(token string) Option {
	return func(o *options) error {
		if token == "" {
			return errors.New("ghl: empty access token")
		}
		o.tokens = StaticToken(token)
		return nil
	}
}

// WithTokenSource authenticates requests with tokens per location or company
// from src (for example ghl/oauth's TokenSource). If src also implements
// [TokenRefresher], a 401 answer triggers one refresh and one retry.
func WithTokenSource(src TokenSource) Option {
	return func(o *options) error { o.tokens = src; return nil }
}

// WithRateLimiter sets the limiter that paces requests per location. The
// default is [NewMemoryLimiter] with GHL's documented limits; nil disables
// client-side limiting.
func WithRateLimiter(l Limiter) Option {
	return func(o *options) error { o.limiter = l; o.limiterSet = true; return nil }
}

// WithRetryPolicy sets the retry policy. The default is [DefaultRetryPolicy];
// RetryPolicy{MaxAttempts: 1} disables retries.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(o *options) error { o.retry = p; o.retrySet = true; return nil }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(o *options) error { o.userAgent = ua; return nil }
}

// WithLogger sets the logger for retries, refreshes and limiter waits
// (debug and info levels). The default discards.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error { o.logger = l; return nil }
}

// WithDefaultLocation names the location of requests whose context and
// parameters name none, as is typical for a client with one sub-account's
// Private Integration Token.
func WithDefaultLocation(locationID string) Option {
	return func(o *options) error { o.defaultLocation = locationID; return nil }
}

// WithCustomFieldCacheTTL sets how long a location's custom field list, used
// to resolve custom field keys to ids, is cached. The default is 5 minutes.
func WithCustomFieldCacheTTL(d time.Duration) Option {
	return func(o *options) error { o.fieldCacheTTL = d; return nil }
}

// NewClient returns a Client configured by opts. Without a credential option
// requests carry no Authorization header.
func NewClient(opts ...Option) (*Client, error) {
	o := options{
		baseURL:       DefaultBaseURL,
		httpClient:    http.DefaultClient,
		userAgent:     defaultUserAgent,
		fieldCacheTTL: 5 * time.Minute,
	}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	base := o.baseURL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("ghl: base URL: %w", err)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("ghl: base URL %q is not absolute", o.baseURL)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if !o.limiterSet {
		o.limiter = NewMemoryLimiter(MemoryLimiterConfig{})
	}
	if !o.retrySet {
		o.retry = DefaultRetryPolicy()
	}

	rt := o.httpClient.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	if o.limiter != nil {
		rt = &RateLimitTransport{Limiter: o.limiter, Base: rt}
	}
	if o.retry.MaxAttempts != 1 {
		rt = &RetryTransport{Policy: o.retry, Base: rt, Logger: o.logger}
	}
	if o.tokens != nil {
		rt = &AuthTransport{Source: o.tokens, Base: rt, Logger: o.logger}
	}
	hc := *o.httpClient
	hc.Transport = rt

	c := &Client{
		baseURL:         u,
		httpClient:      &hc,
		userAgent:       o.userAgent,
		version:         o.version,
		defaultLocation: o.defaultLocation,
		logger:          o.logger,
		fields:          newFieldCache(o.fieldCacheTTL),
	}
	c.common.client = c
	c.Contacts = (*ContactsService)(&c.common)
	c.Locations = (*LocationsService)(&c.common)
	c.CustomFields = (*CustomFieldsService)(&c.common)
	c.Users = (*UsersService)(&c.common)
	c.Companies = (*CompaniesService)(&c.common)
	c.OAuth = (*OAuthService)(&c.common)
	return c, nil
}

// BaseURL returns a copy of the API root the client sends requests to.
func (c *Client) BaseURL() *url.URL {
	u := *c.baseURL
	return &u
}

// NewRequest builds a request for the API path urlStr (relative to the base
// URL, without a leading slash, e.g. "contacts/search"). A non-nil body is
// sent as JSON; the body stays replayable for retries. The Version header is
// chosen per namespace unless the client overrides it.
func (c *Client) NewRequest(ctx context.Context, method, urlStr string, body any) (*http.Request, error) {
	if strings.HasPrefix(urlStr, "/") {
		return nil, fmt.Errorf("ghl: path %q must be relative to the base URL (no leading slash)", urlStr)
	}
	u, err := c.baseURL.Parse(urlStr)
	if err != nil {
		return nil, err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("ghl: encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	if c.defaultLocation != "" && ResourceFrom(ctx).ID == "" {
		ctx = WithLocation(ctx, c.defaultLocation)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.setHeaders(req, urlStr)
	return req, nil
}

// NewFormRequest builds a request with an application/x-www-form-urlencoded
// body, as the /oauth endpoints take.
func (c *Client) NewFormRequest(ctx context.Context, method, urlStr string, form url.Values) (*http.Request, error) {
	req, err := c.NewRequest(ctx, method, urlStr, nil)
	if err != nil {
		return nil, err
	}
	b := []byte(form.Encode())
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.ContentLength = int64(len(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

func (c *Client) setHeaders(req *http.Request, path string) {
	v := c.version
	if v == "" {
		v = VersionFor(path)
	}
	req.Header.Set("Version", v)
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
}

// Response wraps the HTTP response of an API call with what GHL reports in
// its headers.
type Response struct {
	*http.Response

	// RateLimit is parsed from the X-RateLimit-* headers.
	RateLimit RateLimit
}

// Do sends req, turns a non-2xx answer into an error (see [CheckResponse]),
// and decodes a JSON body into v unless v is nil. If v is an io.Writer the
// body is copied to it.
func (c *Client) Do(req *http.Request, v any) (*Response, error) {
	resp, err := c.httpClient.Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		// The transports' own errors (a spent daily budget, a failed
		// refresh) are more useful than net/http's *url.Error around them.
		var rle *RateLimitError
		if errors.As(err, &rle) {
			return nil, rle
		}
		return nil, err
	}
	defer resp.Body.Close()
	response := &Response{Response: resp, RateLimit: ParseRateLimit(resp.Header)}
	if err := CheckResponse(resp); err != nil {
		return response, err
	}
	if v == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return response, nil
	}
	if w, ok := v.(io.Writer); ok {
		_, err = io.Copy(w, resp.Body)
		return response, err
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return response, fmt.Errorf("ghl: decode %s %s: %w", req.Method, req.URL.Path, err)
	}
	return response, nil
}

// at returns ctx naming the location (or company) id unless id is empty.
// Service methods call it with what their parameters tell.
func at(ctx context.Context, userType, id string) context.Context {
	if id == "" {
		return ctx
	}
	r := ResourceFrom(ctx)
	if r.UserType == userType && r.ID == id {
		return ctx
	}
	return context.WithValue(ctx, resourceKey{}, Resource{UserType: userType, ID: id})
}

// ErrEmptyID is returned when a method is called with an empty id that it
// must put into the request path.
var ErrEmptyID = errors.New("ghl: empty id in request path")

// apiPath formats an API path, escaping each id and refusing empty ones, so
// that GetContact(ctx, "") cannot turn into GET /contacts/.
func apiPath(format string, ids ...string) (string, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		if id == "" {
			return "", ErrEmptyID
		}
		args[i] = url.PathEscape(id)
	}
	return fmt.Sprintf(format, args...), nil
}

// withQuery appends the encoded query to path when it is not empty.
func withQuery(path string, q url.Values) string {
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// Succeeded is the body of GHL's delete and membership calls. GHL spells the
// field "succeded".
type Succeeded struct {
	Succeeded bool   `json:"succeded"`
	ID        string `json:"id,omitempty"`
	Key       string `json:"key,omitempty"`
	Message   string `json:"message,omitempty"`
	TraceID   string `json:"traceId,omitempty"`
}
