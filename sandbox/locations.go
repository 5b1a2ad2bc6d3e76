package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// registerLocations wires the locations namespace (apps/locations.json).
// Recurring tasks and the custom-field file upload live in
// locations_recurring.go.
func (s *Server) registerLocations() {
	s.handle("locations", "get-location", s.getLocation)
	s.handle("locations", "search-locations", s.searchLocations)
	s.handle("locations", "put-location", s.putLocation)
	s.handle("locations", "create-location", s.createLocation)
	s.handle("locations", "delete-location", s.deleteLocation)

	s.handle("locations", "get-location-tags", s.getLocationTags)
	s.handle("locations", "create-tag", s.createTag)
	s.handle("locations", "get-tag-by-id", s.getTag)
	s.handle("locations", "update-tag", s.updateTag)
	s.handle("locations", "delete-tag", s.deleteTag)

	// The v1 custom-field view lives in customfields.go next to the v2 one:
	// both read and write the same KindCustomField records.
	s.handle("locations", "get-custom-fields", s.getLocationCustomFields)
	s.handle("locations", "create-custom-field", s.createLocationCustomField)
	s.handle("locations", "get-custom-field", s.getLocationCustomField)
	s.handle("locations", "update-custom-field", s.updateLocationCustomField)
	s.handle("locations", "delete-custom-field", s.deleteLocationCustomField)

	s.handle("locations", "get-custom-values", s.getCustomValues)
	s.handle("locations", "create-custom-value", s.createCustomValue)
	s.handle("locations", "get-custom-value", s.getCustomValue)
	s.handle("locations", "update-custom-value", s.updateCustomValue)
	s.handle("locations", "delete-custom-value", s.deleteCustomValue)

	s.handle("locations", "get-timezones", s.getTimezones)
	s.handle("locations", "GET-all-or-email-sms-templates", s.getTemplates)
	s.handle("locations", "DELETE-an-email-sms-template", s.deleteTemplate)
	s.handle("locations", "task-search", s.searchLocationTasks)
	s.registerLocationsRecurring()
}

// getLocation serves GET /locations/{locationId} → {location}.
func (s *Server) getLocation(w http.ResponseWriter, r *Request) error {
	var loc *Location
	err := s.read(r.Context(), func(tx Tx) error {
		var err error
		loc, _, err = loadLocation(r.Context(), tx, r.PathParam("locationId"))
		return err
	})
	if err != nil {
		return err
	}
	if err := r.CheckLocation(loc.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"location": loc})
	return nil
}

// searchLocations serves GET /locations/search → {locations}. An agency
// token sees its company's locations; a location token only its own.
func (s *Server) searchLocations(w http.ResponseWriter, r *Request) error {
	skip, err := queryNumber(r, "skip", 0)
	if err != nil {
		return err
	}
	limit, err := queryNumber(r, "limit", 10)
	if err != nil {
		return err
	}
	order := strings.ToLower(r.Query("order"))
	if order != "" && order != "asc" && order != "desc" {
		return Invalid("order must be one of the following values: asc, desc")
	}
	company := firstNonEmpty(r.Query("companyId"), r.Auth.Token.CompanyID)
	email := strings.ToLower(strings.TrimSpace(r.Query("email")))

	var out []*Location
	err = s.read(r.Context(), func(tx Tx) error {
		locs, err := ListRecordsAs[Location](r.Context(), tx, RecordQuery{Kind: KindLocation, CompanyID: company})
		if err != nil {
			return err
		}
		for _, l := range locs {
			if r.Auth.IsLocation() && l.ID != r.Auth.Token.LocationID {
				continue
			}
			if email != "" && strings.ToLower(l.Email) != email {
				continue
			}
			out = append(out, l)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if order == "desc" {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"locations": pageOf(out, skip, limit)})
	return nil
}

// locationInput is the body of POST /locations/ and PUT /locations/{id}.
// Pointers tell "absent" from "set to empty" so an update only touches the
// fields it names.
type locationInput struct {
	Name       *string `json:"name"`
	Phone      *string `json:"phone"`
	Email      *string `json:"email"` // not in the DTOs, but GET shows it; accepted as an extension
	CompanyID  string  `json:"companyId"`
	Address    *string `json:"address"`
	City       *string `json:"city"`
	State      *string `json:"state"`
	Country    *string `json:"country"`
	PostalCode *string `json:"postalCode"`
	Website    *string `json:"website"`
	Timezone   *string `json:"timezone"`
	Settings   *struct {
		AllowDuplicateContact     *bool `json:"allowDuplicateContact"`
		AllowDuplicateOpportunity *bool `json:"allowDuplicateOpportunity"`
		AllowFacebookNameMerge    *bool `json:"allowFacebookNameMerge"`
		DisableContactTimezone    *bool `json:"disableContactTimezone"`
	} `json:"settings"`
	Social       map[string]string `json:"social"`
	ProspectInfo *struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
		Email     string `json:"email"`
	} `json:"prospectInfo"`
	Twilio     json.RawMessage `json:"twilio"`
	Mailgun    json.RawMessage `json:"mailgun"`
	SnapshotID string          `json:"snapshotId"`
	Snapshot   json.RawMessage `json:"snapshot"`
}

var countryCode = regexp.MustCompile(`^[A-Z]{2}$`)

// validate returns the 422 messages of an input; creating requires a name.
func (in *locationInput) validate(creating bool) error {
	var msgs []string
	if creating && (in.Name == nil || strings.TrimSpace(*in.Name) == "") {
		msgs = append(msgs, "name should not be empty")
	}
	if !creating && in.Name != nil && strings.TrimSpace(*in.Name) == "" {
		msgs = append(msgs, "name should not be empty")
	}
	if creating && in.CompanyID == "" {
		msgs = append(msgs, "companyId should not be empty")
	}
	if in.Email != nil && *in.Email != "" && !isEmailAddress(*in.Email) {
		msgs = append(msgs, "email must be an email")
	}
	if in.Country != nil && *in.Country != "" && !countryCode.MatchString(*in.Country) {
		msgs = append(msgs, "country must be a valid ISO 3166-1 alpha-2 country code")
	}
	if in.Timezone != nil && *in.Timezone != "" && !validTimezone(*in.Timezone) {
		msgs = append(msgs, "timezone must be a valid IANA timezone")
	}
	if in.ProspectInfo != nil && in.ProspectInfo.Email != "" && !isEmailAddress(in.ProspectInfo.Email) {
		msgs = append(msgs, "prospectInfo.email must be an email")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	return nil
}

// apply copies the fields the input names onto loc.
func (in *locationInput) apply(loc *Location) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&loc.Name, in.Name)
	set(&loc.Phone, in.Phone)
	set(&loc.Email, in.Email)
	set(&loc.Address, in.Address)
	set(&loc.City, in.City)
	set(&loc.State, in.State)
	set(&loc.Country, in.Country)
	set(&loc.PostalCode, in.PostalCode)
	set(&loc.Website, in.Website)
	set(&loc.Timezone, in.Timezone)
	if st := in.Settings; st != nil {
		setBool := func(dst *bool, src *bool) {
			if src != nil {
				*dst = *src
			}
		}
		setBool(&loc.Settings.AllowDuplicateContact, st.AllowDuplicateContact)
		setBool(&loc.Settings.AllowDuplicateOpportunity, st.AllowDuplicateOpportunity)
		setBool(&loc.Settings.AllowFacebookNameMerge, st.AllowFacebookNameMerge)
		setBool(&loc.Settings.DisableContactTimezone, st.DisableContactTimezone)
	}
	if len(in.Social) > 0 {
		if loc.Social == nil {
			loc.Social = map[string]string{}
		}
		for k, v := range in.Social {
			loc.Social[k] = v
		}
	}
}

