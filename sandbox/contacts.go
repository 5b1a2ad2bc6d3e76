package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ghlkit/ghlkit/sandbox/spec"
)

// registerContacts wires the 32 operations of contacts.json.
func (s *Server) registerContacts() {
	for id, h := range map[string]apiHandler{
		"create-contact":                     s.createContact,
		"get-contact":                        s.getContact,
		"update-contact":                     s.updateContact,
		"delete-contact":                     s.deleteContact,
		"upsert-contact":                     s.upsertContact,
		"get-duplicate-contact":              s.getDuplicateContact,
		"search-contacts-advanced":           s.searchContacts,
		"get-contacts":                       s.listContacts,
		"get-contacts-by-businessId":         s.getContactsByBusiness,
		"add-remove-contact-from-business":   s.updateContactsBusiness,
		"add-tags":                           s.addContactTags,
		"remove-tags":                        s.removeContactTags,
		"create-association":                 s.bulkUpdateContactTags,
		"get-all-notes":                      s.listContactNotes,
		"create-note":                        s.createContactNote,
		"get-note":                           s.getContactNote,
		"update-note":                        s.updateContactNote,
		"delete-note":                        s.deleteContactNote,
		"get-all-tasks":                      s.listContactTasks,
		"create-task":                        s.createContactTask,
		"get-task":                           s.getContactTask,
		"update-task":                        s.updateContactTask,
		"delete-task":                        s.deleteContactTask,
		"update-task-completed":              s.completeContactTask,
		"get-appointments-for-contact":       s.getContactAppointments,
		"add-followers-contact":              s.addContactFollowers,
		"remove-followers-contact":           s.removeContactFollowers,
		"add-contact-to-campaign":            s.addContactToCampaign,
		"remove-contact-from-campaign":       s.removeContactFromCampaign,
		"remove-contact-from-every-campaign": s.removeContactFromAllCampaigns,
		"add-contact-to-workflow":            s.addContactToWorkflow,
		"delete-contact-from-workflow":       s.removeContactFromWorkflow,
	} {
		s.handle("contacts", id, h)
	}
}

// contactMaxList bounds the tags, custom fields and followers of one
// request: each costs a lookup inside the write transaction, which holds
// the store's write lock.
const contactMaxList = 1000

// MsgDuplicateContact is GHL's answer when a location refuses duplicates.
const MsgDuplicateContact = "This location does not allow duplicated contacts."

// Contact types.
const (
	ContactTypeLead     = "lead"
	ContactTypeCustomer = "customer"
)

// ContactDndChannels are the channels of Contact.DndSettings.
var ContactDndChannels = []string{"Call", "Email", "SMS", "WhatsApp", "GMB", "FB"}

// DND statuses.
const (
	ContactDndActive    = "active"
	ContactDndInactive  = "inactive"
	ContactDndPermanent = "permanent"
)

// ContactNote is a note on a contact, stored as a KindNote record (ParentID
// the contact id), shaped as GHL answers it.
type ContactNote struct {
	ID        string `json:"id"`
	Body      string `json:"body"`
	UserID    string `json:"userId,omitempty"`
	DateAdded Time   `json:"dateAdded"`
	ContactID string `json:"contactId"`
	Title     string `json:"title,omitempty"`
	Color     string `json:"color,omitempty"`
	Pinned    bool   `json:"pinned"`
}

// ContactTask is a task on a contact, stored as a KindTask record (ParentID
// the contact id), shaped as GHL answers it.
type ContactTask struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Body        string `json:"body,omitempty"`
	AssignedTo  string `json:"assignedTo,omitempty"`
	DueDate     Time   `json:"dueDate"`
	Completed   bool   `json:"completed"`
	ContactID   string `json:"contactId"`
	DateAdded   Time   `json:"dateAdded"`
	DateUpdated Time   `json:"dateUpdated"`
}

// Enrollment records a contact added to a campaign or workflow, stored as a
// KindEnrollment record with ParentID the contact id and Key
// "campaign:<id>" or "workflow:<id>" (EnrollmentKey).
type Enrollment struct {
	ID             string `json:"id"`
	Type           string `json:"type"` // "campaign" or "workflow"
	ContactID      string `json:"contactId"`
	LocationID     string `json:"locationId"`
	CampaignID     string `json:"campaignId,omitempty"`
	WorkflowID     string `json:"workflowId,omitempty"`
	EventStartTime Time   `json:"eventStartTime,omitzero"`
	Status         string `json:"status"`
	DateAdded      Time   `json:"dateAdded"`
}

// EnrollmentKey is the record Key of a contact's enrollment in a campaign
// or workflow.
func EnrollmentKey(typ, id string) string { return typ + ":" + id }

// contactView is a contact as the API answers it: the stored contact plus
// the lower-cased copies GHL adds, and the search cursor in search results.
type contactView struct {
	*Contact
	FirstNameLowerCase string `json:"firstNameLowerCase,omitempty"`
	LastNameLowerCase  string `json:"lastNameLowerCase,omitempty"`
	FullNameLowerCase  string `json:"fullNameLowerCase,omitempty"`
	EmailLowerCase     string `json:"emailLowerCase,omitempty"`
	SearchAfter        []any  `json:"searchAfter,omitempty"`
}

func newContactView(c *Contact) *contactView {
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.CustomFields == nil {
		c.CustomFields = []CustomFieldValue{}
	}
	return &contactView{
		Contact:            c,
		FirstNameLowerCase: strings.ToLower(c.FirstName),
		LastNameLowerCase:  strings.ToLower(c.LastName),
		FullNameLowerCase:  strings.ToLower(strings.TrimSpace(c.FirstName + " " + c.LastName)),
		EmailLowerCase:     strings.ToLower(c.Email),
	}
}

// ContactJSON encodes a contact as the API answers it (the contact with
// GHL's lower-cased copies, tags and customFields never null), without the
// search cursor. Stores keep this form so that reads can answer it as is
// (Tx.GetContactJSON, ContactQuery.JSON); decoding it into a Contact ignores
// the extra fields.
func ContactJSON(c *Contact) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(newContactView(c)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func contactViews(cs []*Contact) []*contactView {
	out := make([]*contactView, len(cs))
	for i, c := range cs {
		out[i] = newContactView(c)
	}
	return out
}

// contactNow is the handlers' clock in GHL's millisecond precision.
func (s *Server) contactNow() Time { return Time{s.now().UTC().Truncate(time.Millisecond)} }

// contactLocation loads the location a contact belongs or will belong to.
func contactLocation(ctx context.Context, tx Tx, id string) (*Location, error) {
	var loc Location
	if err := GetRecordAs(ctx, tx, KindLocation, id, &loc); err != nil {
		if IsNotFound(err) {
			return nil, Errorf(ENOTFOUND, "Location not found")
		}
		return nil, err
	}
	return &loc, nil
}

// contactForRequest loads a contact by id for the caller: unknown ids are 404,
// another location's contact 403.
func contactForRequest(ctx context.Context, tx Tx, r *Request, id string) (*Contact, error) {
	c, err := tx.GetContact(ctx, id)
	if err != nil {
		if IsNotFound(err) {
			return nil, Errorf(ENOTFOUND, "Contact not found")
		}
		return nil, err
	}
	if err := r.CheckLocation(c.LocationID); err != nil {
		return nil, err
	}
	return c, nil
}

// cloneContact deep-copies a contact so a change can be compared with the
// stored state.
func cloneContact(c *Contact) *Contact {
	out := *c
	out.Tags = slices.Clone(c.Tags)
	out.DndSettings = maps.Clone(c.DndSettings)
	out.InboundDndSettings = maps.Clone(c.InboundDndSettings)
	out.CustomFields = slices.Clone(c.CustomFields)
	for i := range out.CustomFields {
		out.CustomFields[i].Value = cloneJSONValue(out.CustomFields[i].Value)
	}
	out.Followers = slices.Clone(c.Followers)
	out.AttributionSource = bytes.Clone(c.AttributionSource)
	out.Attachments = slices.Clone(c.Attachments)
	return &out
}

// cloneJSONValue deep-copies a value decoded from JSON (maps and slices of
// such values; the rest are immutable).
func cloneJSONValue(v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneJSONValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = cloneJSONValue(e)
		}
		return out
	case []string:
		return slices.Clone(v)
	default:
		return v
	}
}

// ---------------------------------------------------------------------------
// Request bodies

// contactInput is the body of create, update and upsert. Pointers tell
// absent fields (kept) from given ones; contactBody.raw tells null (cleared)
// from absent.
type contactInput struct {
	LocationID                  *string                   `json:"locationId"`
	FirstName                   *string                   `json:"firstName"`
	LastName                    *string                   `json:"lastName"`
	Name                        *string                   `json:"name"`
	Email                       *string                   `json:"email"`
	Phone                       *string                   `json:"phone"`
	CompanyName                 *string                   `json:"companyName"`
	Gender                      *string                   `json:"gender"`
	Address1                    *string                   `json:"address1"`
	City                        *string                   `json:"city"`
	State                       *string                   `json:"state"`
	PostalCode                  *string                   `json:"postalCode"`
	Website                     *string                   `json:"website"`
	Timezone                    *string                   `json:"timezone"`
	Source                      *string                   `json:"source"`
	Country                     *string                   `json:"country"`
	AssignedTo                  *string                   `json:"assignedTo"`
	Dnd                         *bool                     `json:"dnd"`
	DndSettings                 map[string]*contactDndIn  `json:"dndSettings"`
	InboundDndSettings          map[string]*contactDndIn  `json:"inboundDndSettings"`
	Tags                        []string                  `json:"tags"`
	CustomFields                []contactCustomFieldInput `json:"customFields"`
	DateOfBirth                 json.RawMessage           `json:"dateOfBirth"`
	CreateNewIfDuplicateAllowed *bool                     `json:"createNewIfDuplicateAllowed"`
}

