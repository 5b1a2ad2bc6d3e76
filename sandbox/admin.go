package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// registerAdmin wires the admin JSON API under /_ghlkit/: marketplace apps,
// their installs, tokens (Private Integration Tokens and OAuth tokens),
// locations and rate-limit usage. Errors are answered in GHL's error shape.
//
// The API has no authentication yet: it is meant for a sandbox on the
// loopback interface. Browsers' cross-origin writes are refused, so a web
// page the developer visits cannot mint tokens through it.
func (s *Server) registerAdmin() {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, adminTraceID(w), Errorf(EFORBIDDEN, "cross-origin requests to the admin API are not allowed"))
	}))
	route := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		s.mux.Handle(pattern, cop.Handler(s.adminJSON(h)))
	}
	route("POST /_ghlkit/apps", s.adminCreateApp)
	route("GET /_ghlkit/apps", s.adminListApps)
	route("GET /_ghlkit/apps/{id}", s.adminGetApp)
	route("DELETE /_ghlkit/apps/{id}", s.adminDeleteApp)
	route("GET /_ghlkit/apps/{id}/installs", s.adminListInstalls)
	route("DELETE /_ghlkit/apps/{id}/installs/{locationId}", s.adminUninstall)
	route("GET /_ghlkit/installs", s.adminListInstalls)
	route("POST /_ghlkit/tokens", s.adminCreateToken)
	route("GET /_ghlkit/tokens", s.adminListTokens)
	route("DELETE /_ghlkit/tokens/{id}", s.adminRevokeToken)
	route("GET /_ghlkit/locations", s.adminListLocations)
	route("GET /_ghlkit/ratelimit", s.adminRateLimit)
	route("DELETE /_ghlkit/ratelimit", s.adminResetRateLimit)
}

// adminJSON adapts an admin handler that returns errors.
func (s *Server) adminJSON(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			traceID := adminTraceID(w)
			if ErrorCode(err) == EINTERNAL {
				s.log.Error("admin API", "traceId", traceID, "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, traceID, err)
		}
	})
}

// adminTraceID is the request id ServeHTTP set, or a new one.
func adminTraceID(w http.ResponseWriter) string {
	if id := w.Header().Get("X-Request-Id"); id != "" {
		return id
	}
	return NewID()
}

// adminDecode reads a JSON body into v with the API's 400/422 messages.
func (s *Server) adminDecode(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Errorf(ETOOLARGE, "request entity too large: the limit is %d bytes", MaxBodyBytes)
		}
		return Errorf(EINVALID, "could not read request body: %v", err)
	}
	return (&Request{Request: r, RawBody: body, server: s}).Decode(v)
}

// adminQueryInt reads a non-negative integer query parameter.
func adminQueryInt(r *http.Request, name string, def, maxValue int) (int, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, Invalid(name + " must be a non-negative integer")
	}
	if maxValue > 0 && n > maxValue {
		return 0, Invalid(fmt.Sprintf("%s must not be greater than %d", name, maxValue))
	}
	return n, nil
}

// adminApp is an app as the admin API shows it: never the secret's hash.
type adminApp struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	ClientID         string   `json:"clientId"`
	RedirectURIs     []string `json:"redirectUris"`
	Scopes           []string `json:"scopes"`
	CompanyID        string   `json:"companyId,omitempty"`
	DistributionType string   `json:"distributionType"`
	WebhookURL       string   `json:"webhookUrl,omitempty"`
	CreatedAt        Time     `json:"createdAt"`
	Installs         int      `json:"installs"`
}

func newAdminApp(ctx context.Context, tx Tx, a *App) (*adminApp, error) {
	n, err := tx.CountRecords(ctx, RecordQuery{Kind: KindInstall, ParentID: a.ID})
	if err != nil {
		return nil, err
	}
	return &adminApp{ID: a.ID, Name: a.Name, ClientID: a.ClientID, RedirectURIs: a.RedirectURIs, Scopes: a.Scopes, CompanyID: a.CompanyID,
		DistributionType: a.DistributionType, WebhookURL: a.WebhookURL, CreatedAt: a.CreatedAt, Installs: n}, nil
}

