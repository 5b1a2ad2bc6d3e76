package ghl

import (
	"context"
	"net/http"
	"net/url"
)

// CustomFieldsService calls the Custom Fields V2 namespace (/custom-fields/…),
// which covers custom objects as well as contacts and opportunities.
type CustomFieldsService service

// CustomField is a custom field (or folder) of the V2 API.
type CustomField struct {
	ID                string              `json:"id"`
	LocationID        string              `json:"locationId"`
	Name              string              `json:"name,omitempty"`
	Description       string              `json:"description,omitempty"`
	Placeholder       string              `json:"placeholder,omitempty"`
	ShowInForms       bool                `json:"showInForms"`
	Options           []CustomFieldOption `json:"options,omitempty"`
	AcceptedFormats   string              `json:"acceptedFormats,omitempty"`
	ObjectKey         string              `json:"objectKey,omitempty"`
	DataType          string              `json:"dataType,omitempty"`
	ParentID          string              `json:"parentId,omitempty"`
	FieldKey          string              `json:"fieldKey,omitempty"`
	AllowCustomOption bool                `json:"allowCustomOption,omitempty"`
	MaxFileLimit      int                 `json:"maxFileLimit,omitempty"`
	DateAdded         string              `json:"dateAdded,omitempty"`
	DateUpdated       string              `json:"dateUpdated,omitempty"`
}

// CustomFieldOption is one option of a select, radio or checkbox field.
type CustomFieldOption struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	URL   string `json:"url,omitempty"`
}

// CreateCustomFieldParams is the body of POST /custom-fields/.
type CreateCustomFieldParams struct {
	LocationID        string              `json:"locationId"`
	Name              string              `json:"name,omitempty"`
	Description       string              `json:"description,omitempty"`
	Placeholder       string              `json:"placeholder,omitempty"`
	ShowInForms       bool                `json:"showInForms"`
	Options           []CustomFieldOption `json:"options,omitempty"`
	AcceptedFormats   string              `json:"acceptedFormats,omitempty"`
	DataType          string              `json:"dataType"`
	FieldKey          string              `json:"fieldKey"`
	ObjectKey         string              `json:"objectKey"`
	MaxFileLimit      int                 `json:"maxFileLimit,omitempty"`
	AllowCustomOption *bool               `json:"allowCustomOption,omitempty"`
	ParentID          string              `json:"parentId"`
}

// UpdateCustomFieldParams is the body of PUT /custom-fields/{id}.
type UpdateCustomFieldParams struct {
	LocationID      string              `json:"locationId"`
	Name            string              `json:"name,omitempty"`
	Description     string              `json:"description,omitempty"`
	Placeholder     string              `json:"placeholder,omitempty"`
	ShowInForms     bool                `json:"showInForms"`
	Options         []CustomFieldOption `json:"options,omitempty"`
	AcceptedFormats string              `json:"acceptedFormats,omitempty"`
	MaxFileLimit    int                 `json:"maxFileLimit,omitempty"`
}

type fieldEnvelope struct {
	Field *CustomField `json:"field"`
}

// Get returns a custom field or folder.
//
// GHL API: GET /custom-fields/{id}
func (s *CustomFieldsService) Get(ctx context.Context, id string) (*CustomField, error) {
	u, err := apiPath("custom-fields/%s", id)
	if err != nil {
		return nil, err
	}
	return s.doField(ctx, http.MethodGet, u, nil)
}

// Update changes a custom field.
//
// GHL API: PUT /custom-fields/{id}
func (s *CustomFieldsService) Update(ctx context.Context, id string, p UpdateCustomFieldParams) (*CustomField, error) {
	u, err := apiPath("custom-fields/%s", id)
	if err != nil {
		return nil, err
	}
	f, err := s.doField(at(ctx, UserTypeLocation, p.LocationID), http.MethodPut, u, p)
	s.client.InvalidateCustomFields(p.LocationID)
	return f, err
}