type contactDndIn struct {
	Status  *string `json:"status"`
	Message string  `json:"message"`
	Code    string  `json:"code"`
}

// contactCustomFieldInput is one element of customFields in a request:
// {id|key, field_value} (value is accepted for field_value).
type contactCustomFieldInput struct {
	ID         string          `json:"id"`
	Key        string          `json:"key"`
	FieldValue json.RawMessage `json:"field_value"`
	Value      json.RawMessage `json:"value"`
}

type contactBody struct {
	in  contactInput
	raw map[string]json.RawMessage
}

// isNull reports whether the body set a field to null.
func (b *contactBody) isNull(name string) bool {
	v, ok := b.raw[name]
	return ok && string(v) == "null"
}

func decodeContactBody(r *Request) (*contactBody, error) {
	b := &contactBody{}
	if err := r.Decode(&b.in); err != nil {
		return nil, err
	}
	if err := r.Decode(&b.raw); err != nil {
		return nil, err
	}
	return b, nil
}

// contactChange says what an applied body changed, for the events to emit.
type contactChange struct {
	tags bool
	dnd  bool
}

// applyContactBody validates b and applies it to c (a new contact, or a copy
// of a stored one). Every validation failure is reported in one 422.
func (s *Server) applyContactBody(ctx context.Context, tx Tx, c *Contact, b *contactBody, loc *Location) (contactChange, error) {
	in := &b.in
	var msgs []string
	before := cloneContact(c)

	setString := func(name string, p *string, dst *string) {
		if p != nil {
			*dst = strings.TrimSpace(*p)
		} else if b.isNull(name) {
			*dst = ""
		}
	}
	setString("country", in.Country, &c.Country)
	if len(c.Country) == 2 {
		c.Country = strings.ToUpper(c.Country)
	}
	setString("firstName", in.FirstName, &c.FirstName)
	setString("lastName", in.LastName, &c.LastName)
	setString("companyName", in.CompanyName, &c.CompanyName)
	setString("gender", in.Gender, &c.Gender)
	setString("address1", in.Address1, &c.Address1)
	setString("city", in.City, &c.City)
	setString("state", in.State, &c.State)
	setString("postalCode", in.PostalCode, &c.PostalCode)
	setString("website", in.Website, &c.Website)
	setString("timezone", in.Timezone, &c.Timezone)
	setString("source", in.Source, &c.Source)
	setString("assignedTo", in.AssignedTo, &c.AssignedTo)

	// name and firstName/lastName describe the same person: a given name
	// alone is split, given parts alone rebuild the name.
	nameGiven := in.Name != nil || b.isNull("name")
	setString("name", in.Name, &c.Name)
	partsGiven := in.FirstName != nil || in.LastName != nil || b.isNull("firstName") || b.isNull("lastName")
	switch {
	case nameGiven && !partsGiven && c.Name != "" && c.FirstName == "" && c.LastName == "":
		first, last, _ := strings.Cut(c.Name, " ")
		c.FirstName, c.LastName = first, strings.TrimSpace(last)
	case partsGiven && !nameGiven:
		c.Name = strings.TrimSpace(c.FirstName + " " + c.LastName)
	}

	if in.Email != nil || b.isNull("email") {
		email := ""
		if in.Email != nil {
			email = strings.ToLower(strings.TrimSpace(*in.Email))
		}
		if email != "" && !validContactEmail(email) {
			msgs = append(msgs, "email must be an email")
		}
		c.Email = email
	}

	if in.Phone != nil || b.isNull("phone") {
		c.Phone = ""
		if in.Phone != nil && strings.TrimSpace(*in.Phone) != "" {
			e164, err := NormalizePhone(*in.Phone, contactPhoneCountry(c.Country, loc))
			if err != nil {
				msgs = append(msgs, "phone must be a valid phone number")
			}
			c.Phone = e164
		}
	}

	if len(in.DateOfBirth) > 0 {
		dob, ok := parseContactBirthDate(in.DateOfBirth)
		if !ok {
			msgs = append(msgs, "dateOfBirth must be a valid date (YYYY-MM-DD, MM/DD/YYYY, …)")
		}
		c.DateOfBirth = dob
	}

	msgs = append(msgs, applyContactDnd(c, in)...)

	if len(in.Tags) > contactMaxList {
		return contactChange{}, Invalid(fmt.Sprintf("tags must contain no more than %d elements", contactMaxList))
	}
	if len(in.CustomFields) > contactMaxList {
		return contactChange{}, Invalid(fmt.Sprintf("customFields must contain no more than %d elements", contactMaxList))
	}

	if in.Tags != nil || b.isNull("tags") {
		c.Tags = normalizeContactTags(in.Tags)
	}

	if len(in.CustomFields) > 0 {
		values, cfMsgs, err := s.resolveContactCustomFields(ctx, tx, c.LocationID, in.CustomFields, c.CustomFields)
		if err != nil {
			return contactChange{}, err
		}
		msgs = append(msgs, cfMsgs...)
		c.CustomFields = values
	}

	if len(msgs) > 0 {
		return contactChange{}, Invalid(msgs...)
	}
	if c.Tags == nil {
		c.Tags = []string{}
	}
	if c.CustomFields == nil {
		c.CustomFields = []CustomFieldValue{}
	}
	return contactChange{
		tags: !slices.Equal(before.Tags, c.Tags) && !(len(before.Tags) == 0 && len(c.Tags) == 0),
		dnd: before.Dnd != c.Dnd || !reflect.DeepEqual(before.DndSettings, c.DndSettings) ||
			!reflect.DeepEqual(before.InboundDndSettings, c.InboundDndSettings),
	}, nil
}

// applyContactDnd applies dnd, dndSettings and inboundDndSettings. dnd:true
// turns every channel active and dnd:false every channel inactive; settings
// given per channel then win for their channel. Without dnd, the flag
// follows the channels: on only when all of them are blocked.
func applyContactDnd(c *Contact, in *contactInput) []string {
	var msgs []string
	if in.Dnd == nil && in.DndSettings == nil && in.InboundDndSettings == nil {
		return nil
	}
	if c.DndSettings == nil {
		c.DndSettings = map[string]DndSetting{}
	}
	if in.Dnd != nil {
		status := ContactDndInactive
		if *in.Dnd {
			status = ContactDndActive
		}
		for _, ch := range ContactDndChannels {
			c.DndSettings[ch] = DndSetting{Status: status}
		}
		c.Dnd = *in.Dnd
	}
	for name, set := range in.DndSettings {
		ch := ""
		for _, known := range ContactDndChannels {
			if strings.EqualFold(known, name) {
				ch = known
			}
		}
		if ch == "" {
			msgs = append(msgs, fmt.Sprintf("dndSettings.%s is not a channel: use %s", name, strings.Join(ContactDndChannels, ", ")))
			continue
		}
		if set == nil {
			delete(c.DndSettings, ch)
			continue
		}
		if set.Status == nil || !slices.Contains([]string{ContactDndActive, ContactDndInactive, ContactDndPermanent}, *set.Status) {
			msgs = append(msgs, fmt.Sprintf("dndSettings.%s.status must be one of active, inactive, permanent", ch))
			continue
		}
		c.DndSettings[ch] = DndSetting{Status: *set.Status, Message: set.Message, Code: set.Code}
	}
	if in.Dnd == nil && in.DndSettings != nil {
		all := true
		for _, ch := range ContactDndChannels {
			st := c.DndSettings[ch].Status
			all = all && (st == ContactDndActive || st == ContactDndPermanent)
		}
		c.Dnd = all
	}
	for name, set := range in.InboundDndSettings {
		if name != "all" {
			msgs = append(msgs, fmt.Sprintf("inboundDndSettings.%s is not a channel: use all", name))
			continue
		}
		if set == nil {
			delete(c.InboundDndSettings, name)
			continue
		}
		if set.Status == nil || (*set.Status != ContactDndActive && *set.Status != ContactDndInactive) {
			msgs = append(msgs, "inboundDndSettings.all.status must be one of active, inactive")
			continue
		}
		if c.InboundDndSettings == nil {
			c.InboundDndSettings = map[string]DndSetting{}
		}
		c.InboundDndSettings[name] = DndSetting{Status: *set.Status, Message: set.Message}
	}
	if len(c.DndSettings) == 0 {
		c.DndSettings = nil
	}
	return msgs
}

// contactPhoneCountry picks the country national phone numbers are read in:
// the contact's, else the location's, else the US.
func contactPhoneCountry(country string, loc *Location) string {
	if PhoneCountryKnown(country) {
		return country
	}
	if loc != nil && PhoneCountryKnown(loc.Country) {
		return loc.Country
	}
	return DefaultPhoneCountry
}

// validContactEmail is a plausibility check, as class-validator's IsEmail
// is in effect for the addresses integrations send: one @, a local part, a
// dotted domain, no spaces.
func validContactEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>(),;:\"[]\\") {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(domain, "@") || len(local) > 64 {
		return false
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return false
	}
	return !strings.HasPrefix(local, ".") && !strings.HasSuffix(local, ".")
}

