package ghl

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// OAuthService calls the /oauth/… endpoints. Applications that keep tokens
// per location usually want package ghl/oauth instead, which wraps the same
// endpoints with a token store and single-flight refresh.
type OAuthService service

// Grant types of POST /oauth/token.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// TokenParams is the form of POST /oauth/token.
type TokenParams struct {
	ClientID     string
	ClientSecret string
	GrantType    string // GrantAuthorizationCode or GrantRefreshToken
	Code         string
	RefreshToken string
	UserType     string // UserTypeLocation or UserTypeCompany
	RedirectURI  string
}

// OAuthToken is the answer of POST /oauth/token and /oauth/locationToken.
type OAuthToken struct {
	AccessToken              string   `json:"access_token"`
	TokenType                string   `json:"token_type,omitempty"`
	ExpiresIn                int      `json:"expires_in,omitempty"`
	RefreshToken             string   `json:"refresh_token,omitempty"`
	Scope                    string   `json:"scope,omitempty"`
	UserType                 string   `json:"userType,omitempty"`
	LocationID               string   `json:"locationId,omitempty"`
	CompanyID                string   `json:"companyId,omitempty"`
	ApprovedLocations        []string `json:"approvedLocations,omitempty"`
	UserID                   string   `json:"userId,omitempty"`
	PlanID                   string   `json:"planId,omitempty"`
	IsBulkInstallation       bool     `json:"isBulkInstallation,omitempty"`
	InstallToFutureLocations bool     `json:"installToFutureLocations,omitempty"`
	ApproveAllLocations      bool     `json:"approveAllLocations,omitempty"`
	AppID                    string   `json:"appId,omitempty"`
	VersionID                string   `json:"versionId,omitempty"`
}

// Token exchanges an authorization code or a refresh token for tokens. It
// sends no Authorization header: the client credentials are in the form.
// A refresh token is single-use; the request is not retried after it may
// have reached GHL.
//
// GHL API: POST /oauth/token
func (s *OAuthService) Token(ctx context.Context, p TokenParams) (*OAuthToken, error) {
	form := url.Values{
		"client_id":     {p.ClientID},
		"client_secret": {p.ClientSecret},
		"grant_type":    {p.GrantType},
	}
	for k, v := range map[string]string{"code": p.Code, "refresh_token": p.RefreshToken,
		"user_type": p.UserType, "redirect_uri": p.RedirectURI} {
		if v != "" {
			form.Set(k, v)
		}
	}
	req, err := s.client.NewFormRequest(withoutAuth(ctx), http.MethodPost, "oauth/token", form)
	if err != nil {
		return nil, err
	}
	var out OAuthToken
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LocationToken mints a location access token from the agency token of
// companyID (which the client's token source supplies for that company).
//
// GHL API: POST /oauth/locationToken
func (s *OAuthService) LocationToken(ctx context.Context, companyID, locationID string) (*OAuthToken, error) {
	form := url.Values{"companyId": {companyID}, "locationId": {locationID}}
	req, err := s.client.NewFormRequest(at(ctx, UserTypeCompany, companyID), http.MethodPost, "oauth/locationToken", form)
	if err != nil {
		return nil, err
	}
	var out OAuthToken
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// InstalledLocationsParams are the query of GET /oauth/installedLocations.
type InstalledLocationsParams struct {
	CompanyID   string
	AppID       string
	Skip        int
	Limit       int // default 20
	Query       string
	IsInstalled *bool
	VersionID   string
	OnTrial     *bool
	PlanID      string
	LocationID  string
}

// InstalledLocation is a location in the answer of GET /oauth/installedLocations.
type InstalledLocation struct {
	ID          string `json:"_id"`
	Name        string `json:"name"`
	Address     string `json:"address"`
	IsInstalled bool   `json:"isInstalled,omitempty"`
	VersionID   string `json:"versionId,omitempty"`
	InstalledAt string `json:"installedAt,omitempty"`
}

// InstalledLocationList is a page of installed locations.
type InstalledLocationList struct {
	Locations                []*InstalledLocation `json:"locations"`
	Count                    int                  `json:"count"`
	InstallToFutureLocations bool                 `json:"installToFutureLocations"`
}

// InstalledLocations returns a page of the company's locations where the app
// is installed (agency token).
//
// GHL API: GET /oauth/installedLocations
func (s *OAuthService) InstalledLocations(ctx context.Context, p InstalledLocationsParams) (*InstalledLocationList, *Response, error) {
	q := url.Values{"companyId": {p.CompanyID}, "appId": {p.AppID}}
	setSkipLimit(q, p.Skip, p.Limit)
	for k, v := range map[string]string{"query": p.Query, "versionId": p.VersionID, "planId": p.PlanID, "locationId": p.LocationID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if p.IsInstalled != nil {
		q.Set("isInstalled", strconv.FormatBool(*p.IsInstalled))
	}
	if p.OnTrial != nil {
		q.Set("onTrial", strconv.FormatBool(*p.OnTrial))
	}
	req, err := s.client.NewRequest(at(ctx, UserTypeCompany, p.CompanyID), http.MethodGet, withQuery("oauth/installedLocations", q), nil)
	if err != nil {
		return nil, nil, err
	}
	var out InstalledLocationList
	resp, err := s.client.Do(req, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}
