// Package oauth implements GHL's OAuth 2.0 for Marketplace apps: the
// authorize URL, code exchange, refresh, location tokens minted from an
// agency token, a [TokenStore] with memory and SQL (SQLite, PostgreSQL)
// implementations, a per-location [TokenSource] for ghl.Client, and
// handlers for the OAuth callback and the AppInstall/AppUninstall webhooks.
//
// GHL's refresh tokens are single-use: each refresh returns a new one and
// voids the old. So a refresh is single-flight within a process, and
// serialized across processes by a row lock in the SQL store; a process
// that waited re-reads the token and uses the one another process got. A
// failed refresh is reported (error and OnRefreshError hook) and never tried
// again with the same refresh token.
//
// The package does not import ghl: TokenSource satisfies ghl.TokenSource and
// ghl.TokenRefresher by its method set, and its user types are GHL's own
// strings ("Location", "Company").
package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// DefaultAuthURL is GHL's consent page ("choose location") as
	// docs/oauth/Authorization.md gives it. For the sandbox use its base URL
	// + "/oauth/chooselocation".
	DefaultAuthURL = "https://marketplace.gohighlevel.com/v2/oauth/chooselocation"
	// DefaultBaseURL is GHL's API host, which serves /oauth/token.
	DefaultBaseURL = "https://services.leadconnectorhq.com"
	// Version is the Version header of /oauth/locationToken and
	// /oauth/installedLocations.
	Version = "2021-07-28"

	// UserTypeLocation and UserTypeCompany are GHL's user_type values: a
	// sub-account token and an agency token.
	UserTypeLocation = "Location"
	UserTypeCompany  = "Company"
)

// Config describes a Marketplace app and where GHL (or the sandbox) is.
type Config struct {
	ClientID     string
	ClientSecret string
	// RedirectURL is the app's OAuth callback, as registered with GHL.
	RedirectURL string
	Scopes      []string
	// AuthURL is the consent page; DefaultAuthURL if empty.
	AuthURL string
	// BaseURL is the API root serving /oauth/…; DefaultBaseURL if empty.
	BaseURL string
	// UserType is asked for when exchanging a code: UserTypeLocation (the
	// default) or UserTypeCompany.
	UserType string
	// HTTPClient sends the token requests; http.DefaultClient if nil.
	HTTPClient *http.Client
	// AuthParams are extra query parameters of the consent URL, e.g.
	// loginWindowOpenMode=self.
	AuthParams url.Values
}

func (c *Config) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return http.DefaultClient
}

func (c *Config) endpoint(path string) string {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	return strings.TrimSuffix(base, "/") + path
}

// AuthCodeURL returns the consent page URL to send an installing user to:
// response_type=code, redirect_uri, client_id, scope (space-separated) and
// state when not empty.
func (c *Config) AuthCodeURL(state string) string {
	base := c.AuthURL
	if base == "" {
		base = DefaultAuthURL
	}
	q := url.Values{
		"response_type": {"code"},
		"redirect_uri":  {c.RedirectURL},
		"client_id":     {c.ClientID},
		"scope":         {strings.Join(c.Scopes, " ")},
	}
	if state != "" {
		q.Set("state", state)
	}
	for k, v := range c.AuthParams {
		q[k] = v
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + q.Encode()
}

// Token is what GHL returns from /oauth/token and /oauth/locationToken, plus
// the expiry computed on receipt and the state of failed refreshes.
type Token struct {
	AccessToken              string    `json:"access_token"`
	TokenType                string    `json:"token_type,omitempty"`
	RefreshToken             string    `json:"refresh_token,omitempty"`
	ExpiresIn                int       `json:"expires_in,omitempty"`
	Expiry                   time.Time `json:"expiry,omitzero"`
	Scope                    string    `json:"scope,omitempty"`
	UserType                 string    `json:"userType,omitempty"`
	LocationID               string    `json:"locationId,omitempty"`
	CompanyID                string    `json:"companyId,omitempty"`
	UserID                   string    `json:"userId,omitempty"`
	PlanID                   string    `json:"planId,omitempty"`
	ApprovedLocations        []string  `json:"approvedLocations,omitempty"`
	IsBulkInstallation       bool      `json:"isBulkInstallation,omitempty"`
	InstallToFutureLocations bool      `json:"installToFutureLocations,omitempty"`
	ApproveAllLocations      bool      `json:"approveAllLocations,omitempty"`
	AppID                    string    `json:"appId,omitempty"`
	VersionID                string    `json:"versionId,omitempty"`
	// RefreshError records why refreshing RefreshToken failed. Such a token
	// is not refreshed again: the app must be reauthorized (or, for a
	// location token minted from an agency token, minted again).
	RefreshError string `json:"refreshError,omitempty"`
}

// Key returns the store key of the token: its location, or for an agency
// token its company.
func (t *Token) Key() Key {
	if t.UserType == UserTypeCompany || (t.LocationID == "" && t.CompanyID != "") {
		return Key{UserType: UserTypeCompany, ID: t.CompanyID}
	}
	return Key{UserType: UserTypeLocation, ID: t.LocationID}
}

// ValidAt reports whether the access token is still usable at now with
// margin to spare. A token without expiry is taken as valid.
func (t *Token) ValidAt(now time.Time, margin time.Duration) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || now.Add(margin).Before(t.Expiry))
}

// Error is a non-2xx answer of an /oauth endpoint.
type Error struct {
	Op         string // "token", "locationToken", "installedLocations"
	StatusCode int
	Message    string
	Body       []byte
}