// parseContactBirthDate reads the birth date forms GHL documents
// (YYYY/MM/DD, MM/DD/YYYY, YYYY-MM-DD, MM-DD-YYYY, YYYY.MM.DD, MM.DD.YYYY,
// YYYY_MM_DD, MM_DD_YYYY), ISO date-times and epoch milliseconds, and
// returns it as YYYY-MM-DD; null or "" clears it.
func parseContactBirthDate(raw json.RawMessage) (string, bool) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false
	}
	switch x := v.(type) {
	case nil:
		return "", true
	case float64:
		if math.IsNaN(x) || math.Abs(x) > 1e15 {
			return "", false
		}
		return time.UnixMilli(int64(x)).UTC().Format("2006-01-02"), true
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return "", true
		}
		for _, sep := range []string{"/", "-", ".", "_"} {
			for _, layout := range []string{"2006" + sep + "01" + sep + "02", "01" + sep + "02" + sep + "2006", "2006" + sep + "1" + sep + "2", "1" + sep + "2" + sep + "2006"} {
				if t, err := time.Parse(layout, s); err == nil {
					return t.Format("2006-01-02"), true
				}
			}
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC().Format("2006-01-02"), true
		}
	}
	return "", false
}

// normalizeContactTags trims tags and drops empty ones and case-insensitive
// repeats, keeping the first spelling.
func normalizeContactTags(tags []string) []string {
	out, _ := mergeContactTags(nil, tags)
	return out
}

// mergeContactTags adds tags to existing ones (case-insensitively, trimmed,
// the first spelling kept) and returns the result and the tags it added.
func mergeContactTags(existing, add []string) (merged, added []string) {
	merged = make([]string, 0, len(existing)+len(add))
	seen := make(map[string]bool, len(existing)+len(add))
	for _, t := range existing {
		if k := strings.ToLower(t); !seen[k] {
			seen[k] = true
			merged = append(merged, t)
		}
	}
	for _, t := range add {
		t = strings.TrimSpace(t)
		k := strings.ToLower(t)
		if t == "" || seen[k] {
			continue
		}
		seen[k] = true
		merged = append(merged, t)
		added = append(added, t)
	}
	return merged, added
}

// removeContactTags removes tags (case-insensitively) and returns what is
// left and what it removed.
func removeContactTags(existing, remove []string) (kept, removed []string) {
	drop := map[string]bool{}
	for _, t := range remove {
		drop[strings.ToLower(strings.TrimSpace(t))] = true
	}
	kept = make([]string, 0, len(existing))
	for _, t := range existing {
		if drop[strings.ToLower(t)] {
			removed = append(removed, t)
		} else {
			kept = append(kept, t)
		}
	}
	return kept, removed
}

// upsertContactLocationTags adds the tags a contact carries to its location's tag
// list (KindTag records keyed by the lower-cased name), so
// GET /locations/{id}/tags lists them.
func upsertContactLocationTags(ctx context.Context, tx Tx, loc *Location, tags []string, now Time) error {
	for _, name := range tags {
		key := strings.ToLower(name)
		n, err := tx.CountRecords(ctx, RecordQuery{Kind: KindTag, LocationID: loc.ID, Key: key})
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		tag := &Tag{ID: NewID(), Name: name, LocationID: loc.ID}
		rec := Record{Kind: KindTag, ID: tag.ID, LocationID: loc.ID, CompanyID: loc.CompanyID, Key: key, CreatedAt: now.Time, UpdatedAt: now.Time}
		if err := PutRecordOf(ctx, tx, rec, tag); err != nil {
			return err
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Custom fields

// contactFieldDefs caches a request's custom field definitions.
type contactFieldDefs map[string]*CustomField

// find returns the location's contact field with the id, else the one with
// the key ("my_field" or "contact.my_field"); nil when there is none.
func (d contactFieldDefs) find(ctx context.Context, tx Tx, locationID, id, key string) (*CustomField, error) {
	if def, ok := d["id:"+id+"|key:"+key]; ok {
		return def, nil
	}
	var found *CustomField
	if id != "" {
		rec, err := tx.GetRecord(ctx, KindCustomField, id)
		switch {
		case err == nil && rec.LocationID == locationID:
			found = new(CustomField)
			if err := json.Unmarshal(rec.Data, found); err != nil {
				return nil, err
			}
		case err != nil && !IsNotFound(err):
			return nil, err
		}
	}
	if found == nil && key != "" {
		for _, k := range []string{key, "contact." + key} {
			defs, err := ListRecordsAs[CustomField](ctx, tx, RecordQuery{Kind: KindCustomField, LocationID: locationID, Key: k, Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(defs) > 0 {
				found = defs[0]
				break
			}
		}
	}
	if found != nil && !customFieldIsContacts(found) {
		found = nil
	}
	d["id:"+id+"|key:"+key] = found
	return found, nil
}

// customFieldIsContacts reports whether a definition belongs to contacts
// (not to opportunities or custom objects).
func customFieldIsContacts(f *CustomField) bool {
	model := f.Model
	if model == "" {
		model = f.ObjectKey
	}
	if model == "" {
		if before, _, ok := strings.Cut(f.FieldKey, "."); ok {
			model = before
		}
	}
	return model == "" || model == "contact"
}

// resolveContactCustomFields validates request custom field values against
// the location's definitions and merges them into the current values: a
// null or empty value clears the field.
func (s *Server) resolveContactCustomFields(ctx context.Context, tx Tx, locationID string, in []contactCustomFieldInput, current []CustomFieldValue) ([]CustomFieldValue, []string, error) {
	out := slices.Clone(current)
	defs := contactFieldDefs{}
	var msgs []string
	for i, f := range in {
		at := fmt.Sprintf("customFields[%d]", i)
		id, key := strings.TrimSpace(f.ID), strings.TrimSpace(f.Key)
		if id == "" && key == "" {
			msgs = append(msgs, at+".id must be a string (or give key)")
			continue
		}
		def, err := defs.find(ctx, tx, locationID, id, key)
		if err != nil {
			return nil, nil, err
		}
		if def == nil {
			ref := id
			if ref == "" {
				ref = key
			}
			msgs = append(msgs, fmt.Sprintf("%s: no contact custom field %q in this location", at, ref))
			continue
		}
		raw := f.FieldValue
		if len(raw) == 0 {
			raw = f.Value
		}
		var v any
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &v); err != nil {
				msgs = append(msgs, at+".field_value is not valid JSON")
				continue
			}
		}
		value, msg := customFieldValueFor(def, v)
		if msg != "" {
			msgs = append(msgs, fmt.Sprintf("%s.field_value %s (field %s, %s)", at, msg, def.FieldKey, def.DataType))
			continue
		}
		out = slices.DeleteFunc(out, func(cv CustomFieldValue) bool { return cv.ID == def.ID })
		if value != nil {
			out = append(out, CustomFieldValue{ID: def.ID, Value: value})
		}
	}
	return out, msgs, nil
}

// customFieldValueFor checks a value against a field's data type and returns
// the value to store (nil clears the field), or a message saying what is
// wrong.
func customFieldValueFor(def *CustomField, v any) (any, string) {
	if v == nil {
		return nil, ""
	}
	if s, ok := v.(string); ok && strings.TrimSpace(s) == "" {
		return nil, ""
	}
	switch def.DataType {
	case "NUMERICAL", "MONETORY":
		switch x := v.(type) {
		case float64:
			return x, ""
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, "must be a number"
			}
			return f, ""
		}
		return nil, "must be a number"
	case "SINGLE_OPTIONS", "RADIO":
		s, ok := v.(string)
		if !ok {
			return nil, "must be a string"
		}
		opt, ok := customFieldOption(def, s)
		if !ok {
			return nil, "must be one of the field's options"
		}
		return opt, ""
	case "MULTIPLE_OPTIONS", "CHECKBOX":
		var list []any
		switch x := v.(type) {
		case []any:
			list = x
		case string:
			list = []any{x}
		default:
			return nil, "must be an array of options"
		}
		out := make([]any, 0, len(list))
		for _, el := range list {
			s, ok := el.(string)
			if !ok {
				return nil, "must be an array of options"
			}
			opt, ok := customFieldOption(def, s)
			if !ok {
				return nil, fmt.Sprintf("option %q is not one of the field's options", s)
			}
			if !slices.Contains(out, any(opt)) {
				out = append(out, opt)
			}
		}
		if len(out) == 0 {
			return nil, ""
		}
		return out, ""
	case "DATE":
		switch x := v.(type) {
		case float64:
			if math.IsNaN(x) || math.Abs(x) > 1e15 {
				return nil, "must be a date"
			}
			return x, ""
		case string:
			if dob, ok := parseContactBirthDate(json.RawMessage(strconv.Quote(x))); ok && len(strings.TrimSpace(x)) <= 10 {
				return dob, ""
			}
			t, err := ParseTime(strings.TrimSpace(x))
			if err != nil {
				return nil, "must be a date"
			}
			if len(strings.TrimSpace(x)) == 10 {
				return t.Format("2006-01-02"), ""
			}
			return t.UTC().Format(TimeLayout), ""
		}
		return nil, "must be a date"
	case "EMAIL":
		s, ok := v.(string)
		if !ok || !validContactEmail(strings.ToLower(strings.TrimSpace(s))) {
			return nil, "must be an email"
		}
		return strings.TrimSpace(s), ""
	case "TEXTBOX_LIST", "FILE_UPLOAD", "SIGNATURE":
		return v, ""
	}
	// TEXT, LARGE_TEXT, PHONE and types the sandbox does not know: text;
	// numbers and booleans are written as text, as GHL stores them.
	switch x := v.(type) {
	case string:
		return x, ""
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), ""
	case bool:
		return strconv.FormatBool(x), ""
	}
	return nil, "must be a string"
}

// customFieldOption finds s among a field's options (labels or keys,
// case-insensitively) and returns its label. A field without options takes
// any value.
func customFieldOption(def *CustomField, s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(def.PicklistOptions) == 0 && len(def.Options) == 0 {
		return s, true
	}
	for _, o := range def.PicklistOptions {
		if strings.EqualFold(o, s) {
			return o, true
		}
	}
	for _, o := range def.Options {
		if strings.EqualFold(o.Label, s) || strings.EqualFold(o.Key, s) {
			if o.Label != "" {
				return o.Label, true
			}
			return o.Key, true
		}
	}
	return "", false
}

// ---------------------------------------------------------------------------
// Duplicates

// duplicateContactError reports that a location refusing duplicates
// already has a contact with the email or phone. GHL answers it with a
// meta block the generic error shape lacks, so handlers write it with
// writeDuplicateContact.
type duplicateContactError struct {
	existing *Contact
	field    string // "email" or "phone"
}

func (e *duplicateContactError) Error() string {
	return fmt.Sprintf("duplicate contact: %s matches contact %s", e.field, e.existing.ID)
}

// writeDuplicateContact writes GHL's 400 for a refused duplicate:
// {statusCode, message, meta: {contactName, contactId, matchingField}}.
func writeDuplicateContact(w http.ResponseWriter, r *Request, dup *duplicateContactError) error {
	name := dup.existing.Name
	if name == "" {
		name = strings.TrimSpace(dup.existing.FirstName + " " + dup.existing.LastName)
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"statusCode": http.StatusBadRequest,
		"message":    MsgDuplicateContact,
		"error":      http.StatusText(http.StatusBadRequest),
		"meta": map[string]any{
			"contactName":   name,
			"contactId":     dup.existing.ID,
			"matchingField": dup.field,
		},
		"traceId": r.TraceID,
	})
	return nil
}

