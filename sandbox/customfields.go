package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// registerCustomFields wires the Custom Fields V2 namespace
// (apps/custom-fields.json). The v1 view of the same records,
// /locations/{locationId}/customFields, is registered by registerLocations.
func (s *Server) registerCustomFields() {
	s.handle("custom-fields", "create-custom-field", s.createCustomFieldV2)
	s.handle("custom-fields", "get-custom-field-by-id", s.getCustomFieldV2)
	s.handle("custom-fields", "update-custom-field", s.updateCustomFieldV2)
	s.handle("custom-fields", "delete-custom-field", s.deleteCustomFieldV2)
	s.handle("custom-fields", "get-custom-fields-by-object-key", s.getCustomFieldsByObjectKey)
	s.handle("custom-fields", "create-custom-field-folder", s.createCustomFieldFolder)
	s.handle("custom-fields", "update-custom-field-folder", s.updateCustomFieldFolder)
	s.handle("custom-fields", "delete-custom-field-folder", s.deleteCustomFieldFolder)
}

// customFieldV1 is a field as /locations/{locationId}/customFields shows it.
type customFieldV1 struct {
	ID                    string   `json:"id"`
	Name                  string   `json:"name"`
	FieldKey              string   `json:"fieldKey"`
	Placeholder           string   `json:"placeholder"`
	DataType              string   `json:"dataType"`
	Position              int      `json:"position"`
	PicklistOptions       []string `json:"picklistOptions"`
	PicklistImageOptions  []string `json:"picklistImageOptions"`
	IsAllowedCustomOption bool     `json:"isAllowedCustomOption"`
	IsMultiFileAllowed    bool     `json:"isMultiFileAllowed,omitempty"`
	MaxFileLimit          int      `json:"maxFileLimit,omitempty"`
	LocationID            string   `json:"locationId"`
	Model                 string   `json:"model"`
}

func (f *CustomField) v1() *customFieldV1 {
	opts := f.PicklistOptions
	if opts == nil {
		opts = []string{}
	}
	return &customFieldV1{
		ID: f.ID, Name: f.Name, FieldKey: f.FieldKey, Placeholder: f.Placeholder, DataType: f.DataType,
		Position: f.Position, PicklistOptions: opts, PicklistImageOptions: []string{},
		IsAllowedCustomOption: f.AllowCustomOption, IsMultiFileAllowed: f.MaxFileLimit > 1,
		MaxFileLimit: f.MaxFileLimit, LocationID: f.LocationID, Model: f.Model,
	}
}

// customFieldV2 is a field as the v2 API (ICustomField) shows it.
type customFieldV2 struct {
	ID                string              `json:"id"`
	LocationID        string              `json:"locationId"`
	Name              string              `json:"name"`
	Description       string              `json:"description,omitempty"`
	Placeholder       string              `json:"placeholder,omitempty"`
	ShowInForms       bool                `json:"showInForms"`
	Options           []CustomFieldOption `json:"options,omitempty"`
	AcceptedFormats   string              `json:"acceptedFormats,omitempty"`
	ObjectKey         string              `json:"objectKey"`
	DataType          string              `json:"dataType"`
	ParentID          string              `json:"parentId"`
	FieldKey          string              `json:"fieldKey"`
	AllowCustomOption bool                `json:"allowCustomOption,omitempty"`
	MaxFileLimit      int                 `json:"maxFileLimit,omitempty"`
	DateAdded         Time                `json:"dateAdded"`
	DateUpdated       Time                `json:"dateUpdated"`
}

func (f *CustomField) v2() *customFieldV2 {
	return &customFieldV2{
		ID: f.ID, LocationID: f.LocationID, Name: f.Name, Description: f.Description, Placeholder: f.Placeholder,
		ShowInForms: f.ShowInForms, Options: f.Options, AcceptedFormats: f.AcceptedFormats, ObjectKey: canonicalObjectKey(f.ObjectKey),
		DataType: f.DataType, ParentID: f.ParentID, FieldKey: canonicalFieldKey(f.FieldKey), AllowCustomOption: f.AllowCustomOption,
		MaxFileLimit: f.MaxFileLimit, DateAdded: f.DateAdded, DateUpdated: f.DateUpdated,
	}
}

