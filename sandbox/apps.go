package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Distribution types of a marketplace app: who may install it.
const (
	// DistributionSubAccount apps are installed on one sub-account
	// (location) at a time and get Location tokens.
	DistributionSubAccount = "Sub-Account"
	// DistributionAgency apps may also be installed at agency level and get
	// Company tokens, which mint Location tokens via /oauth/locationToken.
	DistributionAgency = "Agency"
	// DistributionBoth is GHL's "Agency & Sub-account".
	DistributionBoth = "Both"
)

// Install levels (the Key of a KindInstall record).
const (
	InstallLocation = "location"
	InstallCompany  = "company"
)

// App is a marketplace app registered with the sandbox: a KindApp record
// with Key = ClientID. The client secret itself is never stored.
type App struct {
	// ID is GHL's appId: the part of the client id before the "-". The
	// official SDK compares it with the appId of INSTALL/UNINSTALL webhooks.
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	ClientID         string   `json:"clientId"`
	ClientSecretHash string   `json:"clientSecretHash"`
	RedirectURIs     []string `json:"redirectUris"`
	Scopes           []string `json:"scopes"`
	// CompanyID is the developer's company, if any; informative only.
	CompanyID        string `json:"companyId,omitempty"`
	DistributionType string `json:"distributionType"`
	WebhookURL       string `json:"webhookUrl,omitempty"`
	CreatedAt        Time   `json:"createdAt"`
}

// AllowsAgency reports whether the app may be installed at agency level.
func (a *App) AllowsAgency() bool {
	return a.DistributionType == DistributionAgency || a.DistributionType == DistributionBoth
}

// HasRedirectURI reports whether uri is exactly one of the registered
// redirect URIs (no prefix or normalisation games: RFC 6749 §3.1.2.3).
func (a *App) HasRedirectURI(uri string) bool {
	for _, u := range a.RedirectURIs {
		if u == uri {
			return true
		}
	}
	return false
}

// HasScope reports whether the app was registered with the scope.
func (a *App) HasScope(scope string) bool {
	for _, s := range a.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// checkSecret compares a presented client secret with the stored hash in
// constant time.
func (a *App) checkSecret(secret string) bool {
	return secret != "" && subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(a.ClientSecretHash)) == 1
}

