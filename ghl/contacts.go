package ghl

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// ContactsService calls the contacts namespace (/contacts/…).
type ContactsService service

// Contact is a GHL contact, as the contacts endpoints return it. The
// endpoints return different subsets of these fields.
type Contact struct {
	ID                    string               `json:"id,omitempty"`
	LocationID            string               `json:"locationId,omitempty"`
	Name                  string               `json:"name,omitempty"`
	FirstName             string               `json:"firstName,omitempty"`
	LastName              string               `json:"lastName,omitempty"`
	FirstNameLowerCase    string               `json:"firstNameLowerCase,omitempty"`
	LastNameLowerCase     string               `json:"lastNameLowerCase,omitempty"`
	FullNameLowerCase     string               `json:"fullNameLowerCase,omitempty"`
	Email                 string               `json:"email,omitempty"`
	EmailLowerCase        string               `json:"emailLowerCase,omitempty"`
	Phone                 string               `json:"phone,omitempty"`
	CompanyName           string               `json:"companyName,omitempty"`
	Timezone              string               `json:"timezone,omitempty"`
	DND                   bool                 `json:"dnd,omitempty"`
	DNDSettings           *DNDSettings         `json:"dndSettings,omitempty"`
	InboundDNDSettings    *InboundDNDSettings  `json:"inboundDndSettings,omitempty"`
	Type                  string               `json:"type,omitempty"`
	Source                string               `json:"source,omitempty"`
	AssignedTo            string               `json:"assignedTo,omitempty"`
	Address1              string               `json:"address1,omitempty"`
	City                  string               `json:"city,omitempty"`
	State                 string               `json:"state,omitempty"`
	Country               string               `json:"country,omitempty"`
	PostalCode            string               `json:"postalCode,omitempty"`
	Website               string               `json:"website,omitempty"`
	Tags                  []string             `json:"tags,omitempty"`
	DateOfBirth           FlexString           `json:"dateOfBirth,omitempty"`
	DateAdded             FlexString           `json:"dateAdded,omitempty"`
	DateUpdated           FlexString           `json:"dateUpdated,omitempty"`
	LastActivity          FlexString           `json:"lastActivity,omitempty"`
	LastSessionActivityAt FlexString           `json:"lastSessionActivityAt,omitempty"`
	Attachments           FlexString           `json:"attachments,omitempty"`
	SSN                   string               `json:"ssn,omitempty"`
	Keyword               string               `json:"keyword,omitempty"`
	CustomFields          []ContactCustomField `json:"customFields,omitempty"`
	BusinessID            string               `json:"businessId,omitempty"`
	AttributionSource     *AttributionSource   `json:"attributionSource,omitempty"`
	LastAttributionSource *AttributionSource   `json:"lastAttributionSource,omitempty"`
	Attributions          []AttributionSource  `json:"attributions,omitempty"`
	VisitorID             string               `json:"visitorId,omitempty"`
	Followers             []string             `json:"followers,omitempty"`
	Deleted               bool                 `json:"deleted,omitempty"`
	BounceEmail           bool                 `json:"bounceEmail,omitempty"`
	UnsubscribeEmail      bool                 `json:"unsubscribeEmail,omitempty"`
	BirthMonth            int                  `json:"birthMonth,omitempty"`
	BirthDay              int                  `json:"birthDay,omitempty"`
	Offers                []string             `json:"offers,omitempty"`
	Products              []string             `json:"products,omitempty"`
	// SearchAfter is the cursor POST /contacts/search returns with each
	// contact; pass the last one's to get the next page.
	SearchAfter json.RawMessage `json:"searchAfter,omitempty"`
}

// ContactCustomField is a custom field value as GHL returns it on a contact.
// Value is a string, number, array of strings or object, by field type.
type ContactCustomField struct {
	ID    string `json:"id"`
	Value any    `json:"value"`
}

// CustomFieldValue sets a custom field on a contact. Name the field by ID or
// by Key (the field key, "contact.pincode" or just "pincode"): the client
// resolves keys to ids with the location's custom field list.
type CustomFieldValue struct {
	ID    string `json:"id,omitempty"`
	Key   string `json:"key,omitempty"`
	Value any    `json:"field_value"`
}