// fieldKeyPattern is the part of a field key after "<objectKey>.".
var fieldKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// acceptedFormats are the upload formats of FILE_UPLOAD fields.
var acceptedFormats = []string{".pdf", ".docx", ".doc", ".jpg", ".jpeg", ".png", ".gif", ".csv", ".xlsx", ".xls", "all"}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// Custom objects' keys. GHL's Custom Objects API, its webhook events and the
// objectKey path parameter of GET /custom-fields/object-key/{objectKey}
// ("Must include \"custom_objects.\" prefix for custom objects") spell them
// "custom_objects.<key>"; the custom-fields DTOs' examples spell them
// "custom_object.<key>". The sandbox accepts both, stores and answers the
// first, and reads fields and folders stored with the second as the first.
const (
	customObjectPrefix       = "custom_objects."
	legacyCustomObjectPrefix = "custom_object."
)

// canonicalObjectKey returns an object key in the form the sandbox answers:
// "custom_object.pet" becomes "custom_objects.pet"; others are unchanged.
func canonicalObjectKey(objectKey string) string {
	if rest, ok := strings.CutPrefix(objectKey, legacyCustomObjectPrefix); ok {
		return customObjectPrefix + rest
	}
	return objectKey
}

// canonicalFieldKey does the same for a field key, which starts with its
// object key ("custom_object.pet.name" → "custom_objects.pet.name").
func canonicalFieldKey(fieldKey string) string { return canonicalObjectKey(fieldKey) }

// fieldKeySpellings returns the keys a stored field with the (canonical)
// key may have: itself and, for custom objects, the legacy spelling.
func fieldKeySpellings(fieldKey string) []string {
	if rest, ok := strings.CutPrefix(fieldKey, customObjectPrefix); ok {
		return []string{fieldKey, legacyCustomObjectPrefix + rest}
	}
	return []string{fieldKey}
}

// validObjectKey reports whether objectKey, in canonical form, names an
// object custom fields can belong to: a standard object or
// "custom_objects.<key>".
func validObjectKey(objectKey string) bool {
	switch objectKey {
	case "contact", "opportunity", "business", "company":
		return true
	}
	rest, ok := strings.CutPrefix(objectKey, customObjectPrefix)
	return ok && rest != "" && snakeKey(rest) == rest
}

// objectKeyMessage is the 422 message of an objectKey validObjectKey refuses.
const objectKeyMessage = "objectKey must be contact, opportunity, business or custom_objects.<key>"

// optionsFromLabels builds keyed options from labels (v1 sends labels only).
func optionsFromLabels(labels []string) []CustomFieldOption {
	out := make([]CustomFieldOption, 0, len(labels))
	for _, l := range labels {
		out = append(out, CustomFieldOption{Key: optionKey(l), Label: l})
	}
	return out
}

func optionKey(label string) string {
	if k := snakeKey(label); k != "" {
		return k
	}
	return label
}

func labelsOf(opts []CustomFieldOption) []string {
	out := make([]string, 0, len(opts))
	for _, o := range opts {
		out = append(out, o.Label)
	}
	return out
}

// checkFieldKey returns 400 when another field of the location has the key
// (in either spelling of a custom object's key).
func checkFieldKey(ctx context.Context, tx Tx, locationID, key, selfID string) error {
	for _, k := range fieldKeySpellings(key) {
		recs, err := tx.ListRecords(ctx, RecordQuery{Kind: KindCustomField, LocationID: locationID, Key: k})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if rec.ID != selfID {
				return Errorf(ECONFLICT, "Custom field with the key %s already exists", key)
			}
		}
	}
	return nil
}

// insertCustomField stores a new field after the checks both APIs share:
// the location exists, the key is free and the folder is the location's.
func insertCustomField(ctx context.Context, tx Tx, f *CustomField) error {
	if _, _, err := loadLocation(ctx, tx, f.LocationID); err != nil {
		return err
	}
	if err := checkFieldKey(ctx, tx, f.LocationID, f.FieldKey, ""); err != nil {
		return err
	}
	if f.ParentID != "" {
		var folder CustomFieldFolder
		if err := GetRecordAs(ctx, tx, KindCustomFieldFolder, f.ParentID, &folder); err != nil {
			if IsNotFound(err) {
				return Invalid("parentId must be the id of an existing folder")
			}
			return err
		}
		if folder.LocationID != f.LocationID || canonicalObjectKey(folder.ObjectKey) != canonicalObjectKey(f.ObjectKey) {
			return Invalid("parentId must be the id of a folder of the same location and object")
		}
	}
	rec := Record{Kind: KindCustomField, ID: f.ID, LocationID: f.LocationID, ParentID: f.ParentID, Key: f.FieldKey}
	return PutRecordOf(ctx, tx, rec, f)
}