// AppParams describe a new app for CreateApp.
type AppParams struct {
	Name         string   `json:"name"`
	RedirectURIs []string `json:"redirectUris"`
	// Scopes default to every scope the sandbox knows.
	Scopes    []string `json:"scopes"`
	CompanyID string   `json:"companyId"`
	// DistributionType defaults to DistributionSubAccount.
	DistributionType string `json:"distributionType"`
	WebhookURL       string `json:"webhookUrl"`
	// ClientID and ClientSecret, when set, replace the generated ones, so a
	// development setup can keep fixed credentials across resets.
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// CreateApp registers a marketplace app and returns it with its client
// secret, which is shown this once: only its hash is stored. Invalid
// parameters are an EUNPROCESSABLE *Error naming the field; a client id
// or app id already taken is ECONFLICT.
func CreateApp(ctx context.Context, store Store, p AppParams) (*App, string, error) {
	var app *App
	var secret string
	err := store.Write(ctx, func(tx Tx) error {
		var err error
		app, secret, err = createApp(ctx, tx, p, time.Now())
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return app, secret, nil
}

// CheckAppParams reports what is wrong with p on its own, without a
// store: an EUNPROCESSABLE *Error naming each field (name, redirectUris,
// scopes, distributionType, webhookUrl, clientId), or nil. CreateApp
// checks the same and then what needs the store (companyId, a taken client
// id); the CLI calls it to refuse bad flags before opening a database.
func CheckAppParams(p AppParams) error {
	if _, _, msgs := newApp(p, time.Now()); len(msgs) > 0 {
		return Invalid(msgs...)
	}
	return nil
}

// newApp builds the app p describes, with its client secret, and the
// problems of p that need no store.
func newApp(p AppParams, now time.Time) (*App, string, []string) {
	app := &App{
		Name:             strings.TrimSpace(p.Name),
		ClientID:         strings.TrimSpace(p.ClientID),
		CompanyID:        strings.TrimSpace(p.CompanyID),
		DistributionType: strings.TrimSpace(p.DistributionType),
		WebhookURL:       strings.TrimSpace(p.WebhookURL),
		CreatedAt:        stampOf(now),
	}
	var msgs []string
	if app.Name == "" {
		msgs = append(msgs, "name should not be empty")
	}
	if len(p.RedirectURIs) == 0 {
		msgs = append(msgs, "redirectUris must contain at least one URI")
	}
	for _, u := range p.RedirectURIs {
		u = strings.TrimSpace(u)
		if err := CheckRedirectURI(u); err != nil {
			msgs = append(msgs, "redirectUris: "+err.Error())
			continue
		}
		if !app.HasRedirectURI(u) {
			app.RedirectURIs = append(app.RedirectURIs, u)
		}
	}
	app.Scopes = uniqueTrimmed(p.Scopes)
	if len(app.Scopes) == 0 {
		app.Scopes = AllScopes()
	}
	for _, sc := range app.Scopes {
		if !ScopeKnown(sc) {
			msgs = append(msgs, fmt.Sprintf("scopes: unknown scope %q", sc))
		}
	}
	switch app.DistributionType {
	case "":
		app.DistributionType = DistributionSubAccount
	case DistributionSubAccount, DistributionAgency, DistributionBoth:
	default:
		msgs = append(msgs, "distributionType must be one of the following values: Sub-Account, Agency, Both")
	}
	if app.WebhookURL != "" {
		if u, err := url.Parse(app.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			msgs = append(msgs, "webhookUrl must be an absolute http(s) URL")
		}
	}
	secret := p.ClientSecret
	if secret == "" {
		secret = newClientSecret()
	}
	if app.ClientID == "" {
		app.ClientID = newClientID(now)
	} else if strings.ContainsAny(app.ClientID, " \t\r\n/?#&") || len(app.ClientID) > 200 || strings.HasPrefix(app.ClientID, "-") {
		msgs = append(msgs, "clientId must be an app id, optionally followed by \"-\" and a suffix, without spaces or URL delimiters")
	}
	app.ID, _, _ = strings.Cut(app.ClientID, "-")
	app.ClientSecretHash = HashSecret(secret)
	return app, secret, msgs
}

func createApp(ctx context.Context, tx Tx, p AppParams, now time.Time) (*App, string, error) {
	app, secret, msgs := newApp(p, now)
	if len(msgs) > 0 {
		return nil, "", Invalid(msgs...)
	}
	if app.CompanyID != "" {
		if _, err := tx.GetRecord(ctx, KindCompany, app.CompanyID); err != nil {
			if IsNotFound(err) {
				return nil, "", Invalid(fmt.Sprintf("companyId: company %s does not exist", app.CompanyID))
			}
			return nil, "", err
		}
	}
	// The client id must be free, and so must the app id it starts with:
	// apps are stored under their app id, and looked up by either.
	taken, err := tx.CountRecords(ctx, RecordQuery{Kind: KindApp, Key: app.ClientID})
	if err != nil {
		return nil, "", err
	}
	if taken > 0 {
		return nil, "", Errorf(ECONFLICT, "An app with client id %s exists already", app.ClientID)
	}
	if rec, err := tx.GetRecord(ctx, KindApp, app.ID); err == nil {
		return nil, "", Errorf(ECONFLICT, "An app with app id %s exists already (client id %s); the app id is the part of a client id before \"-\", so client id %s cannot be used",
			app.ID, rec.Key, app.ClientID)
	} else if !IsNotFound(err) {
		return nil, "", err
	}
	rec := Record{Kind: KindApp, ID: app.ID, CompanyID: app.CompanyID, Key: app.ClientID, CreatedAt: now, UpdatedAt: now}
	if err := PutRecordOf(ctx, tx, rec, app); err != nil {
		return nil, "", err
	}
	return app, secret, nil
}

// CheckRedirectURI reports why uri cannot be an app's redirect URI, or
// nil: it must be an absolute http or https URL with a host and without a
// fragment (RFC 6749 §3.1.2). Other schemes are refused, as javascript:
// or data: URIs would turn the consent page's redirect into a script.
func CheckRedirectURI(uri string) error {
	u, err := url.Parse(uri)
	switch {
	case uri == "" || err != nil:
		return fmt.Errorf("%q is not a valid URI", uri)
	case !u.IsAbs():
		return fmt.Errorf("%q must be an absolute URI (http or https)", uri)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q must be an http or https URL, not %s:", uri, u.Scheme)
	case u.Host == "":
		return fmt.Errorf("%q has no host", uri)
	case u.Fragment != "" || strings.Contains(uri, "#"):
		return fmt.Errorf("%q must not contain a fragment", uri)
	}
	return nil
}

// newClientID returns a GHL-shaped client id: a 24-hex Mongo-style object
// id (seconds then random) and an 8-character suffix, e.g.
// "66f2b0c1d4e5f6a7b8c9d0e1-m1a2b3c4".
func newClientID(now time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[4:])
	secs := uint32(now.Unix())
	b[0], b[1], b[2], b[3] = byte(secs>>24), byte(secs>>16), byte(secs>>8), byte(secs)
	return hex.EncodeToString(b[:]) + "-" + strings.ToLower(randomString(8))
}

// newClientSecret returns a UUID-shaped secret, as GHL's look.
func newClientSecret() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// derivedID returns a stable 20-character id for a seed, for objects the
// sandbox must name but does not store (the installing user of a company
// without users).
func derivedID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	out := make([]byte, 20)
	for i := range out {
		out[i] = idAlphabet[int(sum[i])%len(idAlphabet)]
	}
	return string(out)
}

func uniqueTrimmed(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

// loadApp finds an app by its app id or its client id; ENOTFOUND "App not
// found" when there is none.
func loadApp(ctx context.Context, tx Tx, idOrClientID string) (*App, *Record, error) {
	if idOrClientID == "" {
		return nil, nil, Errorf(ENOTFOUND, "App not found")
	}
	recs, err := tx.ListRecords(ctx, RecordQuery{Kind: KindApp, Key: idOrClientID, Limit: 1})
	if err != nil {
		return nil, nil, err
	}
	var rec *Record
	if len(recs) > 0 {
		rec = recs[0]
	} else {
		rec, err = tx.GetRecord(ctx, KindApp, idOrClientID)
		if err != nil {
			if IsNotFound(err) {
				return nil, nil, Errorf(ENOTFOUND, "App not found")
			}
			return nil, nil, err
		}
	}
	app := new(App)
	if err := json.Unmarshal(rec.Data, app); err != nil {
		return nil, nil, err
	}
	return app, rec, nil
}

// GetApp returns an app by app id or client id (ENOTFOUND when absent).
func GetApp(ctx context.Context, tx Tx, idOrClientID string) (*App, error) {
	app, _, err := loadApp(ctx, tx, idOrClientID)
	return app, err
}

// ListApps returns every registered app, oldest first.
func ListApps(ctx context.Context, tx Tx) ([]*App, error) {
	return ListRecordsAs[App](ctx, tx, RecordQuery{Kind: KindApp})
}

// Install records that an app is installed on a location, or at agency
// level on a company: a KindInstall record with ParentID = app id and
// Key = Level.
type Install struct {
	ID       string `json:"id"`
	AppID    string `json:"appId"`
	ClientID string `json:"clientId"`
	// Level is InstallLocation or InstallCompany.
	Level       string `json:"level"`
	LocationID  string `json:"locationId,omitempty"`
	CompanyID   string `json:"companyId"`
	UserID      string `json:"userId,omitempty"`
	InstalledAt Time   `json:"installedAt"`
}

// findInstall returns the app's install on a location (level location) or
// company (level company), or nil.
func findInstall(ctx context.Context, tx Tx, appID, level, locationID, companyID string) (*Install, *Record, error) {
	q := RecordQuery{Kind: KindInstall, ParentID: appID, Key: level, Limit: 1}
	if level == InstallLocation {
		q.LocationID = locationID
	} else {
		q.CompanyID = companyID
	}
	recs, err := tx.ListRecords(ctx, q)
	if err != nil || len(recs) == 0 {
		return nil, nil, err
	}
	inst := new(Install)
	if err := json.Unmarshal(recs[0].Data, inst); err != nil {
		return nil, nil, err
	}
	return inst, recs[0], nil
}

// ListInstalls returns installs, filtered by app id, location and company
// when those are not empty, oldest first.
func ListInstalls(ctx context.Context, tx Tx, appID, locationID, companyID string) ([]*Install, error) {
	return ListRecordsAs[Install](ctx, tx, RecordQuery{Kind: KindInstall, ParentID: appID, LocationID: locationID, CompanyID: companyID})
}

// InstalledApps returns the apps installed on a location, directly or at
// agency level on its company: the apps whose webhooks receive the
// location's events.
func InstalledApps(ctx context.Context, tx Tx, locationID, companyID string) ([]*App, error) {
	var insts []*Install
	if locationID != "" {
		l, err := ListRecordsAs[Install](ctx, tx, RecordQuery{Kind: KindInstall, LocationID: locationID, Key: InstallLocation})
		if err != nil {
			return nil, err
		}
		insts = append(insts, l...)
	}
	if companyID != "" {
		c, err := ListRecordsAs[Install](ctx, tx, RecordQuery{Kind: KindInstall, CompanyID: companyID, Key: InstallCompany})
		if err != nil {
			return nil, err
		}
		insts = append(insts, c...)
	}
	seen := map[string]bool{}
	var out []*App
	for _, in := range insts {
		if seen[in.AppID] {
			continue
		}
		seen[in.AppID] = true
		app, _, err := loadApp(ctx, tx, in.AppID)
		if IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, app)
	}
	return out, nil
}

// installApp records the app's install on a location or company (unless it
// is there already) and emits AppInstall in tx. It reports whether the
// install is new.
func (s *Server) installApp(ctx context.Context, tx Tx, app *App, level, locationID, companyID, userID string) (*Install, bool, error) {
	if inst, _, err := findInstall(ctx, tx, app.ID, level, locationID, companyID); err != nil || inst != nil {
		return inst, false, err
	}
	now := s.now()
	inst := &Install{ID: NewID(), AppID: app.ID, ClientID: app.ClientID, Level: level, CompanyID: companyID, UserID: userID, InstalledAt: stampOf(now)}
	if level == InstallLocation {
		inst.LocationID = locationID
	}
	rec := Record{Kind: KindInstall, ID: inst.ID, ParentID: app.ID, LocationID: inst.LocationID, CompanyID: companyID, Key: level, CreatedAt: now, UpdatedAt: now}
	if err := PutRecordOf(ctx, tx, rec, inst); err != nil {
		return nil, false, err
	}
	// The documented INSTALL bodies: a location install names the user and
	// the company; an agency install only the company.
	ev := map[string]any{"type": "INSTALL", "appId": app.ID, "companyId": companyID, "trial": map[string]any{}}
	if level == InstallLocation {
		var company Company
		if err := GetRecordAs(ctx, tx, KindCompany, companyID, &company); err != nil && !IsNotFound(err) {
			return nil, false, err
		}
		ev["userId"] = userID
		ev["isWhitelabelCompany"] = false
		ev["whitelabelDetails"] = map[string]any{}
		ev["companyName"] = company.Name
	}
	if err := s.Emit(ctx, tx, "AppInstall", inst.LocationID, companyID, ev); err != nil {
		return nil, false, err
	}
	return inst, true, nil
}

// uninstallApp removes an install and revokes the app's tokens there. A
// company-level uninstall removes the app from the whole company: its
// location installs too, and every token of the app in the company. One
// AppUninstall is emitted per removed install. It returns the hashes of
// the revoked tokens, for the caller to evict from the auth cache once tx
// commits.
func (s *Server) uninstallApp(ctx context.Context, tx Tx, app *App, inst *Install) ([]string, error) {
	insts := []*Install{inst}
	tokQ := RecordQuery{Kind: KindToken, ParentID: app.ClientID, LocationID: inst.LocationID}
	if inst.Level == InstallCompany {
		more, err := ListRecordsAs[Install](ctx, tx, RecordQuery{Kind: KindInstall, ParentID: app.ID, CompanyID: inst.CompanyID, Key: InstallLocation})
		if err != nil {
			return nil, err
		}
		insts = append(insts, more...)
		tokQ = RecordQuery{Kind: KindToken, ParentID: app.ClientID, CompanyID: inst.CompanyID}
	}
	for _, in := range insts {
		if err := tx.DeleteRecord(ctx, KindInstall, in.ID); err != nil && !IsNotFound(err) {
			return nil, err
		}
		ev := map[string]any{"type": "UNINSTALL", "appId": app.ID, "companyId": in.CompanyID}
		if err := s.Emit(ctx, tx, "AppUninstall", in.LocationID, in.CompanyID, ev); err != nil {
			return nil, err
		}
	}
	return s.revokeTokens(ctx, tx, tokQ)
}

// revokeTokens marks the tokens q selects revoked and returns their hashes.
func (s *Server) revokeTokens(ctx context.Context, tx Tx, q RecordQuery) ([]string, error) {
	recs, err := tx.ListRecords(ctx, q)
	if err != nil {
		return nil, err
	}
	var hashes []string
	for _, rec := range recs {
		var t Token
		if err := json.Unmarshal(rec.Data, &t); err != nil {
			return nil, err
		}
		if t.Revoked {
			continue
		}
		t.Revoked = true
		if err := s.putSameRecord(ctx, tx, rec, &t); err != nil {
			return nil, err
		}
		hashes = append(hashes, t.Hash)
	}
	return hashes, nil
}
