package sandbox

// CustomField is a custom field definition, stored as a KindCustomField
// record (LocationID set, ParentID = folder id, Key = FieldKey). One stored
// document serves both of GHL's views: the v1 location API
// (/locations/{id}/customFields: name, fieldKey, dataType, picklistOptions,
// model) and the v2 custom-fields API (objectKey, options, parentId,
// showInForms), so a field created through either is visible in both.
type CustomField struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	FieldKey    string `json:"fieldKey"` // e.g. "contact.my_field"
	DataType    string `json:"dataType"` // one of CustomFieldDataTypes
	Placeholder string `json:"placeholder,omitempty"`
	Description string `json:"description,omitempty"`
	Position    int    `json:"position"`
	LocationID  string `json:"locationId"`
	// Model is the v1 name of the object the field belongs to: "contact" or
	// "opportunity".
	Model string `json:"model"`
	// ObjectKey is the v2 name of the same thing ("contact", "opportunity",
	// "custom_objects.pet"). Fields stored before the sandbox settled on
	// GHL's "custom_objects." prefix may hold "custom_object.pet" (and a
	// FieldKey to match); readers pass both through canonicalObjectKey.
	ObjectKey string `json:"objectKey"`
	// PicklistOptions are the option labels (v1 view), for the option types.
	PicklistOptions []string `json:"picklistOptions,omitempty"`
	// Options are the options with their keys (v2 view).
	Options           []CustomFieldOption `json:"options,omitempty"`
	ParentID          string              `json:"parentId"`
	ShowInForms       bool                `json:"showInForms"`
	AcceptedFormats   string              `json:"acceptedFormats,omitempty"`
	MaxFileLimit      int                 `json:"maxFileLimit,omitempty"`
	AllowCustomOption bool                `json:"allowCustomOption,omitempty"`
	IsRequired        bool                `json:"isRequired"`
	DateAdded         Time                `json:"dateAdded"`
	DateUpdated       Time                `json:"dateUpdated"`
}

// CustomFieldOption is one option of an option-type custom field.
type CustomFieldOption struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
}

// CustomFieldFolder groups custom fields of an object (v2 API), stored as a
// KindCustomFieldFolder record with LocationID set.
type CustomFieldFolder struct {
	ID          string `json:"id"`
	ObjectKey   string `json:"objectKey"`
	LocationID  string `json:"locationId"`
	Name        string `json:"name"`
	DateAdded   Time   `json:"dateAdded"`
	DateUpdated Time   `json:"dateUpdated"`
}

// CustomValue is a location-wide merge value ({{ custom_values.key }}),
// stored as a KindCustomValue record with LocationID set and Key = FieldKey.
type CustomValue struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	FieldKey   string `json:"fieldKey"` // "{{ custom_values.my_value }}"
	Value      string `json:"value"`
	LocationID string `json:"locationId"`
}

// Tag is a location's tag, stored as a KindTag record with LocationID set
// and Key = strings.ToLower(Name), so names are unique per location
// regardless of case. Contacts upsert the tags they carry into the same
// records.
type Tag struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	LocationID string `json:"locationId"`
}

// CustomFieldDataTypes are the data types GHL accepts for custom fields.
var CustomFieldDataTypes = []string{
	"TEXT", "LARGE_TEXT", "NUMERICAL", "PHONE", "MONETORY", "CHECKBOX",
	"SINGLE_OPTIONS", "MULTIPLE_OPTIONS", "DATE", "TEXTBOX_LIST",
	"FILE_UPLOAD", "RADIO", "EMAIL", "SIGNATURE",
}

// CustomFieldHasOptions reports whether fields of the data type need options.
func CustomFieldHasOptions(dataType string) bool {
	switch dataType {
	case "SINGLE_OPTIONS", "MULTIPLE_OPTIONS", "RADIO", "CHECKBOX", "TEXTBOX_LIST":
		return true
	}
	return false
}
