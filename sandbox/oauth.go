package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// registerOAuth wires the OAuth 2.0 server: the three operations of
// apps/oauth.json and the consent page (oauth_consent.go).
//
// The flow: the consent page records an install (KindInstall) and a
// single-use authorization code (KindAuthCode, 10 minutes); POST
// /oauth/token trades the code for an access token and a refresh token;
// each refresh token is single-use and is replaced by a new pair, while the
// access token it came with stays valid until it expires, as on GHL.
func (s *Server) registerOAuth() {
	s.handle("oauth", "get-access-token", s.oauthToken)
	s.handle("oauth", "get-location-access-token", s.oauthLocationToken)
	s.handle("oauth", "get-installed-location", s.oauthInstalledLocations)
	s.registerConsent()
}

// AuthCodeTTL is how long an authorization code can be exchanged.
const AuthCodeTTL = 10 * time.Minute

// authCode is a KindAuthCode record: Key is the code's hash, ParentID the
// app id. It binds the code to what the user approved.
type authCode struct {
	ID          string   `json:"id"`
	AppID       string   `json:"appId"`
	ClientID    string   `json:"clientId"`
	RedirectURI string   `json:"redirectUri"`
	UserType    string   `json:"userType"`
	LocationID  string   `json:"locationId,omitempty"`
	CompanyID   string   `json:"companyId"`
	UserID      string   `json:"userId"`
	Scopes      []string `json:"scopes"`
	CreatedAt   Time     `json:"createdAt"`
	ExpiresAt   Time     `json:"expiresAt"`
	Used        bool     `json:"used,omitempty"`
}

// createAuthCode stores c and returns the code to hand to the client.
func (s *Server) createAuthCode(ctx context.Context, tx Tx, c *authCode) (string, error) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	code := hex.EncodeToString(b[:])
	now := s.now()
	c.ID = NewID()
	c.CreatedAt = stampOf(now)
	c.ExpiresAt = stampOf(now.Add(AuthCodeTTL))
	rec := Record{Kind: KindAuthCode, ID: c.ID, LocationID: c.LocationID, CompanyID: c.CompanyID, ParentID: c.AppID, Key: HashSecret(code), CreatedAt: now, UpdatedAt: now}
	return code, PutRecordOf(ctx, tx, rec, c)
}

// oauthError is answered in OAuth's error shape (RFC 6749 §5.2),
// {"error", "error_description"}, which OAuth clients parse, rather than
// GHL's API error shape.
type oauthError struct {
	status      int
	code        string
	description string
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

func oauthErr(status int, code, format string, args ...any) *oauthError {
	return &oauthError{status: status, code: code, description: fmt.Sprintf(format, args...)}
}

func invalidGrant(format string, args ...any) *oauthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", format, args...)
}

// tokenResponse is GetAccessCodeSuccessfulResponseDto (plus GHL's
// refreshTokenId). Agency-only fields are left out of Location tokens.
type tokenResponse struct {
	AccessToken              string   `json:"access_token"`
	TokenType                string   `json:"token_type"`
	ExpiresIn                int      `json:"expires_in"`
	RefreshToken             string   `json:"refresh_token"`
	Scope                    string   `json:"scope"`
	RefreshTokenID           string   `json:"refreshTokenId"`
	UserType                 string   `json:"userType"`
	CompanyID                string   `json:"companyId"`
	LocationID               string   `json:"locationId,omitempty"`
	UserID                   string   `json:"userId"`
	PlanID                   string   `json:"planId,omitempty"`
	IsBulkInstallation       bool     `json:"isBulkInstallation"`
	ApprovedLocations        []string `json:"approvedLocations,omitempty"`
	ApproveAllLocations      *bool    `json:"approveAllLocations,omitempty"`
	InstallToFutureLocations *bool    `json:"installToFutureLocations,omitempty"`
}

