package ghl

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// UsersService calls the users namespace (/users/…).
type UsersService service

// User is a GHL user (agency or sub-account staff).
type User struct {
	ID               string          `json:"id,omitempty"`
	Name             string          `json:"name,omitempty"`
	FirstName        string          `json:"firstName,omitempty"`
	LastName         string          `json:"lastName,omitempty"`
	Email            string          `json:"email,omitempty"`
	Phone            string          `json:"phone,omitempty"`
	Extension        string          `json:"extension,omitempty"`
	Permissions      UserPermissions `json:"permissions,omitempty"`
	Scopes           StringList      `json:"scopes,omitempty"`
	Roles            *UserRoles      `json:"roles,omitempty"`
	Deleted          bool            `json:"deleted,omitempty"`
	LCPhone          json.RawMessage `json:"lcPhone,omitempty"`
	PlatformLanguage string          `json:"platformLanguage,omitempty"`
}

// UserPermissions maps GHL's permission names ("contactsEnabled",
// "campaignsReadOnly", "workflowsEnabled", …) to whether the user has them.
// A map rather than a struct so that a request can set a permission to
// false and leave the others out.
type UserPermissions map[string]bool

// UserRoles is a user's role: Type "agency" or "account", Role "admin" or
// "user", and the locations the user belongs to.
type UserRoles struct {
	Type               string   `json:"type,omitempty"`
	Role               string   `json:"role,omitempty"`
	LocationIDs        []string `json:"locationIds,omitempty"`
	RestrictSubAccount bool     `json:"restrictSubAccount,omitempty"`
}

// UserParams is the body of POST /users/ and PUT /users/{userId}. To create,
// CompanyID, FirstName, LastName, Email, Password, Type, Role and
// LocationIDs are required.
type UserParams struct {
	CompanyID            string            `json:"companyId,omitempty"`
	FirstName            string            `json:"firstName,omitempty"`
	LastName             string            `json:"lastName,omitempty"`
	Email                string            `json:"email,omitempty"`
	Password             string            `json:"password,omitempty"`
	Phone                string            `json:"phone,omitempty"`
	Type                 string            `json:"type,omitempty"`
	Role                 string            `json:"role,omitempty"`
	LocationIDs          []string          `json:"locationIds,omitzero"` // omitzero: an agency user is created with []
	Permissions          UserPermissions   `json:"permissions,omitempty"`
	Scopes               []string          `json:"scopes,omitempty"`
	ScopesAssignedToOnly []string          `json:"scopesAssignedToOnly,omitempty"`
	ProfilePhoto         string            `json:"profilePhoto,omitempty"`
	TwilioPhone          map[string]string `json:"twilioPhone,omitempty"`
	PlatformLanguage     string            `json:"platformLanguage,omitempty"`
}

// UserList is a page of users.
type UserList struct {
	Users []*User `json:"users"`
	Count int     `json:"count"`
}

// SearchUsersParams are the query of GET /users/search.
type SearchUsersParams struct {
	CompanyID       string
	Query           string
	Skip            int
	Limit           int // default 25
	LocationID      string
	Type            string
	Role            string
	IDs             []string
	Sort            string
	SortDirection   string
	Enabled2WaySync *bool
}