// findContactDuplicate returns the oldest other contact of c's location
// with c's email (checked first) or phone; fields limits the check to the
// named fields.
func findContactDuplicate(ctx context.Context, tx Tx, c *Contact, email, phone bool) (*duplicateContactError, error) {
	type probe struct {
		field string
		l     ContactLookup
		on    bool
	}
	for _, p := range []probe{
		{"email", ContactLookup{LocationID: c.LocationID, Email: c.Email, Limit: 2}, email && c.Email != ""},
		{"phone", ContactLookup{LocationID: c.LocationID, Phone: c.Phone, Limit: 2}, phone && c.Phone != ""},
	} {
		if !p.on {
			continue
		}
		found, err := tx.LookupContacts(ctx, p.l)
		if err != nil {
			return nil, err
		}
		for _, other := range found {
			if other.ID != c.ID {
				return &duplicateContactError{existing: other, field: p.field}, nil
			}
		}
	}
	return nil, nil
}

// ---------------------------------------------------------------------------
// CRUD

// createContact serves POST /contacts/: 201 {contact}. A location that
// refuses duplicates answers a known email or phone with GHL's 400.
func (s *Server) createContact(w http.ResponseWriter, r *Request) error {
	b, err := decodeContactBody(r)
	if err != nil {
		return err
	}
	locID := ""
	if b.in.LocationID != nil {
		locID = strings.TrimSpace(*b.in.LocationID)
	}
	if locID == "" {
		return Invalid("locationId should not be empty")
	}
	ctx := r.Context()
	var created *Contact
	err = s.write(ctx, func(tx Tx) error {
		loc, err := contactLocation(ctx, tx, locID)
		if err != nil {
			return err
		}
		c, err := s.insertContact(ctx, tx, loc, b)
		created = c
		return err
	})
	var dup *duplicateContactError
	if errors.As(err, &dup) {
		return writeDuplicateContact(w, r, dup)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"contact": newContactView(created)})
	return nil
}

// insertContact creates a contact of loc from a body, in tx: validation,
// the duplicate rule, the location's tag list and ContactCreate.
func (s *Server) insertContact(ctx context.Context, tx Tx, loc *Location, b *contactBody) (*Contact, error) {
	now := s.contactNow()
	c := &Contact{ID: NewID(), LocationID: loc.ID, Type: ContactTypeLead, DateAdded: now, DateUpdated: now, Tags: []string{}, CustomFields: []CustomFieldValue{}}
	if _, err := s.applyContactBody(ctx, tx, c, b, loc); err != nil {
		return nil, err
	}
	if !loc.Settings.AllowDuplicateContact {
		dup, err := findContactDuplicate(ctx, tx, c, true, true)
		if err != nil {
			return nil, err
		}
		if dup != nil {
			return nil, dup
		}
	}
	if err := tx.InsertContact(ctx, c); err != nil {
		return nil, err
	}
	if err := upsertContactLocationTags(ctx, tx, loc, c.Tags, now); err != nil {
		return nil, err
	}
	return c, s.Emit(ctx, tx, "ContactCreate", c.LocationID, loc.CompanyID, c)
}

// getContact serves GET /contacts/{contactId}: {contact}.
func (s *Server) getContact(w http.ResponseWriter, r *Request) error {
	var doc json.RawMessage
	err := s.readLoose(r.Context(), func(tx Tx) error {
		locID, d, err := tx.GetContactJSON(r.Context(), r.PathParam("contactId"))
		if IsNotFound(err) {
			return Errorf(ENOTFOUND, "Contact not found")
		}
		if err != nil {
			return err
		}
		doc = d
		return r.CheckLocation(locID)
	})
	if err != nil {
		return err
	}
	b := getBuffer()
	defer putBuffer(b)
	b.WriteString(`{"contact":`)
	b.Write(doc)
	b.WriteString("}\n")
	writeRawJSON(w, http.StatusOK, b.Bytes())
	return nil
}

// updateContact serves PUT /contacts/{contactId}: {succeded, contact}.
// Given fields replace stored ones (tags too, as the spec says); custom
// fields merge by id.
func (s *Server) updateContact(w http.ResponseWriter, r *Request) error {
	b, err := decodeContactBody(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var updated *Contact
	err = s.write(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		loc, err := contactLocation(ctx, tx, c.LocationID)
		if err != nil {
			return err
		}
		updated, err = s.saveContactChanges(ctx, tx, loc, c, b, true)
		return err
	})
	var dup *duplicateContactError
	if errors.As(err, &dup) {
		return writeDuplicateContact(w, r, dup)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true, "contact": newContactView(updated)})
	return nil
}

// saveContactChanges applies a body to a stored contact and saves it with
// its events: ContactUpdate, plus ContactTagUpdate and ContactDndUpdate
// when tags or DND changed. With refuseDuplicates and a location that
// refuses duplicates, a changed email or phone another contact has is
// GHL's duplicate error; otherwise (upsert) a conflicting phone is ignored.
func (s *Server) saveContactChanges(ctx context.Context, tx Tx, loc *Location, c *Contact, b *contactBody, refuseDuplicates bool) (*Contact, error) {
	old := cloneContact(c)
	change, err := s.applyContactBody(ctx, tx, c, b, loc)
	if err != nil {
		return nil, err
	}
	if !loc.Settings.AllowDuplicateContact {
		dup, err := findContactDuplicate(ctx, tx, c, c.Email != old.Email, c.Phone != old.Phone)
		if err != nil {
			return nil, err
		}
		if dup != nil && (refuseDuplicates || dup.field == "email") {
			return nil, dup
		}
		if dup != nil {
			// GHL's upsert updates the contact the first field matched and
			// ignores the second field rather than create a duplicate.
			c.Phone = old.Phone
		}
	}
	return c, s.storeContactUpdate(ctx, tx, loc, c, change)
}

// storeContactUpdate saves a changed contact and emits its events.
func (s *Server) storeContactUpdate(ctx context.Context, tx Tx, loc *Location, c *Contact, change contactChange) error {
	now := s.contactNow()
	c.DateUpdated = now
	if err := tx.UpdateContact(ctx, c); err != nil {
		return err
	}
	if err := upsertContactLocationTags(ctx, tx, loc, c.Tags, now); err != nil {
		return err
	}
	if err := s.Emit(ctx, tx, "ContactUpdate", c.LocationID, loc.CompanyID, c); err != nil {
		return err
	}
	if change.tags {
		if err := s.Emit(ctx, tx, "ContactTagUpdate", c.LocationID, loc.CompanyID, c); err != nil {
			return err
		}
	}
	if change.dnd {
		if err := s.Emit(ctx, tx, "ContactDndUpdate", c.LocationID, loc.CompanyID, c); err != nil {
			return err
		}
	}
	return nil
}

// deleteContact serves DELETE /contacts/{contactId}: {succeded: true}. The
// store drops the contact's notes, tasks and enrollments with it.
func (s *Server) deleteContact(w http.ResponseWriter, r *Request) error {
	ctx := r.Context()
	err := s.write(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		loc, err := contactLocation(ctx, tx, c.LocationID)
		if err != nil {
			return err
		}
		if err := tx.DeleteContact(ctx, c.ID); err != nil {
			return err
		}
		return s.Emit(ctx, tx, "ContactDelete", c.LocationID, loc.CompanyID, c)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true})
	return nil
}