// loadCustomField reads a field by id, answering 404 "Custom field not
// found" and 403 when the caller may not see its location.
func loadCustomField(r *Request, tx Tx, id string) (*CustomField, *Record, error) {
	rec, err := tx.GetRecord(r.Context(), KindCustomField, id)
	if err != nil {
		if IsNotFound(err) {
			return nil, nil, Errorf(ENOTFOUND, "Custom field not found")
		}
		return nil, nil, err
	}
	if err := r.CheckLocation(rec.LocationID); err != nil {
		return nil, nil, err
	}
	f := new(CustomField)
	if err := json.Unmarshal(rec.Data, f); err != nil {
		return nil, nil, err
	}
	return f, rec, nil
}

// ---- v1: /locations/{locationId}/customFields ----

// customFieldV1Body is the v1 create/update body. Besides the DTO's fields
// it takes "options" as GHL's v1 API does (labels, or {key, label} objects).
type customFieldV1Body struct {
	Name               *string         `json:"name"`
	DataType           string          `json:"dataType"`
	Placeholder        *string         `json:"placeholder"`
	Position           *int            `json:"position"`
	Model              string          `json:"model"`
	Options            json.RawMessage `json:"options"`
	TextBoxListOptions []struct {
		Label        string `json:"label"`
		PrefillValue string `json:"prefillValue"`
	} `json:"textBoxListOptions"`
	AcceptedFormat   []string `json:"acceptedFormat"`
	IsMultipleFile   *bool    `json:"isMultipleFile"`
	MaxNumberOfFiles *int     `json:"maxNumberOfFiles"`
}

// options returns the option labels the body names (nil when it names none).
func (b *customFieldV1Body) options() ([]string, error) {
	var labels []string
	if len(b.Options) > 0 && string(b.Options) != "null" {
		var raw []json.RawMessage
		if err := json.Unmarshal(b.Options, &raw); err != nil {
			return nil, Invalid("options must be an array")
		}
		for _, item := range raw {
			var label string
			if json.Unmarshal(item, &label) == nil {
				labels = append(labels, label)
				continue
			}
			var opt CustomFieldOption
			if err := json.Unmarshal(item, &opt); err != nil || opt.Label == "" {
				return nil, Invalid("each value in options must be a string or an object with a label")
			}
			labels = append(labels, opt.Label)
		}
	}
	for _, o := range b.TextBoxListOptions {
		labels = append(labels, o.Label)
	}
	return labels, nil
}