// adminCreateApp serves POST /_ghlkit/apps (AppParams) → 201 {app,
// clientSecret}; the secret is shown this once.
func (s *Server) adminCreateApp(w http.ResponseWriter, r *http.Request) error {
	var p AppParams
	if err := s.adminDecode(w, r, &p); err != nil {
		return err
	}
	ctx := r.Context()
	var view *adminApp
	var secret string
	err := s.write(ctx, func(tx Tx) error {
		app, sec, err := createApp(ctx, tx, p, s.now())
		if err != nil {
			return err
		}
		secret = sec
		view, err = newAdminApp(ctx, tx, app)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"app": view, "clientSecret": secret})
	return nil
}

// adminListApps serves GET /_ghlkit/apps → {apps, count}, oldest first.
func (s *Server) adminListApps(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	out := []*adminApp{}
	err := s.read(ctx, func(tx Tx) error {
		apps, err := ListApps(ctx, tx)
		if err != nil {
			return err
		}
		for _, a := range apps {
			v, err := newAdminApp(ctx, tx, a)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"apps": out, "count": len(out)})
	return nil
}

// adminGetApp serves GET /_ghlkit/apps/{id} (app id or client id) → {app}.
func (s *Server) adminGetApp(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var view *adminApp
	err := s.read(ctx, func(tx Tx) error {
		app, _, err := loadApp(ctx, tx, r.PathValue("id"))
		if err != nil {
			return err
		}
		view, err = newAdminApp(ctx, tx, app)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"app": view})
	return nil
}

// adminDeleteApp serves DELETE /_ghlkit/apps/{id}: the app is uninstalled
// everywhere (AppUninstall events), its tokens revoked and its pending
// authorization codes dropped.
func (s *Server) adminDeleteApp(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var revoked []string
	var appID string
	err := s.write(ctx, func(tx Tx) error {
		app, rec, err := loadApp(ctx, tx, r.PathValue("id"))
		if err != nil {
			return err
		}
		appID = app.ID
		// Uninstall agency-level installs first: each takes the company's
		// location installs with it, so re-list after every step.
		for {
			insts, err := ListInstalls(ctx, tx, app.ID, "", "")
			if err != nil {
				return err
			}
			if len(insts) == 0 {
				break
			}
			pick := insts[0]
			for _, in := range insts {
				if in.Level == InstallCompany {
					pick = in
					break
				}
			}
			hashes, err := s.uninstallApp(ctx, tx, app, pick)
			if err != nil {
				return err
			}
			revoked = append(revoked, hashes...)
		}
		hashes, err := s.revokeTokens(ctx, tx, RecordQuery{Kind: KindToken, ParentID: app.ClientID})
		if err != nil {
			return err
		}
		revoked = append(revoked, hashes...)
		codes, err := tx.ListRecords(ctx, RecordQuery{Kind: KindAuthCode, ParentID: app.ID})
		if err != nil {
			return err
		}
		for _, c := range codes {
			if err := tx.DeleteRecord(ctx, KindAuthCode, c.ID); err != nil {
				return err
			}
		}
		return tx.DeleteRecord(ctx, KindApp, rec.ID)
	})
	if err != nil {
		return err
	}
	for _, h := range revoked {
		s.InvalidateToken(h)
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true, "id": appID, "revokedTokens": len(revoked)})
	return nil
}

// adminListInstalls serves GET /_ghlkit/installs?appId&locationId&companyId
// and GET /_ghlkit/apps/{id}/installs → {installs, count}.
func (s *Server) adminListInstalls(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	appRef := firstNonEmpty(r.PathValue("id"), q.Get("appId"))
	var out []*Install
	err := s.read(ctx, func(tx Tx) error {
		appID := ""
		if appRef != "" {
			app, _, err := loadApp(ctx, tx, appRef)
			if err != nil {
				return err
			}
			appID = app.ID
		}
		var err error
		out, err = ListInstalls(ctx, tx, appID, q.Get("locationId"), q.Get("companyId"))
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"installs": out, "count": len(out)})
	return nil
}

