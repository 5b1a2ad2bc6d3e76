package ghl

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
)

// LocationsService calls the sub-account namespace (/locations/…).
type LocationsService service

// Location is a GHL sub-account.
type Location struct {
	ID         string            `json:"id,omitempty"`
	CompanyID  string            `json:"companyId,omitempty"`
	Name       string            `json:"name,omitempty"`
	Domain     string            `json:"domain,omitempty"`
	Address    string            `json:"address,omitempty"`
	City       string            `json:"city,omitempty"`
	State      string            `json:"state,omitempty"`
	LogoURL    string            `json:"logoUrl,omitempty"`
	Country    string            `json:"country,omitempty"`
	PostalCode string            `json:"postalCode,omitempty"`
	Website    string            `json:"website,omitempty"`
	Timezone   string            `json:"timezone,omitempty"`
	FirstName  string            `json:"firstName,omitempty"`
	LastName   string            `json:"lastName,omitempty"`
	Email      string            `json:"email,omitempty"`
	Phone      string            `json:"phone,omitempty"`
	Business   *LocationBusiness `json:"business,omitempty"`
	Social     *LocationSocial   `json:"social,omitempty"`
	Settings   *LocationSettings `json:"settings,omitempty"`
	Reseller   json.RawMessage   `json:"reseller,omitempty"`
}

// LocationBusiness is the business profile of a location.
type LocationBusiness struct {
	Name       string `json:"name,omitempty"`
	Address    string `json:"address,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	Country    string `json:"country,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Website    string `json:"website,omitempty"`
	Timezone   string `json:"timezone,omitempty"`
	LogoURL    string `json:"logoUrl,omitempty"`
}

// LocationSocial holds a location's social profile links.
type LocationSocial struct {
	FacebookURL    string `json:"facebookUrl,omitempty"`
	GooglePlus     string `json:"googlePlus,omitempty"`
	LinkedIn       string `json:"linkedIn,omitempty"`
	Foursquare     string `json:"foursquare,omitempty"`
	Twitter        string `json:"twitter,omitempty"`
	Yelp           string `json:"yelp,omitempty"`
	Instagram      string `json:"instagram,omitempty"`
	YouTube        string `json:"youtube,omitempty"`
	Pinterest      string `json:"pinterest,omitempty"`
	BlogRSS        string `json:"blogRss,omitempty"`
	GooglePlacesID string `json:"googlePlacesId,omitempty"`
}

// LocationSettings holds the settings that change how GHL treats a
// location's contacts and opportunities.
type LocationSettings struct {
	AllowDuplicateContact     *bool `json:"allowDuplicateContact,omitempty"`
	AllowDuplicateOpportunity *bool `json:"allowDuplicateOpportunity,omitempty"`
	AllowFacebookNameMerge    *bool `json:"allowFacebookNameMerge,omitempty"`
	DisableContactTimezone    *bool `json:"disableContactTimezone,omitempty"`
}

// ProspectInfo names the prospect a new location is set up for.
type ProspectInfo struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
}

// TwilioCredentials connect a location to a Twilio account.
type TwilioCredentials struct {
	SID       string `json:"sid"`
	AuthToken string `json:"authToken"`
}

// MailgunCredentials connect a location to a Mailgun domain.
type MailgunCredentials struct {
	APIKey string `json:"apiKey"`
	Domain string `json:"domain"`
}

// SnapshotRef names a snapshot to load into a location on update.
type SnapshotRef struct {
	ID       string `json:"id"`
	Override *bool  `json:"override,omitempty"`
}