// CreateContactParams is the body of POST /contacts/.
type CreateContactParams struct {
	LocationID         string              `json:"locationId"`
	FirstName          string              `json:"firstName,omitempty"`
	LastName           string              `json:"lastName,omitempty"`
	Name               string              `json:"name,omitempty"`
	Email              string              `json:"email,omitempty"`
	Gender             string              `json:"gender,omitempty"`
	Phone              string              `json:"phone,omitempty"`
	Address1           string              `json:"address1,omitempty"`
	City               string              `json:"city,omitempty"`
	State              string              `json:"state,omitempty"`
	PostalCode         string              `json:"postalCode,omitempty"`
	Website            string              `json:"website,omitempty"`
	Timezone           string              `json:"timezone,omitempty"`
	DND                *bool               `json:"dnd,omitempty"`
	DNDSettings        *DNDSettings        `json:"dndSettings,omitempty"`
	InboundDNDSettings *InboundDNDSettings `json:"inboundDndSettings,omitempty"`
	Tags               []string            `json:"tags,omitempty"`
	CustomFields       []CustomFieldValue  `json:"customFields,omitempty"`
	Source             string              `json:"source,omitempty"`
	DateOfBirth        string              `json:"dateOfBirth,omitempty"`
	Country            string              `json:"country,omitempty"`
	CompanyName        string              `json:"companyName,omitempty"`
	AssignedTo         string              `json:"assignedTo,omitempty"`
}

// UpsertContactParams is the body of POST /contacts/upsert. GHL matches an
// existing contact by email, then phone, following the location's "Allow
// Duplicate Contact" setting.
type UpsertContactParams struct {
	CreateContactParams
	CreateNewIfDuplicateAllowed *bool `json:"createNewIfDuplicateAllowed,omitempty"`
}

// UpdateContactParams is the body of PUT /contacts/{contactId}. Empty fields
// are left unchanged.
type UpdateContactParams struct {
	FirstName          string              `json:"firstName,omitempty"`
	LastName           string              `json:"lastName,omitempty"`
	Name               string              `json:"name,omitempty"`
	Email              string              `json:"email,omitempty"`
	Phone              string              `json:"phone,omitempty"`
	Address1           string              `json:"address1,omitempty"`
	City               string              `json:"city,omitempty"`
	State              string              `json:"state,omitempty"`
	PostalCode         string              `json:"postalCode,omitempty"`
	Website            string              `json:"website,omitempty"`
	Timezone           string              `json:"timezone,omitempty"`
	DND                *bool               `json:"dnd,omitempty"`
	DNDSettings        *DNDSettings        `json:"dndSettings,omitempty"`
	InboundDNDSettings *InboundDNDSettings `json:"inboundDndSettings,omitempty"`
	Tags               []string            `json:"tags,omitempty"`
	CustomFields       []CustomFieldValue  `json:"customFields,omitempty"`
	Source             string              `json:"source,omitempty"`
	DateOfBirth        string              `json:"dateOfBirth,omitempty"`
	Country            string              `json:"country,omitempty"`
	AssignedTo         string              `json:"assignedTo,omitempty"`
}

// UpsertContactResult is the answer of POST /contacts/upsert.
type UpsertContactResult struct {
	New     bool     `json:"new"`
	Contact *Contact `json:"contact"`
	TraceID string   `json:"traceId,omitempty"`
}

type contactEnvelope struct {
	Contact   *Contact `json:"contact"`
	Succeeded bool     `json:"succeded,omitempty"`
	TraceID   string   `json:"traceId,omitempty"`
}

// Search operators for [ContactFilter].
const (
	OpEq          = "eq"
	OpNotEq       = "not_eq"
	OpContains    = "contains"
	OpNotContains = "not_contains"
	OpExists      = "exists"
	OpNotExists   = "not_exists"
	OpRange       = "range"
)

// ContactFilter is one filter of a contact search: either a condition
// (Field, Operator, Value) or a group (Group "AND" or "OR" over Filters).
type ContactFilter struct {
	Field    string          `json:"field,omitempty"`
	Operator string          `json:"operator,omitempty"`
	Value    any             `json:"value,omitempty"`
	Group    string          `json:"group,omitempty"`
	Filters  []ContactFilter `json:"filters,omitempty"`
}

// RangeValue is the Value of an OpRange filter.
type RangeValue struct {
	GT  any `json:"gt,omitempty"`
	GTE any `json:"gte,omitempty"`
	LT  any `json:"lt,omitempty"`
	LTE any `json:"lte,omitempty"`
}

