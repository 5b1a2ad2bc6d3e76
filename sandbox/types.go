package sandbox

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Time is a timestamp that reads and writes GHL's format: RFC 3339 in UTC
// with milliseconds ("2021-07-02T05:18:26.704Z"). The zero Time is null.
type Time struct{ time.Time }

// TimeLayout is GHL's timestamp layout.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Now returns the current time truncated to milliseconds, in UTC.
func Now() Time { return Time{time.Now().UTC().Truncate(time.Millisecond)} }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + t.UTC().Format(TimeLayout) + `"`), nil
}

// UnmarshalJSON accepts RFC 3339 strings (with or without fractions), epoch
// milliseconds, and null.
func (t *Time) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" || s == `""` {
		t.Time = time.Time{}
		return nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		t.Time = time.UnixMilli(ms).UTC()
		return nil
	}
	s = strings.Trim(s, `"`)
	p, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = p
	return nil
}

// ParseTime parses the date and time forms GHL clients send: RFC 3339 with
// or without fractions, a bare date, or epoch milliseconds.
func ParseTime(s string) (time.Time, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if p, err := time.Parse(layout, s); err == nil {
			return p.UTC(), nil
		}
	}
	return time.Time{}, Errorf(EUNPROCESSABLE, "invalid date %q", s)
}

// Company is an agency.
type Company struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Website   string `json:"website,omitempty"`
	Address   string `json:"address,omitempty"`
	City      string `json:"city,omitempty"`
	State     string `json:"state,omitempty"`
	Country   string `json:"country,omitempty"`
	Timezone  string `json:"timezone,omitempty"`
	Plan      string `json:"plan,omitempty"`
	DateAdded Time   `json:"dateAdded"`
}

// Location is a sub-account.
type Location struct {
	ID         string            `json:"id"`
	CompanyID  string            `json:"companyId"`
	Name       string            `json:"name"`
	Domain     string            `json:"domain,omitempty"`
	Address    string            `json:"address,omitempty"`
	City       string            `json:"city,omitempty"`
	State      string            `json:"state,omitempty"`
	Country    string            `json:"country,omitempty"`
	PostalCode string            `json:"postalCode,omitempty"`
	Website    string            `json:"website,omitempty"`
	Timezone   string            `json:"timezone,omitempty"`
	Email      string            `json:"email,omitempty"`
	Phone      string            `json:"phone,omitempty"`
	Logo       string            `json:"logoUrl,omitempty"`
	Business   *LocationBusiness `json:"business,omitempty"`
	Social     map[string]string `json:"social,omitempty"`
	Settings   LocationSettings  `json:"settings"`
	DateAdded  Time              `json:"dateAdded"`
}

// LocationBusiness is the business block of a location.
type LocationBusiness struct {
	Name       string `json:"name,omitempty"`
	Address    string `json:"address,omitempty"`
	City       string `json:"city,omitempty"`
	State      string `json:"state,omitempty"`
	Country    string `json:"country,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Website    string `json:"website,omitempty"`
	Timezone   string `json:"timezone,omitempty"`
	Email      string `json:"email,omitempty"`
}

// LocationSettings are the location settings the sandbox's semantics use.
type LocationSettings struct {
	// AllowDuplicateContact lets create and upsert add a contact whose email
	// or phone another contact already has (GHL's "Allow Duplicate Contact").
	AllowDuplicateContact bool `json:"allowDuplicateContact"`
	// AllowDuplicateOpportunity mirrors GHL's opportunity setting.
	AllowDuplicateOpportunity bool `json:"allowDuplicateOpportunity"`
	AllowFacebookNameMerge    bool `json:"allowFacebookNameMerge"`
	DisableContactTimezone    bool `json:"disableContactTimezone"`
}

// User is a team member of a company with access to some of its locations.
type User struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	FirstName   string          `json:"firstName"`
	LastName    string          `json:"lastName"`
	Email       string          `json:"email"`
	Phone       string          `json:"phone,omitempty"`
	Extension   string          `json:"extension,omitempty"`
	CompanyID   string          `json:"companyId,omitempty"`
	Permissions json.RawMessage `json:"permissions,omitempty"`
	Scopes      []string        `json:"scopes,omitempty"`
	Roles       UserRoles       `json:"roles"`
	Deleted     bool            `json:"deleted"`
	DateAdded   Time            `json:"dateAdded,omitzero"` // not in GHL's UserSchema: omitted when unknown
}

// UserRoles is a user's role and location access.
type UserRoles struct {
	Type               string   `json:"type"` // "agency" or "account"
	Role               string   `json:"role"` // "admin" or "user"
	LocationIDs        []string `json:"locationIds"`
	RestrictSubAccount bool     `json:"restrictSubAccount,omitempty"`
}

// Contact is a CRM contact, shaped as GHL's GET /contacts/{id} answers it.
type Contact struct {
	ID                 string                `json:"id"`
	LocationID         string                `json:"locationId"`
	Name               string                `json:"name,omitempty"`
	FirstName          string                `json:"firstName,omitempty"`
	LastName           string                `json:"lastName,omitempty"`
	Email              string                `json:"email,omitempty"`
	Phone              string                `json:"phone,omitempty"`
	CompanyName        string                `json:"companyName,omitempty"`
	Gender             string                `json:"gender,omitempty"`
	Timezone           string                `json:"timezone,omitempty"`
	Dnd                bool                  `json:"dnd"`
	DndSettings        map[string]DndSetting `json:"dndSettings,omitempty"`
	InboundDndSettings map[string]DndSetting `json:"inboundDndSettings,omitempty"`
	Type               string                `json:"type,omitempty"` // "lead" or "customer"
	Source             string                `json:"source,omitempty"`
	AssignedTo         string                `json:"assignedTo,omitempty"`
	Address1           string                `json:"address1,omitempty"`
	City               string                `json:"city,omitempty"`
	State              string                `json:"state,omitempty"`
	Country            string                `json:"country,omitempty"`
	PostalCode         string                `json:"postalCode,omitempty"`
	Website            string                `json:"website,omitempty"`
	Tags               []string              `json:"tags"`
	DateOfBirth        string                `json:"dateOfBirth,omitempty"` // YYYY-MM-DD
	DateAdded          Time                  `json:"dateAdded"`
	DateUpdated        Time                  `json:"dateUpdated"`
	LastActivity       Time                  `json:"lastActivity,omitzero"`
	CustomFields       []CustomFieldValue    `json:"customFields"`
	BusinessID         string                `json:"businessId,omitempty"`
	Followers          []string              `json:"followers,omitempty"`
	AttributionSource  json.RawMessage       `json:"attributionSource,omitempty"`
	Attachments        []string              `json:"attachments,omitempty"`
}

// DndSetting is the do-not-disturb state of one channel.
type DndSetting struct {
	Status  string `json:"status"` // active, inactive, permanent
	Message string `json:"message,omitempty"`
	Code    string `json:"code,omitempty"`
}

// CustomFieldValue is a contact's value for one custom field, answered as
// {id, value} (requests send {id|key, field_value}).
type CustomFieldValue struct {
	ID    string `json:"id"`
	Value any    `json:"value"`
}

// Event is a webhook event in the outbox: Payload is the full JSON body a
// subscriber receives (type, locationId, timestamp, webhookId, fields).
type Event struct {
	ID         string // the webhookId
	Type       string // GHL event name, e.g. "ContactCreate"
	LocationID string
	CompanyID  string
	CreatedAt  time.Time
	Payload    json.RawMessage
}
