package ghl

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

func TestLocationsService(t *testing.T) {
	const L, C = "Location:loc1", "Company:comp1"
	tag := `{"id":"tg1","name":"vip","locationId":"loc1"}`
	wantTag := &LocationTag{ID: "tg1", Name: "vip", LocationID: "loc1"}
	field := `{"id":"f1","name":"Pin","fieldKey":"contact.pin","dataType":"TEXT","position":0,"picklistOptions":["a"],"model":"contact"}`
	wantField := &LocationCustomField{ID: "f1", Name: "Pin", FieldKey: "contact.pin", DataType: "TEXT", PicklistOptions: StringList{"a"}, Model: "contact"}
	value := `{"id":"v1","name":"Hours","fieldKey":"{{ custom_values.hours }}","value":"9-5","locationId":"loc1"}`
	wantValue := &CustomValue{ID: "v1", Name: "Hours", FieldKey: "{{ custom_values.hours }}", Value: "9-5", LocationID: "loc1"}
	rtask := `{"id":"r1","title":"T","locationId":"loc1","rruleOptions":{"intervalType":"daily","interval":1,"startDate":"2024-01-01","dueAfterSeconds":60}}`
	wantRTask := &RecurringTask{ID: "r1", Title: "T", LocationID: "loc1", RRuleOptions: &RRuleOptions{IntervalType: "daily", Interval: 1, StartDate: "2024-01-01", DueAfterSeconds: 60}}
	ok := &Succeeded{Succeeded: true}

	runAPICases(t, []apiCase{
		{
			name: "Search", method: "GET", path: "/locations/search", auth: C,
			query:   q("companyId", "comp1", "skip", "10", "limit", "5", "order", "asc", "email", "a@b.co"),
			respond: `{"locations":[{"id":"loc1","name":"Shoes","settings":{"allowDuplicateContact":false}}]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return drop(c.Locations.Search(ctx, SearchLocationsParams{CompanyID: "comp1", Skip: 10, Limit: 5, Order: "asc", Email: "a@b.co"}))
			},
			want: &LocationList{Locations: []*Location{{ID: "loc1", Name: "Shoes", Settings: &LocationSettings{AllowDuplicateContact: Bool(false)}}}},
		},
		{
			name: "Get", method: "GET", path: "/locations/loc1", auth: L,
			respond: `{"location":{"id":"loc1","companyId":"comp1","name":"Dentist","business":{"name":"B"},"social":{"yelp":"y"},"reseller":{}}}`,
			call:    func(ctx context.Context, c *Client) (any, error) { return one(c.Locations.Get(ctx, "loc1")) },
			want: &Location{ID: "loc1", CompanyID: "comp1", Name: "Dentist", Business: &LocationBusiness{Name: "B"},
				Social: &LocationSocial{Yelp: "y"}, Reseller: json.RawMessage(`{}`)},
		},
		{
			name: "Create", method: "POST", path: "/locations/", auth: C,
			body:    `{"name":"Shoes","companyId":"comp1","prospectInfo":{"firstName":"J","lastName":"D","email":"j@d.co"},"snapshotId":"s1"}`,
			respond: `{"id":"loc2","companyId":"comp1","name":"Shoes"}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.Create(ctx, LocationParams{Name: "Shoes", CompanyID: "comp1",
					ProspectInfo: &ProspectInfo{FirstName: "J", LastName: "D", Email: "j@d.co"}, SnapshotID: "s1"}))
			},
			want: &Location{ID: "loc2", CompanyID: "comp1", Name: "Shoes"},
		},
		{
			name: "Update", method: "PUT", path: "/locations/loc2", auth: C,
			body:    `{"companyId":"comp1","timezone":"US/Central","snapshot":{"id":"s1","override":true}}`,
			respond: `{"id":"loc2","timezone":"US/Central"}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.Update(ctx, "loc2", LocationParams{CompanyID: "comp1", Timezone: "US/Central", Snapshot: &SnapshotRef{ID: "s1", Override: Bool(true)}}))
			},
			want: &Location{ID: "loc2", Timezone: "US/Central"},
		},
		{
			name: "Delete", method: "DELETE", path: "/locations/loc2", auth: C, query: q("deleteTwilioAccount", "true"),
			respond: `{"success":true,"message":"Deleted"}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.Delete(WithCompany(ctx, "comp1"), "loc2", true))
			},
			want: &LocationDeleteResult{Success: true, Message: "Deleted"},
		},
		{
			name: "ListTags", method: "GET", path: "/locations/loc1/tags", auth: L, respond: `{"tags":[` + tag + `]}`,
			call: func(ctx context.Context, c *Client) (any, error) { return one(c.Locations.ListTags(ctx, "loc1")) },
			want: []*LocationTag{wantTag},
		},
		{
			name: "CreateTag", method: "POST", path: "/locations/loc1/tags", auth: L, body: `{"name":"vip"}`, respond: `{"tag":` + tag + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.CreateTag(ctx, "loc1", "vip"))
			},
			want: wantTag,
		},
		{
			name: "GetTag", method: "GET", path: "/locations/loc1/tags/tg1", auth: L, respond: `{"tag":` + tag + `}`,
			call: func(ctx context.Context, c *Client) (any, error) { return one(c.Locations.GetTag(ctx, "loc1", "tg1")) },
			want: wantTag,
		},
		{
			name: "UpdateTag", method: "PUT", path: "/locations/loc1/tags/tg1", auth: L, body: `{"name":"vip"}`, respond: `{"tag":` + tag + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.UpdateTag(ctx, "loc1", "tg1", "vip"))
			},
			want: wantTag,
		},
		{
			name: "DeleteTag", method: "DELETE", path: "/locations/loc1/tags/tg1", auth: L, respond: `{"succeded":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.DeleteTag(ctx, "loc1", "tg1"))
			},
			want: ok,
		},
		{
			name: "SearchTasks", method: "POST", path: "/locations/loc1/tasks/search", auth: L,
			body:    `{"contactId":["c1"],"completed":false,"limit":10,"skip":20}`,
			respond: `{"tasks":[{"id":"t1","title":"Call","contactId":"c1"},[]]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return drop(c.Locations.SearchTasks(ctx, SearchTasksParams{LocationID: "loc1", ContactIDs: []string{"c1"}, Completed: Bool(false), Limit: 10, Skip: 20}))
			},
			want: &LocationTaskList{Tasks: []*LocationTask{{ID: "t1", Title: "Call", ContactID: "c1"}, {}}},
		},
		{
			name: "GetRecurringTask", method: "GET", path: "/locations/loc1/recurring-tasks/r1", auth: L, respond: `{"recurringTask":` + rtask + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.GetRecurringTask(ctx, "loc1", "r1"))
			},
			want: wantRTask,
		},
		{
			name: "CreateRecurringTask", method: "POST", path: "/locations/loc1/recurring-tasks", auth: L, status: 201,
			body:    `{"title":"T","rruleOptions":{"intervalType":"daily","interval":1,"startDate":"2024-01-01","dueAfterSeconds":60}}`,
			respond: `{"recurringTask":` + rtask + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.CreateRecurringTask(ctx, "loc1", RecurringTaskParams{Title: "T",
					RRuleOptions: &RRuleOptions{IntervalType: "daily", Interval: 1, StartDate: "2024-01-01", DueAfterSeconds: 60}}))
			},
			want: wantRTask,
		},
		{
			name: "UpdateRecurringTask", method: "PUT", path: "/locations/loc1/recurring-tasks/r1", auth: L,
			body: `{"title":"T2","ignoreTaskCreation":true}`, respond: `{"recurringTask":` + rtask + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.UpdateRecurringTask(ctx, "loc1", "r1", RecurringTaskParams{Title: "T2", IgnoreTaskCreation: Bool(true)}))
			},
			want: wantRTask,
		},
		{
			name: "DeleteRecurringTask", method: "DELETE", path: "/locations/loc1/recurring-tasks/r1", auth: L, respond: `{"id":"r1","success":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.DeleteRecurringTask(ctx, "loc1", "r1"))
			},
			want: &DeleteRecurringTaskResult{ID: "r1", Success: true},
		},
		{
			name: "ListCustomFields", method: "GET", path: "/locations/loc1/customFields", auth: L, query: q("model", "all"),
			respond: `{"customFields":[` + field + `]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.ListCustomFields(ctx, "loc1", "all"))
			},
			want: []*LocationCustomField{wantField},
		},
		{
			name: "CreateCustomField", method: "POST", path: "/locations/loc1/customFields", auth: L, status: 201,
			body:    `{"name":"Pin","dataType":"TEXT","position":0,"textBoxListOptions":[{"label":"First"}],"model":"contact"}`,
			respond: `{"customField":` + field + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.CreateCustomField(ctx, "loc1", LocationCustomFieldParams{Name: "Pin", DataType: "TEXT", Position: Int(0),
					TextBoxListOptions: []TextBoxListOption{{Label: "First"}}, Model: "contact"}))
			},
			want: wantField,
		},
		{
			name: "GetCustomField", method: "GET", path: "/locations/loc1/customFields/f1", auth: L, respond: `{"customField":` + field + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.GetCustomField(ctx, "loc1", "f1"))
			},
			want: wantField,
		},
		{
			name: "UpdateCustomField", method: "PUT", path: "/locations/loc1/customFields/f1", auth: L,
			body: `{"name":"PIN"}`, respond: `{"customField":` + field + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.UpdateCustomField(ctx, "loc1", "f1", LocationCustomFieldParams{Name: "PIN"}))
			},
			want: wantField,
		},
		{
			name: "DeleteCustomField", method: "DELETE", path: "/locations/loc1/customFields/f1", auth: L, respond: `{"succeded":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.DeleteCustomField(ctx, "loc1", "f1"))
			},
			want: ok,
		},
		{
			name: "ListCustomValues", method: "GET", path: "/locations/loc1/customValues", auth: L, respond: `{"customValues":[` + value + `]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.ListCustomValues(ctx, "loc1"))
			},
			want: []*CustomValue{wantValue},
		},
		{
			name: "CreateCustomValue", method: "POST", path: "/locations/loc1/customValues", auth: L, status: 201,
			body: `{"name":"Hours","value":"9-5"}`, respond: `{"customValue":` + value + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.CreateCustomValue(ctx, "loc1", CustomValueParams{Name: "Hours", Value: "9-5"}))
			},
			want: wantValue,
		},
		{
			name: "GetCustomValue", method: "GET", path: "/locations/loc1/customValues/v1", auth: L, respond: `{"customValue":` + value + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.GetCustomValue(ctx, "loc1", "v1"))
			},
			want: wantValue,
		},
		{
			name: "UpdateCustomValue", method: "PUT", path: "/locations/loc1/customValues/v1", auth: L,
			body: `{"name":"Hours","value":"8-4"}`, respond: `{"customValue":` + value + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.UpdateCustomValue(ctx, "loc1", "v1", CustomValueParams{Name: "Hours", Value: "8-4"}))
			},
			want: wantValue,
		},
		{
			name: "DeleteCustomValue", method: "DELETE", path: "/locations/loc1/customValues/v1", auth: L, respond: `{"succeded":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Locations.DeleteCustomValue(ctx, "loc1", "v1"))
			},
			want: ok,
		},
		{
			name: "Timezones/array", method: "GET", path: "/locations/loc1/timezones", auth: L, respond: `["US/Central","Asia/Calcutta"]`,
			call: func(ctx context.Context, c *Client) (any, error) { return one(c.Locations.Timezones(ctx, "loc1")) },
			want: []string{"US/Central", "Asia/Calcutta"},
		},
		{
			name: "Timezones/object", method: "GET", path: "/locations/loc1/timezones", auth: L, respond: `{"timeZones":["UTC"],"traceId":"x"}`,
			call: func(ctx context.Context, c *Client) (any, error) { return one(c.Locations.Timezones(ctx, "loc1")) },
			want: []string{"UTC"},
		},
		{
			name: "ListTemplates", method: "GET", path: "/locations/loc1/templates", auth: L,
			query: q("originId", "loc1", "deleted", "false", "skip", "25", "limit", "25", "type", "sms"),
			respond: `{"templates":[{"id":"tp1","name":"sms template","type":"sms","template":{"body":"hi","attachments":[]},"locationId":"loc1"},
				{"id":"tp2","type":"email","template":{"subject":"S","html":"<b>x</b>"}}],"totalCount":"100"}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return drop(c.Locations.ListTemplates(ctx, ListTemplatesParams{LocationID: "loc1", Deleted: Bool(false), Skip: 25, Limit: 25, Type: "sms"}))
			},
			want: &TemplateList{TotalCount: 100, Templates: []*Template{
				{ID: "tp1", Name: "sms template", Type: "sms", Template: &TemplateContent{Body: "hi", Attachments: []json.RawMessage{}}, LocationID: "loc1"},
				{ID: "tp2", Type: "email", Template: &TemplateContent{Subject: "S", HTML: "<b>x</b>"}},
			}},
		},
		{
			name: "DeleteTemplate", method: "DELETE", path: "/locations/loc1/templates/tp1", auth: L, respond: `{}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.Locations.DeleteTemplate(ctx, "loc1", "tp1")
			},
			want: nil,
		},
	})
}

func TestUploadCustomFieldFiles(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("POST /locations/loc1/customFields/upload", func(w http.ResponseWriter, r *http.Request) {
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" {
			t.Fatalf("Content-Type = %q", r.Header.Get("Content-Type"))
		}
		form, err := multipart.NewReader(r.Body, params["boundary"]).ReadForm(1 << 20)
		if err != nil {
			t.Fatal(err)
		}
		if form.Value["id"][0] != "c1" || form.Value["maxFiles"][0] != "2" {
			t.Errorf("values = %v", form.Value)
		}
		fh := form.File["f1_abc"][0]
		f, _ := fh.Open()
		b, _ := io.ReadAll(f)
		if fh.Filename != "a.txt" || string(b) != "hello" {
			t.Errorf("file %q = %q", fh.Filename, b)
		}
		io.WriteString(w, `{"uploadedFiles":{"a.txt":"https://files/a.txt"},"meta":[]}`)
	})
	got, err := c.Locations.UploadCustomFieldFiles(t.Context(), UploadCustomFieldFilesParams{LocationID: "loc1", ID: "c1", MaxFiles: 2,
		Files: []UploadFile{{FieldName: "f1_abc", FileName: "a.txt", Content: []byte("hello")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.UploadedFiles["a.txt"] != "https://files/a.txt" {
		t.Errorf("got %+v", got)
	}
}

func TestCustomFieldsService(t *testing.T) {
	const L = "Location:loc1"
	field := `{"id":"f1","locationId":"loc1","name":"Name","showInForms":true,"options":[{"key":"a","label":"A"}],"objectKey":"custom_objects.pet",
		"dataType":"SINGLE_OPTIONS","parentId":"p1","fieldKey":"custom_objects.pet.name","dateAdded":"2024-01-01T00:00:00Z"}`
	wantField := &CustomField{ID: "f1", LocationID: "loc1", Name: "Name", ShowInForms: true, Options: []CustomFieldOption{{Key: "a", Label: "A"}},
		ObjectKey: "custom_objects.pet", DataType: "SINGLE_OPTIONS", ParentID: "p1", FieldKey: "custom_objects.pet.name", DateAdded: "2024-01-01T00:00:00Z"}
	folder := `{"id":"fo1","objectKey":"custom_objects.pet","locationId":"loc1","name":"Info"}`
	wantFolder := &CustomFieldFolder{ID: "fo1", ObjectKey: "custom_objects.pet", LocationID: "loc1", Name: "Info"}

	runAPICases(t, []apiCase{
		{
			name: "Get", method: "GET", path: "/custom-fields/f1", auth: L, respond: `{"field":` + field + `}`,
			call: func(ctx context.Context, c *Client) (any, error) { return one(c.CustomFields.Get(locCtx(ctx), "f1")) },
			want: wantField,
		},
		{
			name: "Update", method: "PUT", path: "/custom-fields/f1", auth: L,
			body: `{"locationId":"loc1","name":"Name","showInForms":false}`, respond: `{"field":` + field + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.CustomFields.Update(ctx, "f1", UpdateCustomFieldParams{LocationID: "loc1", Name: "Name"}))
			},
			want: wantField,
		},
		{
			name: "Delete", method: "DELETE", path: "/custom-fields/f1", auth: L,
			respond: `{"succeded":true,"id":"f1","key":"custom_objects.pet.name"}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.CustomFields.Delete(locCtx(ctx), "f1"))
			},
			want: &Succeeded{Succeeded: true, ID: "f1", Key: "custom_objects.pet.name"},
		},
		{
			name: "ListByObjectKey", method: "GET", path: "/custom-fields/object-key/custom_objects.pet", auth: L,
			query: q("locationId", "loc1"), respond: `{"fields":[` + field + `],"folders":[]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.CustomFields.ListByObjectKey(ctx, "custom_objects.pet", "loc1"))
			},
			want: &CustomFieldsByObject{Fields: []*CustomField{wantField}, Folders: []*CustomField{}},
		},
		{
			name: "CreateFolder", method: "POST", path: "/custom-fields/folder", auth: L, status: 201,
			body: `{"objectKey":"custom_objects.pet","name":"Info","locationId":"loc1"}`, respond: folder,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.CustomFields.CreateFolder(ctx, CreateFolderParams{ObjectKey: "custom_objects.pet", Name: "Info", LocationID: "loc1"}))
			},
			want: wantFolder,
		},
		{
			name: "UpdateFolder", method: "PUT", path: "/custom-fields/folder/fo1", auth: L,
			body: `{"name":"Info","locationId":"loc1"}`, respond: folder,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.CustomFields.UpdateFolder(ctx, "fo1", "loc1", "Info"))
			},
			want: wantFolder,
		},
		{
			name: "DeleteFolder", method: "DELETE", path: "/custom-fields/folder/fo1", auth: L, query: q("locationId", "loc1"),
			respond: `{"succeded":true,"id":"fo1","key":"k"}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.CustomFields.DeleteFolder(ctx, "fo1", "loc1"))
			},
			want: &Succeeded{Succeeded: true, ID: "fo1", Key: "k"},
		},
		{
			name: "Create", method: "POST", path: "/custom-fields/", auth: L, status: 201,
			body: `{"locationId":"loc1","name":"Name","showInForms":true,"dataType":"TEXT","fieldKey":"custom_objects.pet.name",
				"objectKey":"custom_objects.pet","parentId":"p1","options":[{"key":"a","label":"A","url":"u"}]}`,
			respond: `{"field":` + field + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.CustomFields.Create(ctx, CreateCustomFieldParams{LocationID: "loc1", Name: "Name", ShowInForms: true, DataType: "TEXT",
					FieldKey: "custom_objects.pet.name", ObjectKey: "custom_objects.pet", ParentID: "p1",
					Options: []CustomFieldOption{{Key: "a", Label: "A", URL: "u"}}}))
			},
			want: wantField,
		},
	})
}