// getLocationCustomFields serves GET /locations/{locationId}/customFields
// → {customFields}. model filters by object (contact, opportunity, all);
// without it both v1 objects are listed. Fields of custom objects exist
// only in the v2 view.
func (s *Server) getLocationCustomFields(w http.ResponseWriter, r *Request) error {
	model := r.Query("model")
	if model != "" && model != "contact" && model != "opportunity" && model != "all" {
		return Invalid("model must be one of the following values: contact, opportunity, all")
	}
	var out []*customFieldV1
	err := s.read(r.Context(), func(tx Tx) error {
		fields, err := ListRecordsAs[CustomField](r.Context(), tx, RecordQuery{Kind: KindCustomField, LocationID: r.PathParam("locationId")})
		if err != nil {
			return err
		}
		for _, f := range fields {
			if f.Model != "contact" && f.Model != "opportunity" {
				continue
			}
			if model != "" && model != "all" && f.Model != model {
				continue
			}
			out = append(out, f.v1())
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"customFields": pageOf(out, 0, 0)})
	return nil
}

// createLocationCustomField serves POST /locations/{locationId}/customFields
// → 201 {customField}. The key is derived from the name ("<model>.<snake>").
func (s *Server) createLocationCustomField(w http.ResponseWriter, r *Request) error {
	var body customFieldV1Body
	if err := r.Decode(&body); err != nil {
		return err
	}
	labels, err := body.options()
	if err != nil {
		return err
	}
	var msgs []string
	if body.Name == nil || strings.TrimSpace(*body.Name) == "" {
		msgs = append(msgs, "name should not be empty")
	} else if snakeKey(*body.Name) == "" {
		msgs = append(msgs, "name must contain a letter or a digit")
	}
	if body.Model == "" {
		body.Model = "contact"
	}
	if body.Model != "contact" && body.Model != "opportunity" {
		msgs = append(msgs, "model must be one of the following values: contact, opportunity")
	}
	msgs = append(msgs, validateDataType(body.DataType, len(labels))...)
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	now := stampOf(s.now())
	name := strings.TrimSpace(*body.Name)
	f := &CustomField{
		ID: NewID(), Name: name, FieldKey: body.Model + "." + snakeKey(name), DataType: body.DataType,
		LocationID: r.PathParam("locationId"), Model: body.Model, ObjectKey: body.Model,
		ShowInForms: true, DateAdded: now, DateUpdated: now,
	}
	if body.Placeholder != nil {
		f.Placeholder = *body.Placeholder
	}
	if body.Position != nil {
		f.Position = *body.Position
	}
	if CustomFieldHasOptions(f.DataType) {
		f.PicklistOptions, f.Options = labels, optionsFromLabels(labels)
	}
	if f.DataType == "FILE_UPLOAD" {
		f.AcceptedFormats = strings.Join(body.AcceptedFormat, ",")
		f.MaxFileLimit = 1
		if body.MaxNumberOfFiles != nil {
			f.MaxFileLimit = *body.MaxNumberOfFiles
		}
	}
	if err := s.write(r.Context(), func(tx Tx) error { return insertCustomField(r.Context(), tx, f) }); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"customField": f.v1()})
	return nil
}

// validateDataType returns the 422 messages for a data type and the number
// of options given with it.
func validateDataType(dataType string, options int) []string {
	if dataType == "" {
		return []string{"dataType should not be empty"}
	}
	if !oneOf(dataType, CustomFieldDataTypes) {
		return []string{"dataType must be one of the following values: " + strings.Join(CustomFieldDataTypes, ", ")}
	}
	if CustomFieldHasOptions(dataType) && options == 0 {
		return []string{fmt.Sprintf("options should not be empty for a %s field", dataType)}
	}
	return nil
}

// locationCustomField loads the field of the v1 by-id routes, which must
// belong to the location in the path.
func locationCustomField(r *Request, tx Tx) (*CustomField, *Record, error) {
	f, rec, err := loadCustomField(r, tx, r.PathParam("id"))
	if err != nil {
		return nil, nil, err
	}
	if f.LocationID != r.PathParam("locationId") {
		return nil, nil, Errorf(ENOTFOUND, "Custom field not found")
	}
	return f, rec, nil
}

// getLocationCustomField serves GET /locations/{locationId}/customFields/{id}.
func (s *Server) getLocationCustomField(w http.ResponseWriter, r *Request) error {
	var f *CustomField
	err := s.read(r.Context(), func(tx Tx) error {
		var err error
		f, _, err = locationCustomField(r, tx)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"customField": f.v1()})
	return nil
}

// updateLocationCustomField serves PUT
// /locations/{locationId}/customFields/{id} → {customField}. The field key
// and data type never change (contacts store values under them).
func (s *Server) updateLocationCustomField(w http.ResponseWriter, r *Request) error {
	var body customFieldV1Body
	if err := r.Decode(&body); err != nil {
		return err
	}
	labels, err := body.options()
	if err != nil {
		return err
	}
	if body.Name == nil || strings.TrimSpace(*body.Name) == "" {
		return Invalid("name should not be empty")
	}
	if body.Model != "" && body.Model != "contact" && body.Model != "opportunity" {
		return Invalid("model must be one of the following values: contact, opportunity")
	}
	var f *CustomField
	err = s.write(r.Context(), func(tx Tx) error {
		var rec *Record
		var err error
		f, rec, err = locationCustomField(r, tx)
		if err != nil {
			return err
		}
		if body.Model != "" && body.Model != f.Model {
			return Invalid("model cannot be changed")
		}
		f.Name = strings.TrimSpace(*body.Name)
		if body.Placeholder != nil {
			f.Placeholder = *body.Placeholder
		}
		if body.Position != nil {
			f.Position = *body.Position
		}
		if labels != nil && CustomFieldHasOptions(f.DataType) {
			f.PicklistOptions, f.Options = labels, optionsFromLabels(labels)
		}
		if body.MaxNumberOfFiles != nil && f.DataType == "FILE_UPLOAD" {
			f.MaxFileLimit = *body.MaxNumberOfFiles
		}
		if len(body.AcceptedFormat) > 0 && f.DataType == "FILE_UPLOAD" {
			f.AcceptedFormats = strings.Join(body.AcceptedFormat, ",")
		}
		f.DateUpdated = stampOf(s.now())
		return replaceRecordOf(r.Context(), tx, rec, f)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"customField": f.v1()})
	return nil
}