// adminUninstall serves DELETE /_ghlkit/apps/{id}/installs/{locationId}:
// the app leaves the location (or, given a company id, the whole agency),
// its tokens there are revoked and AppUninstall is emitted.
func (s *Server) adminUninstall(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	where := r.PathValue("locationId")
	var revoked []string
	err := s.write(ctx, func(tx Tx) error {
		app, _, err := loadApp(ctx, tx, r.PathValue("id"))
		if err != nil {
			return err
		}
		inst, _, err := findInstall(ctx, tx, app.ID, InstallLocation, where, "")
		if err != nil {
			return err
		}
		if inst == nil {
			if inst, _, err = findInstall(ctx, tx, app.ID, InstallCompany, "", where); err != nil {
				return err
			}
		}
		if inst == nil {
			return Errorf(ENOTFOUND, "The app is not installed on %s", where)
		}
		revoked, err = s.uninstallApp(ctx, tx, app, inst)
		return err
	})
	if err != nil {
		return err
	}
	// The transaction committed: stop accepting the revoked tokens now
	// rather than when their cache entries age out.
	for _, h := range revoked {
		s.InvalidateToken(h)
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true, "revokedTokens": len(revoked)})
	return nil
}

// PITParams describe a Private Integration Token for CreatePrivateToken:
// a location token when LocationID is set, else an agency token of
// CompanyID.
type PITParams struct {
	LocationID string   `json:"locationId"`
	CompanyID  string   `json:"companyId"`
	Scopes     []string `json:"scopes"` // every scope when empty
	Name       string   `json:"name"`
}