// Where returns the filter "field operator value".
func Where(field, operator string, value any) ContactFilter {
	return ContactFilter{Field: field, Operator: operator, Value: value}
}

// AllOf returns a filter group that matches when all filters match.
func AllOf(filters ...ContactFilter) ContactFilter {
	return ContactFilter{Group: "AND", Filters: filters}
}

// AnyOf returns a filter group that matches when any filter matches.
func AnyOf(filters ...ContactFilter) ContactFilter {
	return ContactFilter{Group: "OR", Filters: filters}
}

// ContactSort orders search results; Direction is "asc" or "desc".
type ContactSort struct {
	Field     string `json:"field"`
	Direction string `json:"direction"`
}

// SearchContactsParams is the body of POST /contacts/search. Page through
// results with Page (first 10,000 hits) or, beyond that, SearchAfter from
// the previous page's last contact; ContactsService.SearchIter does this.
type SearchContactsParams struct {
	LocationID  string          `json:"locationId"`
	Page        int             `json:"page,omitempty"`
	PageLimit   int             `json:"pageLimit,omitempty"`
	SearchAfter json.RawMessage `json:"searchAfter,omitempty"`
	Filters     []ContactFilter `json:"filters,omitempty"`
	Sort        []ContactSort   `json:"sort,omitempty"`
	Query       string          `json:"query,omitempty"`
}

// ContactSearchResult is the answer of POST /contacts/search.
type ContactSearchResult struct {
	Contacts []*Contact `json:"contacts"`
	Total    int        `json:"total"`
	TraceID  string     `json:"traceId,omitempty"`
}

