package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// registerUsers wires the users namespace (apps/users.json).
//
// Users are KindUser records with CompanyID set and Key = lower-cased email;
// the document is a User whose roles.locationIds lists the locations it may
// use. An agency token sees its company's users; a location token only the
// users with access to its location. Deleting a user marks it deleted (GHL
// queues the deletion), so filter-by-email with deleted:true still finds it.
func (s *Server) registerUsers() {
	s.handle("users", "search-users", s.searchUsers)
	s.handle("users", "filter-users-by-email", s.filterUsersByEmail)
	s.handle("users", "get-user", s.getUser)
	s.handle("users", "update-user", s.updateUser)
	s.handle("users", "delete-user", s.deleteUser)
	s.handle("users", "get-user-by-location", s.getUsersByLocation)
	s.handle("users", "create-user", s.createUser)
}

// User role types and roles GHL accepts.
var (
	userTypes = []string{"agency", "account"}
	userRoles = []string{"admin", "user"}
)

// defaultUserPermissions are PermissionsDto's documented defaults, given to
// users created without permissions.
var defaultUserPermissions = json.RawMessage(`{"campaignsEnabled":true,"campaignsReadOnly":false,"contactsEnabled":true,` +
	`"workflowsEnabled":true,"workflowsReadOnly":false,"triggersEnabled":true,"funnelsEnabled":true,"websitesEnabled":false,` +
	`"opportunitiesEnabled":true,"dashboardStatsEnabled":true,"bulkRequestsEnabled":true,"appointmentsEnabled":true,` +
	`"reviewsEnabled":true,"onlineListingsEnabled":true,"phoneCallEnabled":true,"conversationsEnabled":true,` +
	`"assignedDataOnly":false,"adwordsReportingEnabled":false,"membershipEnabled":false,"facebookAdsReportingEnabled":false,` +
	`"attributionsReportingEnabled":false,"settingsEnabled":true,"tagsEnabled":true,"leadValueEnabled":true,` +
	`"marketingEnabled":true,"agentReportingEnabled":true,"botService":false,"socialPlanner":true,"bloggingEnabled":true,` +
	`"invoiceEnabled":true,"affiliateManagerEnabled":true,"contentAiEnabled":true,"refundsEnabled":true,` +
	`"recordPaymentEnabled":true,"cancelSubscriptionEnabled":true,"paymentsEnabled":true,"communitiesEnabled":true,` +
	`"exportPaymentsEnabled":true}`)

// checkUserAccess answers 403 unless the caller may see the user: same
// company, and for a location token the user has access to its location.
func checkUserAccess(r *Request, u *User) error {
	if err := r.CheckCompany(u.CompanyID); err != nil {
		return err
	}
	if r.Auth.IsLocation() && !oneOf(r.Auth.Token.LocationID, u.Roles.LocationIDs) {
		return Errorf(EFORBIDDEN, "%s", MsgLocation)
	}
	return nil
}

// loadUser reads a live user by id with the access check.
func loadUser(r *Request, tx Tx, id string) (*User, *Record, error) {
	rec, err := tx.GetRecord(r.Context(), KindUser, id)
	if err != nil {
		if IsNotFound(err) {
			return nil, nil, Errorf(ENOTFOUND, "User not found")
		}
		return nil, nil, err
	}
	u := new(User)
	if err := json.Unmarshal(rec.Data, u); err != nil {
		return nil, nil, err
	}
	if err := checkUserAccess(r, u); err != nil {
		return nil, nil, err
	}
	if u.Deleted {
		return nil, nil, Errorf(ENOTFOUND, "User not found")
	}
	return u, rec, nil
}

// companyUsers lists the users of a company (deleted ones too), oldest first.
func companyUsers(ctx context.Context, tx Tx, companyID string) ([]*User, error) {
	return ListRecordsAs[User](ctx, tx, RecordQuery{Kind: KindUser, CompanyID: companyID})
}