// deleteLocationCustomField serves DELETE
// /locations/{locationId}/customFields/{id} → {succeded: true}. The
// field's values go with it (see deleteCustomField).
func (s *Server) deleteLocationCustomField(w http.ResponseWriter, r *Request) error {
	err := s.write(context.WithoutCancel(r.Context()), func(tx Tx) error {
		f, _, err := locationCustomField(r, tx)
		if err != nil {
			return err
		}
		return s.deleteCustomField(r.Context(), tx, f)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true})
	return nil
}

// ---- v2: /custom-fields ----

// customFieldV2Body is CreateCustomFieldsDTO / UpdateCustomFieldsDTO.
type customFieldV2Body struct {
	LocationID        string              `json:"locationId"`
	Name              *string             `json:"name"`
	Description       *string             `json:"description"`
	Placeholder       *string             `json:"placeholder"`
	ShowInForms       *bool               `json:"showInForms"`
	Options           []CustomFieldOption `json:"options"`
	AcceptedFormats   *string             `json:"acceptedFormats"`
	DataType          string              `json:"dataType"`
	FieldKey          string              `json:"fieldKey"`
	ObjectKey         string              `json:"objectKey"`
	MaxFileLimit      *int                `json:"maxFileLimit"`
	AllowCustomOption *bool               `json:"allowCustomOption"`
	ParentID          string              `json:"parentId"`
}

// validateCommon checks the fields create and update share.
func (b *customFieldV2Body) validateCommon() []string {
	var msgs []string
	if b.AcceptedFormats != nil && *b.AcceptedFormats != "" && !oneOf(*b.AcceptedFormats, acceptedFormats) {
		msgs = append(msgs, "acceptedFormats must be one of the following values: "+strings.Join(acceptedFormats, ", "))
	}
	for i, o := range b.Options {
		if strings.TrimSpace(o.Label) == "" {
			msgs = append(msgs, fmt.Sprintf("options.%d.label should not be empty", i))
		}
	}
	if b.MaxFileLimit != nil && *b.MaxFileLimit < 1 {
		msgs = append(msgs, "maxFileLimit must not be less than 1")
	}
	return msgs
}