// upsertContact serves POST /contacts/upsert: 200 {new, contact, traceId}.
// It updates the oldest contact with the email, else the oldest with the
// phone, else creates one. A location allowing duplicates creates a new
// contact when the body asks so (createNewIfDuplicateAllowed).
func (s *Server) upsertContact(w http.ResponseWriter, r *Request) error {
	b, err := decodeContactBody(r)
	if err != nil {
		return err
	}
	locID := ""
	if b.in.LocationID != nil {
		locID = strings.TrimSpace(*b.in.LocationID)
	}
	if locID == "" {
		return Invalid("locationId should not be empty")
	}
	ctx := r.Context()
	var (
		out   *Contact
		isNew bool
	)
	err = s.write(ctx, func(tx Tx) error {
		loc, err := contactLocation(ctx, tx, locID)
		if err != nil {
			return err
		}
		var match *Contact
		createNew := loc.Settings.AllowDuplicateContact && b.in.CreateNewIfDuplicateAllowed != nil && *b.in.CreateNewIfDuplicateAllowed
		if !createNew {
			match, err = s.matchUpsertContact(ctx, tx, loc, &b.in)
			if err != nil {
				return err
			}
		}
		if match == nil {
			isNew = true
			out, err = s.insertContact(ctx, tx, loc, b)
			return err
		}
		out, err = s.saveContactChanges(ctx, tx, loc, match, b, false)
		return err
	})
	var dup *duplicateContactError
	if errors.As(err, &dup) {
		return writeDuplicateContact(w, r, dup)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"new": isNew, "contact": newContactView(out), "traceId": r.TraceID})
	return nil
}

// matchUpsertContact finds the contact an upsert updates: the oldest with
// the body's email, else the oldest with its phone.
func (s *Server) matchUpsertContact(ctx context.Context, tx Tx, loc *Location, in *contactInput) (*Contact, error) {
	if in.Email != nil {
		if email := strings.ToLower(strings.TrimSpace(*in.Email)); email != "" {
			found, err := tx.LookupContacts(ctx, ContactLookup{LocationID: loc.ID, Email: email, Limit: 1})
			if err != nil || len(found) > 0 {
				return firstContact(found), err
			}
		}
	}
	if in.Phone != nil && strings.TrimSpace(*in.Phone) != "" {
		country := ""
		if in.Country != nil {
			country = strings.TrimSpace(*in.Country)
		}
		if phone, err := NormalizePhone(*in.Phone, contactPhoneCountry(country, loc)); err == nil {
			found, err := tx.LookupContacts(ctx, ContactLookup{LocationID: loc.ID, Phone: phone, Limit: 1})
			if err != nil || len(found) > 0 {
				return firstContact(found), err
			}
		}
	}
	return nil, nil
}

func firstContact(cs []*Contact) *Contact {
	if len(cs) == 0 {
		return nil
	}
	return cs[0]
}