// LocationParams is the body of POST /locations/ and PUT /locations/{id}.
// CompanyID is required; Name is required to create. SnapshotID applies to
// create, Snapshot to update.
type LocationParams struct {
	Name         string              `json:"name,omitempty"`
	Phone        string              `json:"phone,omitempty"`
	CompanyID    string              `json:"companyId"`
	Address      string              `json:"address,omitempty"`
	City         string              `json:"city,omitempty"`
	State        string              `json:"state,omitempty"`
	Country      string              `json:"country,omitempty"`
	PostalCode   string              `json:"postalCode,omitempty"`
	Website      string              `json:"website,omitempty"`
	Timezone     string              `json:"timezone,omitempty"`
	ProspectInfo *ProspectInfo       `json:"prospectInfo,omitempty"`
	Settings     *LocationSettings   `json:"settings,omitempty"`
	Social       *LocationSocial     `json:"social,omitempty"`
	Twilio       *TwilioCredentials  `json:"twilio,omitempty"`
	Mailgun      *MailgunCredentials `json:"mailgun,omitempty"`
	SnapshotID   string              `json:"snapshotId,omitempty"`
	Snapshot     *SnapshotRef        `json:"snapshot,omitempty"`
}

// SearchLocationsParams are the query of GET /locations/search.
type SearchLocationsParams struct {
	CompanyID string
	Skip      int
	Limit     int    // default 10
	Order     string // "asc" or "desc"
	Email     string
}

// LocationList is a page of locations.
type LocationList struct {
	Locations []*Location `json:"locations"`
}