// createCustomFieldV2 serves POST /custom-fields/ → 201 {field}. objectKey
// defaults to "contact"; fieldKey defaults to "<objectKey>.<snake name>"
// and is prefixed with the objectKey when given bare.
func (s *Server) createCustomFieldV2(w http.ResponseWriter, r *Request) error {
	var b customFieldV2Body
	if err := r.Decode(&b); err != nil {
		return err
	}
	var msgs []string
	if b.LocationID == "" {
		msgs = append(msgs, "locationId should not be empty")
	}
	if b.Name == nil || strings.TrimSpace(*b.Name) == "" {
		msgs = append(msgs, "name should not be empty")
	}
	if b.ObjectKey == "" {
		b.ObjectKey = "contact"
	}
	b.ObjectKey = canonicalObjectKey(b.ObjectKey)
	if !validObjectKey(b.ObjectKey) {
		msgs = append(msgs, objectKeyMessage)
	}
	msgs = append(msgs, validateDataType(b.DataType, len(b.Options))...)
	msgs = append(msgs, b.validateCommon()...)
	key := strings.TrimPrefix(canonicalFieldKey(strings.TrimSpace(b.FieldKey)), b.ObjectKey+".")
	if b.FieldKey == "" && b.Name != nil {
		key = snakeKey(*b.Name)
	}
	if (b.FieldKey != "" || (b.Name != nil && strings.TrimSpace(*b.Name) != "")) && !fieldKeyPattern.MatchString(key) {
		msgs = append(msgs, "fieldKey must be letters, digits and underscores after the object prefix (e.g. contact.my_field)")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	now := stampOf(s.now())
	f := &CustomField{
		ID: NewID(), Name: strings.TrimSpace(*b.Name), FieldKey: b.ObjectKey + "." + key, DataType: b.DataType,
		LocationID: b.LocationID, Model: b.ObjectKey, ObjectKey: b.ObjectKey, ParentID: b.ParentID,
		ShowInForms: b.ShowInForms == nil || *b.ShowInForms, DateAdded: now, DateUpdated: now,
	}
	if b.Description != nil {
		f.Description = *b.Description
	}
	if b.Placeholder != nil {
		f.Placeholder = *b.Placeholder
	}
	if CustomFieldHasOptions(f.DataType) {
		f.Options = keyedOptions(b.Options)
		f.PicklistOptions = labelsOf(f.Options)
	}
	if b.AcceptedFormats != nil {
		f.AcceptedFormats = *b.AcceptedFormats
	}
	if b.MaxFileLimit != nil {
		f.MaxFileLimit = *b.MaxFileLimit
	}
	if b.AllowCustomOption != nil {
		f.AllowCustomOption = *b.AllowCustomOption
	}
	if err := s.write(r.Context(), func(tx Tx) error { return insertCustomField(r.Context(), tx, f) }); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"field": f.v2()})
	return nil
}

// keyedOptions fills in option keys derived from labels where missing.
func keyedOptions(opts []CustomFieldOption) []CustomFieldOption {
	out := make([]CustomFieldOption, len(opts))
	for i, o := range opts {
		if o.Key == "" {
			o.Key = optionKey(o.Label)
		}
		out[i] = o
	}
	return out
}

// getCustomFieldV2 serves GET /custom-fields/{id} → {field}.
func (s *Server) getCustomFieldV2(w http.ResponseWriter, r *Request) error {
	var f *CustomField
	err := s.read(r.Context(), func(tx Tx) error {
		var err error
		f, _, err = loadCustomField(r, tx, r.PathParam("id"))
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"field": f.v2()})
	return nil
}

