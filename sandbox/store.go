package sandbox

import (
	"context"
	"encoding/json"
	"time"
)

// Store is the sandbox's persistent state. Implementations live in
// sandbox/sqlite and sandbox/postgres and must pass storetest.Exercise.
//
// All access goes through transactions so that a state change and the events
// it emits (the outbox) commit or roll back together.
type Store interface {
	// Read runs fn in a read-only transaction (a consistent snapshot).
	Read(ctx context.Context, fn func(Tx) error) error
	// Write runs fn in a read-write transaction; it commits when fn returns nil
	// and rolls back otherwise. Writers are serialised per store.
	Write(ctx context.Context, fn func(Tx) error) error
	// Close releases the store's connections.
	Close() error
}

// LooseReader is implemented by stores that can run a read without the
// cost of a transaction, where each statement sees a snapshot of its own.
// Handlers whose read is one statement, or whose statements need not agree
// exactly (a search page and its total), use it through Server.readLoose.
type LooseReader interface {
	ReadLoose(ctx context.Context, fn func(Tx) error) error
}

// Kind names a family of records kept in the generic record table.
type Kind string

// Record kinds.
const (
	KindCompany           Kind = "company"
	KindLocation          Kind = "location"
	KindUser              Kind = "user"
	KindCustomField       Kind = "customField" // ParentID: folder id (may be empty); Key: fieldKey
	KindCustomFieldFolder Kind = "customFieldFolder"
	KindCustomValue       Kind = "customValue"
	KindTag               Kind = "tag"      // Key: lower-cased tag name
	KindNote              Kind = "note"     // ParentID: contact id
	KindTask              Kind = "task"     // ParentID: contact id
	KindApp               Kind = "app"      // Key: client id
	KindToken             Kind = "token"    // Key: SHA-256 hex of the token
	KindAuthCode          Kind = "authCode" // Key: SHA-256 hex of the code
	KindInstall           Kind = "install"  // ParentID: app id; LocationID/CompanyID: where
	KindCampaign          Kind = "campaign"
	KindWorkflow          Kind = "workflow"
	KindPipeline          Kind = "pipeline"
	KindCalendar          Kind = "calendar"
	KindBusiness          Kind = "business"
	KindEnrollment        Kind = "enrollment" // ParentID: contact id; Key: "campaign:<id>" or "workflow:<id>"
	KindSetting           Kind = "setting"    // Key: setting name (e.g. "signing-keys")
)

// Record is one row of the generic record table: a few indexed columns and a
// JSON document holding the object as the API shows it.
type Record struct {
	Kind       Kind
	ID         string
	LocationID string
	CompanyID  string
	ParentID   string
	Key        string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Data       json.RawMessage
}

// RecordQuery selects records of one Kind; empty fields do not filter.
// Results are ordered by CreatedAt then ID, ascending.
type RecordQuery struct {
	Kind       Kind
	LocationID string
	CompanyID  string
	ParentID   string
	Key        string
	Offset     int
	Limit      int // 0 means no limit
}

// Tx is a transaction on a Store.
type Tx interface {
	// GetRecord returns the record, or an error with code ENOTFOUND.
	GetRecord(ctx context.Context, kind Kind, id string) (*Record, error)
	// PutRecord inserts or replaces the record with the same Kind and ID.
	PutRecord(ctx context.Context, r *Record) error
	// DeleteRecord removes a record; ENOTFOUND when it does not exist.
	DeleteRecord(ctx context.Context, kind Kind, id string) error
	// ListRecords returns the records q selects.
	ListRecords(ctx context.Context, q RecordQuery) ([]*Record, error)
	// CountRecords counts the records q selects, ignoring Offset and Limit.
	CountRecords(ctx context.Context, q RecordQuery) (int, error)

	// GetContact returns a contact, or ENOTFOUND.
	GetContact(ctx context.Context, id string) (*Contact, error)
	// GetContactJSON returns a contact's location and its API JSON as
	// ContactJSON made it when the contact was stored, or ENOTFOUND. It
	// saves readers that only answer the contact the decode and re-encode.
	GetContactJSON(ctx context.Context, id string) (locationID string, doc json.RawMessage, err error)
	// InsertContact stores a new contact (ID already set).
	InsertContact(ctx context.Context, c *Contact) error
	// UpdateContact replaces a stored contact; ENOTFOUND when absent.
	UpdateContact(ctx context.Context, c *Contact) error
	// DeleteContact removes a contact and what hangs off it; ENOTFOUND when absent.
	DeleteContact(ctx context.Context, id string) error
	// LookupContacts finds contacts of a location by exact (case-insensitive)
	// email or by E.164 phone; either may be empty. Oldest first.
	LookupContacts(ctx context.Context, l ContactLookup) ([]*Contact, error)
	// SearchContacts runs a contact search.
	SearchContacts(ctx context.Context, q ContactQuery) (*ContactPage, error)

	// AppendEvent adds an event to the outbox, in this transaction.
	AppendEvent(ctx context.Context, e *Event) error
}