// CreatePrivateToken mints a Private Integration Token and returns its
// secret, shown this once (only its hash is stored), and the stored token.
// An unknown location, company or scope is an EUNPROCESSABLE *Error.
func CreatePrivateToken(ctx context.Context, store Store, p PITParams) (string, *Token, error) {
	var secret string
	var tok *Token
	err := store.Write(ctx, func(tx Tx) error {
		var err error
		secret, tok, err = createPrivateToken(ctx, tx, p, time.Now())
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return secret, tok, nil
}

func createPrivateToken(ctx context.Context, tx Tx, p PITParams, now time.Time) (string, *Token, error) {
	loc, company := strings.TrimSpace(p.LocationID), strings.TrimSpace(p.CompanyID)
	if loc == "" && company == "" {
		return "", nil, Invalid("locationId or companyId is required")
	}
	scopes := uniqueTrimmed(p.Scopes)
	if len(scopes) == 0 {
		scopes = AllScopes()
	}
	var msgs []string
	for _, sc := range scopes {
		if !ScopeKnown(sc) {
			msgs = append(msgs, fmt.Sprintf("scopes: unknown scope %q", sc))
		}
	}
	if len(msgs) > 0 {
		return "", nil, Invalid(msgs...)
	}
	t := &Token{Type: TokenPIT, Name: strings.TrimSpace(p.Name), Scopes: scopes}
	if t.Name == "" {
		t.Name = "Private Integration"
	}
	if loc != "" {
		l, _, err := loadLocation(ctx, tx, loc)
		if IsNotFound(err) {
			return "", nil, Invalid(fmt.Sprintf("locationId: location %s does not exist", loc))
		} else if err != nil {
			return "", nil, err
		}
		if company != "" && company != l.CompanyID {
			return "", nil, Invalid(fmt.Sprintf("companyId: location %s belongs to another company", loc))
		}
		t.UserType, t.LocationID, t.CompanyID = UserTypeLocation, l.ID, l.CompanyID
	} else {
		if _, err := tx.GetRecord(ctx, KindCompany, company); IsNotFound(err) {
			return "", nil, Invalid(fmt.Sprintf("companyId: company %s does not exist", company))
		} else if err != nil {
			return "", nil, err
		}
		t.UserType, t.CompanyID = UserTypeCompany, company
	}
	secret, err := IssueToken(ctx, tx, t, now)
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// Token statuses the admin API reports.
const (
	tokenActive  = "active"
	tokenRevoked = "revoked"
	tokenUsed    = "used"
	tokenExpired = "expired"
)

// adminToken is a token as the admin API shows it: never the secret or
// its hash.
type adminToken struct {
	ID         string   `json:"id"`
	Type       string   `json:"type"`
	Name       string   `json:"name,omitempty"`
	UserType   string   `json:"userType"`
	CompanyID  string   `json:"companyId"`
	LocationID string   `json:"locationId,omitempty"`
	AppID      string   `json:"appId,omitempty"` // the app's client id
	UserID     string   `json:"userId,omitempty"`
	Scopes     []string `json:"scopes"`
	CreatedAt  Time     `json:"createdAt"`
	ExpiresAt  *Time    `json:"expiresAt,omitempty"`
	Status     string   `json:"status"`
}

func newAdminToken(t *Token, now time.Time) adminToken {
	v := adminToken{ID: t.ID, Type: t.Type, Name: t.Name, UserType: t.UserType, CompanyID: t.CompanyID, LocationID: t.LocationID,
		AppID: t.AppID, UserID: t.UserID, Scopes: t.Scopes, CreatedAt: t.CreatedAt, Status: tokenActive}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if !t.ExpiresAt.IsZero() {
		at := t.ExpiresAt
		v.ExpiresAt = &at
	}
	switch {
	case t.Revoked:
		v.Status = tokenRevoked
	case t.Used:
		v.Status = tokenUsed
	case !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt.Time):
		v.Status = tokenExpired
	}
	return v
}

// adminCreateToken serves POST /_ghlkit/tokens (PITParams) → 201 with the
// token's secret in "token", shown this once.
func (s *Server) adminCreateToken(w http.ResponseWriter, r *http.Request) error {
	var p PITParams
	if err := s.adminDecode(w, r, &p); err != nil {
		return err
	}
	ctx := r.Context()
	var secret string
	var tok *Token
	err := s.write(ctx, func(tx Tx) error {
		var err error
		secret, tok, err = createPrivateToken(ctx, tx, p, s.now())
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		Token string `json:"token"`
		adminToken
	}{secret, newAdminToken(tok, s.now())})
	return nil
}

// adminListTokens serves GET /_ghlkit/tokens?locationId&companyId&appId
// &type&status&skip&limit → {tokens, count}, oldest first; count is the
// number of matches before paging.
func (s *Server) adminListTokens(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	skip, err := adminQueryInt(r, "skip", 0, 0)
	if err != nil {
		return err
	}
	limit, err := adminQueryInt(r, "limit", 100, 1000)
	if err != nil {
		return err
	}
	typ, status := q.Get("type"), q.Get("status")
	if typ != "" && typ != TokenPIT && typ != TokenAccess && typ != TokenRefresh {
		return Invalid("type must be one of the following values: pit, access, refresh")
	}
	if status != "" && status != tokenActive && status != tokenRevoked && status != tokenUsed && status != tokenExpired {
		return Invalid("status must be one of the following values: active, revoked, used, expired")
	}
	ctx := r.Context()
	now := s.now()
	out := []adminToken{}
	err = s.read(ctx, func(tx Tx) error {
		query := RecordQuery{Kind: KindToken, LocationID: q.Get("locationId"), CompanyID: q.Get("companyId")}
		if ref := q.Get("appId"); ref != "" {
			app, _, err := loadApp(ctx, tx, ref)
			if err != nil {
				return err
			}
			query.ParentID = app.ClientID
		}
		toks, err := ListRecordsAs[Token](ctx, tx, query)
		if err != nil {
			return err
		}
		for _, t := range toks {
			v := newAdminToken(t, now)
			if (typ == "" || t.Type == typ) && (status == "" || v.Status == status) {
				out = append(out, v)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": pageOf(out, skip, limit), "count": len(out)})
	return nil
}

// adminRevokeToken serves DELETE /_ghlkit/tokens/{id}: the token stops
// working at once (it is evicted from the auth cache). Revoking a revoked
// token succeeds.
func (s *Server) adminRevokeToken(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id := r.PathValue("id")
	var hash string
	err := s.write(ctx, func(tx Tx) error {
		rec, err := tx.GetRecord(ctx, KindToken, id)
		if IsNotFound(err) {
			return Errorf(ENOTFOUND, "Token not found")
		} else if err != nil {
			return err
		}
		var t Token
		if err := json.Unmarshal(rec.Data, &t); err != nil {
			return err
		}
		hash = t.Hash
		if t.Revoked {
			return nil
		}
		t.Revoked = true
		return s.putSameRecord(ctx, tx, rec, &t)
	})
	if err != nil {
		return err
	}
	s.InvalidateToken(hash)
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true, "id": id})
	return nil
}

// adminLocation is a location with its company's name.
type adminLocation struct {
	*Location
	CompanyName string `json:"companyName,omitempty"`
}

// adminListLocations serves GET /_ghlkit/locations?companyId → {locations,
// count}, oldest first.
func (s *Server) adminListLocations(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	companyID := r.URL.Query().Get("companyId")
	out := []adminLocation{}
	err := s.read(ctx, func(tx Tx) error {
		companies, err := ListRecordsAs[Company](ctx, tx, RecordQuery{Kind: KindCompany})
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, c := range companies {
			names[c.ID] = c.Name
		}
		locs, err := ListRecordsAs[Location](ctx, tx, RecordQuery{Kind: KindLocation, CompanyID: companyID})
		if err != nil {
			return err
		}
		for _, l := range locs {
			out = append(out, adminLocation{Location: l, CompanyName: names[l.CompanyID]})
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"locations": out, "count": len(out)})
	return nil
}

// rateUsage is one rate-limit key's usage.
type rateUsage struct {
	Key                  string `json:"key"`
	Enabled              bool   `json:"enabled"`
	Max                  int    `json:"max"`
	Used                 int    `json:"used"`
	Remaining            int    `json:"remaining"`
	IntervalMilliseconds int64  `json:"intervalMilliseconds"`
	DailyLimit           int    `json:"dailyLimit"`
	DailyUsed            int    `json:"dailyUsed"`
	DailyRemaining       int    `json:"dailyRemaining"`
}

// adminRateLimit serves GET /_ghlkit/ratelimit: the usage of one limiter
// key, named directly (?key=), by a token (?tokenId=), or by an app and
// the location or company it calls for (?appId=&locationId= or
// &companyId=). Keys are "app:<clientId>|<resource>" for OAuth tokens and
// "token:<tokenId>|<resource>" for Private Integration Tokens.
func (s *Server) adminRateLimit(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	key := q.Get("key")
	switch {
	case key != "":
	case q.Get("tokenId") != "":
		var t Token
		err := s.read(ctx, func(tx Tx) error { return GetRecordAs(ctx, tx, KindToken, q.Get("tokenId"), &t) })
		if IsNotFound(err) {
			return Errorf(ENOTFOUND, "Token not found")
		} else if err != nil {
			return err
		}
		key = (&Auth{Token: &t}).RateKey()
	case q.Get("appId") != "":
		resource := firstNonEmpty(q.Get("locationId"), q.Get("companyId"))
		if resource == "" {
			return Invalid("locationId or companyId is required with appId")
		}
		var app *App
		err := s.read(ctx, func(tx Tx) error {
			var err error
			app, _, err = loadApp(ctx, tx, q.Get("appId"))
			return err
		})
		if err != nil {
			return err
		}
		key = "app:" + app.ClientID + "|" + resource
	default:
		return Invalid("key, tokenId or appId is required")
	}
	cfg := s.cfg.RateLimit
	used, dayUsed, err := s.limiter.Usage(ctx, key)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rateUsage{Key: key, Enabled: cfg.Enabled, Max: cfg.Burst, Used: used, Remaining: max(cfg.Burst-used, 0),
		IntervalMilliseconds: cfg.Interval.Milliseconds(), DailyLimit: cfg.Daily, DailyUsed: dayUsed, DailyRemaining: max(cfg.Daily-dayUsed, 0)})
	return nil
}

// adminResetRateLimit serves DELETE /_ghlkit/ratelimit: every key's budget
// is restored.
func (s *Server) adminResetRateLimit(w http.ResponseWriter, r *http.Request) error {
	if err := s.limiter.Reset(r.Context()); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true})
	return nil
}