// emailTaken reports whether a live user of the company other than selfID
// has the email.
func emailTaken(ctx context.Context, tx Tx, companyID, email, selfID string) (bool, error) {
	users, err := ListRecordsAs[User](ctx, tx, RecordQuery{Kind: KindUser, CompanyID: companyID, Key: strings.ToLower(email)})
	if err != nil {
		return false, err
	}
	for _, u := range users {
		if !u.Deleted && u.ID != selfID {
			return true, nil
		}
	}
	return false, nil
}

// flexInt is a number GHL's DTOs declare as a string ("10"); plain numbers
// are accepted too.
type flexInt struct {
	n   int
	set bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return Invalid("skip and limit must be non-negative number strings")
	}
	f.n, f.set = n, true
	return nil
}

func (f flexInt) or(def int) int {
	if f.set {
		return f.n
	}
	return def
}

// userInput is CreateUserDto / UpdateUserDto. Passwords are required on
// create, as GHL requires them, but never stored: the sandbox has no user
// login.
type userInput struct {
	CompanyID        string          `json:"companyId"`
	FirstName        *string         `json:"firstName"`
	LastName         *string         `json:"lastName"`
	Email            *string         `json:"email"`
	Password         *string         `json:"password"`
	Phone            *string         `json:"phone"`
	Type             *string         `json:"type"`
	Role             *string         `json:"role"`
	LocationIDs      *[]string       `json:"locationIds"`
	Permissions      json.RawMessage `json:"permissions"`
	Scopes           []string        `json:"scopes"`
	ProfilePhoto     *string         `json:"profilePhoto"`
	PlatformLanguage *string         `json:"platformLanguage"`
}

// validate returns the 422 messages of the input.
func (in *userInput) validate(creating bool) error {
	var msgs []string
	empty := func(p *string) bool { return p == nil || strings.TrimSpace(*p) == "" }
	if creating {
		for _, f := range []struct {
			name string
			v    *string
		}{{"firstName", in.FirstName}, {"lastName", in.LastName}, {"email", in.Email}, {"password", in.Password}, {"type", in.Type}, {"role", in.Role}} {
			if empty(f.v) {
				msgs = append(msgs, f.name+" should not be empty")
			}
		}
		if in.CompanyID == "" {
			msgs = append(msgs, "companyId should not be empty")
		}
		if in.LocationIDs == nil {
			msgs = append(msgs, "locationIds must be an array")
		}
	}
	if !empty(in.Email) && !isEmailAddress(strings.TrimSpace(*in.Email)) {
		msgs = append(msgs, "email must be an email")
	}
	if !empty(in.Type) && !oneOf(*in.Type, userTypes) {
		msgs = append(msgs, "type must be one of the following values: agency, account")
	}
	if !empty(in.Role) && !oneOf(*in.Role, userRoles) {
		msgs = append(msgs, "role must be one of the following values: admin, user")
	}
	if len(in.Permissions) > 0 && !strings.HasPrefix(strings.TrimSpace(string(in.Permissions)), "{") {
		msgs = append(msgs, "permissions must be an object")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	return nil
}

// checkRoles validates a user's resulting type and locations against the
// caller: an account user needs a location, every location must be one the
// caller may use, and a location token manages account users only.
func checkRoles(r *Request, roles UserRoles) error {
	if roles.Type == "account" && len(roles.LocationIDs) == 0 {
		return Invalid("locationIds should not be empty for an account user")
	}
	if r.Auth.IsLocation() && roles.Type == "agency" {
		return Errorf(EFORBIDDEN, "A sub-account token can only manage users of type account")
	}
	for _, id := range roles.LocationIDs {
		if err := r.CheckLocation(id); err != nil {
			return err
		}
	}
	return nil
}

// apply copies the input's fields onto u (email only when creating: GHL no
// longer supports changing it).
func (in *userInput) apply(u *User, creating bool) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&u.FirstName, in.FirstName)
	set(&u.LastName, in.LastName)
	set(&u.Phone, in.Phone)
	set(&u.Roles.Type, in.Type)
	set(&u.Roles.Role, in.Role)
	if creating {
		set(&u.Email, in.Email)
	}
	if in.LocationIDs != nil {
		ids := []string{}
		for _, id := range *in.LocationIDs {
			if id != "" && !oneOf(id, ids) {
				ids = append(ids, id)
			}
		}
		u.Roles.LocationIDs = ids
	}
	if len(in.Permissions) > 0 {
		u.Permissions = in.Permissions
	}
	u.Name = strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// userEvent is the documented UserCreate body.