// oauthToken serves POST /oauth/token (no auth, no Version header; the
// client authenticates with client_id/client_secret in the form, or HTTP
// Basic as RFC 6749 §2.3.1 allows).
func (s *Server) oauthToken(w http.ResponseWriter, r *Request) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	resp, basic, err := s.exchangeToken(r)
	var oe *oauthError
	if errors.As(err, &oe) {
		if oe.status == http.StatusUnauthorized && basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="ghlkit"`)
		}
		writeJSON(w, oe.status, map[string]string{"error": oe.code, "error_description": oe.description})
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// exchangeToken runs one token request. basic reports whether the client
// authenticated with HTTP Basic.
func (s *Server) exchangeToken(r *Request) (resp *tokenResponse, basic bool, err error) {
	form, err := oauthForm(r)
	if err != nil {
		return nil, false, oauthErr(http.StatusBadRequest, "invalid_request", "%s", ErrorMessage(err))
	}
	clientID, secret := strings.TrimSpace(form.Get("client_id")), form.Get("client_secret")
	if clientID == "" && secret == "" {
		if id, sec, ok := r.BasicAuth(); ok {
			// RFC 6749 §2.3.1: both parts are form-urlencoded first.
			id, err1 := url.QueryUnescape(id)
			sec, err2 := url.QueryUnescape(sec)
			if err1 == nil && err2 == nil {
				clientID, secret, basic = id, sec, true
			}
		}
	}
	grant := strings.TrimSpace(form.Get("grant_type"))
	userType := strings.TrimSpace(form.Get("user_type"))
	switch {
	case grant == "":
		return nil, basic, oauthErr(http.StatusBadRequest, "invalid_request", "grant_type is required")
	case clientID == "":
		return nil, basic, oauthErr(http.StatusBadRequest, "invalid_request", "client_id is required")
	case secret == "":
		return nil, basic, oauthErr(http.StatusBadRequest, "invalid_request", "client_secret is required")
	case userType != "" && userType != UserTypeLocation && userType != UserTypeCompany:
		return nil, basic, oauthErr(http.StatusBadRequest, "invalid_request", "user_type must be one of the following values: Company, Location")
	case grant != "authorization_code" && grant != "refresh_token":
		return nil, basic, oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type %q is not supported; use authorization_code or refresh_token", grant)
	case grant == "authorization_code" && form.Get("code") == "":
		return nil, basic, oauthErr(http.StatusBadRequest, "invalid_request", "code is required for grant_type authorization_code")
	case grant == "refresh_token" && form.Get("refresh_token") == "":
		return nil, basic, oauthErr(http.StatusBadRequest, "invalid_request", "refresh_token is required for grant_type refresh_token")
	}
	ctx := r.Context()
	// One write transaction: the code or refresh token is marked used in
	// the same transaction that issues the new tokens, and writers are
	// serialised, so two concurrent exchanges of one grant cannot both win.
	err = s.write(ctx, func(tx Tx) error {
		app, err := appByClientID(ctx, tx, clientID)
		if err != nil {
			return err
		}
		if app == nil || !app.checkSecret(secret) {
			return oauthErr(http.StatusUnauthorized, "invalid_client", "Invalid client credentials")
		}
		if grant == "authorization_code" {
			resp, err = s.redeemCode(ctx, tx, app, form.Get("code"), form.Get("redirect_uri"), userType)
		} else {
			resp, err = s.redeemRefreshToken(ctx, tx, app, form.Get("refresh_token"), userType)
		}
		return err
	})
	return resp, basic, err
}

// appByClientID returns the app with exactly this client id, or nil.
func appByClientID(ctx context.Context, tx Tx, clientID string) (*App, error) {
	apps, err := ListRecordsAs[App](ctx, tx, RecordQuery{Kind: KindApp, Key: clientID, Limit: 1})
	if err != nil || len(apps) == 0 {
		return nil, err
	}
	return apps[0], nil
}

func (s *Server) redeemCode(ctx context.Context, tx Tx, app *App, code, redirectURI, userType string) (*tokenResponse, error) {
	recs, err := tx.ListRecords(ctx, RecordQuery{Kind: KindAuthCode, Key: HashSecret(code), Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, invalidGrant("Invalid authorization code")
	}
	var c authCode
	if err := json.Unmarshal(recs[0].Data, &c); err != nil {
		return nil, err
	}
	switch {
	case c.ClientID != app.ClientID:
		return nil, invalidGrant("The authorization code was issued to another client")
	case c.Used:
		return nil, invalidGrant("The authorization code has already been used")
	case !s.now().Before(c.ExpiresAt.Time):
		return nil, invalidGrant("The authorization code has expired")
	// GHL's spec makes redirect_uri optional here; when sent it must be
	// the one the code was issued for (RFC 6749 §4.1.3).
	case redirectURI != "" && redirectURI != c.RedirectURI:
		return nil, invalidGrant("redirect_uri does not match the redirect_uri of the authorization request")
	case userType != "" && userType != c.UserType:
		return nil, invalidGrant("The authorization code is for a %s-level install; user_type %s cannot be issued from it", strings.ToLower(c.UserType), userType)
	}
	inst, _, err := findInstall(ctx, tx, app.ID, installLevel(c.UserType), c.LocationID, c.CompanyID)
	if err != nil {
		return nil, err
	}
	if inst == nil {
		return nil, invalidGrant("The app is no longer installed where this code was issued")
	}
	c.Used = true
	if err := s.putSameRecord(ctx, tx, recs[0], &c); err != nil {
		return nil, err
	}
	return s.issueTokenPair(ctx, tx, app, &Token{UserType: c.UserType, CompanyID: c.CompanyID, LocationID: c.LocationID, UserID: c.UserID, Scopes: c.Scopes})
}

func (s *Server) redeemRefreshToken(ctx context.Context, tx Tx, app *App, refresh, userType string) (*tokenResponse, error) {
	recs, err := tx.ListRecords(ctx, RecordQuery{Kind: KindToken, Key: HashSecret(refresh), Limit: 1})
	if err != nil {
		return nil, err
	}
	var t Token
	if len(recs) > 0 {
		if err := json.Unmarshal(recs[0].Data, &t); err != nil {
			return nil, err
		}
	}
	switch {
	case len(recs) == 0 || t.Type != TokenRefresh:
		return nil, invalidGrant("Invalid refresh token")
	case t.AppID != app.ClientID:
		return nil, invalidGrant("The refresh token was issued to another client")
	case t.Revoked:
		return nil, invalidGrant("The refresh token has been revoked")
	case t.Used:
		return nil, invalidGrant("The refresh token has already been used; refresh tokens are single-use")
	case !t.ExpiresAt.IsZero() && !s.now().Before(t.ExpiresAt.Time):
		return nil, invalidGrant("The refresh token has expired")
	case userType != "" && userType != t.UserType:
		return nil, invalidGrant("The refresh token is a %s token; user_type %s cannot be issued from it", t.UserType, userType)
	}
	t.Used = true
	if err := s.putSameRecord(ctx, tx, recs[0], &t); err != nil {
		return nil, err
	}
	return s.issueTokenPair(ctx, tx, app, &Token{UserType: t.UserType, CompanyID: t.CompanyID, LocationID: t.LocationID, UserID: t.UserID, Scopes: t.Scopes})
}

// issueTokenPair stores a new access token and refresh token for the grant
// described by base and returns the token response.
func (s *Server) issueTokenPair(ctx context.Context, tx Tx, app *App, base *Token) (*tokenResponse, error) {
	now := s.now()
	access := &Token{Type: TokenAccess, UserType: base.UserType, CompanyID: base.CompanyID, LocationID: base.LocationID,
		AppID: app.ClientID, UserID: base.UserID, Scopes: base.Scopes, ExpiresAt: stampOf(now.Add(s.cfg.TokenTTL))}
	accessSecret, err := IssueToken(ctx, tx, access, now)
	if err != nil {
		return nil, err
	}
	refresh := &Token{Type: TokenRefresh, UserType: base.UserType, CompanyID: base.CompanyID, LocationID: base.LocationID,
		AppID: app.ClientID, UserID: base.UserID, Scopes: base.Scopes, ExpiresAt: stampOf(now.Add(s.cfg.RefreshTTL)), AccessID: access.ID}
	refreshSecret, err := IssueToken(ctx, tx, refresh, now)
	if err != nil {
		return nil, err
	}
	resp := &tokenResponse{
		AccessToken: accessSecret, TokenType: "Bearer", ExpiresIn: expiresIn(s.cfg.TokenTTL), RefreshToken: refreshSecret,
		Scope: strings.Join(base.Scopes, " "), RefreshTokenID: refresh.ID, UserType: base.UserType,
		CompanyID: base.CompanyID, LocationID: base.LocationID, UserID: base.UserID,
	}
	if base.UserType == UserTypeCompany {
		insts, err := ListRecordsAs[Install](ctx, tx, RecordQuery{Kind: KindInstall, ParentID: app.ID, CompanyID: base.CompanyID, Key: InstallLocation})
		if err != nil {
			return nil, err
		}
		resp.ApprovedLocations = make([]string, 0, len(insts))
		for _, in := range insts {
			resp.ApprovedLocations = append(resp.ApprovedLocations, in.LocationID)
		}
		// An agency-level install reaches every location of the company,
		// present and future, through /oauth/locationToken.
		all := true
		resp.ApproveAllLocations, resp.InstallToFutureLocations = &all, &all
	}
	return resp, nil
}

// expiresIn is the expires_in of a token lifetime: a second short, as
// GHL's 86399 for a day, so a client never holds a token it thinks valid
// after the server stopped accepting it.
func expiresIn(ttl time.Duration) int {
	return max(int(ttl/time.Second)-1, 1)
}

func installLevel(userType string) string {
	if userType == UserTypeCompany {
		return InstallCompany
	}
	return InstallLocation
}

// putSameRecord replaces the document of an existing record, keeping its
// indexed columns and creation time.
func (s *Server) putSameRecord(ctx context.Context, tx Tx, rec *Record, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	updated := *rec
	updated.Data = data
	updated.UpdatedAt = s.now().UTC()
	return tx.PutRecord(ctx, &updated)
}

// oauthForm reads a form-encoded body, as the OAuth endpoints take, or a
// JSON object of scalars, which some clients send instead.
func oauthForm(r *Request) (url.Values, error) {
	body := bytes.TrimSpace(r.RawBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" || (ct == "" && bytes.HasPrefix(body, []byte("{"))) {
		if len(body) == 0 {
			return url.Values{}, nil
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, Errorf(EINVALID, "the body is not a JSON object: %v", err)
		}
		vals := url.Values{}
		for k, v := range m {
			switch v := v.(type) {
			case nil:
			case string:
				vals.Set(k, v)
			case bool:
				vals.Set(k, strconv.FormatBool(v))
			case float64:
				vals.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
			default:
				return nil, Invalid(k + " must be a string")
			}
		}
		return vals, nil
	}
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, Errorf(EINVALID, "the body is not a valid form: %v", err)
	}
	return vals, nil
}

// locationTokenResponse is GetLocationAccessTokenSuccessfulResponseDto,
// plus userType and companyId, which GHL also answers.
type locationTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	UserType    string `json:"userType"`
	CompanyID   string `json:"companyId"`
	LocationID  string `json:"locationId"`
	UserID      string `json:"userId"`
	PlanID      string `json:"planId,omitempty"`
	AppID       string `json:"appId"`
}

// oauthLocationToken serves POST /oauth/locationToken: an agency OAuth
// access token (oauth.write) mints a Location access token for a location
// of its company. The app must be installed on the location or at agency
// level on the company; in the latter case the location install is
// recorded now (with its AppInstall event), as GHL installs agency apps on
// the locations they are used on.
func (s *Server) oauthLocationToken(w http.ResponseWriter, r *Request) error {
	form, err := oauthForm(r)
	if err != nil {
		return err
	}
	companyID, locationID := strings.TrimSpace(form.Get("companyId")), strings.TrimSpace(form.Get("locationId"))
	var msgs []string
	if companyID == "" {
		msgs = append(msgs, "companyId should not be empty")
	}
	if locationID == "" {
		msgs = append(msgs, "locationId should not be empty")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	// A form body escapes the pipeline's id checks (it reads JSON only).
	if err := r.CheckCompany(companyID); err != nil {
		return err
	}
	if err := r.CheckLocation(locationID); err != nil {
		return err
	}
	ctx := r.Context()
	agency := r.Auth.Token
	var out *locationTokenResponse
	err = s.write(ctx, func(tx Tx) error {
		loc, _, err := loadLocation(ctx, tx, locationID)
		if err != nil {
			return err
		}
		if loc.CompanyID != companyID {
			return Errorf(EFORBIDDEN, "%s", MsgLocation)
		}
		app, err := appByClientID(ctx, tx, agency.AppID)
		if err != nil {
			return err
		}
		if app == nil {
			return Errorf(EINVALID, "The app of this token is not registered with the sandbox")
		}
		inst, _, err := findInstall(ctx, tx, app.ID, InstallLocation, locationID, companyID)
		if err != nil {
			return err
		}
		if inst == nil {
			agencyInst, _, err := findInstall(ctx, tx, app.ID, InstallCompany, "", companyID)
			if err != nil {
				return err
			}
			if agencyInst == nil {
				return Errorf(EINVALID, "The app is not installed on this location or at agency level on its company")
			}
			if _, _, err := s.installApp(ctx, tx, app, InstallLocation, locationID, companyID, agency.UserID); err != nil {
				return err
			}
		}
		now := s.now()
		t := &Token{Type: TokenAccess, UserType: UserTypeLocation, CompanyID: companyID, LocationID: locationID, AppID: app.ClientID,
			UserID: agency.UserID, Scopes: agency.Scopes, ExpiresAt: stampOf(now.Add(s.cfg.TokenTTL))}
		secret, err := IssueToken(ctx, tx, t, now)
		if err != nil {
			return err
		}
		out = &locationTokenResponse{AccessToken: secret, TokenType: "Bearer", ExpiresIn: expiresIn(s.cfg.TokenTTL), Scope: strings.Join(t.Scopes, " "),
			UserType: UserTypeLocation, CompanyID: companyID, LocationID: locationID, UserID: t.UserID, AppID: app.ID}
		return nil
	})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
	return nil
}

// installedLocation is InstalledLocationSchema.
type installedLocation struct {
	ID          string `json:"_id"`
	Name        string `json:"name"`
	Address     string `json:"address"`
	IsInstalled bool   `json:"isInstalled"`
	InstalledAt *Time  `json:"installedAt,omitempty"`
}

// oauthInstalledLocations serves GET /oauth/installedLocations: the
// company's locations with whether the app is installed on each (every one
// of them after an agency-level install), filtered by query (name),
// isInstalled and locationId, paged by skip/limit; count is the number of
// matches.
func (s *Server) oauthInstalledLocations(w http.ResponseWriter, r *Request) error {
	companyID, appID := strings.TrimSpace(r.Query("companyId")), strings.TrimSpace(r.Query("appId"))
	var msgs []string
	if companyID == "" {
		msgs = append(msgs, "companyId should not be empty")
	}
	if appID == "" {
		msgs = append(msgs, "appId should not be empty")
	}
	skip, err := queryNumber(r, "skip", 0)
	if err != nil {
		msgs = append(msgs, ErrorMessage(err))
	}
	limit, err := queryNumber(r, "limit", 20)
	if err != nil {
		msgs = append(msgs, ErrorMessage(err))
	}
	var installedFilter *bool
	if v := strings.TrimSpace(r.Query("isInstalled")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			msgs = append(msgs, "isInstalled must be a boolean value")
		}
		installedFilter = &b
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	query := strings.ToLower(strings.TrimSpace(r.Query("query")))
	onlyLocation := strings.TrimSpace(r.Query("locationId"))
	ctx := r.Context()
	var out []installedLocation
	future := false
	err = s.read(ctx, func(tx Tx) error {
		app, _, err := loadApp(ctx, tx, appID)
		if err != nil {
			return err
		}
		if app.ClientID != r.Auth.Token.AppID {
			return Errorf(EFORBIDDEN, "The token does not have access to this app")
		}
		locs, err := ListRecordsAs[Location](ctx, tx, RecordQuery{Kind: KindLocation, CompanyID: companyID})
		if err != nil {
			return err
		}
		insts, err := ListRecordsAs[Install](ctx, tx, RecordQuery{Kind: KindInstall, ParentID: app.ID, CompanyID: companyID})
		if err != nil {
			return err
		}
		// An agency-level install approves every location of the company,
		// those there now and those added later (its Company tokens answer
		// approveAllLocations and installToFutureLocations): all of them
		// count as installed, from the install or from when they were
		// added. A location install of its own keeps its own time.
		byLoc := map[string]*Install{}
		var agency *Install
		for _, in := range insts {
			if in.Level == InstallCompany {
				agency = in
			} else {
				byLoc[in.LocationID] = in
			}
		}
		future = agency != nil
		out = []installedLocation{}
		for _, l := range locs {
			var at *Time
			if in := byLoc[l.ID]; in != nil {
				at = &in.InstalledAt
			} else if agency != nil {
				at = &agency.InstalledAt
				if l.DateAdded.After(at.Time) {
					at = &l.DateAdded
				}
			}
			switch {
			case onlyLocation != "" && l.ID != onlyLocation:
				continue
			case query != "" && !strings.Contains(strings.ToLower(l.Name), query):
				continue
			case installedFilter != nil && *installedFilter != (at != nil):
				continue
			}
			il := installedLocation{ID: l.ID, Name: l.Name, Address: locationAddress(l), IsInstalled: at != nil}
			if at != nil {
				stamp := *at
				il.InstalledAt = &stamp
			}
			out = append(out, il)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"locations": pageOf(out, skip, limit), "count": len(out), "installToFutureLocations": future})
	return nil
}

// locationAddress is a location's postal address on one line.
func locationAddress(l *Location) string {
	var parts []string
	for _, p := range []string{l.Address, l.City, strings.TrimSpace(l.State + " " + l.PostalCode), l.Country} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// installUserID picks the user an install is made by: an agency admin of
// the company, else a user with access to the location, else any live
// user of the company. The sandbox has no logins, so this stands in for
// "the user who clicked Allow". A company without users gets a stable
// made-up id.
func installUserID(ctx context.Context, tx Tx, companyID, locationID string) (string, error) {
	users, err := ListRecordsAs[User](ctx, tx, RecordQuery{Kind: KindUser, CompanyID: companyID})
	if err != nil {
		return "", err
	}
	var withAccess, anyLive string
	for _, u := range users {
		if u.Deleted {
			continue
		}
		if u.Roles.Type == "agency" && u.Roles.Role == "admin" {
			return u.ID, nil
		}
		if withAccess == "" && locationID != "" {
			for _, l := range u.Roles.LocationIDs {
				if l == locationID {
					withAccess = u.ID
				}
			}
		}
		if anyLive == "" {
			anyLive = u.ID
		}
	}
	if id := firstNonEmpty(withAccess, anyLive); id != "" {
		return id, nil
	}
	return derivedID("installer|" + companyID), nil
}