// Search returns a page of the company's locations.
//
// GHL API: GET /locations/search
func (s *LocationsService) Search(ctx context.Context, p SearchLocationsParams) (*LocationList, *Response, error) {
	ctx = at(ctx, UserTypeCompany, p.CompanyID)
	q := url.Values{}
	if p.CompanyID != "" {
		q.Set("companyId", p.CompanyID)
	}
	setSkipLimit(q, p.Skip, p.Limit)
	if p.Order != "" {
		q.Set("order", p.Order)
	}
	if p.Email != "" {
		q.Set("email", p.Email)
	}
	req, err := s.client.NewRequest(ctx, http.MethodGet, withQuery("locations/search", q), nil)
	if err != nil {
		return nil, nil, err
	}
	var out LocationList
	resp, err := s.client.Do(req, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// Get returns a location.
//
// GHL API: GET /locations/{locationId}
func (s *LocationsService) Get(ctx context.Context, locationID string) (*Location, error) {
	u, err := apiPath("locations/%s", locationID)
	if err != nil {
		return nil, err
	}
	ctx = at(ctx, UserTypeLocation, locationID)
	req, err := s.client.NewRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Location *Location `json:"location"`
	}
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Location, nil
}

// Create creates a location under p.CompanyID (agency token).
//
// GHL API: POST /locations/
func (s *LocationsService) Create(ctx context.Context, p LocationParams) (*Location, error) {
	ctx = at(ctx, UserTypeCompany, p.CompanyID)
	req, err := s.client.NewRequest(ctx, http.MethodPost, "locations/", p)
	if err != nil {
		return nil, err
	}
	var out Location
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update changes a location (agency token).
//
// GHL API: PUT /locations/{locationId}
func (s *LocationsService) Update(ctx context.Context, locationID string, p LocationParams) (*Location, error) {
	u, err := apiPath("locations/%s", locationID)
	if err != nil {
		return nil, err
	}
	ctx = at(ctx, UserTypeCompany, p.CompanyID)
	req, err := s.client.NewRequest(ctx, http.MethodPut, u, p)
	if err != nil {
		return nil, err
	}
	var out Location
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LocationDeleteResult is the answer of DELETE /locations/{locationId}.
type LocationDeleteResult struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

// Delete deletes a location (agency token; name the company with
// WithCompany when the client serves several).
//
// GHL API: DELETE /locations/{locationId}
func (s *LocationsService) Delete(ctx context.Context, locationID string, deleteTwilioAccount bool) (*LocationDeleteResult, error) {
	u, err := apiPath("locations/%s", locationID)
	if err != nil {
		return nil, err
	}
	q := url.Values{"deleteTwilioAccount": {strconv.FormatBool(deleteTwilioAccount)}}
	req, err := s.client.NewRequest(ctx, http.MethodDelete, withQuery(u, q), nil)
	if err != nil {
		return nil, err
	}
	var out LocationDeleteResult
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LocationTag is a tag defined in a location.
type LocationTag struct {
	ID         string `json:"id,omitempty"`
	Name       string `json:"name,omitempty"`
	LocationID string `json:"locationId,omitempty"`
}

type tagEnvelope struct {
	Tag  *LocationTag   `json:"tag"`
	Tags []*LocationTag `json:"tags"`
}

type nameBody struct {
	Name string `json:"name"`
}

// ListTags returns a location's tags.
//
// GHL API: GET /locations/{locationId}/tags
func (s *LocationsService) ListTags(ctx context.Context, locationID string) ([]*LocationTag, error) {
	u, err := apiPath("locations/%s/tags", locationID)
	if err != nil {
		return nil, err
	}
	out, err := s.doTag(ctx, locationID, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return out.Tags, nil
}

// CreateTag creates a tag in a location.
//
// GHL API: POST /locations/{locationId}/tags
func (s *LocationsService) CreateTag(ctx context.Context, locationID, name string) (*LocationTag, error) {
	u, err := apiPath("locations/%s/tags", locationID)
	if err != nil {
		return nil, err
	}
	out, err := s.doTag(ctx, locationID, http.MethodPost, u, nameBody{name})
	if err != nil {
		return nil, err
	}
	return out.Tag, nil
}

// GetTag returns a tag of a location.
//
// GHL API: GET /locations/{locationId}/tags/{tagId}
func (s *LocationsService) GetTag(ctx context.Context, locationID, tagID string) (*LocationTag, error) {
	u, err := apiPath("locations/%s/tags/%s", locationID, tagID)
	if err != nil {
		return nil, err
	}
	out, err := s.doTag(ctx, locationID, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return out.Tag, nil
}

// UpdateTag renames a tag of a location.
//
// GHL API: PUT /locations/{locationId}/tags/{tagId}
func (s *LocationsService) UpdateTag(ctx context.Context, locationID, tagID, name string) (*LocationTag, error) {
	u, err := apiPath("locations/%s/tags/%s", locationID, tagID)
	if err != nil {
		return nil, err
	}
	out, err := s.doTag(ctx, locationID, http.MethodPut, u, nameBody{name})
	if err != nil {
		return nil, err
	}
	return out.Tag, nil
}

func (s *LocationsService) doTag(ctx context.Context, locationID, method, u string, body any) (*tagEnvelope, error) {
	ctx = at(ctx, UserTypeLocation, locationID)
	req, err := s.client.NewRequest(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	var out tagEnvelope
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteTag deletes a tag of a location.
//
// GHL API: DELETE /locations/{locationId}/tags/{tagId}
func (s *LocationsService) DeleteTag(ctx context.Context, locationID, tagID string) (*Succeeded, error) {
	u, err := apiPath("locations/%s/tags/%s", locationID, tagID)
	if err != nil {
		return nil, err
	}
	return s.client.deleteCall(at(ctx, UserTypeLocation, locationID), u, nil)
}

// SearchTasksParams are the path and body of
// POST /locations/{locationId}/tasks/search.
type SearchTasksParams struct {
	LocationID string   `json:"-"`
	ContactIDs []string `json:"contactId,omitempty"`
	Completed  *bool    `json:"completed,omitempty"`
	AssignedTo []string `json:"assignedTo,omitempty"`
	Query      string   `json:"query,omitempty"`
	Limit      int      `json:"limit,omitempty"` // default 25
	Skip       int      `json:"skip,omitempty"`
	BusinessID string   `json:"businessId,omitempty"`
}

// LocationTask is a task found by a location task search.
type LocationTask struct {
	ID         string `json:"id,omitempty"`
	Title      string `json:"title,omitempty"`
	Body       string `json:"body,omitempty"`
	AssignedTo string `json:"assignedTo,omitempty"`
	DueDate    string `json:"dueDate,omitempty"`
	Completed  bool   `json:"completed,omitempty"`
	ContactID  string `json:"contactId,omitempty"`
	LocationID string `json:"locationId,omitempty"`
	BusinessID string `json:"businessId,omitempty"`
}

// UnmarshalJSON implements json.Unmarshaler. The spec leaves the items of
// the task search answer undefined (an array of arrays); anything that is
// not an object decodes to the zero LocationTask rather than failing the
// whole page.
func (t *LocationTask) UnmarshalJSON(b []byte) error {
	type plain LocationTask
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, (*plain)(t))
	}
	*t = LocationTask{}
	return nil
}

// LocationTaskList is a page of a location task search.
type LocationTaskList struct {
	Tasks []*LocationTask `json:"tasks"`
}

// SearchTasks returns a page of a location's tasks that match p.
//
// GHL API: POST /locations/{locationId}/tasks/search
func (s *LocationsService) SearchTasks(ctx context.Context, p SearchTasksParams) (*LocationTaskList, *Response, error) {
	u, err := apiPath("locations/%s/tasks/search", p.LocationID)
	if err != nil {
		return nil, nil, err
	}
	ctx = at(ctx, UserTypeLocation, p.LocationID)
	req, err := s.client.NewRequest(ctx, http.MethodPost, u, p)
	if err != nil {
		return nil, nil, err
	}
	var out LocationTaskList
	resp, err := s.client.Do(req, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// RRuleOptions is the recurrence of a recurring task.
type RRuleOptions struct {
	IntervalType        string `json:"intervalType"` // yearly, monthly, weekly, daily, hourly
	Interval            int    `json:"interval"`
	StartDate           string `json:"startDate"`
	EndDate             string `json:"endDate,omitempty"`
	DayOfMonth          int    `json:"dayOfMonth,omitempty"`
	DayOfWeek           string `json:"dayOfWeek,omitempty"` // MO … SU
	MonthOfYear         int    `json:"monthOfYear,omitempty"`
	Count               int    `json:"count,omitempty"`
	CreateTaskIfOverDue *bool  `json:"createTaskIfOverDue,omitempty"`
	DueAfterSeconds     int    `json:"dueAfterSeconds"`
}

// RecurringTask is a task that GHL creates again on a schedule.
type RecurringTask struct {
	ID              string        `json:"id"`
	Title           string        `json:"title"`
	Description     string        `json:"description,omitempty"`
	LocationID      string        `json:"locationId"`
	UpdatedAt       string        `json:"updatedAt,omitempty"`
	CreatedAt       string        `json:"createdAt,omitempty"`
	RRuleOptions    *RRuleOptions `json:"rruleOptions,omitempty"`
	TotalOccurrence int           `json:"totalOccurrence,omitempty"`
	Deleted         bool          `json:"deleted,omitempty"`
	AssignedTo      string        `json:"assignedTo,omitempty"`
	ContactID       string        `json:"contactId,omitempty"`
}

// RecurringTaskParams is the body of the create and update recurring task
// calls; Title and RRuleOptions are required to create.
type RecurringTaskParams struct {
	Title              string        `json:"title,omitempty"`
	Description        string        `json:"description,omitempty"`
	ContactIDs         []string      `json:"contactIds,omitempty"`
	Owners             []string      `json:"owners,omitempty"`
	RRuleOptions       *RRuleOptions `json:"rruleOptions,omitempty"`
	IgnoreTaskCreation *bool         `json:"ignoreTaskCreation,omitempty"`
}

// GetRecurringTask returns a recurring task.
//
// GHL API: GET /locations/{locationId}/recurring-tasks/{id}
func (s *LocationsService) GetRecurringTask(ctx context.Context, locationID, id string) (*RecurringTask, error) {
	u, err := apiPath("locations/%s/recurring-tasks/%s", locationID, id)
	if err != nil {
		return nil, err
	}
	return s.doRecurringTask(ctx, locationID, http.MethodGet, u, nil)
}

// CreateRecurringTask creates a recurring task.
//
// GHL API: POST /locations/{locationId}/recurring-tasks
func (s *LocationsService) CreateRecurringTask(ctx context.Context, locationID string, p RecurringTaskParams) (*RecurringTask, error) {
	u, err := apiPath("locations/%s/recurring-tasks", locationID)
	if err != nil {
		return nil, err
	}
	return s.doRecurringTask(ctx, locationID, http.MethodPost, u, p)
}

// UpdateRecurringTask changes a recurring task.
//
// GHL API: PUT /locations/{locationId}/recurring-tasks/{id}
func (s *LocationsService) UpdateRecurringTask(ctx context.Context, locationID, id string, p RecurringTaskParams) (*RecurringTask, error) {
	u, err := apiPath("locations/%s/recurring-tasks/%s", locationID, id)
	if err != nil {
		return nil, err
	}
	return s.doRecurringTask(ctx, locationID, http.MethodPut, u, p)
}

func (s *LocationsService) doRecurringTask(ctx context.Context, locationID, method, u string, body any) (*RecurringTask, error) {
	ctx = at(ctx, UserTypeLocation, locationID)
	req, err := s.client.NewRequest(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	var out struct {
		RecurringTask *RecurringTask `json:"recurringTask"`
	}
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.RecurringTask, nil
}

// DeleteRecurringTaskResult is the answer of deleting a recurring task.
type DeleteRecurringTaskResult struct {
	ID      string `json:"id"`
	Success bool   `json:"success"`
}

// DeleteRecurringTask deletes a recurring task.
//
// GHL API: DELETE /locations/{locationId}/recurring-tasks/{id}
func (s *LocationsService) DeleteRecurringTask(ctx context.Context, locationID, id string) (*DeleteRecurringTaskResult, error) {
	u, err := apiPath("locations/%s/recurring-tasks/%s", locationID, id)
	if err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(at(ctx, UserTypeLocation, locationID), http.MethodDelete, u, nil)
	if err != nil {
		return nil, err
	}
	var out DeleteRecurringTaskResult
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LocationCustomField is a custom field of a location (the v1 custom field
// API under /locations/{locationId}/customFields).
type LocationCustomField struct {
	ID                    string     `json:"id,omitempty"`
	Name                  string     `json:"name,omitempty"`
	FieldKey              string     `json:"fieldKey,omitempty"`
	Placeholder           string     `json:"placeholder,omitempty"`
	DataType              string     `json:"dataType,omitempty"`
	Position              int        `json:"position,omitempty"`
	PicklistOptions       StringList `json:"picklistOptions,omitempty"`
	PicklistImageOptions  StringList `json:"picklistImageOptions,omitempty"`
	IsAllowedCustomOption bool       `json:"isAllowedCustomOption,omitempty"`
	IsMultiFileAllowed    bool       `json:"isMultiFileAllowed,omitempty"`
	MaxFileLimit          int        `json:"maxFileLimit,omitempty"`
	LocationID            string     `json:"locationId,omitempty"`
	Model                 string     `json:"model,omitempty"` // contact or opportunity
}

// TextBoxListOption is one box of a TEXTBOX_LIST custom field.
type TextBoxListOption struct {
	Label        string `json:"label"`
	PrefillValue string `json:"prefillValue,omitempty"`
}

// LocationCustomFieldParams is the body of the create and update custom
// field calls. Name is required; DataType is required to create and
// ignored on update.
type LocationCustomFieldParams struct {
	Name               string              `json:"name"`
	DataType           string              `json:"dataType,omitempty"`
	Placeholder        string              `json:"placeholder,omitempty"`
	AcceptedFormat     []string            `json:"acceptedFormat,omitempty"`
	IsMultipleFile     *bool               `json:"isMultipleFile,omitempty"`
	MaxNumberOfFiles   int                 `json:"maxNumberOfFiles,omitempty"`
	TextBoxListOptions []TextBoxListOption `json:"textBoxListOptions,omitempty"`
	Position           *int                `json:"position,omitempty"`
	Model              string              `json:"model,omitempty"`
}

type customFieldEnvelope struct {
	CustomField  *LocationCustomField   `json:"customField"`
	CustomFields []*LocationCustomField `json:"customFields"`
}

// ListCustomFields returns a location's custom fields. model is "contact",
// "opportunity", "all" or "" (GHL's default).
//
// GHL API: GET /locations/{locationId}/customFields
func (s *LocationsService) ListCustomFields(ctx context.Context, locationID, model string) ([]*LocationCustomField, error) {
	u, err := apiPath("locations/%s/customFields", locationID)
	if err != nil {
		return nil, err
	}
	if model != "" {
		u = withQuery(u, url.Values{"model": {model}})
	}
	out, err := s.doCustomField(ctx, locationID, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return out.CustomFields, nil
}

// CreateCustomField creates a custom field in a location.
//
// GHL API: POST /locations/{locationId}/customFields
func (s *LocationsService) CreateCustomField(ctx context.Context, locationID string, p LocationCustomFieldParams) (*LocationCustomField, error) {
	u, err := apiPath("locations/%s/customFields", locationID)
	if err != nil {
		return nil, err
	}
	out, err := s.doCustomField(ctx, locationID, http.MethodPost, u, p)
	if err != nil {
		return nil, err
	}
	s.client.InvalidateCustomFields(locationID)
	return out.CustomField, nil
}

// GetCustomField returns a custom field of a location.
//
// GHL API: GET /locations/{locationId}/customFields/{id}
func (s *LocationsService) GetCustomField(ctx context.Context, locationID, id string) (*LocationCustomField, error) {
	u, err := apiPath("locations/%s/customFields/%s", locationID, id)
	if err != nil {
		return nil, err
	}
	out, err := s.doCustomField(ctx, locationID, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return out.CustomField, nil
}

// UpdateCustomField changes a custom field of a location.
//
// GHL API: PUT /locations/{locationId}/customFields/{id}
func (s *LocationsService) UpdateCustomField(ctx context.Context, locationID, id string, p LocationCustomFieldParams) (*LocationCustomField, error) {
	u, err := apiPath("locations/%s/customFields/%s", locationID, id)
	if err != nil {
		return nil, err
	}
	out, err := s.doCustomField(ctx, locationID, http.MethodPut, u, p)
	if err != nil {
		return nil, err
	}
	s.client.InvalidateCustomFields(locationID)
	return out.CustomField, nil
}

func (s *LocationsService) doCustomField(ctx context.Context, locationID, method, u string, body any) (*customFieldEnvelope, error) {
	ctx = at(ctx, UserTypeLocation, locationID)
	req, err := s.client.NewRequest(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	var out customFieldEnvelope
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteCustomField deletes a custom field of a location.
//
// GHL API: DELETE /locations/{locationId}/customFields/{id}
func (s *LocationsService) DeleteCustomField(ctx context.Context, locationID, id string) (*Succeeded, error) {
	u, err := apiPath("locations/%s/customFields/%s", locationID, id)
	if err != nil {
		return nil, err
	}
	out, err := s.client.deleteCall(at(ctx, UserTypeLocation, locationID), u, nil)
	s.client.InvalidateCustomFields(locationID)
	return out, err
}

// UploadFile is one file of an upload.
type UploadFile struct {
	// FieldName is the multipart field name GHL expects for the file.
	FieldName   string
	FileName    string
	ContentType string // default application/octet-stream
	Content     []byte
}

// UploadCustomFieldFilesParams are the form of
// POST /locations/{locationId}/customFields/upload.
type UploadCustomFieldFilesParams struct {
	LocationID string
	// ID is the custom field (or contact) id the files belong to.
	ID       string
	MaxFiles int
	Files    []UploadFile
}

// UploadResult is the answer of a custom field file upload.
type UploadResult struct {
	UploadedFiles map[string]any    `json:"uploadedFiles"`
	Meta          []json.RawMessage `json:"meta"`
}

// UploadCustomFieldFiles uploads files to a location's file custom fields.
// The form is built in memory so that the request can be retried.
//
// GHL API: POST /locations/{locationId}/customFields/upload
func (s *LocationsService) UploadCustomFieldFiles(ctx context.Context, p UploadCustomFieldFilesParams) (*UploadResult, error) {
	u, err := apiPath("locations/%s/customFields/upload", p.LocationID)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if p.ID != "" {
		_ = mw.WriteField("id", p.ID)
	}
	if p.MaxFiles > 0 {
		_ = mw.WriteField("maxFiles", strconv.Itoa(p.MaxFiles))
	}
	for _, f := range p.Files {
		ct := f.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h := make(textproto.MIMEHeader)
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.FieldName, f.FileName))
		h.Set("Content-Type", ct)
		w, err := mw.CreatePart(h)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.Content); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	req, err := s.client.newBodyRequest(at(ctx, UserTypeLocation, p.LocationID), http.MethodPost, u, buf.Bytes(), mw.FormDataContentType())
	if err != nil {
		return nil, err
	}
	var out UploadResult
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// newBodyRequest builds a request with a ready-made, replayable body.
func (c *Client) newBodyRequest(ctx context.Context, method, u string, body []byte, contentType string) (*http.Request, error) {
	req, err := c.NewRequest(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.Header.Set("Content-Type", contentType)
	return req, nil
}

// CustomValue is a location-wide custom value ({{ custom_values.x }}).
type CustomValue struct {
	ID         string `json:"id,omitempty"`
	Name       string `json:"name,omitempty"`
	FieldKey   string `json:"fieldKey,omitempty"`
	Value      string `json:"value,omitempty"`
	LocationID string `json:"locationId,omitempty"`
}

// CustomValueParams is the body of the create and update custom value calls.
type CustomValueParams struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type customValueEnvelope struct {
	CustomValue  *CustomValue   `json:"customValue"`
	CustomValues []*CustomValue `json:"customValues"`
}

// ListCustomValues returns a location's custom values.
//
// GHL API: GET /locations/{locationId}/customValues
func (s *LocationsService) ListCustomValues(ctx context.Context, locationID string) ([]*CustomValue, error) {
	u, err := apiPath("locations/%s/customValues", locationID)
	if err != nil {
		return nil, err
	}
	out, err := s.doCustomValue(ctx, locationID, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return out.CustomValues, nil
}

// CreateCustomValue creates a custom value in a location.
//
// GHL API: POST /locations/{locationId}/customValues
func (s *LocationsService) CreateCustomValue(ctx context.Context, locationID string, p CustomValueParams) (*CustomValue, error) {
	u, err := apiPath("locations/%s/customValues", locationID)
	if err != nil {
		return nil, err
	}
	out, err := s.doCustomValue(ctx, locationID, http.MethodPost, u, p)
	if err != nil {
		return nil, err
	}
	return out.CustomValue, nil
}

// GetCustomValue returns a custom value of a location.
//
// GHL API: GET /locations/{locationId}/customValues/{id}
func (s *LocationsService) GetCustomValue(ctx context.Context, locationID, id string) (*CustomValue, error) {
	u, err := apiPath("locations/%s/customValues/%s", locationID, id)
	if err != nil {
		return nil, err
	}
	out, err := s.doCustomValue(ctx, locationID, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return out.CustomValue, nil
}

// UpdateCustomValue changes a custom value of a location.
//
// GHL API: PUT /locations/{locationId}/customValues/{id}
func (s *LocationsService) UpdateCustomValue(ctx context.Context, locationID, id string, p CustomValueParams) (*CustomValue, error) {
	u, err := apiPath("locations/%s/customValues/%s", locationID, id)
	if err != nil {
		return nil, err
	}
	out, err := s.doCustomValue(ctx, locationID, http.MethodPut, u, p)
	if err != nil {
		return nil, err
	}
	return out.CustomValue, nil
}

func (s *LocationsService) doCustomValue(ctx context.Context, locationID, method, u string, body any) (*customValueEnvelope, error) {
	ctx = at(ctx, UserTypeLocation, locationID)
	req, err := s.client.NewRequest(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	var out customValueEnvelope
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteCustomValue deletes a custom value of a location.
//
// GHL API: DELETE /locations/{locationId}/customValues/{id}
func (s *LocationsService) DeleteCustomValue(ctx context.Context, locationID, id string) (*Succeeded, error) {
	u, err := apiPath("locations/%s/customValues/%s", locationID, id)
	if err != nil {
		return nil, err
	}
	return s.client.deleteCall(at(ctx, UserTypeLocation, locationID), u, nil)
}

// Timezones returns the timezone names a location can use. The spec gives
// the answer no schema; a bare array of strings and an object holding one
// (e.g. {"timeZones": [...]}) are both accepted.
//
// GHL API: GET /locations/{locationId}/timezones
func (s *LocationsService) Timezones(ctx context.Context, locationID string) ([]string, error) {
	u, err := apiPath("locations/%s/timezones", locationID)
	if err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(at(ctx, UserTypeLocation, locationID), http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if _, err := s.client.Do(req, &raw); err != nil {
		return nil, err
	}
	return decodeStringArray(raw)
}

// decodeStringArray reads a JSON array of strings, or the first array of
// strings among an object's fields.
func decodeStringArray(raw json.RawMessage) ([]string, error) {
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("ghl: timezones: unexpected answer %.100s", raw)
	}
	for _, v := range obj {
		if err := json.Unmarshal(v, &list); err == nil && list != nil {
			return list, nil
		}
	}
	return nil, fmt.Errorf("ghl: timezones: no list in answer %.100s", raw)
}

// ListTemplatesParams are the path and query of
// GET /locations/{locationId}/templates.
type ListTemplatesParams struct {
	LocationID string
	// OriginID is required by GHL; it is usually the location id.
	OriginID string
	Deleted  *bool
	Skip     int
	Limit    int    // default 25
	Type     string // sms, email or whatsapp
}

// Template is an email, SMS or WhatsApp template.
type Template struct {
	ID             string           `json:"id,omitempty"`
	Name           string           `json:"name,omitempty"`
	Type           string           `json:"type,omitempty"`
	Template       *TemplateContent `json:"template,omitempty"`
	DateAdded      string           `json:"dateAdded,omitempty"`
	LocationID     string           `json:"locationId,omitempty"`
	URLAttachments []string         `json:"urlAttachments,omitempty"`
}

// TemplateContent is the content of a template: Body for SMS, Subject and
// HTML for email.
type TemplateContent struct {
	Body        string            `json:"body,omitempty"`
	Subject     string            `json:"subject,omitempty"`
	HTML        string            `json:"html,omitempty"`
	Attachments []json.RawMessage `json:"attachments,omitempty"`
}

// TemplateList is a page of templates.
type TemplateList struct {
	Templates  []*Template `json:"templates"`
	TotalCount FlexInt     `json:"totalCount"`
}

// ListTemplates returns a page of a location's email/SMS templates.
//
// GHL API: GET /locations/{locationId}/templates
func (s *LocationsService) ListTemplates(ctx context.Context, p ListTemplatesParams) (*TemplateList, *Response, error) {
	u, err := apiPath("locations/%s/templates", p.LocationID)
	if err != nil {
		return nil, nil, err
	}
	origin := p.OriginID
	if origin == "" {
		origin = p.LocationID
	}
	q := url.Values{"originId": {origin}}
	if p.Deleted != nil {
		q.Set("deleted", strconv.FormatBool(*p.Deleted))
	}
	setSkipLimit(q, p.Skip, p.Limit)
	if p.Type != "" {
		q.Set("type", p.Type)
	}
	req, err := s.client.NewRequest(at(ctx, UserTypeLocation, p.LocationID), http.MethodGet, withQuery(u, q), nil)
	if err != nil {
		return nil, nil, err
	}
	var out TemplateList
	resp, err := s.client.Do(req, &out)
	if err != nil {
		return nil, resp, err
	}
	return &out, resp, nil
}

// DeleteTemplate deletes an email/SMS template.
//
// GHL API: DELETE /locations/{locationId}/templates/{id}
func (s *LocationsService) DeleteTemplate(ctx context.Context, locationID, id string) error {
	u, err := apiPath("locations/%s/templates/%s", locationID, id)
	if err != nil {
		return err
	}
	req, err := s.client.NewRequest(at(ctx, UserTypeLocation, locationID), http.MethodDelete, u, nil)
	if err != nil {
		return err
	}
	_, err = s.client.Do(req, nil)
	return err
}