// updateCustomFieldV2 serves PUT /custom-fields/{id} → {field}. As GHL
// documents, options replace the list but may not drop an existing option.
func (s *Server) updateCustomFieldV2(w http.ResponseWriter, r *Request) error {
	var b customFieldV2Body
	if err := r.Decode(&b); err != nil {
		return err
	}
	msgs := b.validateCommon()
	if b.LocationID == "" {
		msgs = append(msgs, "locationId should not be empty")
	}
	if b.Name != nil && strings.TrimSpace(*b.Name) == "" {
		msgs = append(msgs, "name should not be empty")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	var f *CustomField
	err := s.write(r.Context(), func(tx Tx) error {
		var rec *Record
		var err error
		f, rec, err = loadCustomField(r, tx, r.PathParam("id"))
		if err != nil {
			return err
		}
		if b.LocationID != f.LocationID {
			return Errorf(ENOTFOUND, "Custom field not found")
		}
		if b.Name != nil {
			f.Name = strings.TrimSpace(*b.Name)
		}
		if b.Description != nil {
			f.Description = *b.Description
		}
		if b.Placeholder != nil {
			f.Placeholder = *b.Placeholder
		}
		if b.ShowInForms != nil {
			f.ShowInForms = *b.ShowInForms
		}
		if b.Options != nil && CustomFieldHasOptions(f.DataType) {
			opts := keyedOptions(b.Options)
			for _, old := range f.Options {
				found := false
				for _, o := range opts {
					found = found || o.Key == old.Key
				}
				if !found {
					return Invalid(fmt.Sprintf("options must include the existing option %q: removing options is not supported", old.Key))
				}
			}
			f.Options, f.PicklistOptions = opts, labelsOf(opts)
		}
		if b.AcceptedFormats != nil {
			f.AcceptedFormats = *b.AcceptedFormats
		}
		if b.MaxFileLimit != nil {
			f.MaxFileLimit = *b.MaxFileLimit
		}
		if b.AllowCustomOption != nil {
			f.AllowCustomOption = *b.AllowCustomOption
		}
		f.DateUpdated = stampOf(s.now())
		return replaceRecordOf(r.Context(), tx, rec, f)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"field": f.v2()})
	return nil
}

// deleteCustomFieldV2 serves DELETE /custom-fields/{id} → {succeded, id, key}.
// The field's values go with it (see deleteCustomField).
func (s *Server) deleteCustomFieldV2(w http.ResponseWriter, r *Request) error {
	var f *CustomField
	err := s.write(context.WithoutCancel(r.Context()), func(tx Tx) error {
		var err error
		f, _, err = loadCustomField(r, tx, r.PathParam("id"))
		if err != nil {
			return err
		}
		return s.deleteCustomField(r.Context(), tx, f)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true, "id": f.ID, "key": canonicalFieldKey(f.FieldKey)})
	return nil
}

// deleteCustomField deletes a field and, in the same transaction, removes
// its values from every contact of its location that has one, as GHL does:
// a value whose definition is gone could be neither read as a field nor
// changed or cleared. Each contact changed is saved as the other bulk
// contact changes are (storeContactUpdate), so it gets a new dateUpdated
// and a ContactUpdate event, GHL's event for a change of custom fields.
func (s *Server) deleteCustomField(ctx context.Context, tx Tx, f *CustomField) error {
	if err := tx.DeleteRecord(ctx, KindCustomField, f.ID); err != nil {
		return err
	}
	if (f.Model != "" && f.Model != "contact") || (f.ObjectKey != "" && f.ObjectKey != "contact") {
		return nil // an opportunity's or custom object's field: no contact holds it
	}
	has := &Filter{Field: CustomFieldPrefix + f.ID, Operator: OpExists}
	return s.updateLocationContacts(ctx, tx, f.LocationID, has, func(c *Contact) (contactChange, bool) {
		n := len(c.CustomFields)
		c.CustomFields = slices.DeleteFunc(c.CustomFields, func(v CustomFieldValue) bool { return v.ID == f.ID })
		return contactChange{}, len(c.CustomFields) != n
	})
}

// getCustomFieldsByObjectKey serves GET
// /custom-fields/object-key/{objectKey}?locationId → {fields, folders}.
func (s *Server) getCustomFieldsByObjectKey(w http.ResponseWriter, r *Request) error {
	loc := r.Query("locationId")
	if loc == "" {
		return Invalid("locationId should not be empty")
	}
	// Either spelling of a custom object's key finds the fields and folders
	// stored with either.
	objectKey := canonicalObjectKey(r.PathParam("objectKey"))
	fields := []*customFieldV2{}
	folders := []*CustomFieldFolder{}
	err := s.read(r.Context(), func(tx Tx) error {
		all, err := ListRecordsAs[CustomField](r.Context(), tx, RecordQuery{Kind: KindCustomField, LocationID: loc})
		if err != nil {
			return err
		}
		for _, f := range all {
			if canonicalObjectKey(f.ObjectKey) == objectKey {
				fields = append(fields, f.v2())
			}
		}
		dirs, err := ListRecordsAs[CustomFieldFolder](r.Context(), tx, RecordQuery{Kind: KindCustomFieldFolder, LocationID: loc})
		if err != nil {
			return err
		}
		for _, d := range dirs {
			if d.ObjectKey = canonicalObjectKey(d.ObjectKey); d.ObjectKey == objectKey {
				folders = append(folders, d)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"fields": fields, "folders": folders})
	return nil
}

// folderBody is CreateFolder / UpdateFolder.
type folderBody struct {
	ObjectKey  string  `json:"objectKey"`
	Name       *string `json:"name"`
	LocationID string  `json:"locationId"`
}

// createCustomFieldFolder serves POST /custom-fields/folder → 201 folder.
func (s *Server) createCustomFieldFolder(w http.ResponseWriter, r *Request) error {
	var b folderBody
	if err := r.Decode(&b); err != nil {
		return err
	}
	var msgs []string
	b.ObjectKey = canonicalObjectKey(b.ObjectKey)
	if b.ObjectKey == "" {
		msgs = append(msgs, "objectKey should not be empty")
	} else if !validObjectKey(b.ObjectKey) {
		msgs = append(msgs, objectKeyMessage)
	}
	if b.Name == nil || strings.TrimSpace(*b.Name) == "" {
		msgs = append(msgs, "name should not be empty")
	}
	if b.LocationID == "" {
		msgs = append(msgs, "locationId should not be empty")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	now := stampOf(s.now())
	folder := &CustomFieldFolder{ID: NewID(), ObjectKey: b.ObjectKey, LocationID: b.LocationID, Name: strings.TrimSpace(*b.Name), DateAdded: now, DateUpdated: now}
	err := s.write(r.Context(), func(tx Tx) error {
		if _, _, err := loadLocation(r.Context(), tx, b.LocationID); err != nil {
			return err
		}
		return PutRecordOf(r.Context(), tx, Record{Kind: KindCustomFieldFolder, ID: folder.ID, LocationID: folder.LocationID, Key: folder.ObjectKey}, folder)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, folder)
	return nil
}

// loadFolder reads a folder by the path id with the access check; it must
// belong to locationID (from the body or query).
func loadFolder(r *Request, tx Tx, locationID string) (*CustomFieldFolder, *Record, error) {
	rec, err := tx.GetRecord(r.Context(), KindCustomFieldFolder, r.PathParam("id"))
	if err != nil {
		if IsNotFound(err) {
			return nil, nil, Errorf(ENOTFOUND, "Folder not found")
		}
		return nil, nil, err
	}
	if err := r.CheckLocation(rec.LocationID); err != nil {
		return nil, nil, err
	}
	if rec.LocationID != locationID {
		return nil, nil, Errorf(ENOTFOUND, "Folder not found")
	}
	folder := new(CustomFieldFolder)
	if err := json.Unmarshal(rec.Data, folder); err != nil {
		return nil, nil, err
	}
	folder.ObjectKey = canonicalObjectKey(folder.ObjectKey)
	return folder, rec, nil
}

// updateCustomFieldFolder serves PUT /custom-fields/folder/{id} → folder.
func (s *Server) updateCustomFieldFolder(w http.ResponseWriter, r *Request) error {
	var b folderBody
	if err := r.Decode(&b); err != nil {
		return err
	}
	var msgs []string
	if b.Name == nil || strings.TrimSpace(*b.Name) == "" {
		msgs = append(msgs, "name should not be empty")
	}
	if b.LocationID == "" {
		msgs = append(msgs, "locationId should not be empty")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	var folder *CustomFieldFolder
	err := s.write(r.Context(), func(tx Tx) error {
		var rec *Record
		var err error
		folder, rec, err = loadFolder(r, tx, b.LocationID)
		if err != nil {
			return err
		}
		folder.Name = strings.TrimSpace(*b.Name)
		folder.DateUpdated = stampOf(s.now())
		rec.Key = folder.ObjectKey // canonical, as loadFolder answers it
		return replaceRecordOf(r.Context(), tx, rec, folder)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, folder)
	return nil
}

// deleteCustomFieldFolder serves DELETE /custom-fields/folder/{id}
// ?locationId → {succeded, id, key}; key is the folder's objectKey. The
// folder's fields are kept and move to the top level (parentId "").
func (s *Server) deleteCustomFieldFolder(w http.ResponseWriter, r *Request) error {
	loc := r.Query("locationId")
	if loc == "" {
		return Invalid("locationId should not be empty")
	}
	var folder *CustomFieldFolder
	err := s.write(r.Context(), func(tx Tx) error {
		var err error
		folder, _, err = loadFolder(r, tx, loc)
		if err != nil {
			return err
		}
		recs, err := tx.ListRecords(r.Context(), RecordQuery{Kind: KindCustomField, LocationID: loc, ParentID: folder.ID})
		if err != nil {
			return err
		}
		for _, rec := range recs {
			var f CustomField
			if err := json.Unmarshal(rec.Data, &f); err != nil {
				return err
			}
			f.ParentID = ""
			moved := *rec
			moved.ParentID = ""
			if err := replaceRecordOf(r.Context(), tx, &moved, &f); err != nil {
				return err
			}
		}
		return tx.DeleteRecord(r.Context(), KindCustomFieldFolder, folder.ID)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"succeded": true, "id": folder.ID, "key": folder.ObjectKey})
	return nil
}
