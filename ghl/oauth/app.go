package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
)

// App ties a Marketplace app's Config to a TokenStore: it handles the OAuth
// callback and the AppInstall/AppUninstall webhooks, and hands out a
// TokenSource for ghl clients.
type App struct {
	Config *Config
	Store  TokenStore
	// AppID, if set, makes HandleEvent ignore events of other apps.
	AppID string
	// MintLocationTokens makes the callback of an agency (Company) install
	// mint and store a location token for each approved location.
	MintLocationTokens bool
	Logger             *slog.Logger

	once   sync.Once
	source *TokenSource
}

// TokenSource returns the App's TokenSource (one per App, so that its
// single-flight covers every client that uses it).
func (a *App) TokenSource() *TokenSource {
	a.once.Do(func() { a.source = &TokenSource{Config: a.Config, Store: a.Store, Logger: a.Logger} })
	return a.source
}

func (a *App) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Install stores tok, the result of a code exchange, under its location or
// company, and for an agency token with MintLocationTokens set mints and
// stores a token for each approved location. Minting failures are logged
// and joined into the error; the agency token is stored regardless.
func (a *App) Install(ctx context.Context, tok *Token) error {
	key := tok.Key()
	if key.ID == "" {
		return errors.New("ghl/oauth: token names neither a location nor a company")
	}
	if err := a.Store.Put(ctx, key, tok); err != nil {
		return err
	}
	if key.UserType != UserTypeCompany || !a.MintLocationTokens {
		return nil
	}
	var errs []error
	for _, loc := range tok.ApprovedLocations {
		if err := a.mint(ctx, tok.AccessToken, tok.CompanyID, loc); err != nil {
			a.logger().ErrorContext(ctx, "ghl/oauth: mint location token", "location", loc, "err", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (a *App) mint(ctx context.Context, agencyToken, companyID, locationID string) error {
	t, err := a.Config.LocationToken(ctx, agencyToken, companyID, locationID)
	if err != nil {
		return err
	}
	return a.Store.Put(ctx, Key{UserType: UserTypeLocation, ID: locationID}, t)
}

// CallbackHandler returns the handler for the app's redirect URL: it
// exchanges ?code= for tokens and installs them (see Install). done, if not
// nil, writes the response; by default the handler answers 200 "installed"
// or an error status with a short text.
func (a *App) CallbackHandler(done func(w http.ResponseWriter, r *http.Request, tok *Token, err error)) http.Handler {
	if done == nil {
		done = func(w http.ResponseWriter, r *http.Request, tok *Token, err error) {
			var oe *Error
			switch {
			case err == nil:
				io.WriteString(w, "installed\n")
			case errors.As(err, &oe) || errors.Is(err, errNoCode):
				http.Error(w, "authorization failed: "+err.Error(), http.StatusBadRequest)
			default:
				http.Error(w, "installation failed", http.StatusInternalServerError)
			}
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		code := q.Get("code")
		if code == "" {
			done(w, r, nil, fmt.Errorf("%w: %s", errNoCode, q.Get("error")))
			return
		}
		tok, err := a.Config.Exchange(r.Context(), code)
		if err == nil {
			err = a.Install(r.Context(), tok)
		}
		if err != nil {
			a.logger().ErrorContext(r.Context(), "ghl/oauth: callback", "err", err)
		}
		done(w, r, tok, err)
	})
}

var errNoCode = errors.New("ghl/oauth: callback without ?code=")

// InstallEvent is the body of GHL's AppInstall and AppUninstall webhooks.
type InstallEvent struct {
	Type                string          `json:"type"` // "INSTALL" or "UNINSTALL"
	AppID               string          `json:"appId"`
	VersionID           string          `json:"versionId,omitempty"`
	CompanyID           string          `json:"companyId,omitempty"`
	LocationID          string          `json:"locationId,omitempty"`
	UserID              string          `json:"userId,omitempty"`
	PlanID              string          `json:"planId,omitempty"`
	Trial               json.RawMessage `json:"trial,omitempty"`
	IsWhitelabelCompany bool            `json:"isWhitelabelCompany,omitempty"`
	CompanyName         string          `json:"companyName,omitempty"`
	Timestamp           string          `json:"timestamp,omitempty"`
	WebhookID           string          `json:"webhookId,omitempty"`
}

// HandleEvent acts on an AppInstall or AppUninstall webhook body, whose
// signature the caller has verified (package webhook does that):
//
//   - INSTALL of a location whose company has an agency token in the store:
//     mint the location's token with /oauth/locationToken and store it (a
//     location-level install gets its tokens through the OAuth callback
//     instead, so there is nothing to do);
//   - UNINSTALL: delete the location's token, or for an agency-level
//     uninstall the company's.
//
// Other event types, and events of other apps when AppID is set, are
// ignored.
func (a *App) HandleEvent(ctx context.Context, body []byte) error {
	var ev InstallEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return fmt.Errorf("ghl/oauth: install event: %w", err)
	}
	if a.AppID != "" && ev.AppID != "" && ev.AppID != a.AppID {
		return nil
	}
	switch ev.Type {
	case "INSTALL":
		if ev.LocationID == "" || ev.CompanyID == "" {
			return nil
		}
		agency, err := a.TokenSource().Token(ctx, UserTypeCompany, ev.CompanyID)
		if errors.Is(err, ErrNoToken) {
			return nil
		}
		if err != nil {
			return err
		}
		return a.mint(ctx, agency, ev.CompanyID, ev.LocationID)
	case "UNINSTALL":
		key := Key{UserType: UserTypeLocation, ID: ev.LocationID}
		if ev.LocationID == "" {
			key = Key{UserType: UserTypeCompany, ID: ev.CompanyID}
		}
		if key.ID == "" {
			return nil
		}
		a.TokenSource().remember(key, nil)
		return a.Store.Delete(ctx, key)
	}
	return nil
}

// EventHandler returns an http.Handler that passes the POSTed body to
// HandleEvent: 200 on success, 400 for a body that is not an event, 500
// when storing failed. Mount it behind the webhook signature check.
func (a *App) EventHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch err := a.HandleEvent(r.Context(), body); {
		case err == nil:
			w.WriteHeader(http.StatusOK)
		case errors.As(err, &syntax), errors.As(err, &typ):
			http.Error(w, "not an install event", http.StatusBadRequest)
		default:
			a.logger().ErrorContext(r.Context(), "ghl/oauth: install event", "err", err)
			http.Error(w, "event failed", http.StatusInternalServerError)
		}
	})
}