// Search returns a page of a company's users.
//
// GHL API: GET /users/search
func (s *UsersService) Search(ctx context.Context, p SearchUsersParams) (*UserList, *Response, error) {
	if p.LocationID != "" {
		ctx = atIfUnset(ctx, UserTypeLocation, p.LocationID)
	} else {
		ctx = atIfUnset(ctx, UserTypeCompany, p.CompanyID)
	}
	q := url.Values{"companyId": {p.CompanyID}}
	setSkipLimit(q, p.Skip, p.Limit)
	for k, v := range map[string]string{"query": p.Query, "locationId": p.LocationID, "type": p.Type,
		"role": p.Role, "ids": strings.Join(p.IDs, ","), "sort": p.Sort, "sortDirection": p.SortDirection} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if p.Enabled2WaySync != nil {
		q.Set("enabled2waySync", strconv.FormatBool(*p.Enabled2WaySync))
	}
	req, err := s.client.NewRequest(ctx, http.MethodGet, withQuery("users/search", q), nil)
	if err != nil {
		return nil, nil, err
	}
	var out UserList
	resp, err := s.client.Do(req, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// FilterUsersByEmailParams is the body of POST /users/search/filter-by-email.
type FilterUsersByEmailParams struct {
	CompanyID  string
	Emails     []string
	Deleted    *bool
	Skip       int
	Limit      int // default 25
	Projection string
}

// MarshalJSON encodes the body as GHL declares it: emails comma-separated,
// skip and limit as strings.
func (p FilterUsersByEmailParams) MarshalJSON() ([]byte, error) {
	type body struct {
		CompanyID  string `json:"companyId"`
		Emails     string `json:"emails"`
		Deleted    *bool  `json:"deleted,omitempty"`
		Skip       string `json:"skip,omitempty"`
		Limit      string `json:"limit,omitempty"`
		Projection string `json:"projection,omitempty"`
	}
	b := body{CompanyID: p.CompanyID, Emails: strings.Join(p.Emails, ","), Deleted: p.Deleted, Projection: p.Projection}
	if p.Skip > 0 {
		b.Skip = strconv.Itoa(p.Skip)
	}
	if p.Limit > 0 {
		b.Limit = strconv.Itoa(p.Limit)
	}
	return json.Marshal(b)
}

// FilterByEmail returns a page of a company's users with the given emails.
//
// GHL API: POST /users/search/filter-by-email
func (s *UsersService) FilterByEmail(ctx context.Context, p FilterUsersByEmailParams) (*UserList, *Response, error) {
	ctx = atIfUnset(ctx, UserTypeCompany, p.CompanyID)
	req, err := s.client.NewRequest(ctx, http.MethodPost, "users/search/filter-by-email", p)
	if err != nil {
		return nil, nil, err
	}
	var out UserList
	resp, err := s.client.Do(req, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Get returns a user.
//
// GHL API: GET /users/{userId}
func (s *UsersService) Get(ctx context.Context, userID string) (*User, error) {
	u, err := apiPath("users/%s", userID)
	if err != nil {
		return nil, err
	}
	return s.doUser(ctx, http.MethodGet, u, nil)
}

// Update changes a user.
//
// GHL API: PUT /users/{userId}
func (s *UsersService) Update(ctx context.Context, userID string, p UserParams) (*User, error) {
	u, err := apiPath("users/%s", userID)
	if err != nil {
		return nil, err
	}
	return s.doUser(ctx, http.MethodPut, u, p)
}

// Create creates a user.
//
// GHL API: POST /users/
func (s *UsersService) Create(ctx context.Context, p UserParams) (*User, error) {
	return s.doUser(atIfUnset(ctx, UserTypeCompany, p.CompanyID), http.MethodPost, "users/", p)
}

func (s *UsersService) doUser(ctx context.Context, method, u string, body any) (*User, error) {
	req, err := s.client.NewRequest(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	var out User
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes a user.
//
// GHL API: DELETE /users/{userId}
func (s *UsersService) Delete(ctx context.Context, userID string) (*Succeeded, error) {
	u, err := apiPath("users/%s", userID)
	if err != nil {
		return nil, err
	}
	return s.client.deleteCall(ctx, u, nil)
}

// ListByLocation returns the users of a location. GHL deprecates it in
// favour of Search.
//
// GHL API: GET /users/ (deprecated)
func (s *UsersService) ListByLocation(ctx context.Context, locationID string) ([]*User, error) {
	if locationID == "" {
		return nil, errNoLocation("Users.ListByLocation")
	}
	req, err := s.client.NewRequest(at(ctx, UserTypeLocation, locationID), http.MethodGet,
		withQuery("users/", url.Values{"locationId": {locationID}}), nil)
	if err != nil {
		return nil, err
	}
	var out UserList
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Users, nil
}

// atIfUnset names the resource in ctx unless the caller already did: for
// calls that GHL accepts with either an agency or a location token.
func atIfUnset(ctx context.Context, userType, id string) context.Context {
	if ResourceFrom(ctx).ID != "" {
		return ctx
	}
	return at(ctx, userType, id)
}