// locationEvent is the documented body of LocationCreate/LocationUpdate.
func locationEvent(loc *Location) map[string]any {
	return map[string]any{"id": loc.ID, "companyId": loc.CompanyID, "name": loc.Name, "email": loc.Email}
}

// createLocation serves POST /locations/ (agency): 200 with the bare
// location, and a LocationCreate event.
func (s *Server) createLocation(w http.ResponseWriter, r *Request) error {
	var in locationInput
	if err := r.Decode(&in); err != nil {
		return err
	}
	if err := in.validate(true); err != nil {
		return err
	}
	// The pipeline already checked companyId against the token.
	loc := &Location{ID: NewID(), CompanyID: in.CompanyID, DateAdded: stampOf(s.now())}
	in.apply(loc)
	if in.ProspectInfo != nil && loc.Email == "" {
		loc.Email = in.ProspectInfo.Email
	}
	err := s.write(r.Context(), func(tx Tx) error {
		if _, err := tx.GetRecord(r.Context(), KindCompany, in.CompanyID); err != nil {
			if IsNotFound(err) {
				return Errorf(ENOTFOUND, "Company not found")
			}
			return err
		}
		rec := Record{Kind: KindLocation, ID: loc.ID, LocationID: loc.ID, CompanyID: loc.CompanyID}
		if err := PutRecordOf(r.Context(), tx, rec, loc); err != nil {
			return err
		}
		return s.Emit(r.Context(), tx, "LocationCreate", loc.ID, loc.CompanyID, locationEvent(loc))
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, loc)
	return nil
}

// putLocation serves PUT /locations/{locationId} (agency): 200 with the
// bare location, and a LocationUpdate event. Sandbox extension: the body's
// settings object ({allowDuplicateContact, allowDuplicateOpportunity, …})
// is stored and drives the contact duplicate rules; companyId, which the
// spec requires, may be omitted, and must name the location's company when
// given.
func (s *Server) putLocation(w http.ResponseWriter, r *Request) error {
	var in locationInput
	if err := r.Decode(&in); err != nil {
		return err
	}
	if err := in.validate(false); err != nil {
		return err
	}
	var loc *Location
	err := s.write(r.Context(), func(tx Tx) error {
		var rec *Record
		var err error
		loc, rec, err = loadLocation(r.Context(), tx, r.PathParam("locationId"))
		if err != nil {
			return err
		}
		if err := r.CheckLocation(loc.ID); err != nil {
			return err
		}
		if in.CompanyID != "" && in.CompanyID != loc.CompanyID {
			return Invalid("companyId must be the company of the location")
		}
		in.apply(loc)
		if err := replaceRecordOf(r.Context(), tx, rec, loc); err != nil {
			return err
		}
		return s.Emit(r.Context(), tx, "LocationUpdate", loc.ID, loc.CompanyID, locationEvent(loc))
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, loc)
	return nil
}

// locationOwnedKinds are the records that belong to a location and go with
// it when it is deleted.
var locationOwnedKinds = []Kind{KindTag, KindCustomField, KindCustomFieldFolder, KindCustomValue, KindNote, KindTask, KindRecurringTask, KindCustomFieldFile, KindCalendar, KindPipeline}

// deleteLocation serves DELETE /locations/{locationId}?deleteTwilioAccount=
// (agency) → {success, message}. The location's contacts, tags, custom
// fields and values go with it, and users lose access to it.
func (s *Server) deleteLocation(w http.ResponseWriter, r *Request) error {
	switch r.Query("deleteTwilioAccount") {
	case "true", "false":
	case "":
		return Invalid("deleteTwilioAccount should not be empty")
	default:
		return Invalid("deleteTwilioAccount must be a boolean value")
	}
	id := r.PathParam("locationId")
	ctx := r.Context()
	err := s.write(ctx, func(tx Tx) error {
		loc, _, err := loadLocation(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := r.CheckLocation(loc.ID); err != nil {
			return err
		}
		for {
			page, err := tx.SearchContacts(ctx, ContactQuery{LocationID: id, Limit: 500, NoTotal: true})
			if err != nil {
				return err
			}
			if len(page.Contacts) == 0 {
				break
			}
			for _, c := range page.Contacts {
				if err := tx.DeleteContact(ctx, c.ID); err != nil && !IsNotFound(err) {
					return err
				}
			}
		}
		for _, kind := range locationOwnedKinds {
			recs, err := tx.ListRecords(ctx, RecordQuery{Kind: kind, LocationID: id})
			if err != nil {
				return err
			}
			for _, rec := range recs {
				if err := tx.DeleteRecord(ctx, kind, rec.ID); err != nil && !IsNotFound(err) {
					return err
				}
			}
		}
		if err := s.dropUserLocation(ctx, tx, loc.CompanyID, id); err != nil {
			return err
		}
		return tx.DeleteRecord(ctx, KindLocation, id)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "message": "Deleted location with id: " + id})
	return nil
}

// loadLocation reads a location, answering 404 "Location not found".
func loadLocation(ctx context.Context, tx Tx, id string) (*Location, *Record, error) {
	rec, err := tx.GetRecord(ctx, KindLocation, id)
	if err != nil {
		if IsNotFound(err) {
			return nil, nil, Errorf(ENOTFOUND, "Location not found")
		}
		return nil, nil, err
	}
	loc := new(Location)
	if err := json.Unmarshal(rec.Data, loc); err != nil {
		return nil, nil, err
	}
	if loc.ID == "" {
		loc.ID = rec.ID
	}
	return loc, rec, nil
}

// replaceRecordOf stores v as the new document of an existing record,
// keeping its indexed columns and creation time so list order is stable.
func replaceRecordOf(ctx context.Context, tx Tx, old *Record, v any) error {
	rec := *old
	rec.Data = nil
	rec.UpdatedAt = time.Time{}
	return PutRecordOf(ctx, tx, rec, v)
}

// stampOf converts a clock reading to GHL's millisecond UTC Time.
func stampOf(t time.Time) Time { return Time{t.UTC().Truncate(time.Millisecond)} }

// queryNumber reads a non-negative integer query parameter that GHL's specs
// declare as a string (skip, limit); absent means def.
func queryNumber(r *Request, name string, def int) (int, error) {
	v := strings.TrimSpace(r.Query(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, Invalid(fmt.Sprintf("%s must be a number string", name))
	}
	return n, nil
}

// pageOf returns items[skip:skip+limit] (limit 0: no limit), never nil so
// empty pages encode as [].
func pageOf[T any](items []T, skip, limit int) []T {
	if skip >= len(items) {
		return []T{}
	}
	items = items[skip:]
	if limit > 0 && limit < len(items) {
		items = items[:limit]
	}
	if items == nil {
		return []T{}
	}
	return items
}

var emailPattern = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)

// isEmailAddress reports whether s looks like an email address, as GHL's
// class-validator IsEmail does for the common cases.
func isEmailAddress(s string) bool { return emailPattern.MatchString(s) }

// snakeKey turns a display name into GHL's key form: "My Field!" → "my_field".
func snakeKey(name string) string {
	var b strings.Builder
	underscore := false
	for _, c := range strings.ToLower(strings.TrimSpace(name)) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
			underscore = false
		default:
			if b.Len() > 0 && !underscore {
				b.WriteByte('_')
				underscore = true
			}
		}
	}
	return strings.TrimSuffix(b.String(), "_")
}

// ---- tags ----

// getLocationTags serves GET /locations/{locationId}/tags → {tags}, by name.
func (s *Server) getLocationTags(w http.ResponseWriter, r *Request) error {
	var tags []*Tag
	err := s.read(r.Context(), func(tx Tx) error {
		var err error
		tags, err = ListRecordsAs[Tag](r.Context(), tx, RecordQuery{Kind: KindTag, LocationID: r.PathParam("locationId")})
		return err
	})
	if err != nil {
		return err
	}
	sort.SliceStable(tags, func(i, j int) bool { return strings.ToLower(tags[i].Name) < strings.ToLower(tags[j].Name) })
	writeJSON(w, http.StatusOK, map[string]any{"tags": pageOf(tags, 0, 0)})
	return nil
}

// tagBody is the body of tag create and update.
type tagBody struct {
	Name *string `json:"name"`
}

func (b *tagBody) name() (string, error) {
	if b.Name == nil || strings.TrimSpace(*b.Name) == "" {
		return "", Invalid("name should not be empty")
	}
	return strings.TrimSpace(*b.Name), nil
}

// findTag returns the tag of the location with the name (any case), or nil.
func findTag(ctx context.Context, tx Tx, locationID, name string) (*Tag, error) {
	tags, err := ListRecordsAs[Tag](ctx, tx, RecordQuery{Kind: KindTag, LocationID: locationID, Key: strings.ToLower(name), Limit: 1})
	if err != nil || len(tags) == 0 {
		return nil, err
	}
	return tags[0], nil
}

// createTag serves POST /locations/{locationId}/tags → 200 {tag}; a name
// the location already has (in any case) is a 400.
func (s *Server) createTag(w http.ResponseWriter, r *Request) error {
	var body tagBody
	if err := r.Decode(&body); err != nil {
		return err
	}
	name, err := body.name()
	if err != nil {
		return err
	}
	loc := r.PathParam("locationId")
	tag := &Tag{ID: NewID(), Name: name, LocationID: loc}
	err = s.write(r.Context(), func(tx Tx) error {
		if _, _, err := loadLocation(r.Context(), tx, loc); err != nil {
			return err
		}
		if dup, err := findTag(r.Context(), tx, loc, name); err != nil {
			return err
		} else if dup != nil {
			return Errorf(ECONFLICT, "Tag already exists")
		}
		return PutRecordOf(r.Context(), tx, Record{Kind: KindTag, ID: tag.ID, LocationID: loc, Key: strings.ToLower(name)}, tag)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tag": tag})
	return nil
}

// loadTag reads a tag by id and checks that the caller may see it and that
// it belongs to the location in the path.
func loadTag(r *Request, tx Tx) (*Tag, *Record, error) {
	rec, err := tx.GetRecord(r.Context(), KindTag, r.PathParam("tagId"))
	if err != nil {
		if IsNotFound(err) {
			return nil, nil, Errorf(ENOTFOUND, "Tag not found")
		}
		return nil, nil, err
	}
	tag := new(Tag)
	if err := json.Unmarshal(rec.Data, tag); err != nil {
		return nil, nil, err
	}
	if err := r.CheckLocation(rec.LocationID); err != nil {
		return nil, nil, err
	}
	if rec.LocationID != r.PathParam("locationId") {
		return nil, nil, Errorf(ENOTFOUND, "Tag not found")
	}
	return tag, rec, nil
}

// getTag serves GET /locations/{locationId}/tags/{tagId} → {tag}.
func (s *Server) getTag(w http.ResponseWriter, r *Request) error {
	var tag *Tag
	err := s.read(r.Context(), func(tx Tx) error {
		var err error
		tag, _, err = loadTag(r, tx)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tag": tag})
	return nil
}

// updateTag serves PUT /locations/{locationId}/tags/{tagId} → {tag}
// (rename). As in GHL, the location's contacts that carry the tag (in any
// case) carry it under the new name afterwards; a contact that already has
// the new name keeps that one alone.
func (s *Server) updateTag(w http.ResponseWriter, r *Request) error {
	var body tagBody
	if err := r.Decode(&body); err != nil {
		return err
	}
	name, err := body.name()
	if err != nil {
		return err
	}
	var tag *Tag
	// The cascade to contacts finishes even if the client stops waiting
	// (see updateLocationContacts).
	err = s.write(context.WithoutCancel(r.Context()), func(tx Tx) error {
		var rec *Record
		var err error
		tag, rec, err = loadTag(r, tx)
		if err != nil {
			return err
		}
		if dup, err := findTag(r.Context(), tx, tag.LocationID, name); err != nil {
			return err
		} else if dup != nil && dup.ID != tag.ID {
			return Errorf(ECONFLICT, "Tag already exists")
		}
		old := tag.Name
		tag.Name = name
		rec.Key = strings.ToLower(name)
		if err := replaceRecordOf(r.Context(), tx, rec, tag); err != nil {
			return err
		}
		if old == name {
			return nil
		}
		return s.updateLocationContacts(r.Context(), tx, tag.LocationID, tagFilter(old), func(c *Contact) (contactChange, bool) {
			var changed bool
			c.Tags, changed = renameContactTag(c.Tags, old, name)
			return contactChange{tags: true}, changed
		})
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tag": tag})
	return nil
}

// deleteTag serves DELETE /locations/{locationId}/tags/{tagId} →
// {succeded: true}. As in GHL, the tag is removed (in any case) from the
// location's contacts that carry it.
func (s *Server) deleteTag(w http.ResponseWriter, r *Request) error {
	err := s.write(context.WithoutCancel(r.Context()), func(tx Tx) error {
		tag, _, err := loadTag(r, tx)
		if err != nil {
			return err
		}
		if err := tx.DeleteRecord(r.Context(), KindTag, tag.ID); err != nil {
			return err
		}
		return s.updateLocationContacts(r.Context(), tx, tag.LocationID, tagFilter(tag.Name), func(c *Contact) (contactChange, bool) {
			var removed []string
			c.Tags, removed = removeContactTags(c.Tags, []string{tag.Name})
			return contactChange{tags: true}, len(removed) > 0
		})
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true})
	return nil
}

// tagFilter selects the contacts carrying a tag (in any case).
func tagFilter(name string) *Filter {
	return &Filter{Field: "tags", Operator: OpEq, Value: name}
}

// renameContactTag renames a contact's tag old (matched case-insensitively)
// to name, in place; when the contact already has name (in any case) as
// another tag, the old one is dropped instead of making a repeat. changed
// says whether the tags differ from before.
func renameContactTag(tags []string, old, name string) (out []string, changed bool) {
	oldKey, newKey := strings.ToLower(old), strings.ToLower(name)
	has := false
	for _, t := range tags {
		if k := strings.ToLower(t); k == newKey && k != oldKey {
			has = true
		}
	}
	out = make([]string, 0, len(tags))
	for _, t := range tags {
		switch {
		case strings.ToLower(t) != oldKey:
			out = append(out, t)
		case !has:
			out = append(out, name)
			has = true // only once, should old appear twice
		}
	}
	return out, !slices.Equal(out, tags)
}

// updateLocationContactsPage is how many contacts updateLocationContacts
// reads at a time.
const updateLocationContactsPage = 500

// updateLocationContacts runs change on every contact of a location that
// filter selects and saves, in tx, each one change reports changed, as the
// bulk contact handlers do (storeContactUpdate: a new dateUpdated, the
// ContactUpdate event, and ContactTagUpdate when the change says tags).
// It pages by the (dateAdded, id) cursor, which updates do not move, so
// contacts that stop matching once changed are neither skipped nor read
// twice.
func (s *Server) updateLocationContacts(ctx context.Context, tx Tx, locationID string, filter *Filter, change func(*Contact) (contactChange, bool)) error {
	// A cascade over many contacts takes seconds; a client that gives up
	// must not make it roll back, to be redone in full by its retry.
	ctx = context.WithoutCancel(ctx)
	var loc *Location
	var after []any
	for {
		page, err := tx.SearchContacts(ctx, ContactQuery{
			LocationID: locationID, Filter: filter, Sort: []Sort{{Field: "dateAdded"}},
			SearchAfter: after, Limit: updateLocationContactsPage, NoTotal: true,
		})
		if err != nil {
			return err
		}
		for _, c := range page.Contacts {
			what, changed := change(c)
			if !changed {
				continue
			}
			if loc == nil {
				if loc, _, err = loadLocation(ctx, tx, locationID); err != nil {
					return err
				}
			}
			if err := s.storeContactUpdate(ctx, tx, loc, c, what); err != nil {
				return err
			}
		}
		if len(page.Contacts) < updateLocationContactsPage || len(page.SortValues) < len(page.Contacts) {
			return nil
		}
		after = page.SortValues[len(page.SortValues)-1]
	}
}

// ---- custom values ----

// customValueBody is the body of custom value create and update.
type customValueBody struct {
	Name  *string `json:"name"`
	Value *string `json:"value"`
}

func (b *customValueBody) validate() error {
	var msgs []string
	if b.Name == nil || strings.TrimSpace(*b.Name) == "" {
		msgs = append(msgs, "name should not be empty")
	} else if snakeKey(*b.Name) == "" {
		msgs = append(msgs, "name must contain a letter or a digit")
	}
	if b.Value == nil {
		msgs = append(msgs, "value must be a string")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	return nil
}

// customValueKey is the merge key of a custom value name.
func customValueKey(name string) string { return "{{ custom_values." + snakeKey(name) + " }}" }

// getCustomValues serves GET /locations/{locationId}/customValues.
func (s *Server) getCustomValues(w http.ResponseWriter, r *Request) error {
	var vals []*CustomValue
	err := s.read(r.Context(), func(tx Tx) error {
		var err error
		vals, err = ListRecordsAs[CustomValue](r.Context(), tx, RecordQuery{Kind: KindCustomValue, LocationID: r.PathParam("locationId")})
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"customValues": pageOf(vals, 0, 0)})
	return nil
}

// createCustomValue serves POST /locations/{locationId}/customValues → 201
// {customValue}; a name whose key the location already has is a 400.
func (s *Server) createCustomValue(w http.ResponseWriter, r *Request) error {
	var body customValueBody
	if err := r.Decode(&body); err != nil {
		return err
	}
	if err := body.validate(); err != nil {
		return err
	}
	loc := r.PathParam("locationId")
	cv := &CustomValue{ID: NewID(), Name: strings.TrimSpace(*body.Name), Value: *body.Value, LocationID: loc}
	cv.FieldKey = customValueKey(cv.Name)
	err := s.write(r.Context(), func(tx Tx) error {
		if _, _, err := loadLocation(r.Context(), tx, loc); err != nil {
			return err
		}
		n, err := tx.CountRecords(r.Context(), RecordQuery{Kind: KindCustomValue, LocationID: loc, Key: cv.FieldKey})
		if err != nil {
			return err
		}
		if n > 0 {
			return Errorf(ECONFLICT, "Custom value with the name %q already exists", cv.Name)
		}
		return PutRecordOf(r.Context(), tx, Record{Kind: KindCustomValue, ID: cv.ID, LocationID: loc, Key: cv.FieldKey}, cv)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"customValue": cv})
	return nil
}

// loadCustomValue reads a custom value by the path id, with access checks.
func loadCustomValue(r *Request, tx Tx) (*CustomValue, *Record, error) {
	rec, err := tx.GetRecord(r.Context(), KindCustomValue, r.PathParam("id"))
	if err != nil {
		if IsNotFound(err) {
			return nil, nil, Errorf(ENOTFOUND, "Custom value not found")
		}
		return nil, nil, err
	}
	if err := r.CheckLocation(rec.LocationID); err != nil {
		return nil, nil, err
	}
	if rec.LocationID != r.PathParam("locationId") {
		return nil, nil, Errorf(ENOTFOUND, "Custom value not found")
	}
	cv := new(CustomValue)
	if err := json.Unmarshal(rec.Data, cv); err != nil {
		return nil, nil, err
	}
	return cv, rec, nil
}

// getCustomValue serves GET /locations/{locationId}/customValues/{id}.
func (s *Server) getCustomValue(w http.ResponseWriter, r *Request) error {
	var cv *CustomValue
	err := s.read(r.Context(), func(tx Tx) error {
		var err error
		cv, _, err = loadCustomValue(r, tx)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"customValue": cv})
	return nil
}

// updateCustomValue serves PUT /locations/{locationId}/customValues/{id}.
// The merge key follows the name, as templates refer to it by name.
func (s *Server) updateCustomValue(w http.ResponseWriter, r *Request) error {
	var body customValueBody
	if err := r.Decode(&body); err != nil {
		return err
	}
	if err := body.validate(); err != nil {
		return err
	}
	var cv *CustomValue
	err := s.write(r.Context(), func(tx Tx) error {
		var rec *Record
		var err error
		cv, rec, err = loadCustomValue(r, tx)
		if err != nil {
			return err
		}
		key := customValueKey(*body.Name)
		if key != cv.FieldKey {
			others, err := tx.ListRecords(r.Context(), RecordQuery{Kind: KindCustomValue, LocationID: cv.LocationID, Key: key, Limit: 1})
			if err != nil {
				return err
			}
			if len(others) > 0 {
				return Errorf(ECONFLICT, "Custom value with the name %q already exists", strings.TrimSpace(*body.Name))
			}
		}
		cv.Name, cv.Value, cv.FieldKey = strings.TrimSpace(*body.Name), *body.Value, key
		rec.Key = key
		return replaceRecordOf(r.Context(), tx, rec, cv)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"customValue": cv})
	return nil
}

// deleteCustomValue serves DELETE /locations/{locationId}/customValues/{id}.
func (s *Server) deleteCustomValue(w http.ResponseWriter, r *Request) error {
	err := s.write(r.Context(), func(tx Tx) error {
		cv, _, err := loadCustomValue(r, tx)
		if err != nil {
			return err
		}
		return tx.DeleteRecord(r.Context(), KindCustomValue, cv.ID)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true})
	return nil
}

// ---- timezones and templates ----

// getTimezones serves GET /locations/{locationId}/timezones → {timezones}:
// the IANA zone names a location may use.
func (s *Server) getTimezones(w http.ResponseWriter, r *Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"timezones": strings.Fields(ianaTimezones)})
	return nil
}

// validTimezone reports whether tz is a zone name GHL accepts.
func validTimezone(tz string) bool {
	for _, z := range strings.Fields(ianaTimezones) {
		if z == tz {
			return true
		}
	}
	_, err := time.LoadLocation(tz)
	return err == nil && tz != "Local"
}

// getTemplates serves GET /locations/{locationId}/templates: the sandbox
// has no email/SMS template builder, so the list is always empty.
func (s *Server) getTemplates(w http.ResponseWriter, r *Request) error {
	if _, err := queryNumber(r, "skip", 0); err != nil {
		return err
	}
	if _, err := queryNumber(r, "limit", 25); err != nil {
		return err
	}
	if t := r.Query("type"); t != "" && t != "sms" && t != "email" && t != "whatsapp" {
		return Invalid("type must be one of the following values: sms, email, whatsapp")
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": []any{}, "totalCount": 0})
	return nil
}

// deleteTemplate serves DELETE /locations/{locationId}/templates/{id}; with
// no templates stored there is nothing to remove, and GHL answers 200.
func (s *Server) deleteTemplate(w http.ResponseWriter, r *Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true})
	return nil
}

// ---- task search ----

// taskSearchBody is TaskSearchParamsDto.
type taskSearchBody struct {
	ContactID  []string `json:"contactId"`
	Completed  *bool    `json:"completed"`
	AssignedTo []string `json:"assignedTo"`
	Query      string   `json:"query"`
	Limit      *int     `json:"limit"`
	Skip       *int     `json:"skip"`
	BusinessID string   `json:"businessId"`
}

// taskFields are the task fields the search filters on; the task document
// itself (owned by the contacts handlers) is answered as stored.
type taskFields struct {
	ID         string `json:"id"`
	Title      string `json:"title"`
	Body       string `json:"body"`
	AssignedTo string `json:"assignedTo"`
	Completed  bool   `json:"completed"`
	ContactID  string `json:"contactId"`
	DueDate    string `json:"dueDate"`
}

// searchLocationTasks serves POST /locations/{locationId}/tasks/search →
// {tasks}: the tasks of every contact of the location, filtered by contact,
// completion, assignee and a free-text query on title and body, ordered by
// due date.
func (s *Server) searchLocationTasks(w http.ResponseWriter, r *Request) error {
	var body taskSearchBody
	if err := r.Decode(&body); err != nil {
		return err
	}
	limit, skip := 25, 0
	if body.Limit != nil {
		limit = *body.Limit
	}
	if body.Skip != nil {
		skip = *body.Skip
	}
	if limit < 1 || skip < 0 {
		var msgs []string
		if limit < 1 {
			msgs = append(msgs, "limit must not be less than 1")
		}
		if skip < 0 {
			msgs = append(msgs, "skip must not be less than 0")
		}
		return Invalid(msgs...)
	}
	inSet := func(set []string, v string) bool {
		if len(set) == 0 {
			return true
		}
		for _, x := range set {
			if x == v {
				return true
			}
		}
		return false
	}
	query := strings.ToLower(strings.TrimSpace(body.Query))
	type hit struct {
		f   taskFields
		doc json.RawMessage
	}
	var hits []hit
	err := s.read(r.Context(), func(tx Tx) error {
		recs, err := tx.ListRecords(r.Context(), RecordQuery{Kind: KindTask, LocationID: r.PathParam("locationId")})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			var f taskFields
			if err := json.Unmarshal(rec.Data, &f); err != nil {
				return err
			}
			if f.ContactID == "" {
				f.ContactID = rec.ParentID
			}
			if !inSet(body.ContactID, f.ContactID) || !inSet(body.AssignedTo, f.AssignedTo) {
				continue
			}
			if body.Completed != nil && f.Completed != *body.Completed {
				continue
			}
			if query != "" && !strings.Contains(strings.ToLower(f.Title), query) && !strings.Contains(strings.ToLower(f.Body), query) {
				continue
			}
			hits = append(hits, hit{f, rec.Data})
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].f.DueDate < hits[j].f.DueDate })
	tasks := make([]json.RawMessage, 0, len(hits))
	for _, h := range pageOf(hits, skip, limit) {
		tasks = append(tasks, h.doc)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": tasks})
	return nil
}

// ianaTimezones lists the IANA zones of the tz database's zone.tab plus the
// legacy US/ and Canada/ aliases GHL's own examples use ("US/Central").
const ianaTimezones = `
Africa/Abidjan Africa/Accra Africa/Addis_Ababa Africa/Algiers Africa/Asmara Africa/Bamako
Africa/Bangui Africa/Banjul Africa/Bissau Africa/Blantyre Africa/Brazzaville
Africa/Bujumbura Africa/Cairo Africa/Casablanca Africa/Ceuta Africa/Conakry Africa/Dakar
Africa/Dar_es_Salaam Africa/Djibouti Africa/Douala Africa/El_Aaiun Africa/Freetown
Africa/Gaborone Africa/Harare Africa/Johannesburg Africa/Juba Africa/Kampala
Africa/Khartoum Africa/Kigali Africa/Kinshasa Africa/Lagos Africa/Libreville Africa/Lome
Africa/Luanda Africa/Lubumbashi Africa/Lusaka Africa/Malabo Africa/Maputo Africa/Maseru
Africa/Mbabane Africa/Mogadishu Africa/Monrovia Africa/Nairobi Africa/Ndjamena
Africa/Niamey Africa/Nouakchott Africa/Ouagadougou Africa/Porto-Novo Africa/Sao_Tome
Africa/Tripoli Africa/Tunis Africa/Windhoek America/Adak America/Anchorage
America/Anguilla America/Antigua America/Araguaina America/Argentina/Buenos_Aires
America/Argentina/Catamarca America/Argentina/Cordoba America/Argentina/Jujuy
America/Argentina/La_Rioja America/Argentina/Mendoza America/Argentina/Rio_Gallegos
America/Argentina/Salta America/Argentina/San_Juan America/Argentina/San_Luis
America/Argentina/Tucuman America/Argentina/Ushuaia America/Aruba America/Asuncion
America/Atikokan America/Bahia America/Bahia_Banderas America/Barbados America/Belem
America/Belize America/Blanc-Sablon America/Boa_Vista America/Bogota America/Boise
America/Cambridge_Bay America/Campo_Grande America/Cancun America/Caracas America/Cayenne
America/Cayman America/Chicago America/Chihuahua America/Ciudad_Juarez America/Costa_Rica
America/Coyhaique America/Creston America/Cuiaba America/Curacao America/Danmarkshavn
America/Dawson America/Dawson_Creek America/Denver America/Detroit America/Dominica
America/Edmonton America/Eirunepe America/El_Salvador America/Fort_Nelson
America/Fortaleza America/Glace_Bay America/Goose_Bay America/Grand_Turk America/Grenada
America/Guadeloupe America/Guatemala America/Guayaquil America/Guyana America/Halifax
America/Havana America/Hermosillo America/Indiana/Indianapolis America/Indiana/Knox
America/Indiana/Marengo America/Indiana/Petersburg America/Indiana/Tell_City
America/Indiana/Vevay America/Indiana/Vincennes America/Indiana/Winamac America/Inuvik
America/Iqaluit America/Jamaica America/Juneau America/Kentucky/Louisville
America/Kentucky/Monticello America/Kralendijk America/La_Paz America/Lima
America/Los_Angeles America/Lower_Princes America/Maceio America/Managua America/Manaus
America/Marigot America/Martinique America/Matamoros America/Mazatlan America/Menominee
America/Merida America/Metlakatla America/Mexico_City America/Miquelon America/Moncton
America/Monterrey America/Montevideo America/Montserrat America/Nassau America/New_York
America/Nome America/Noronha America/North_Dakota/Beulah America/North_Dakota/Center
America/North_Dakota/New_Salem America/Nuuk America/Ojinaga America/Panama
America/Paramaribo America/Phoenix America/Port-au-Prince America/Port_of_Spain
America/Porto_Velho America/Puerto_Rico America/Punta_Arenas America/Rankin_Inlet
America/Recife America/Regina America/Resolute America/Rio_Branco America/Santarem
America/Santiago America/Santo_Domingo America/Sao_Paulo America/Scoresbysund
America/Sitka America/St_Barthelemy America/St_Johns America/St_Kitts America/St_Lucia
America/St_Thomas America/St_Vincent America/Swift_Current America/Tegucigalpa
America/Thule America/Tijuana America/Toronto America/Tortola America/Vancouver
America/Whitehorse America/Winnipeg America/Yakutat Antarctica/Casey Antarctica/Davis
Antarctica/DumontDUrville Antarctica/Macquarie Antarctica/Mawson Antarctica/McMurdo
Antarctica/Palmer Antarctica/Rothera Antarctica/Syowa Antarctica/Troll Antarctica/Vostok
Arctic/Longyearbyen Asia/Aden Asia/Almaty Asia/Amman Asia/Anadyr Asia/Aqtau Asia/Aqtobe
Asia/Ashgabat Asia/Atyrau Asia/Baghdad Asia/Bahrain Asia/Baku Asia/Bangkok Asia/Barnaul
Asia/Beirut Asia/Bishkek Asia/Brunei Asia/Calcutta Asia/Chita Asia/Colombo Asia/Damascus
Asia/Dhaka Asia/Dili Asia/Dubai Asia/Dushanbe Asia/Famagusta Asia/Gaza Asia/Hebron
Asia/Ho_Chi_Minh Asia/Hong_Kong Asia/Hovd Asia/Irkutsk Asia/Jakarta Asia/Jayapura
Asia/Jerusalem Asia/Kabul Asia/Kamchatka Asia/Karachi Asia/Kathmandu Asia/Khandyga
Asia/Kolkata Asia/Krasnoyarsk Asia/Kuala_Lumpur Asia/Kuching Asia/Kuwait Asia/Macau
Asia/Magadan Asia/Makassar Asia/Manila Asia/Muscat Asia/Nicosia Asia/Novokuznetsk
Asia/Novosibirsk Asia/Omsk Asia/Oral Asia/Phnom_Penh Asia/Pontianak Asia/Pyongyang
Asia/Qatar Asia/Qostanay Asia/Qyzylorda Asia/Riyadh Asia/Sakhalin Asia/Samarkand
Asia/Seoul Asia/Shanghai Asia/Singapore Asia/Srednekolymsk Asia/Taipei Asia/Tashkent
Asia/Tbilisi Asia/Tehran Asia/Thimphu Asia/Tokyo Asia/Tomsk Asia/Ulaanbaatar Asia/Urumqi
Asia/Ust-Nera Asia/Vientiane Asia/Vladivostok Asia/Yakutsk Asia/Yangon Asia/Yekaterinburg
Asia/Yerevan Atlantic/Azores Atlantic/Bermuda Atlantic/Canary Atlantic/Cape_Verde
Atlantic/Faroe Atlantic/Madeira Atlantic/Reykjavik Atlantic/South_Georgia
Atlantic/St_Helena Atlantic/Stanley Australia/Adelaide Australia/Brisbane
Australia/Broken_Hill Australia/Darwin Australia/Eucla Australia/Hobart Australia/Lindeman
Australia/Lord_Howe Australia/Melbourne Australia/Perth Australia/Sydney Canada/Atlantic
Canada/Central Canada/Eastern Canada/Mountain Canada/Newfoundland Canada/Pacific Etc/GMT
Etc/UTC Europe/Amsterdam Europe/Andorra Europe/Astrakhan Europe/Athens Europe/Belgrade
Europe/Berlin Europe/Bratislava Europe/Brussels Europe/Bucharest Europe/Budapest
Europe/Busingen Europe/Chisinau Europe/Copenhagen Europe/Dublin Europe/Gibraltar
Europe/Guernsey Europe/Helsinki Europe/Isle_of_Man Europe/Istanbul Europe/Jersey
Europe/Kaliningrad Europe/Kirov Europe/Kyiv Europe/Lisbon Europe/Ljubljana Europe/London
Europe/Luxembourg Europe/Madrid Europe/Malta Europe/Mariehamn Europe/Minsk Europe/Monaco
Europe/Moscow Europe/Oslo Europe/Paris Europe/Podgorica Europe/Prague Europe/Riga
Europe/Rome Europe/Samara Europe/San_Marino Europe/Sarajevo Europe/Saratov
Europe/Simferopol Europe/Skopje Europe/Sofia Europe/Stockholm Europe/Tallinn Europe/Tirane
Europe/Ulyanovsk Europe/Vaduz Europe/Vatican Europe/Vienna Europe/Vilnius Europe/Volgograd
Europe/Warsaw Europe/Zagreb Europe/Zurich GMT Indian/Antananarivo Indian/Chagos
Indian/Christmas Indian/Cocos Indian/Comoro Indian/Kerguelen Indian/Mahe Indian/Maldives
Indian/Mauritius Indian/Mayotte Indian/Reunion Pacific/Apia Pacific/Auckland
Pacific/Bougainville Pacific/Chatham Pacific/Chuuk Pacific/Easter Pacific/Efate
Pacific/Fakaofo Pacific/Fiji Pacific/Funafuti Pacific/Galapagos Pacific/Gambier
Pacific/Guadalcanal Pacific/Guam Pacific/Honolulu Pacific/Kanton Pacific/Kiritimati
Pacific/Kosrae Pacific/Kwajalein Pacific/Majuro Pacific/Marquesas Pacific/Midway
Pacific/Nauru Pacific/Niue Pacific/Norfolk Pacific/Noumea Pacific/Pago_Pago Pacific/Palau
Pacific/Pitcairn Pacific/Pohnpei Pacific/Port_Moresby Pacific/Rarotonga Pacific/Saipan
Pacific/Tahiti Pacific/Tarawa Pacific/Tongatapu Pacific/Wake Pacific/Wallis US/Alaska
US/Aleutian US/Arizona US/Central US/East-Indiana US/Eastern US/Hawaii US/Indiana-Starke
US/Michigan US/Mountain US/Pacific US/Samoa UTC
`