// Search finds contacts with filters, sort and paging.
//
// GHL API: POST /contacts/search
func (s *ContactsService) Search(ctx context.Context, p SearchContactsParams) (*ContactSearchResult, *Response, error) {
	ctx = at(ctx, UserTypeLocation, p.LocationID)
	req, err := s.client.NewRequest(ctx, http.MethodPost, "contacts/search", p)
	if err != nil {
		return nil, nil, err
	}
	var out ContactSearchResult
	resp, err := s.client.Do(req, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// DuplicateContactParams are the query of GET /contacts/search/duplicate.
type DuplicateContactParams struct {
	LocationID string
	Email      string
	// Number is the phone number.
	Number string
}

// GetDuplicate returns the contact that a new contact with this email or
// phone number would duplicate, or nil if there is none.
//
// GHL API: GET /contacts/search/duplicate
func (s *ContactsService) GetDuplicate(ctx context.Context, p DuplicateContactParams) (*Contact, error) {
	ctx = at(ctx, UserTypeLocation, p.LocationID)
	q := url.Values{"locationId": {p.LocationID}}
	if p.Email != "" {
		q.Set("email", p.Email)
	}
	if p.Number != "" {
		q.Set("number", p.Number)
	}
	req, err := s.client.NewRequest(ctx, http.MethodGet, withQuery("contacts/search/duplicate", q), nil)
	if err != nil {
		return nil, err
	}
	var out contactEnvelope
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Contact, nil
}

// Task is a task on a contact.
type Task struct {
	ID         string `json:"id,omitempty"`
	Title      string `json:"title,omitempty"`
	Body       string `json:"body,omitempty"`
	AssignedTo string `json:"assignedTo,omitempty"`
	DueDate    string `json:"dueDate,omitempty"`
	Completed  bool   `json:"completed"`
	ContactID  string `json:"contactId,omitempty"`
}

// CreateTaskParams is the body of POST /contacts/{contactId}/tasks.
type CreateTaskParams struct {
	Title      string `json:"title"`
	Body       string `json:"body,omitempty"`
	DueDate    string `json:"dueDate"`
	Completed  bool   `json:"completed"`
	AssignedTo string `json:"assignedTo,omitempty"`
}

// UpdateTaskParams is the body of PUT /contacts/{contactId}/tasks/{taskId}.
type UpdateTaskParams struct {
	Title      string `json:"title,omitempty"`
	Body       string `json:"body,omitempty"`
	DueDate    string `json:"dueDate,omitempty"`
	Completed  *bool  `json:"completed,omitempty"`
	AssignedTo string `json:"assignedTo,omitempty"`
}

type taskEnvelope struct {
	Task  *Task   `json:"task"`
	Tasks []*Task `json:"tasks"`
}

// ListTasks returns a contact's tasks.
//
// GHL API: GET /contacts/{contactId}/tasks
func (s *ContactsService) ListTasks(ctx context.Context, contactID string) ([]*Task, error) {
	u, err := apiPath("contacts/%s/tasks", contactID)
	if err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	var out taskEnvelope
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Tasks, nil
}

// CreateTask adds a task to a contact.
//
// GHL API: POST /contacts/{contactId}/tasks
func (s *ContactsService) CreateTask(ctx context.Context, contactID string, p CreateTaskParams) (*Task, error) {
	u, err := apiPath("contacts/%s/tasks", contactID)
	if err != nil {
		return nil, err
	}
	return s.doTask(ctx, http.MethodPost, u, p)
}

// GetTask returns one task of a contact.
//
// GHL API: GET /contacts/{contactId}/tasks/{taskId}
func (s *ContactsService) GetTask(ctx context.Context, contactID, taskID string) (*Task, error) {
	u, err := apiPath("contacts/%s/tasks/%s", contactID, taskID)
	if err != nil {
		return nil, err
	}
	return s.doTask(ctx, http.MethodGet, u, nil)
}

// UpdateTask changes a task of a contact.
//
// GHL API: PUT /contacts/{contactId}/tasks/{taskId}
func (s *ContactsService) UpdateTask(ctx context.Context, contactID, taskID string, p UpdateTaskParams) (*Task, error) {
	u, err := apiPath("contacts/%s/tasks/%s", contactID, taskID)
	if err != nil {
		return nil, err
	}
	return s.doTask(ctx, http.MethodPut, u, p)
}

// CompleteTask marks a task of a contact completed or not.
//
// GHL API: PUT /contacts/{contactId}/tasks/{taskId}/completed
func (s *ContactsService) CompleteTask(ctx context.Context, contactID, taskID string, completed bool) (*Task, error) {
	u, err := apiPath("contacts/%s/tasks/%s/completed", contactID, taskID)
	if err != nil {
		return nil, err
	}
	return s.doTask(ctx, http.MethodPut, u, struct {
		Completed bool `json:"completed"`
	}{completed})
}

func (s *ContactsService) doTask(ctx context.Context, method, u string, body any) (*Task, error) {
	req, err := s.client.NewRequest(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	var out taskEnvelope
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Task, nil
}

// DeleteTask deletes a task of a contact.
//
// GHL API: DELETE /contacts/{contactId}/tasks/{taskId}
func (s *ContactsService) DeleteTask(ctx context.Context, contactID, taskID string) (*Succeeded, error) {
	u, err := apiPath("contacts/%s/tasks/%s", contactID, taskID)
	if err != nil {
		return nil, err
	}
	return s.client.deleteCall(ctx, u, nil)
}

// deleteCall sends a DELETE (with an optional JSON body) and decodes GHL's
// {"succeded": true} answer.
func (c *Client) deleteCall(ctx context.Context, u string, body any) (*Succeeded, error) {
	req, err := c.NewRequest(ctx, http.MethodDelete, u, body)
	if err != nil {
		return nil, err
	}
	var out Succeeded
	if _, err := c.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ContactAppointment is an appointment of a contact.
type ContactAppointment struct {
	ID                string   `json:"id,omitempty"`
	CalendarID        string   `json:"calendarId,omitempty"`
	Status            string   `json:"status,omitempty"`
	Title             string   `json:"title,omitempty"`
	AssignedUserID    string   `json:"assignedUserId,omitempty"`
	Notes             string   `json:"notes,omitempty"`
	StartTime         string   `json:"startTime,omitempty"`
	EndTime           string   `json:"endTime,omitempty"`
	Address           string   `json:"address,omitempty"`
	LocationID        string   `json:"locationId,omitempty"`
	ContactID         string   `json:"contactId,omitempty"`
	GroupID           string   `json:"groupId,omitempty"`
	AppointmentStatus string   `json:"appointmentStatus,omitempty"`
	Users             []string `json:"users,omitempty"`
	DateAdded         string   `json:"dateAdded,omitempty"`
	DateUpdated       string   `json:"dateUpdated,omitempty"`
	AssignedResources []string `json:"assignedResources,omitempty"`
}

// ListAppointments returns a contact's appointments.
//
// GHL API: GET /contacts/{contactId}/appointments
func (s *ContactsService) ListAppointments(ctx context.Context, contactID string) ([]*ContactAppointment, error) {
	u, err := apiPath("contacts/%s/appointments", contactID)
	if err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Events []*ContactAppointment `json:"events"`
	}
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Events, nil
}

type tagsBody struct {
	Tags []string `json:"tags"`
}

// AddTags adds tags to a contact and returns its tags.
//
// GHL API: POST /contacts/{contactId}/tags
func (s *ContactsService) AddTags(ctx context.Context, contactID string, tags ...string) ([]string, error) {
	return s.tags(ctx, http.MethodPost, contactID, tags)
}

// RemoveTags removes tags from a contact and returns its tags.
//
// GHL API: DELETE /contacts/{contactId}/tags
func (s *ContactsService) RemoveTags(ctx context.Context, contactID string, tags ...string) ([]string, error) {
	return s.tags(ctx, http.MethodDelete, contactID, tags)
}

func (s *ContactsService) tags(ctx context.Context, method, contactID string, tags []string) ([]string, error) {
	u, err := apiPath("contacts/%s/tags", contactID)
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []string{}
	}
	req, err := s.client.NewRequest(ctx, method, u, tagsBody{Tags: tags})
	if err != nil {
		return nil, err
	}
	var out tagsBody
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Tags, nil
}

// Note is a note on a contact.
type Note struct {
	ID        string `json:"id,omitempty"`
	Body      string `json:"body,omitempty"`
	UserID    string `json:"userId,omitempty"`
	DateAdded string `json:"dateAdded,omitempty"`
	ContactID string `json:"contactId,omitempty"`
	Title     string `json:"title,omitempty"`
	Color     string `json:"color,omitempty"`
	Pinned    bool   `json:"pinned,omitempty"`
}

// NoteParams is the body of the create and update note calls. Body is
// required to create.
type NoteParams struct {
	UserID string `json:"userId,omitempty"`
	Body   string `json:"body,omitempty"`
	Title  string `json:"title,omitempty"`
	Color  string `json:"color,omitempty"`
	Pinned *bool  `json:"pinned,omitempty"`
}

type noteEnvelope struct {
	Note  *Note   `json:"note"`
	Notes []*Note `json:"notes"`
}

// ListNotes returns a contact's notes.
//
// GHL API: GET /contacts/{contactId}/notes
func (s *ContactsService) ListNotes(ctx context.Context, contactID string) ([]*Note, error) {
	u, err := apiPath("contacts/%s/notes", contactID)
	if err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	var out noteEnvelope
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Notes, nil
}

// CreateNote adds a note to a contact.
//
// GHL API: POST /contacts/{contactId}/notes
func (s *ContactsService) CreateNote(ctx context.Context, contactID string, p NoteParams) (*Note, error) {
	u, err := apiPath("contacts/%s/notes", contactID)
	if err != nil {
		return nil, err
	}
	return s.doNote(ctx, http.MethodPost, u, p)
}

// GetNote returns one note of a contact.
//
// GHL API: GET /contacts/{contactId}/notes/{id}
func (s *ContactsService) GetNote(ctx context.Context, contactID, noteID string) (*Note, error) {
	u, err := apiPath("contacts/%s/notes/%s", contactID, noteID)
	if err != nil {
		return nil, err
	}
	return s.doNote(ctx, http.MethodGet, u, nil)
}

// UpdateNote changes a note of a contact.
//
// GHL API: PUT /contacts/{contactId}/notes/{id}
func (s *ContactsService) UpdateNote(ctx context.Context, contactID, noteID string, p NoteParams) (*Note, error) {
	u, err := apiPath("contacts/%s/notes/%s", contactID, noteID)
	if err != nil {
		return nil, err
	}
	return s.doNote(ctx, http.MethodPut, u, p)
}

func (s *ContactsService) doNote(ctx context.Context, method, u string, body any) (*Note, error) {
	req, err := s.client.NewRequest(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	var out noteEnvelope
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Note, nil
}

// DeleteNote deletes a note of a contact.
//
// GHL API: DELETE /contacts/{contactId}/notes/{id}
func (s *ContactsService) DeleteNote(ctx context.Context, contactID, noteID string) (*Succeeded, error) {
	u, err := apiPath("contacts/%s/notes/%s", contactID, noteID)
	if err != nil {
		return nil, err
	}
	return s.client.deleteCall(ctx, u, nil)
}

// Bulk tag operations for [ContactsService.BulkUpdateTags].
const (
	BulkTagsAdd    = "add"
	BulkTagsRemove = "remove"
)

// BulkUpdateTagsParams is the body of POST /contacts/bulk/tags/update/{type}.
type BulkUpdateTagsParams struct {
	LocationID    string   `json:"locationId"`
	Contacts      []string `json:"contacts"`
	Tags          []string `json:"tags"`
	RemoveAllTags *bool    `json:"removeAllTags,omitempty"`
}

// BulkUpdateTagsResult is the answer of POST /contacts/bulk/tags/update/{type}.
type BulkUpdateTagsResult struct {
	Succeeded  bool              `json:"succeded"`
	ErrorCount int               `json:"errorCount"`
	Responses  []json.RawMessage `json:"responses"`
}

// BulkUpdateTags adds (op BulkTagsAdd) or removes (BulkTagsRemove) tags on
// many contacts at once.
//
// GHL API: POST /contacts/bulk/tags/update/{type}
func (s *ContactsService) BulkUpdateTags(ctx context.Context, op string, p BulkUpdateTagsParams) (*BulkUpdateTagsResult, error) {
	u, err := apiPath("contacts/bulk/tags/update/%s", op)
	if err != nil {
		return nil, err
	}
	ctx = at(ctx, UserTypeLocation, p.LocationID)
	req, err := s.client.NewRequest(ctx, http.MethodPost, u, p)
	if err != nil {
		return nil, err
	}
	var out BulkUpdateTagsResult
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// BulkUpdateBusinessParams is the body of POST /contacts/bulk/business. A nil
// BusinessID removes the contacts from their business.
type BulkUpdateBusinessParams struct {
	LocationID string   `json:"locationId"`
	IDs        []string `json:"ids"`
	BusinessID *string  `json:"businessId"`
}

// BulkUpdateBusinessResult is the answer of POST /contacts/bulk/business.
type BulkUpdateBusinessResult struct {
	Success bool     `json:"success"`
	IDs     []string `json:"ids"`
}

// BulkUpdateBusiness adds contacts to a business or removes them from one.
//
// GHL API: POST /contacts/bulk/business
func (s *ContactsService) BulkUpdateBusiness(ctx context.Context, p BulkUpdateBusinessParams) (*BulkUpdateBusinessResult, error) {
	ctx = at(ctx, UserTypeLocation, p.LocationID)
	req, err := s.client.NewRequest(ctx, http.MethodPost, "contacts/bulk/business", p)
	if err != nil {
		return nil, err
	}
	var out BulkUpdateBusinessResult
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns a contact. Name its location with WithLocation when the client
// has several.
//
// GHL API: GET /contacts/{contactId}
func (s *ContactsService) Get(ctx context.Context, contactID string) (*Contact, error) {
	u, err := apiPath("contacts/%s", contactID)
	if err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	var out contactEnvelope
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Contact, nil
}

// Update changes a contact. Custom fields given by key are resolved with the
// custom field list of the location named by WithLocation.
//
// GHL API: PUT /contacts/{contactId}
func (s *ContactsService) Update(ctx context.Context, contactID string, p UpdateContactParams) (*Contact, error) {
	u, err := apiPath("contacts/%s", contactID)
	if err != nil {
		return nil, err
	}
	if p.CustomFields, err = s.client.resolveCustomFields(ctx, s.locationOf(ctx), p.CustomFields); err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(ctx, http.MethodPut, u, p)
	if err != nil {
		return nil, err
	}
	var out contactEnvelope
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Contact, nil
}

func (s *ContactsService) locationOf(ctx context.Context) string {
	if r := ResourceFrom(ctx); r.UserType == UserTypeLocation && r.ID != "" {
		return r.ID
	}
	return s.client.defaultLocation
}

// Delete deletes a contact.
//
// GHL API: DELETE /contacts/{contactId}
func (s *ContactsService) Delete(ctx context.Context, contactID string) (*Succeeded, error) {
	u, err := apiPath("contacts/%s", contactID)
	if err != nil {
		return nil, err
	}
	return s.client.deleteCall(ctx, u, nil)
}

// Upsert creates a contact or updates the one with the same email (then
// phone), following the location's duplicate settings. Custom fields given
// by key are resolved to ids first.
//
// GHL API: POST /contacts/upsert
func (s *ContactsService) Upsert(ctx context.Context, p UpsertContactParams) (*UpsertContactResult, error) {
	ctx = at(ctx, UserTypeLocation, p.LocationID)
	var err error
	if p.CustomFields, err = s.client.resolveCustomFields(ctx, p.LocationID, p.CustomFields); err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(ctx, http.MethodPost, "contacts/upsert", p)
	if err != nil {
		return nil, err
	}
	var out UpsertContactResult
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListContactsByBusinessParams are the path and query of
// GET /contacts/business/{businessId}.
type ListContactsByBusinessParams struct {
	BusinessID string
	LocationID string
	Skip       int
	Limit      int
	Query      string
}

// ContactList is a page of contacts from the list endpoints.
type ContactList struct {
	Contacts []*Contact `json:"contacts"`
	Count    int        `json:"count"`
	// Meta is not in the spec of GET /contacts/ but GHL's older list
	// endpoints send it; when present it carries the next cursor.
	Meta    *ListMeta `json:"meta,omitempty"`
	TraceID string    `json:"traceId,omitempty"`
}

// ListMeta is the paging object of GHL's cursor-paged list endpoints.
type ListMeta struct {
	Total        int        `json:"total,omitempty"`
	NextPageURL  string     `json:"nextPageUrl,omitempty"`
	StartAfterID string     `json:"startAfterId,omitempty"`
	StartAfter   FlexString `json:"startAfter,omitempty"`
	CurrentPage  *int       `json:"currentPage,omitempty"`
	NextPage     *int       `json:"nextPage,omitempty"`
	PrevPage     *int       `json:"prevPage,omitempty"`
}

// ListByBusiness returns a page of the contacts of a business.
//
// GHL API: GET /contacts/business/{businessId}
func (s *ContactsService) ListByBusiness(ctx context.Context, p ListContactsByBusinessParams) (*ContactList, *Response, error) {
	u, err := apiPath("contacts/business/%s", p.BusinessID)
	if err != nil {
		return nil, nil, err
	}
	ctx = at(ctx, UserTypeLocation, p.LocationID)
	q := url.Values{"locationId": {p.LocationID}}
	setSkipLimit(q, p.Skip, p.Limit)
	if p.Query != "" {
		q.Set("query", p.Query)
	}
	req, err := s.client.NewRequest(ctx, http.MethodGet, withQuery(u, q), nil)
	if err != nil {
		return nil, nil, err
	}
	var out ContactList
	resp, err := s.client.Do(req, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

func setSkipLimit(q url.Values, skip, limit int) {
	if skip > 0 {
		q.Set("skip", strconv.Itoa(skip))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
}

// FollowersResult is the answer of the add and remove followers calls.
type FollowersResult struct {
	Followers        []string `json:"followers"`
	FollowersAdded   []string `json:"followersAdded,omitempty"`
	FollowersRemoved []string `json:"followersRemoved,omitempty"`
}

// AddFollowers adds users as followers of a contact.
//
// GHL API: POST /contacts/{contactId}/followers
func (s *ContactsService) AddFollowers(ctx context.Context, contactID string, userIDs ...string) (*FollowersResult, error) {
	return s.followers(ctx, http.MethodPost, contactID, userIDs)
}

// RemoveFollowers removes followers from a contact.
//
// GHL API: DELETE /contacts/{contactId}/followers
func (s *ContactsService) RemoveFollowers(ctx context.Context, contactID string, userIDs ...string) (*FollowersResult, error) {
	return s.followers(ctx, http.MethodDelete, contactID, userIDs)
}

func (s *ContactsService) followers(ctx context.Context, method, contactID string, ids []string) (*FollowersResult, error) {
	u, err := apiPath("contacts/%s/followers", contactID)
	if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	req, err := s.client.NewRequest(ctx, method, u, struct {
		Followers []string `json:"followers"`
	}{ids})
	if err != nil {
		return nil, err
	}
	var out FollowersResult
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AddToCampaign adds a contact to a campaign.
//
// GHL API: POST /contacts/{contactId}/campaigns/{campaignId}
func (s *ContactsService) AddToCampaign(ctx context.Context, contactID, campaignID string) (*Succeeded, error) {
	u, err := apiPath("contacts/%s/campaigns/%s", contactID, campaignID)
	if err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(ctx, http.MethodPost, u, struct{}{})
	if err != nil {
		return nil, err
	}
	var out Succeeded
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RemoveFromCampaign removes a contact from a campaign.
//
// GHL API: DELETE /contacts/{contactId}/campaigns/{campaignId}
func (s *ContactsService) RemoveFromCampaign(ctx context.Context, contactID, campaignID string) (*Succeeded, error) {
	u, err := apiPath("contacts/%s/campaigns/%s", contactID, campaignID)
	if err != nil {
		return nil, err
	}
	return s.client.deleteCall(ctx, u, nil)
}

// RemoveFromAllCampaigns removes a contact from every campaign.
//
// GHL API: DELETE /contacts/{contactId}/campaigns/removeAll
func (s *ContactsService) RemoveFromAllCampaigns(ctx context.Context, contactID string) (*Succeeded, error) {
	u, err := apiPath("contacts/%s/campaigns/removeAll", contactID)
	if err != nil {
		return nil, err
	}
	return s.client.deleteCall(ctx, u, nil)
}

type workflowBody struct {
	EventStartTime string `json:"eventStartTime,omitempty"`
}

// AddToWorkflow enrolls a contact in a workflow. eventStartTime (RFC 3339,
// optional) is the event time the workflow's waits count from.
//
// GHL API: POST /contacts/{contactId}/workflow/{workflowId}
func (s *ContactsService) AddToWorkflow(ctx context.Context, contactID, workflowID, eventStartTime string) (*Succeeded, error) {
	u, err := apiPath("contacts/%s/workflow/%s", contactID, workflowID)
	if err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(ctx, http.MethodPost, u, workflowBody{eventStartTime})
	if err != nil {
		return nil, err
	}
	var out Succeeded
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RemoveFromWorkflow removes a contact from a workflow.
//
// GHL API: DELETE /contacts/{contactId}/workflow/{workflowId}
func (s *ContactsService) RemoveFromWorkflow(ctx context.Context, contactID, workflowID, eventStartTime string) (*Succeeded, error) {
	u, err := apiPath("contacts/%s/workflow/%s", contactID, workflowID)
	if err != nil {
		return nil, err
	}
	return s.client.deleteCall(ctx, u, workflowBody{eventStartTime})
}

// Create creates a contact. Custom fields given by key are resolved to ids
// first.
//
// GHL API: POST /contacts/
func (s *ContactsService) Create(ctx context.Context, p CreateContactParams) (*Contact, error) {
	ctx = at(ctx, UserTypeLocation, p.LocationID)
	var err error
	if p.CustomFields, err = s.client.resolveCustomFields(ctx, p.LocationID, p.CustomFields); err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(ctx, http.MethodPost, "contacts/", p)
	if err != nil {
		return nil, err
	}
	var out contactEnvelope
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Contact, nil
}

// ListContactsParams are the query of the deprecated GET /contacts/.
type ListContactsParams struct {
	LocationID string
	// StartAfterID and StartAfter (epoch milliseconds) are the cursor: the
	// id and dateAdded of the previous page's last contact.
	StartAfterID string
	StartAfter   int64
	Query        string
	Limit        int // default 20, at most 100
}

// List returns a page of a location's contacts. GHL deprecates it in favour
// of Search.
//
// GHL API: GET /contacts/ (deprecated)
func (s *ContactsService) List(ctx context.Context, p ListContactsParams) (*ContactList, *Response, error) {
	ctx = at(ctx, UserTypeLocation, p.LocationID)
	q := url.Values{"locationId": {p.LocationID}}
	if p.StartAfterID != "" {
		q.Set("startAfterId", p.StartAfterID)
	}
	if p.StartAfter != 0 {
		q.Set("startAfter", strconv.FormatInt(p.StartAfter, 10))
	}
	if p.Query != "" {
		q.Set("query", p.Query)
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	req, err := s.client.NewRequest(ctx, http.MethodGet, withQuery("contacts/", q), nil)
	if err != nil {
		return nil, nil, err
	}
	var out ContactList
	resp, err := s.client.Do(req, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// errNoLocation is returned by calls that need a location nothing named.
func errNoLocation(op string) error {
	return fmt.Errorf("ghl: %s needs a location: pass one in the parameters or use ghl.WithLocation", op)
}