// Create creates a custom field.
//
// GHL API: POST /custom-fields/
func (s *CustomFieldsService) Create(ctx context.Context, p CreateCustomFieldParams) (*CustomField, error) {
	f, err := s.doField(at(ctx, UserTypeLocation, p.LocationID), http.MethodPost, "custom-fields/", p)
	s.client.InvalidateCustomFields(p.LocationID)
	return f, err
}

func (s *CustomFieldsService) doField(ctx context.Context, method, u string, body any) (*CustomField, error) {
	req, err := s.client.NewRequest(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	var out fieldEnvelope
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return out.Field, nil
}

// Delete deletes a custom field.
//
// GHL API: DELETE /custom-fields/{id}
func (s *CustomFieldsService) Delete(ctx context.Context, id string) (*Succeeded, error) {
	u, err := apiPath("custom-fields/%s", id)
	if err != nil {
		return nil, err
	}
	return s.client.deleteCall(ctx, u, nil)
}

// CustomFieldsByObject is the answer of GET /custom-fields/object-key/{objectKey}.
type CustomFieldsByObject struct {
	Fields  []*CustomField `json:"fields"`
	Folders []*CustomField `json:"folders"`
}

// ListByObjectKey returns the custom fields and folders of an object
// ("contact", "opportunity" or "custom_objects.<key>") in a location.
//
// GHL API: GET /custom-fields/object-key/{objectKey}
func (s *CustomFieldsService) ListByObjectKey(ctx context.Context, objectKey, locationID string) (*CustomFieldsByObject, error) {
	u, err := apiPath("custom-fields/object-key/%s", objectKey)
	if err != nil {
		return nil, err
	}
	req, err := s.client.NewRequest(at(ctx, UserTypeLocation, locationID), http.MethodGet,
		withQuery(u, url.Values{"locationId": {locationID}}), nil)
	if err != nil {
		return nil, err
	}
	var out CustomFieldsByObject
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CustomFieldFolder is a folder that groups custom fields of an object.
type CustomFieldFolder struct {
	ID         string `json:"id"`
	ObjectKey  string `json:"objectKey"`
	LocationID string `json:"locationId"`
	Name       string `json:"name"`
}

// CreateFolderParams is the body of POST /custom-fields/folder.
type CreateFolderParams struct {
	ObjectKey  string `json:"objectKey"`
	Name       string `json:"name"`
	LocationID string `json:"locationId"`
}

// CreateFolder creates a custom field folder.
//
// GHL API: POST /custom-fields/folder
func (s *CustomFieldsService) CreateFolder(ctx context.Context, p CreateFolderParams) (*CustomFieldFolder, error) {
	req, err := s.client.NewRequest(at(ctx, UserTypeLocation, p.LocationID), http.MethodPost, "custom-fields/folder", p)
	if err != nil {
		return nil, err
	}
	var out CustomFieldFolder
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateFolder renames a custom field folder.
//
// GHL API: PUT /custom-fields/folder/{id}
func (s *CustomFieldsService) UpdateFolder(ctx context.Context, id, locationID, name string) (*CustomFieldFolder, error) {
	u, err := apiPath("custom-fields/folder/%s", id)
	if err != nil {
		return nil, err
	}
	body := struct {
		Name       string `json:"name"`
		LocationID string `json:"locationId"`
	}{name, locationID}
	req, err := s.client.NewRequest(at(ctx, UserTypeLocation, locationID), http.MethodPut, u, body)
	if err != nil {
		return nil, err
	}
	var out CustomFieldFolder
	if _, err := s.client.Do(req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteFolder deletes a custom field folder.
//
// GHL API: DELETE /custom-fields/folder/{id}
func (s *CustomFieldsService) DeleteFolder(ctx context.Context, id, locationID string) (*Succeeded, error) {
	u, err := apiPath("custom-fields/folder/%s", id)
	if err != nil {
		return nil, err
	}
	return s.client.deleteCall(at(ctx, UserTypeLocation, locationID), withQuery(u, url.Values{"locationId": {locationID}}), nil)
}