func TestUsersService(t *testing.T) {
	user := `{"id":"u1","name":"John Deo","firstName":"John","email":"j@d.co","permissions":{"contactsEnabled":true,"campaignsReadOnly":false},
		"scopes":"contacts.readonly","roles":{"type":"account","role":"admin","locationIds":["loc1"]},"platformLanguage":"en_US"}`
	wantUser := &User{ID: "u1", Name: "John Deo", FirstName: "John", Email: "j@d.co",
		Permissions: UserPermissions{"contactsEnabled": true, "campaignsReadOnly": false}, Scopes: StringList{"contacts.readonly"},
		Roles: &UserRoles{Type: "account", Role: "admin", LocationIDs: []string{"loc1"}}, PlatformLanguage: "en_US"}

	runAPICases(t, []apiCase{
		{
			name: "Search", method: "GET", path: "/users/search", auth: "Company:comp1",
			query:   q("companyId", "comp1", "skip", "25", "limit", "25", "query", "john", "ids", "u1,u2", "sortDirection", "desc", "enabled2waySync", "true"),
			respond: `{"users":[` + user + `],"count":1}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return drop(c.Users.Search(ctx, SearchUsersParams{CompanyID: "comp1", Skip: 25, Limit: 25, Query: "john", IDs: []string{"u1", "u2"},
					SortDirection: "desc", Enabled2WaySync: Bool(true)}))
			},
			want: &UserList{Users: []*User{wantUser}, Count: 1},
		},
		{
			name: "Search/location", method: "GET", path: "/users/search", auth: "Location:loc1",
			query:   q("companyId", "comp1", "locationId", "loc1"),
			respond: `{"users":[],"count":0}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return drop(c.Users.Search(ctx, SearchUsersParams{CompanyID: "comp1", LocationID: "loc1"}))
			},
			want: &UserList{Users: []*User{}},
		},
		{
			name: "FilterByEmail", method: "POST", path: "/users/search/filter-by-email", auth: "Company:comp1",
			body:    `{"companyId":"comp1","emails":"a@x.co,b@x.co","deleted":false,"skip":"10","limit":"5","projection":"all"}`,
			respond: `{"users":[` + user + `],"count":1}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return drop(c.Users.FilterByEmail(ctx, FilterUsersByEmailParams{CompanyID: "comp1", Emails: []string{"a@x.co", "b@x.co"},
					Deleted: Bool(false), Skip: 10, Limit: 5, Projection: "all"}))
			},
			want: &UserList{Users: []*User{wantUser}, Count: 1},
		},
		{
			name: "Get", method: "GET", path: "/users/u1", auth: "Location:loc1", respond: user,
			call: func(ctx context.Context, c *Client) (any, error) { return one(c.Users.Get(locCtx(ctx), "u1")) },
			want: wantUser,
		},
		{
			name: "Update", method: "PUT", path: "/users/u1", auth: "Location:loc1",
			body: `{"firstName":"Jon","permissions":{"contactsEnabled":false}}`, respond: user,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Users.Update(locCtx(ctx), "u1", UserParams{FirstName: "Jon", Permissions: UserPermissions{"contactsEnabled": false}}))
			},
			want: wantUser,
		},
		{
			name: "Delete", method: "DELETE", path: "/users/u1", auth: "Location:loc1",
			respond: `{"succeded":true,"message":"Queued deleting user"}`,
			call:    func(ctx context.Context, c *Client) (any, error) { return one(c.Users.Delete(locCtx(ctx), "u1")) },
			want:    &Succeeded{Succeeded: true, Message: "Queued deleting user"},
		},
		{
			name: "ListByLocation", method: "GET", path: "/users/", auth: "Location:loc1", query: q("locationId", "loc1"),
			respond: `{"users":[` + user + `]}`,
			call:    func(ctx context.Context, c *Client) (any, error) { return one(c.Users.ListByLocation(ctx, "loc1")) },
			want:    []*User{wantUser},
		},
		{
			name: "Create", method: "POST", path: "/users/", auth: "Company:comp1", status: 201,
			body: `{"companyId":"comp1","firstName":"John","lastName":"Deo","email":"j@d.co","password":"pw","type":"account","role":"user",
				"locationIds":["loc1"],"scopes":["contacts.write"],"twilioPhone":{"loc1":"+1555"}}`,
			respond: user,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Users.Create(ctx, UserParams{CompanyID: "comp1", FirstName: "John", LastName: "Deo", Email: "j@d.co", Password: "pw",
					Type: "account", Role: "user", LocationIDs: []string{"loc1"}, Scopes: []string{"contacts.write"}, TwilioPhone: map[string]string{"loc1": "+1555"}}))
			},
			want: wantUser,
		},
	})
}

func TestCompaniesService(t *testing.T) {
	runAPICases(t, []apiCase{{
		name: "Get", method: "GET", path: "/companies/comp1", auth: "Company:comp1",
		respond: `{"company":{"id":"comp1","name":"Tesla inc","plan":1,"twilioFreeCredits":100,"onboardingInfo":{"pending":true},"status":"active-trial"}}`,
		call:    func(ctx context.Context, c *Client) (any, error) { return one(c.Companies.Get(ctx, "comp1")) },
		want:    &Company{ID: "comp1", Name: "Tesla inc", Plan: 1, TwilioFreeCredits: 100, OnboardingInfo: json.RawMessage(`{"pending":true}`), Status: "active-trial"},
	}})
}

func TestOAuthService(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("token endpoint got Authorization %q", a)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type = %q", ct)
		}
		r.ParseForm()
		want := q("client_id", "id", "client_secret", "sec", "grant_type", "refresh_token", "refresh_token", "r1", "user_type", "Location")
		if r.PostForm.Encode() != want.Encode() {
			t.Errorf("form = %s", r.PostForm.Encode())
		}
		io.WriteString(w, `{"access_token":"a2","token_type":"Bearer","expires_in":86399,"refresh_token":"r2","scope":"contacts.readonly",
			"userType":"Location","locationId":"loc1","companyId":"comp1","userId":"u1","approvedLocations":["loc1"]}`)
	})
	mux.HandleFunc("POST /oauth/locationToken", func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Authorization"); a != "Bearer Company:comp1" {
			t.Errorf("Authorization = %q", a)
		}
		if v := r.Header.Get("Version"); v != Version20210728 {
			t.Errorf("Version = %q", v)
		}
		r.ParseForm()
		if r.PostForm.Get("companyId") != "comp1" || r.PostForm.Get("locationId") != "loc1" {
			t.Errorf("form = %v", r.PostForm)
		}
		io.WriteString(w, `{"access_token":"la","token_type":"Bearer","expires_in":86399,"locationId":"loc1","userId":"u1","appId":"app"}`)
	})
	mux.HandleFunc("GET /oauth/installedLocations", func(w http.ResponseWriter, r *http.Request) {
		if got := r.URL.Query().Encode(); got != "appId=app&companyId=comp1&isInstalled=true&limit=20&skip=20" {
			t.Errorf("query = %s", got)
		}
		io.WriteString(w, `{"locations":[{"_id":"loc1","name":"A","address":"x","isInstalled":true}],"count":21,"installToFutureLocations":true}`)
	})
	ctx := t.Context()
	tok, err := c.OAuth.Token(ctx, TokenParams{ClientID: "id", ClientSecret: "sec", GrantType: GrantRefreshToken, RefreshToken: "r1", UserType: UserTypeLocation})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "a2" || tok.RefreshToken != "r2" || tok.ExpiresIn != 86399 || tok.LocationID != "loc1" || tok.ApprovedLocations[0] != "loc1" {
		t.Errorf("token = %+v", tok)
	}
	lt, err := c.OAuth.LocationToken(ctx, "comp1", "loc1")
	if err != nil || lt.AccessToken != "la" || lt.AppID != "app" {
		t.Fatalf("LocationToken = %+v, %v", lt, err)
	}
	il, _, err := c.OAuth.InstalledLocations(ctx, InstalledLocationsParams{CompanyID: "comp1", AppID: "app", Skip: 20, Limit: 20, IsInstalled: Bool(true)})
	if err != nil || il.Count != 21 || il.Locations[0].ID != "loc1" || !strings.Contains(il.Locations[0].Name, "A") {
		t.Fatalf("InstalledLocations = %+v, %v", il, err)
	}
}