func userEvent(u *User) map[string]any {
	ev := map[string]any{
		"id": u.ID, "firstName": u.FirstName, "lastName": u.LastName, "email": u.Email,
		"phone": u.Phone, "extension": u.Extension, "role": u.Roles.Role, "permissions": u.Permissions,
	}
	if u.Roles.Type == "agency" {
		ev["companyId"] = u.CompanyID
		ev["locations"] = u.Roles.LocationIDs
	}
	return ev
}

// createUser serves POST /users/ → 201 with the bare user, and UserCreate.
func (s *Server) createUser(w http.ResponseWriter, r *Request) error {
	var in userInput
	if err := r.Decode(&in); err != nil {
		return err
	}
	if err := in.validate(true); err != nil {
		return err
	}
	u := &User{ID: NewID(), CompanyID: in.CompanyID, Permissions: defaultUserPermissions, DateAdded: stampOf(s.now())}
	in.apply(u, true)
	if err := checkRoles(r, u.Roles); err != nil {
		return err
	}
	err := s.write(r.Context(), func(tx Tx) error {
		if taken, err := emailTaken(r.Context(), tx, u.CompanyID, u.Email, ""); err != nil {
			return err
		} else if taken {
			return Errorf(ECONFLICT, "User with email %s already exists", u.Email)
		}
		rec := Record{Kind: KindUser, ID: u.ID, CompanyID: u.CompanyID, Key: strings.ToLower(u.Email)}
		if err := PutRecordOf(r.Context(), tx, rec, u); err != nil {
			return err
		}
		loc := ""
		if u.Roles.Type == "account" {
			loc = u.Roles.LocationIDs[0]
		}
		return s.Emit(r.Context(), tx, "UserCreate", loc, u.CompanyID, userEvent(u))
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

// getUser serves GET /users/{userId} → the bare user.
func (s *Server) getUser(w http.ResponseWriter, r *Request) error {
	var u *User
	err := s.read(r.Context(), func(tx Tx) error {
		var err error
		u, _, err = loadUser(r, tx, r.PathParam("userId"))
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// updateUser serves PUT /users/{userId} → the bare user. The email is
// ignored: GHL documents that it can no longer be changed.
func (s *Server) updateUser(w http.ResponseWriter, r *Request) error {
	var in userInput
	if err := r.Decode(&in); err != nil {
		return err
	}
	if err := in.validate(false); err != nil {
		return err
	}
	var u *User
	err := s.write(r.Context(), func(tx Tx) error {
		var rec *Record
		var err error
		u, rec, err = loadUser(r, tx, r.PathParam("userId"))
		if err != nil {
			return err
		}
		in.apply(u, false)
		if err := checkRoles(r, u.Roles); err != nil {
			return err
		}
		return replaceRecordOf(r.Context(), tx, rec, u)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}

// deleteUser serves DELETE /users/{userId} → {succeded, message}.
func (s *Server) deleteUser(w http.ResponseWriter, r *Request) error {
	var u *User
	err := s.write(r.Context(), func(tx Tx) error {
		var rec *Record
		var err error
		u, rec, err = loadUser(r, tx, r.PathParam("userId"))
		if err != nil {
			return err
		}
		u.Deleted = true
		return replaceRecordOf(r.Context(), tx, rec, u)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"succeded": true,
		"message":  fmt.Sprintf("Queued deleting user with e-mail %s and name %s. Will take effect in a few minutes.", u.Email, u.Name),
	})
	return nil
}

// visibleUsers lists the live users of the company the caller may see.
func visibleUsers(r *Request, tx Tx, companyID string) ([]*User, error) {
	all, err := companyUsers(r.Context(), tx, companyID)
	if err != nil {
		return nil, err
	}
	out := make([]*User, 0, len(all))
	for _, u := range all {
		if u.Deleted || checkUserAccess(r, u) != nil {
			continue
		}
		out = append(out, u)
	}
	return out, nil
}

// userSortKeys are the fields search-users sorts by.
var userSortKeys = map[string]func(*User) string{
	"dateAdded": func(u *User) string { return u.DateAdded.UTC().Format(TimeLayout) },
	"firstName": func(u *User) string { return strings.ToLower(u.FirstName) },
	"lastName":  func(u *User) string { return strings.ToLower(u.LastName) },
	"name":      func(u *User) string { return strings.ToLower(u.Name) },
	"email":     func(u *User) string { return strings.ToLower(u.Email) },
}

// searchUsers serves GET /users/search?companyId → {users, count}; count
// is the number of matches before skip/limit.
func (s *Server) searchUsers(w http.ResponseWriter, r *Request) error {
	company := r.Query("companyId")
	var msgs []string
	if company == "" {
		msgs = append(msgs, "companyId should not be empty")
	}
	typ, role := r.Query("type"), r.Query("role")
	if typ != "" && !oneOf(typ, userTypes) {
		msgs = append(msgs, "type must be one of the following values: agency, account")
	}
	if role != "" && !oneOf(role, userRoles) {
		msgs = append(msgs, "role must be one of the following values: admin, user")
	}
	sortBy := r.Query("sort")
	if sortBy != "" && userSortKeys[sortBy] == nil {
		msgs = append(msgs, "sort must be one of the following values: dateAdded, firstName, lastName, name, email")
	}
	dir := strings.ToLower(r.Query("sortDirection"))
	if dir != "" && dir != "asc" && dir != "desc" {
		msgs = append(msgs, "sortDirection must be one of the following values: asc, desc")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	skip, err := queryNumber(r, "skip", 0)
	if err != nil {
		return err
	}
	limit, err := queryNumber(r, "limit", 25)
	if err != nil {
		return err
	}
	loc := r.Query("locationId")
	ids := r.QueryList("ids")
	query := strings.ToLower(strings.TrimSpace(r.Query("query")))

	var matched []*User
	err = s.read(r.Context(), func(tx Tx) error {
		users, err := visibleUsers(r, tx, company)
		if err != nil {
			return err
		}
		for _, u := range users {
			switch {
			case loc != "" && !oneOf(loc, u.Roles.LocationIDs),
				typ != "" && u.Roles.Type != typ,
				role != "" && u.Roles.Role != role,
				len(ids) > 0 && !oneOf(u.ID, ids),
				query != "" && !userMatches(u, query):
				continue
			}
			matched = append(matched, u)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if key := userSortKeys[sortBy]; key != nil {
		sort.SliceStable(matched, func(i, j int) bool { return key(matched[i]) < key(matched[j]) })
	}
	if dir == "desc" {
		for i, j := 0, len(matched)-1; i < j; i, j = i+1, j-1 {
			matched[i], matched[j] = matched[j], matched[i]
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": pageOf(matched, skip, limit), "count": len(matched)})
	return nil
}

// userMatches reports whether a lower-cased query occurs in the user's
// name, email or phone.
func userMatches(u *User, query string) bool {
	for _, v := range []string{u.Name, u.FirstName, u.LastName, u.Email, u.Phone} {
		if strings.Contains(strings.ToLower(v), query) {
			return true
		}
	}
	return false
}

// filterByEmailBody is FilterByEmailDto.
type filterByEmailBody struct {
	CompanyID  string  `json:"companyId"`
	Emails     string  `json:"emails"`
	Deleted    bool    `json:"deleted"`
	Skip       flexInt `json:"skip"`
	Limit      flexInt `json:"limit"`
	Projection string  `json:"projection"`
}

// filterUsersByEmail serves POST /users/search/filter-by-email (agency) →
// {users, count}. With deleted:true it returns only deleted users. As GHL
// documents, each user shows only id and email unless projection is "all"
// or lists more fields.
func (s *Server) filterUsersByEmail(w http.ResponseWriter, r *Request) error {
	var b filterByEmailBody
	if err := r.Decode(&b); err != nil {
		return err
	}
	var msgs []string
	if b.CompanyID == "" {
		msgs = append(msgs, "companyId should not be empty")
	}
	want := map[string]bool{}
	for _, e := range strings.Split(b.Emails, ",") {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			want[e] = true
		}
	}
	if len(want) == 0 {
		msgs = append(msgs, "emails should not be empty")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	var matched []*User
	err := s.read(r.Context(), func(tx Tx) error {
		users, err := companyUsers(r.Context(), tx, b.CompanyID)
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Deleted == b.Deleted && want[strings.ToLower(u.Email)] {
				matched = append(matched, u)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	page := pageOf(matched, b.Skip.or(0), b.Limit.or(25))
	out := make([]any, 0, len(page))
	for _, u := range page {
		p, err := projectUser(u, b.Projection)
		if err != nil {
			return err
		}
		out = append(out, p)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": out, "count": len(matched)})
	return nil
}

// projectUser keeps id, email and the projection's fields ("all": every
// field).
func projectUser(u *User, projection string) (any, error) {
	if strings.TrimSpace(projection) == "all" {
		return u, nil
	}
	raw, err := json.Marshal(u)
	if err != nil {
		return nil, err
	}
	var full map[string]any
	if err := json.Unmarshal(raw, &full); err != nil {
		return nil, err
	}
	out := map[string]any{"id": u.ID, "email": u.Email}
	for _, f := range strings.Split(projection, ",") {
		if f = strings.TrimSpace(f); f != "" {
			if v, ok := full[f]; ok {
				out[f] = v
			}
		}
	}
	return out, nil
}

// getUsersByLocation serves the deprecated GET /users/?locationId → {users}.
func (s *Server) getUsersByLocation(w http.ResponseWriter, r *Request) error {
	loc := r.Query("locationId")
	if loc == "" {
		return Invalid("locationId should not be empty")
	}
	var out []*User
	err := s.read(r.Context(), func(tx Tx) error {
		users, err := visibleUsers(r, tx, r.Auth.Token.CompanyID)
		if err != nil {
			return err
		}
		for _, u := range users {
			if oneOf(loc, u.Roles.LocationIDs) {
				out = append(out, u)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": pageOf(out, 0, 0)})
	return nil
}

// dropUserLocation removes a deleted location from the company's users.
func (s *Server) dropUserLocation(ctx context.Context, tx Tx, companyID, locationID string) error {
	recs, err := tx.ListRecords(ctx, RecordQuery{Kind: KindUser, CompanyID: companyID})
	if err != nil {
		return err
	}
	for _, rec := range recs {
		var u User
		if err := json.Unmarshal(rec.Data, &u); err != nil {
			return err
		}
		if !oneOf(locationID, u.Roles.LocationIDs) {
			continue
		}
		kept := []string{}
		for _, id := range u.Roles.LocationIDs {
			if id != locationID {
				kept = append(kept, id)
			}
		}
		u.Roles.LocationIDs = kept
		if err := replaceRecordOf(ctx, tx, rec, &u); err != nil {
			return err
		}
	}
	return nil
}