// getDuplicateContact serves GET /contacts/search/duplicate: {contact} with
// the oldest contact having the email (checked first) or number, or null.
func (s *Server) getDuplicateContact(w http.ResponseWriter, r *Request) error {
	locID := r.Query("locationId")
	if locID == "" {
		return Invalid("locationId should not be empty")
	}
	email := strings.ToLower(strings.TrimSpace(r.Query("email")))
	number := strings.TrimSpace(r.Query("number"))
	if email == "" && number == "" {
		return Invalid("email or number must be given")
	}
	ctx := r.Context()
	var match *Contact
	err := s.read(ctx, func(tx Tx) error {
		loc, err := contactLocation(ctx, tx, locID)
		if err != nil {
			return err
		}
		if email != "" {
			found, err := tx.LookupContacts(ctx, ContactLookup{LocationID: loc.ID, Email: email, Limit: 1})
			if err != nil || len(found) > 0 {
				match = firstContact(found)
				return err
			}
		}
		if number != "" {
			phone, err := NormalizePhone(number, contactPhoneCountry("", loc))
			if err != nil {
				return Invalid("number must be a valid phone number")
			}
			found, err := tx.LookupContacts(ctx, ContactLookup{LocationID: loc.ID, Phone: phone, Limit: 1})
			match = firstContact(found)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	var body any
	if match != nil {
		body = newContactView(match)
	}
	writeJSON(w, http.StatusOK, map[string]any{"contact": body})
	return nil
}

// ---------------------------------------------------------------------------
// Lists

// listContacts serves the deprecated GET /contacts/: {contacts, count, meta}
// ordered by dateAdded ascending, paged by the startAfter/startAfterId
// cursor (or startAfterId alone). count is the number of matches in all
// pages; meta is what GHL's real API adds.
func (s *Server) listContacts(w http.ResponseWriter, r *Request) error {
	locID := r.Query("locationId")
	if locID == "" {
		return Invalid("locationId should not be empty")
	}
	limit, err := contactQueryInt(r, "limit", 20, 1, 100)
	if err != nil {
		return err
	}
	var (
		afterMS    int64
		hasAfterMS bool
	)
	if v := r.Query("startAfter"); v != "" {
		f, perr := strconv.ParseFloat(v, 64)
		if perr != nil || math.IsNaN(f) || math.Abs(f) > 1e15 {
			return Invalid("startAfter must be a number (epoch milliseconds)")
		}
		afterMS, hasAfterMS = int64(f), true
	}
	afterID := r.Query("startAfterId")
	q := ContactQuery{LocationID: locID, Query: r.Query("query"), Sort: []Sort{{Field: "dateAdded"}}, Limit: limit}
	ctx := r.Context()
	var (
		page   *ContactPage
		before int
	)
	err = s.read(ctx, func(tx Tx) error {
		if afterID != "" && !hasAfterMS {
			c, err := tx.GetContact(ctx, afterID)
			if err != nil || c.LocationID != locID {
				if err == nil || IsNotFound(err) {
					return Invalid("startAfterId must be the id of a contact of this location")
				}
				return err
			}
			afterMS, hasAfterMS = c.DateAdded.UnixMilli(), true
		}
		if hasAfterMS {
			if afterID == "" {
				// startAfter alone is exclusive: "~" sorts after every
				// alphanumeric id, so contacts of that millisecond are
				// skipped too.
				afterID = "~"
			}
			q.SearchAfter = []any{afterMS, afterID}
		}
		var err error
		page, err = tx.SearchContacts(ctx, q)
		if err != nil || !hasAfterMS {
			return err
		}
		// Contacts up to the cursor, for the page numbers of meta.
		upTo := q
		upTo.SearchAfter, upTo.Limit = nil, 1
		upTo.Filter = &Filter{Group: "OR", Filters: []Filter{
			{Field: "dateAdded", Operator: OpRange, Value: &Range{LT: afterMS}},
			{Group: "AND", Filters: []Filter{
				{Field: "dateAdded", Operator: OpEq, Value: afterMS},
				{Field: "id", Operator: OpRange, Value: &Range{LTE: afterID}},
			}},
		}}
		n, err := tx.SearchContacts(ctx, upTo)
		if err != nil {
			return err
		}
		before = n.Total
		return nil
	})
	if err != nil {
		return err
	}
	current := before/limit + 1
	meta := map[string]any{"total": page.Total, "currentPage": current, "nextPage": nil, "prevPage": nil,
		"startAfterId": nil, "startAfter": nil, "nextPageUrl": nil}
	if current > 1 {
		meta["prevPage"] = current - 1
	}
	if n := len(page.Contacts); n > 0 {
		last := page.Contacts[n-1]
		meta["startAfterId"] = last.ID
		meta["startAfter"] = last.DateAdded.UnixMilli()
		if before+n < page.Total {
			meta["nextPage"] = current + 1
			v := url.Values{"locationId": {locID}, "startAfter": {strconv.FormatInt(last.DateAdded.UnixMilli(), 10)},
				"startAfterId": {last.ID}, "limit": {strconv.Itoa(limit)}}
			if q.Query != "" {
				v.Set("query", q.Query)
			}
			meta["nextPageUrl"] = s.cfg.BaseURL + "/contacts/?" + v.Encode()
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"contacts": contactViews(page.Contacts), "count": page.Total, "meta": meta})
	return nil
}

// contactQueryInt parses an optional integer query parameter (the specs
// declare some as strings) within [lo, hi].
func contactQueryInt(r *Request, name string, def, lo, hi int) (int, error) {
	v := r.Query(name)
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil || math.IsNaN(f) || f != math.Trunc(f):
		return 0, Invalid(name + " must be an integer number")
	case f < float64(lo):
		return 0, Invalid(fmt.Sprintf("%s must not be less than %d", name, lo))
	case f > float64(hi):
		return 0, Invalid(fmt.Sprintf("%s must not be greater than %d", name, hi))
	}
	return int(f), nil
}

// getContactsByBusiness serves GET /contacts/business/{businessId}:
// {contacts, count} with skip/limit paging and an optional query.
func (s *Server) getContactsByBusiness(w http.ResponseWriter, r *Request) error {
	locID := r.Query("locationId")
	if locID == "" {
		return Invalid("locationId should not be empty")
	}
	limit, err := contactQueryInt(r, "limit", 25, 1, 100)
	if err != nil {
		return err
	}
	skip, err := contactQueryInt(r, "skip", 0, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	q := ContactQuery{
		LocationID: locID, Query: r.Query("query"), Sort: []Sort{{Field: "dateAdded"}}, Offset: skip, Limit: limit,
		Filter: &Filter{Field: "businessId", Operator: OpEq, Value: r.PathParam("businessId")},
	}
	var page *ContactPage
	err = s.read(r.Context(), func(tx Tx) error {
		var err error
		page, err = tx.SearchContacts(r.Context(), q)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"contacts": contactViews(page.Contacts), "count": page.Total})
	return nil
}

// ---------------------------------------------------------------------------
// Bulk operations

// authenticateUnsecured gives the two bulk operations whose spec omits the
// security block the same check as their siblings: GHL serves them only to
// a sub-account token with contacts.write, and the sandbox must not let an
// anonymous caller change contacts.
func (s *Server) authenticateUnsecured(r *Request) error {
	if r.Auth == nil {
		a, err := s.authenticate(r.Context(), r.Header.Get("Authorization"))
		if err != nil {
			return err
		}
		r.Auth = a
	}
	return authorize(&spec.Operation{Security: []spec.Security{{Class: spec.Location, Scopes: []string{"contacts.write"}}}}, r.Auth)
}

// bulkUpdateContactTags serves POST /contacts/bulk/tags/update/{type}
// (type add or remove): 201 {succeded, errorCount, responses}, one response
// per contact id. succeded is true when no contact failed.
func (s *Server) bulkUpdateContactTags(w http.ResponseWriter, r *Request) error {
	if err := s.authenticateUnsecured(r); err != nil {
		return err
	}
	typ := r.PathParam("type")
	if typ != "add" && typ != "remove" {
		return Invalid("type must be one of add, remove")
	}
	var in struct {
		Contacts      []string `json:"contacts"`
		Tags          []string `json:"tags"`
		LocationID    string   `json:"locationId"`
		RemoveAllTags bool     `json:"removeAllTags"`
	}
	if err := r.Decode(&in); err != nil {
		return err
	}
	var msgs []string
	if in.LocationID == "" {
		msgs = append(msgs, "locationId should not be empty")
	}
	if len(in.Contacts) == 0 {
		msgs = append(msgs, "contacts should not be empty")
	} else if len(in.Contacts) > 100 {
		msgs = append(msgs, "contacts must contain no more than 100 elements")
	}
	tags := normalizeContactTags(in.Tags)
	if len(tags) > contactMaxList {
		msgs = append(msgs, fmt.Sprintf("tags must contain no more than %d elements", contactMaxList))
	}
	if in.RemoveAllTags && typ != "remove" {
		msgs = append(msgs, "removeAllTags can only be used with type remove")
	}
	if len(tags) == 0 && !in.RemoveAllTags {
		msgs = append(msgs, "tags should not be empty")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	if err := r.CheckLocation(in.LocationID); err != nil {
		return err
	}
	ctx := r.Context()
	responses := make([]map[string]any, 0, len(in.Contacts))
	errorCount := 0
	err := s.write(ctx, func(tx Tx) error {
		loc, err := contactLocation(ctx, tx, in.LocationID)
		if err != nil {
			return err
		}
		for _, id := range in.Contacts {
			fail := func(msg string) {
				errorCount++
				responses = append(responses, map[string]any{"contactId": id, "message": msg, "type": "error"})
			}
			c, err := tx.GetContact(ctx, id)
			switch {
			case IsNotFound(err):
				fail("contact not found")
				continue
			case err != nil:
				return err
			case c.LocationID != loc.ID:
				fail("contact does not belong to location")
				continue
			}
			oldTags := slices.Clone(c.Tags)
			var added, removed []string
			if typ == "add" {
				c.Tags, added = mergeContactTags(c.Tags, tags)
			} else if in.RemoveAllTags {
				removed, c.Tags = c.Tags, []string{}
			} else {
				c.Tags, removed = removeContactTags(c.Tags, tags)
			}
			if len(added) > 0 || len(removed) > 0 {
				if err := s.storeContactUpdate(ctx, tx, loc, c, contactChange{tags: true}); err != nil {
					return err
				}
			}
			responses = append(responses, map[string]any{"contactId": id, "message": "Tags updated", "type": "success",
				"oldTags": contactNonNil(oldTags), "tagsAdded": contactNonNil(added), "tagsRemoved": contactNonNil(removed)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"succeded": errorCount == 0, "errorCount": errorCount, "responses": responses})
	return nil
}

func contactNonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// updateContactsBusiness serves POST /contacts/bulk/business: links the
// contacts to a business (or unlinks them with businessId null) and answers
// {success, ids} with the ids it changed; ids that are not contacts of the
// location are skipped.
func (s *Server) updateContactsBusiness(w http.ResponseWriter, r *Request) error {
	if err := s.authenticateUnsecured(r); err != nil {
		return err
	}
	var in struct {
		LocationID string   `json:"locationId"`
		IDs        []string `json:"ids"`
		BusinessID *string  `json:"businessId"`
	}
	var raw map[string]json.RawMessage
	if err := r.Decode(&in); err != nil {
		return err
	}
	if err := r.Decode(&raw); err != nil {
		return err
	}
	var msgs []string
	if in.LocationID == "" {
		msgs = append(msgs, "locationId should not be empty")
	}
	if len(in.IDs) == 0 {
		msgs = append(msgs, "ids should not be empty")
	} else if len(in.IDs) > 100 {
		msgs = append(msgs, "ids must contain no more than 100 elements")
	}
	if _, ok := raw["businessId"]; !ok {
		msgs = append(msgs, "businessId must be a string or null")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	if err := r.CheckLocation(in.LocationID); err != nil {
		return err
	}
	business := ""
	if in.BusinessID != nil {
		business = strings.TrimSpace(*in.BusinessID)
	}
	ctx := r.Context()
	ids := []string{}
	err := s.write(ctx, func(tx Tx) error {
		loc, err := contactLocation(ctx, tx, in.LocationID)
		if err != nil {
			return err
		}
		for _, id := range in.IDs {
			c, err := tx.GetContact(ctx, id)
			if IsNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			if c.LocationID != loc.ID {
				continue
			}
			if c.BusinessID != business {
				c.BusinessID = business
				if err := s.storeContactUpdate(ctx, tx, loc, c, contactChange{}); err != nil {
					return err
				}
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "ids": ids})
	return nil
}

// ---------------------------------------------------------------------------
// Tags

type contactTagsBody struct {
	Tags []string `json:"tags"`
}

func decodeContactTags(r *Request) ([]string, error) {
	var in contactTagsBody
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	tags := normalizeContactTags(in.Tags)
	if len(tags) == 0 {
		return nil, Invalid("tags should not be empty")
	}
	if len(tags) > contactMaxList {
		return nil, Invalid(fmt.Sprintf("tags must contain no more than %d elements", contactMaxList))
	}
	return tags, nil
}

// addContactTags serves POST /contacts/{contactId}/tags: 201 {tags} with all
// the contact's tags after merging the new ones.
func (s *Server) addContactTags(w http.ResponseWriter, r *Request) error {
	return s.changeContactTags(w, r, http.StatusCreated, func(c *Contact, tags []string) bool {
		var added []string
		c.Tags, added = mergeContactTags(c.Tags, tags)
		return len(added) > 0
	})
}

// removeContactTags serves DELETE /contacts/{contactId}/tags (JSON body
// {tags}): {tags} with the contact's remaining tags.
func (s *Server) removeContactTags(w http.ResponseWriter, r *Request) error {
	return s.changeContactTags(w, r, http.StatusOK, func(c *Contact, tags []string) bool {
		var removed []string
		c.Tags, removed = removeContactTags(c.Tags, tags)
		return len(removed) > 0
	})
}

func (s *Server) changeContactTags(w http.ResponseWriter, r *Request, status int, change func(*Contact, []string) bool) error {
	tags, err := decodeContactTags(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var c *Contact
	err = s.write(ctx, func(tx Tx) error {
		var err error
		c, err = contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		if !change(c, tags) {
			return nil
		}
		loc, err := contactLocation(ctx, tx, c.LocationID)
		if err != nil {
			return err
		}
		return s.storeContactUpdate(ctx, tx, loc, c, contactChange{tags: true})
	})
	if err != nil {
		return err
	}
	writeJSON(w, status, map[string]any{"tags": contactNonNil(c.Tags)})
	return nil
}

// ---------------------------------------------------------------------------
// Notes

type contactNoteBody struct {
	UserID *string `json:"userId"`
	Body   *string `json:"body"`
	Title  *string `json:"title"`
	Color  *string `json:"color"`
	Pinned *bool   `json:"pinned"`
}

func (b *contactNoteBody) apply(n *ContactNote) {
	if b.UserID != nil {
		n.UserID = *b.UserID
	}
	if b.Body != nil {
		n.Body = *b.Body
	}
	if b.Title != nil {
		n.Title = *b.Title
	}
	if b.Color != nil {
		n.Color = *b.Color
	}
	if b.Pinned != nil {
		n.Pinned = *b.Pinned
	}
}

// loadContactNote loads a note of a contact the caller may see.
func loadContactNote(ctx context.Context, tx Tx, r *Request, c *Contact, id string) (*ContactNote, *Record, error) {
	return getChildRecord[ContactNote](ctx, tx, KindNote, c.ID, id, "Note not found")
}

// listContactNotes serves GET /contacts/{contactId}/notes: {notes}, newest
// first.
func (s *Server) listContactNotes(w http.ResponseWriter, r *Request) error {
	ctx := r.Context()
	var notes []*ContactNote
	err := s.read(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		notes, err = ListRecordsAs[ContactNote](ctx, tx, RecordQuery{Kind: KindNote, ParentID: c.ID})
		return err
	})
	if err != nil {
		return err
	}
	slices.Reverse(notes)
	writeJSON(w, http.StatusOK, map[string]any{"notes": notes})
	return nil
}

// createContactNote serves POST /contacts/{contactId}/notes: 201 {note};
// emits NoteCreate.
func (s *Server) createContactNote(w http.ResponseWriter, r *Request) error {
	var in contactNoteBody
	if err := r.Decode(&in); err != nil {
		return err
	}
	if in.Body == nil || strings.TrimSpace(*in.Body) == "" {
		return Invalid("body should not be empty")
	}
	ctx := r.Context()
	var note *ContactNote
	err := s.write(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		loc, err := contactLocation(ctx, tx, c.LocationID)
		if err != nil {
			return err
		}
		now := s.contactNow()
		note = &ContactNote{ID: NewID(), ContactID: c.ID, DateAdded: now}
		in.apply(note)
		rec := Record{Kind: KindNote, ID: note.ID, LocationID: c.LocationID, CompanyID: loc.CompanyID, ParentID: c.ID, CreatedAt: now.Time, UpdatedAt: now.Time}
		if err := PutRecordOf(ctx, tx, rec, note); err != nil {
			return err
		}
		return s.Emit(ctx, tx, "NoteCreate", c.LocationID, loc.CompanyID, note)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"note": note})
	return nil
}

// getContactNote serves GET /contacts/{contactId}/notes/{id}: {note}.
func (s *Server) getContactNote(w http.ResponseWriter, r *Request) error {
	ctx := r.Context()
	var note *ContactNote
	err := s.read(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		note, _, err = loadContactNote(ctx, tx, r, c, r.PathParam("id"))
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"note": note})
	return nil
}

// updateContactNote serves PUT /contacts/{contactId}/notes/{id}: {note};
// emits NoteUpdate.
func (s *Server) updateContactNote(w http.ResponseWriter, r *Request) error {
	var in contactNoteBody
	if err := r.Decode(&in); err != nil {
		return err
	}
	if in.Body != nil && strings.TrimSpace(*in.Body) == "" {
		return Invalid("body should not be empty")
	}
	ctx := r.Context()
	var note *ContactNote
	err := s.write(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		var rec *Record
		note, rec, err = loadContactNote(ctx, tx, r, c, r.PathParam("id"))
		if err != nil {
			return err
		}
		in.apply(note)
		rec.UpdatedAt = s.contactNow().Time
		if err := PutRecordOf(ctx, tx, *rec, note); err != nil {
			return err
		}
		return s.Emit(ctx, tx, "NoteUpdate", c.LocationID, rec.CompanyID, note)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"note": note})
	return nil
}

// deleteContactNote serves DELETE /contacts/{contactId}/notes/{id}:
// {succeded: true}; emits NoteDelete.
func (s *Server) deleteContactNote(w http.ResponseWriter, r *Request) error {
	ctx := r.Context()
	err := s.write(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		note, rec, err := loadContactNote(ctx, tx, r, c, r.PathParam("id"))
		if err != nil {
			return err
		}
		if err := tx.DeleteRecord(ctx, KindNote, note.ID); err != nil {
			return err
		}
		return s.Emit(ctx, tx, "NoteDelete", c.LocationID, rec.CompanyID, note)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true})
	return nil
}

// ---------------------------------------------------------------------------
// Tasks

type contactTaskBody struct {
	Title      *string         `json:"title"`
	Body       *string         `json:"body"`
	DueDate    json.RawMessage `json:"dueDate"`
	Completed  *bool           `json:"completed"`
	AssignedTo *string         `json:"assignedTo"`
}

// apply validates the body and applies it to t; creating requires title,
// dueDate and completed as the spec does.
func (b *contactTaskBody) apply(t *ContactTask, creating bool) error {
	var msgs []string
	if b.Title != nil {
		if strings.TrimSpace(*b.Title) == "" {
			msgs = append(msgs, "title should not be empty")
		}
		t.Title = *b.Title
	} else if creating {
		msgs = append(msgs, "title should not be empty")
	}
	if len(b.DueDate) > 0 && string(b.DueDate) != "null" {
		var due Time
		if err := json.Unmarshal(b.DueDate, &due); err != nil || due.IsZero() {
			msgs = append(msgs, "dueDate must be a valid ISO 8601 date string")
		}
		t.DueDate = Time{due.UTC().Truncate(time.Millisecond)}
	} else if creating {
		msgs = append(msgs, "dueDate must be a valid ISO 8601 date string")
	}
	if b.Completed != nil {
		t.Completed = *b.Completed
	} else if creating {
		msgs = append(msgs, "completed must be a boolean value")
	}
	if b.Body != nil {
		t.Body = *b.Body
	}
	if b.AssignedTo != nil {
		t.AssignedTo = strings.TrimSpace(*b.AssignedTo)
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	return nil
}

// loadContactTask loads a task of a contact.
func loadContactTask(ctx context.Context, tx Tx, c *Contact, id string) (*ContactTask, *Record, error) {
	return getChildRecord[ContactTask](ctx, tx, KindTask, c.ID, id, "Task not found")
}

// listContactTasks serves GET /contacts/{contactId}/tasks: {tasks}.
func (s *Server) listContactTasks(w http.ResponseWriter, r *Request) error {
	ctx := r.Context()
	var tasks []*ContactTask
	err := s.read(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		tasks, err = ListRecordsAs[ContactTask](ctx, tx, RecordQuery{Kind: KindTask, ParentID: c.ID})
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tasks": tasks})
	return nil
}

// createContactTask serves POST /contacts/{contactId}/tasks: 201 {task};
// emits TaskCreate.
func (s *Server) createContactTask(w http.ResponseWriter, r *Request) error {
	var in contactTaskBody
	if err := r.Decode(&in); err != nil {
		return err
	}
	now := s.contactNow()
	task := &ContactTask{ID: NewID(), DateAdded: now, DateUpdated: now}
	if err := in.apply(task, true); err != nil {
		return err
	}
	ctx := r.Context()
	err := s.write(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		loc, err := contactLocation(ctx, tx, c.LocationID)
		if err != nil {
			return err
		}
		task.ContactID = c.ID
		return s.putContactTask(ctx, tx, c.LocationID, loc.CompanyID, task)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"task": task})
	return nil
}

// getContactTask serves GET /contacts/{contactId}/tasks/{taskId}: {task}.
func (s *Server) getContactTask(w http.ResponseWriter, r *Request) error {
	ctx := r.Context()
	var task *ContactTask
	err := s.read(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		task, _, err = loadContactTask(ctx, tx, c, r.PathParam("taskId"))
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"task": task})
	return nil
}

// updateContactTask serves PUT /contacts/{contactId}/tasks/{taskId}: {task}.
func (s *Server) updateContactTask(w http.ResponseWriter, r *Request) error {
	var in contactTaskBody
	if err := r.Decode(&in); err != nil {
		return err
	}
	return s.saveContactTask(w, r, &in)
}

// completeContactTask serves PUT /contacts/{contactId}/tasks/{taskId}/completed
// ({completed}): {task}.
func (s *Server) completeContactTask(w http.ResponseWriter, r *Request) error {
	var in struct {
		Completed *bool `json:"completed"`
	}
	if err := r.Decode(&in); err != nil {
		return err
	}
	if in.Completed == nil {
		return Invalid("completed must be a boolean value")
	}
	return s.saveContactTask(w, r, &contactTaskBody{Completed: in.Completed})
}

// saveContactTask applies a task body to a stored task. There is no
// TaskUpdate webhook in GHL; completing a task emits TaskComplete.
func (s *Server) saveContactTask(w http.ResponseWriter, r *Request, in *contactTaskBody) error {
	ctx := r.Context()
	var task *ContactTask
	err := s.write(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		var rec *Record
		task, rec, err = loadContactTask(ctx, tx, c, r.PathParam("taskId"))
		if err != nil {
			return err
		}
		wasCompleted := task.Completed
		if err := in.apply(task, false); err != nil {
			return err
		}
		now := s.contactNow()
		task.DateUpdated = now
		rec.UpdatedAt = now.Time
		if err := PutRecordOf(ctx, tx, *rec, task); err != nil {
			return err
		}
		if task.Completed && !wasCompleted {
			return s.Emit(ctx, tx, "TaskComplete", c.LocationID, rec.CompanyID, task)
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"task": task})
	return nil
}

// deleteContactTask serves DELETE /contacts/{contactId}/tasks/{taskId}:
// {succeded: true}; emits TaskDelete.
func (s *Server) deleteContactTask(w http.ResponseWriter, r *Request) error {
	ctx := r.Context()
	err := s.write(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		task, rec, err := loadContactTask(ctx, tx, c, r.PathParam("taskId"))
		if err != nil {
			return err
		}
		if err := tx.DeleteRecord(ctx, KindTask, task.ID); err != nil {
			return err
		}
		return s.Emit(ctx, tx, "TaskDelete", c.LocationID, rec.CompanyID, task)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true})
	return nil
}

// ---------------------------------------------------------------------------
// Appointments, followers

// getContactAppointments serves GET /contacts/{contactId}/appointments:
// {events}. The sandbox has no calendars yet, so a known contact has none.
func (s *Server) getContactAppointments(w http.ResponseWriter, r *Request) error {
	err := s.read(r.Context(), func(tx Tx) error {
		_, err := contactForRequest(r.Context(), tx, r, r.PathParam("contactId"))
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": []any{}})
	return nil
}

func decodeContactFollowers(r *Request) ([]string, error) {
	var in struct {
		Followers []string `json:"followers"`
	}
	if err := r.Decode(&in); err != nil {
		return nil, err
	}
	var out []string
	for i, f := range in.Followers {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, Invalid(fmt.Sprintf("followers[%d] should not be empty", i))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, Invalid("followers should not be empty")
	}
	if len(out) > contactMaxList {
		return nil, Invalid(fmt.Sprintf("followers must contain no more than %d elements", contactMaxList))
	}
	return out, nil
}

// addContactFollowers serves POST /contacts/{contactId}/followers:
// 201 {followers, followersAdded}.
func (s *Server) addContactFollowers(w http.ResponseWriter, r *Request) error {
	return s.changeContactFollowers(w, r, http.StatusCreated, "followersAdded", func(c *Contact, ids []string) []string {
		var added []string
		for _, id := range ids {
			if !slices.Contains(c.Followers, id) {
				c.Followers = append(c.Followers, id)
				added = append(added, id)
			}
		}
		return added
	})
}

// removeContactFollowers serves DELETE /contacts/{contactId}/followers:
// {followers, followersRemoved}.
func (s *Server) removeContactFollowers(w http.ResponseWriter, r *Request) error {
	return s.changeContactFollowers(w, r, http.StatusOK, "followersRemoved", func(c *Contact, ids []string) []string {
		var removed []string
		c.Followers = slices.DeleteFunc(c.Followers, func(f string) bool {
			if slices.Contains(ids, f) {
				removed = append(removed, f)
				return true
			}
			return false
		})
		return removed
	})
}

func (s *Server) changeContactFollowers(w http.ResponseWriter, r *Request, status int, changedKey string, change func(*Contact, []string) []string) error {
	ids, err := decodeContactFollowers(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var (
		c       *Contact
		changed []string
	)
	err = s.write(ctx, func(tx Tx) error {
		var err error
		c, err = contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		changed = change(c, ids)
		if len(changed) == 0 {
			return nil
		}
		loc, err := contactLocation(ctx, tx, c.LocationID)
		if err != nil {
			return err
		}
		return s.storeContactUpdate(ctx, tx, loc, c, contactChange{})
	})
	if err != nil {
		return err
	}
	writeJSON(w, status, map[string]any{"followers": contactNonNil(c.Followers), changedKey: contactNonNil(changed)})
	return nil
}

// ---------------------------------------------------------------------------
// Campaigns and workflows

// contactEnrollmentTarget checks that a campaign or workflow exists in the
// contact's location; another location's is as unknown as a missing one.
func contactEnrollmentTarget(ctx context.Context, tx Tx, kind Kind, id string, c *Contact) error {
	rec, err := tx.GetRecord(ctx, kind, id)
	if err != nil && !IsNotFound(err) {
		return err
	}
	if err != nil || rec.LocationID != c.LocationID {
		if kind == KindCampaign {
			return Errorf(ENOTFOUND, "Campaign not found")
		}
		return Errorf(ENOTFOUND, "Workflow not found")
	}
	return nil
}

// contactEnrollments lists a contact's enrollments with the key ("" for all).
func contactEnrollments(ctx context.Context, tx Tx, contactID, key string) ([]*Record, error) {
	return tx.ListRecords(ctx, RecordQuery{Kind: KindEnrollment, ParentID: contactID, Key: key})
}

// enrollContact records a contact in a campaign or workflow, once.
func (s *Server) enrollContact(ctx context.Context, tx Tx, c *Contact, typ, targetID string, start Time) error {
	key := EnrollmentKey(typ, targetID)
	existing, err := contactEnrollments(ctx, tx, c.ID, key)
	if err != nil || len(existing) > 0 {
		return err
	}
	now := s.contactNow()
	e := &Enrollment{ID: NewID(), Type: typ, ContactID: c.ID, LocationID: c.LocationID, EventStartTime: start, Status: "active", DateAdded: now}
	if typ == "campaign" {
		e.CampaignID = targetID
	} else {
		e.WorkflowID = targetID
	}
	rec := Record{Kind: KindEnrollment, ID: e.ID, LocationID: c.LocationID, ParentID: c.ID, Key: key, CreatedAt: now.Time, UpdatedAt: now.Time}
	return PutRecordOf(ctx, tx, rec, e)
}

// unenrollContact removes a contact's enrollments with the key.
func unenrollContact(ctx context.Context, tx Tx, c *Contact, key string) error {
	recs, err := contactEnrollments(ctx, tx, c.ID, key)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if err := tx.DeleteRecord(ctx, KindEnrollment, rec.ID); err != nil {
			return err
		}
	}
	return nil
}

// enrollmentChange runs fn on the contact of the path in a write
// transaction and answers {succeded: true}.
func (s *Server) enrollmentChange(w http.ResponseWriter, r *Request, status int, fn func(ctx context.Context, tx Tx, c *Contact) error) error {
	ctx := r.Context()
	err := s.write(ctx, func(tx Tx) error {
		c, err := contactForRequest(ctx, tx, r, r.PathParam("contactId"))
		if err != nil {
			return err
		}
		return fn(ctx, tx, c)
	})
	if err != nil {
		return err
	}
	writeJSON(w, status, map[string]any{"succeded": true})
	return nil
}

// addContactToCampaign serves POST /contacts/{contactId}/campaigns/{campaignId}:
// 201 {succeded}. An unknown campaign (or another location's) is a 404, as
// an unknown id in a path is everywhere in the sandbox.
func (s *Server) addContactToCampaign(w http.ResponseWriter, r *Request) error {
	id := r.PathParam("campaignId")
	return s.enrollmentChange(w, r, http.StatusCreated, func(ctx context.Context, tx Tx, c *Contact) error {
		if err := contactEnrollmentTarget(ctx, tx, KindCampaign, id, c); err != nil {
			return err
		}
		return s.enrollContact(ctx, tx, c, "campaign", id, Time{})
	})
}

// removeContactFromCampaign serves DELETE
// /contacts/{contactId}/campaigns/{campaignId}: {succeded}; removing a
// contact that is not in the campaign succeeds too.
func (s *Server) removeContactFromCampaign(w http.ResponseWriter, r *Request) error {
	id := r.PathParam("campaignId")
	return s.enrollmentChange(w, r, http.StatusOK, func(ctx context.Context, tx Tx, c *Contact) error {
		if err := contactEnrollmentTarget(ctx, tx, KindCampaign, id, c); err != nil {
			return err
		}
		return unenrollContact(ctx, tx, c, EnrollmentKey("campaign", id))
	})
}

// removeContactFromAllCampaigns serves DELETE
// /contacts/{contactId}/campaigns/removeAll: {succeded}.
func (s *Server) removeContactFromAllCampaigns(w http.ResponseWriter, r *Request) error {
	return s.enrollmentChange(w, r, http.StatusOK, func(ctx context.Context, tx Tx, c *Contact) error {
		recs, err := contactEnrollments(ctx, tx, c.ID, "")
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if strings.HasPrefix(rec.Key, "campaign:") {
				if err := tx.DeleteRecord(ctx, KindEnrollment, rec.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// decodeContactEventStartTime reads the optional {eventStartTime} body of the
// workflow routes.
func decodeContactEventStartTime(r *Request) (Time, error) {
	var in struct {
		EventStartTime json.RawMessage `json:"eventStartTime"`
	}
	if err := r.Decode(&in); err != nil {
		return Time{}, err
	}
	var t Time
	if len(in.EventStartTime) > 0 {
		if err := json.Unmarshal(in.EventStartTime, &t); err != nil {
			return Time{}, Invalid("eventStartTime must be a valid ISO 8601 date string")
		}
	}
	return Time{t.UTC().Truncate(time.Millisecond)}, nil
}

// addContactToWorkflow serves POST /contacts/{contactId}/workflow/{workflowId}
// ({eventStartTime}): {succeded}. An unknown workflow is a 404.
func (s *Server) addContactToWorkflow(w http.ResponseWriter, r *Request) error {
	start, err := decodeContactEventStartTime(r)
	if err != nil {
		return err
	}
	id := r.PathParam("workflowId")
	return s.enrollmentChange(w, r, http.StatusOK, func(ctx context.Context, tx Tx, c *Contact) error {
		if err := contactEnrollmentTarget(ctx, tx, KindWorkflow, id, c); err != nil {
			return err
		}
		return s.enrollContact(ctx, tx, c, "workflow", id, start)
	})
}

// removeContactFromWorkflow serves DELETE
// /contacts/{contactId}/workflow/{workflowId}: {succeded}.
func (s *Server) removeContactFromWorkflow(w http.ResponseWriter, r *Request) error {
	if _, err := decodeContactEventStartTime(r); err != nil {
		return err
	}
	id := r.PathParam("workflowId")
	return s.enrollmentChange(w, r, http.StatusOK, func(ctx context.Context, tx Tx, c *Contact) error {
		if err := contactEnrollmentTarget(ctx, tx, KindWorkflow, id, c); err != nil {
			return err
		}
		return unenrollContact(ctx, tx, c, EnrollmentKey("workflow", id))
	})
}