// ContactLookup finds duplicates by email or phone.
type ContactLookup struct {
	LocationID string
	Email      string
	Phone      string
	Limit      int
}

// ContactQuery is a contact search, as POST /contacts/search and the
// deprecated GET /contacts/ express it.
type ContactQuery struct {
	LocationID string
	// Query is free text matched (case-insensitively, as a substring) against
	// names, email, phone and company name.
	Query string
	// Filter is the root of the filter tree; nil selects everything.
	Filter *Filter
	// Sort orders the results; empty means dateAdded descending. The contact
	// id (same direction as the last sort field) always breaks ties.
	Sort []Sort
	// SearchAfter, when set, holds the sort values (then the id) of the last
	// contact of the previous page; results start after it.
	SearchAfter []any
	Offset      int
	Limit       int
	// NoTotal skips counting the matches (Total is then -1).
	NoTotal bool
	// JSON asks for the page's contacts as their stored API JSON (see
	// ContactJSON) in ContactPage.JSON, instead of decoded in Contacts.
	JSON bool
}

// Sort orders a search by a contact field.
type Sort struct {
	Field string // a ContactField name such as "dateAdded"
	Desc  bool
}

// ContactPage is one page of search results.
type ContactPage struct {
	Contacts []*Contact
	// JSON holds the contacts as ContactJSON encoded them, in place of
	// Contacts, when the query set JSON.
	JSON []json.RawMessage
	// SortValues holds, per contact, the values to pass as SearchAfter to
	// continue after it (sort fields then id).
	SortValues [][]any
	Total      int
}

// Filter is a node of a contact filter tree: either a group (Group is "AND"
// or "OR" and Filters holds the children) or a leaf condition.
type Filter struct {
	Group   string   `json:"group,omitempty"`
	Filters []Filter `json:"filters,omitempty"`

	// Field is a canonical contact field (see ContactFields) or
	// "customFields.<fieldId>".
	Field string `json:"field,omitempty"`
	// Operator is one of the Op* constants.
	Operator string `json:"operator,omitempty"`
	// Value is a string, float64, bool, []any (for eq/not_eq: any of) or
	// *Range (for range). Dates are int64 epoch milliseconds.
	Value any `json:"value,omitempty"`
}

// Range bounds a range filter; nil bounds are open.
type Range struct {
	GT, GTE, LT, LTE any
}

// Filter operators.
const (
	OpEq          = "eq"
	OpNotEq       = "not_eq"
	OpContains    = "contains"
	OpNotContains = "not_contains"
	OpExists      = "exists"
	OpNotExists   = "not_exists"
	OpRange       = "range"
)

// ContactFieldType says how a contact field is stored and compared.
type ContactFieldType int

// Field types.
const (
	FieldText ContactFieldType = iota // compared case-insensitively
	FieldDate                         // epoch milliseconds
	FieldBool
	FieldTags // the tags list; eq matches any tag
)

// ContactFields are the contact fields searches can filter and sort on, by
// their canonical name. Stores map each to an indexed column.
var ContactFields = map[string]ContactFieldType{
	"id": FieldText, "email": FieldText, "phone": FieldText,
	"firstName": FieldText, "lastName": FieldText, "name": FieldText,
	"companyName": FieldText, "source": FieldText, "type": FieldText,
	"assignedTo": FieldText, "address1": FieldText, "city": FieldText,
	"state": FieldText, "country": FieldText, "postalCode": FieldText,
	"website": FieldText, "businessId": FieldText, "timezone": FieldText,
	"dateOfBirth": FieldText, "dnd": FieldBool, "tags": FieldTags,
	"dateAdded": FieldDate, "dateUpdated": FieldDate, "lastActivity": FieldDate,
}

// CustomFieldPrefix starts filter fields that address a custom field by id.
const CustomFieldPrefix = "customFields."