// Error implements error.
func (e *Error) Error() string {
	msg := fmt.Sprintf("ghl/oauth: %s: %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Exchange trades an authorization code from the consent page for tokens.
//
// GHL API: POST /oauth/token (grant_type=authorization_code)
func (c *Config) Exchange(ctx context.Context, code string) (*Token, error) {
	ut := c.UserType
	if ut == "" {
		ut = UserTypeLocation
	}
	return c.token(ctx, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "user_type": {ut}, "redirect_uri": {c.RedirectURL}})
}

// Refresh trades a refresh token for new tokens. The refresh token is void
// afterwards, whether or not the answer arrives: never call Refresh twice
// with the same one (TokenSource takes care of that).
//
// GHL API: POST /oauth/token (grant_type=refresh_token)
func (c *Config) Refresh(ctx context.Context, refreshToken, userType string) (*Token, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if userType != "" {
		form.Set("user_type", userType)
	}
	if c.RedirectURL != "" {
		form.Set("redirect_uri", c.RedirectURL)
	}
	return c.token(ctx, form)
}

func (c *Config) token(ctx context.Context, form url.Values) (*Token, error) {
	form.Set("client_id", c.ClientID)
	form.Set("client_secret", c.ClientSecret)
	var tok Token
	if err := c.post(ctx, "token", "/oauth/token", "", form, &tok); err != nil {
		return nil, err
	}
	return stamp(&tok), nil
}

// LocationToken mints an access token for locationID from an agency access
// token of companyID. Such tokens carry no refresh token; mint another when
// they expire.
//
// GHL API: POST /oauth/locationToken
func (c *Config) LocationToken(ctx context.Context, agencyAccessToken, companyID, locationID string) (*Token, error) {
	var tok Token
	form := url.Values{"companyId": {companyID}, "locationId": {locationID}}
	if err := c.post(ctx, "locationToken", "/oauth/locationToken", agencyAccessToken, form, &tok); err != nil {
		return nil, err
	}
	tok.UserType = UserTypeLocation
	if tok.LocationID == "" {
		tok.LocationID = locationID
	}
	if tok.CompanyID == "" {
		tok.CompanyID = companyID
	}
	return stamp(&tok), nil
}

// stamp computes Expiry from ExpiresIn at receipt.
func stamp(t *Token) *Token {
	if t.ExpiresIn > 0 {
		t.Expiry = time.Now().Add(time.Duration(t.ExpiresIn) * time.Second)
	}
	return t
}

// InstalledLocationsParams are the query of GET /oauth/installedLocations.
type InstalledLocationsParams struct {
	CompanyID   string
	AppID       string
	Skip, Limit int
	Query       string
	IsInstalled *bool
	VersionID   string
	LocationID  string
}

// InstalledLocations is the answer of GET /oauth/installedLocations.
type InstalledLocations struct {
	Locations []struct {
		ID          string `json:"_id"`
		Name        string `json:"name"`
		Address     string `json:"address"`
		IsInstalled bool   `json:"isInstalled"`
		VersionID   string `json:"versionId,omitempty"`
		InstalledAt string `json:"installedAt,omitempty"`
	} `json:"locations"`
	Count                    int  `json:"count"`
	InstallToFutureLocations bool `json:"installToFutureLocations"`
}

// InstalledLocations lists the company's locations where the app is
// installed, using an agency access token.
//
// GHL API: GET /oauth/installedLocations
func (c *Config) InstalledLocations(ctx context.Context, agencyAccessToken string, p InstalledLocationsParams) (*InstalledLocations, error) {
	q := url.Values{"companyId": {p.CompanyID}, "appId": {p.AppID}}
	if p.Skip > 0 {
		q.Set("skip", strconv.Itoa(p.Skip))
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	for k, v := range map[string]string{"query": p.Query, "versionId": p.VersionID, "locationId": p.LocationID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if p.IsInstalled != nil {
		q.Set("isInstalled", strconv.FormatBool(*p.IsInstalled))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint("/oauth/installedLocations")+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	var out InstalledLocations
	if err := c.do(req, "installedLocations", agencyAccessToken, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Config) post(ctx context.Context, op, path, bearer string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(path), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req, op, bearer, out)
}

func (c *Config) do(req *http.Request, op, bearer string, out any) error {
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Version", Version)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("ghl/oauth: %s: %w", op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("ghl/oauth: %s: %w", op, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &Error{Op: op, StatusCode: resp.StatusCode, Message: errorMessage(body), Body: body}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("ghl/oauth: %s: decode answer: %w", op, err)
	}
	return nil
}

// errorMessage reads GHL's {"message": string | [string], "error",
// "error_description"} error bodies.
func errorMessage(body []byte) string {
	var b struct {
		Message          json.RawMessage `json:"message"`
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	if json.Unmarshal(body, &b) != nil {
		return strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	var parts []string
	var s string
	var ss []string
	switch {
	case json.Unmarshal(b.Message, &s) == nil && s != "":
		parts = append(parts, s)
	case json.Unmarshal(b.Message, &ss) == nil:
		parts = append(parts, ss...)
	}
	for _, p := range []string{b.Error, b.ErrorDescription} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "; ")
}

// neverSent reports whether err shows that a request did not reach the
// server (no connection was made), so a refresh token it carried is unused.
func neverSent(err error) bool {
	var op *net.OpError
	var dns *net.DNSError
	return errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial")
}
