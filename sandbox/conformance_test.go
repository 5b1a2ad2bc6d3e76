package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/spec"
)

// The spec-conformance layer: every implemented operation, called the way
// its owner would call it, must answer a status its spec lists, as JSON,
// with a body that validates against the spec's response schema for that
// status. Where the sandbox follows what GHL really answers over a defect
// of the spec, confAllowed says so, operation by operation and path by
// path.

// confRequest is one request of the conformance run. It starts as the
// owner's request the isolation fixture builds and a case may change it.
type confRequest struct {
	Token   string
	Path    string // path parameters filled
	Query   url.Values
	Body    any // nil, a string/[]byte sent as is, or a JSON value
	Headers map[string]string
}

// confCase is one operation of the run, in run order.
type confCase struct {
	op string // "namespace/operationId"
	// req adjusts the default request; nil keeps it.
	req func(c *confRun, r *confRequest)
	// after sees the decoded 2xx answer (to keep ids for later cases).
	after func(c *confRun, body map[string]any)
}

// confRun is the state the cases share.
type confRun struct {
	t    *testing.T
	e    *testEnv
	fx   *isolationFixture
	ids  map[string]string // objects the run creates
	seed *sandbox.SeedResult
	// OAuth: a registered Agency app installed on company C1.
	app           oauthApp
	agencyOAuth   string // its Company access token
	agencyRefresh string
	locationOAuth string // a Location access token of L1
}

// confAllowed lists the known spec defects the sandbox deliberately
// follows GHL over. Each names an operation ("namespace/operationId"), the
// JSON path where the spec is wrong ([*] for any index), why, and the
// schema the value is held to instead (resolved in the operation's spec
// file): the spec's mismatches at or under the path are dropped and the
// value is validated against the replacement, so the entry excuses the
// defect and nothing else. A nil schema accepts anything there.
var confAllowed = []struct {
	op, path, why string
	schema        map[string]any
}{
	{"opportunities/get-pipelines", "$.pipelines[*].stages[*]",
		"PipelinesResponseSchema.stages items are typed as arrays (an array without items); GHL answers stage objects",
		confObject([]string{"id", "name", "position"}, map[string]any{"id": confType("string"), "name": confType("string"), "position": confType("number")})},
	{"locations/task-search", "$.tasks[*]",
		"LocationTaskListSuccessfulResponseDto.tasks items are typed as arrays (an array without items); GHL answers task objects",
		map[string]any{"$ref": "contacts.json#/components/schemas/TaskSchema"}},
	{"custom-fields/get-custom-fields-by-object-key", "$.folders[*]",
		"the spec types folders as ICustomField, whose required dataType/fieldKey/showInForms/parentId are field-only; a folder is the ICustomFieldFolder the folder operations answer",
		map[string]any{"$ref": "#/components/schemas/ICustomFieldFolder"}},
	{"contacts/create-association", "$.responses[*]",
		"UpdateTagsResponseDTO.responses items are typed string, but the spec's own example (and GHL) answers one result object per contact",
		confObject([]string{"contactId", "message", "type"}, map[string]any{"contactId": confType("string"), "message": confType("string"),
			"type": map[string]any{"type": "string", "enum": []any{"success", "error"}}, "oldTags": confStrings(), "tagsAdded": confStrings(), "tagsRemoved": confStrings()})},
	{"locations/upload-file-customFields", "$.meta[*]",
		"FileUploadResponseDto.meta items are typed string, but the spec's own example (and GHL, which answers multer's file records) has objects",
		confObject([]string{"fieldname", "originalname", "mimetype", "size", "url"}, map[string]any{"fieldname": confType("string"), "originalname": confType("string"),
			"encoding": confType("string"), "mimetype": confType("string"), "size": confType("number"), "url": confType("string")})},
	{"contacts/get-contacts", "$.contacts[*].customFields[*].value", whyCustomFieldValue, confCustomFieldValue},
	{"contacts/create-contact", "$.contact.customFields[*].value", whyCustomFieldValue, confCustomFieldValue},
	{"contacts/upsert-contact", "$.contact.customFields[*].value", whyCustomFieldValue, confCustomFieldValue},
}

const whyCustomFieldValue = "CustomFieldSchema.value is typed string; GHL answers the value typed by the field (a number for NUMERICAL, an option array for CHECKBOX…), as its contact webhook docs type it: string, number, array or object"

// confCustomFieldValue is a contact custom field value as GHL answers it
// (the type GHL's ContactCreate/ContactUpdate webhook docs give it).
var confCustomFieldValue = map[string]any{"anyOf": []any{confType("string"), confType("number"), confStrings(), confType("object")}}

func confType(t string) map[string]any { return map[string]any{"type": t} }

func confStrings() map[string]any {
	return map[string]any{"type": "array", "items": confType("string")}
}

func confObject(required []string, props map[string]any) map[string]any {
	req := make([]any, len(required))
	for i, r := range required {
		req[i] = r
	}
	return map[string]any{"type": "object", "required": req, "properties": props}
}

// confStatusAllowed are operations answering a status their spec does not
// list, because GHL does.
var confStatusAllowed = map[string]struct {
	status int
	why    string
}{}

// confCases is the run, in order: for each namespace the reads, creates and
// updates first, then the destructive operations, each on an object no
// later case reads (its own, freshly created one where the fixture's is
// shared).
var confCases = []confCase{
	// ---- companies, campaigns, workflows, pipelines, calendars (read-only) ----
	{op: "companies/get-company"},
	{op: "campaigns/get-campaigns"},
	{op: "workflows/get-workflow"},
	{op: "opportunities/get-pipelines"},
	{op: "calendars/get-calendars"},
	{op: "calendars/get-calendar"},
	{op: "calendars/get-slots", req: func(c *confRun, r *confRequest) {
		from := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
		r.Query = url.Values{"startDate": {strconv.FormatInt(from.UnixMilli(), 10)}, "endDate": {strconv.FormatInt(from.Add(72*time.Hour).UnixMilli(), 10)},
			"timezone": {"America/Los_Angeles"}}
	}},

	// ---- OAuth ----
	{op: "oauth/get-access-token", req: func(c *confRun, r *confRequest) {
		r.Token = ""
		r.Headers = map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Version": ""}
		r.Body = url.Values{"grant_type": {"refresh_token"}, "client_id": {c.app.ClientID}, "client_secret": {c.app.Secret},
			"refresh_token": {c.agencyRefresh}, "user_type": {"Company"}}.Encode()
	}, after: func(c *confRun, m map[string]any) {
		c.agencyOAuth, c.agencyRefresh = jsonStr(m, "access_token"), jsonStr(m, "refresh_token")
	}},
	{op: "oauth/get-installed-location", req: func(c *confRun, r *confRequest) {
		r.Token = c.agencyOAuth
		r.Query = url.Values{"companyId": {c.e.C1}, "appId": {c.app.ID}}
	}},
	{op: "oauth/get-location-access-token", req: func(c *confRun, r *confRequest) {
		r.Token = c.agencyOAuth
	}},

	// ---- locations ----
	{op: "locations/get-location"},
	{op: "locations/search-locations"},
	{op: "locations/put-location", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"companyId": c.e.C1, "name": "Bright Smile Dental", "timezone": "America/Los_Angeles",
			"settings": map[string]any{"allowDuplicateContact": false}, "social": map[string]any{"yelp": "https://yelp.com/x"}}
	}},
	{op: "locations/create-location", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"companyId": c.e.C1, "name": "Conformance Clinic", "email": "clinic@example.com", "phone": "+14155550123",
			"address": "1 Main St", "city": "Oakland", "state": "CA", "country": "US", "postalCode": "94607", "timezone": "America/Los_Angeles"}
	}, after: func(c *confRun, m map[string]any) { c.ids["locationId"] = jsonStr(m, "id") }},
	{op: "locations/get-timezones"},
	{op: "locations/get-location-tags"},
	{op: "locations/create-tag", req: func(c *confRun, r *confRequest) { r.Body = map[string]any{"name": "conformance"} },
		after: func(c *confRun, m map[string]any) { c.ids["tagId"] = nested(m, "tag", "id") }},
	{op: "locations/get-tag-by-id"},
	{op: "locations/update-tag", req: func(c *confRun, r *confRequest) { r.Body = map[string]any{"name": "iso-tag-renamed"} }},
	{op: "locations/create-custom-field", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"name": "Conformance Choice", "dataType": "SINGLE_OPTIONS", "options": []string{"a", "b"}}
	}, after: func(c *confRun, m map[string]any) { c.ids["locationCustomFieldId"] = nested(m, "customField", "id") }},
	{op: "locations/get-custom-fields"},
	{op: "locations/get-custom-field", req: func(c *confRun, r *confRequest) { r.Path = c.locPath("customFields", c.ids["locationCustomFieldId"]) }},
	{op: "locations/update-custom-field", req: func(c *confRun, r *confRequest) {
		r.Path = c.locPath("customFields", c.ids["locationCustomFieldId"])
		r.Body = map[string]any{"name": "Conformance Choice 2", "options": []string{"a", "b", "c"}}
	}},
	{op: "locations/upload-file-customFields", req: func(c *confRun, r *confRequest) {
		id := c.ids["fileFieldId"]
		form := multipartBody(c.t, map[string]string{"id": id, "maxFiles": "1"}, []testFile{{id + "_a1", "note.pdf", "application/pdf", "%PDF-1.4 hello"}})
		r.Body, r.Headers["Content-Type"] = form.body, form.contentType
	}},
	{op: "locations/get-custom-values"},
	{op: "locations/create-custom-value", req: func(c *confRun, r *confRequest) { r.Body = map[string]any{"name": "Conformance Value", "value": "v"} },
		after: func(c *confRun, m map[string]any) { c.ids["customValueId"] = nested(m, "customValue", "id") }},
	{op: "locations/get-custom-value"},
	{op: "locations/update-custom-value", req: func(c *confRun, r *confRequest) { r.Body = map[string]any{"name": "Conformance Value 2", "value": "w"} }},
	{op: "locations/GET-all-or-email-sms-templates"},
	{op: "locations/task-search", req: func(c *confRun, r *confRequest) { r.Body = map[string]any{"completed": false} }},
	{op: "locations/create-recurring-task",
		after: func(c *confRun, m map[string]any) { c.ids["recurringTaskId"] = nested(m, "recurringTask", "id") }},
	{op: "locations/get-recurring-task-by-id"},
	{op: "locations/update-recurring-task"},

	// ---- custom fields v2 ----
	{op: "custom-fields/create-custom-field", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"locationId": c.e.L1, "name": "Conformance Colour", "dataType": "SINGLE_OPTIONS", "objectKey": "contact",
			"parentId": c.fx.ids["folderId"], "showInForms": true, "options": []map[string]any{{"key": "red", "label": "Red"}}}
	}, after: func(c *confRun, m map[string]any) { c.ids["v2FieldId"] = nested(m, "field", "id") }},
	{op: "custom-fields/get-custom-field-by-id", req: func(c *confRun, r *confRequest) { r.Path = "/custom-fields/" + c.ids["v2FieldId"] }},
	{op: "custom-fields/update-custom-field", req: func(c *confRun, r *confRequest) {
		r.Path = "/custom-fields/" + c.ids["v2FieldId"]
		r.Body = map[string]any{"locationId": c.e.L1, "name": "Conformance Colour 2", "options": []map[string]any{{"key": "red", "label": "Red"}, {"key": "blue", "label": "Blue"}}}
	}},
	{op: "custom-fields/get-custom-fields-by-object-key"},
	{op: "custom-fields/create-custom-field-folder", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"objectKey": "contact", "name": "Conformance Folder", "locationId": c.e.L1}
	}, after: func(c *confRun, m map[string]any) { c.ids["folderId"] = jsonStr(m, "id") }},
	{op: "custom-fields/update-custom-field-folder", req: func(c *confRun, r *confRequest) {
		r.Path = "/custom-fields/folder/" + c.ids["folderId"]
		r.Body = map[string]any{"name": "Conformance Folder 2", "locationId": c.e.L1}
	}},

	// ---- users ----
	{op: "users/get-user-by-location"},
	{op: "users/search-users"},
	{op: "users/filter-users-by-email", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"companyId": c.e.C1, "emails": "iso.user@example.com,nobody@example.com"}
	}},
	{op: "users/get-user"},
	{op: "users/create-user", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"companyId": c.e.C1, "firstName": "Conf", "lastName": "Ormance", "email": "conformance.user@example.com", "phone": "+14155550199",
			"password": "Secret-123456", "type": "account", "role": "user", "locationIds": []string{c.e.L1}, "permissions": map[string]any{"contactsEnabled": true}}
	}, after: func(c *confRun, m map[string]any) { c.ids["userId"] = jsonStr(m, "id") }},
	{op: "users/update-user", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"firstName": "Isolde", "lastName": "User"}
	}},

	// ---- contacts ----
	{op: "contacts/get-contacts"},
	{op: "contacts/create-contact", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"locationId": c.e.L1, "firstName": "Conny", "lastName": "Formance", "email": "conny@example.com", "phone": "+14155550142",
			"tags": []string{"conformance"}, "source": "api", "customFields": []map[string]any{{"id": c.fx.ids["customFieldId"], "field_value": "x"}, {"id": c.seed.CustomFieldIDs[0], "field_value": 42}},
			"dndSettings": map[string]any{"SMS": map[string]any{"status": "active"}}}
	}, after: func(c *confRun, m map[string]any) { c.ids["contactId"] = nested(m, "contact", "id") }},
	{op: "contacts/upsert-contact", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"locationId": c.e.L1, "email": "conny@example.com", "companyName": "Formance Inc"}
	}},
	{op: "contacts/get-contact"},
	{op: "contacts/update-contact", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"lastName": "Isolated", "tags": []string{"iso", "vip"}}
	}},
	{op: "contacts/get-duplicate-contact", req: func(c *confRun, r *confRequest) { r.Query.Set("email", "iso@example.com") }},
	{op: "contacts/search-contacts-advanced", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"locationId": c.e.L1, "pageLimit": 20, "filters": []map[string]any{{"field": "tags", "operator": "contains", "value": "iso"}}}
	}},
	{op: "contacts/add-tags"},
	{op: "contacts/create-association"},
	{op: "contacts/add-remove-contact-from-business"},
	{op: "contacts/get-contacts-by-businessId"},
	{op: "contacts/get-all-notes"},
	{op: "contacts/create-note", after: func(c *confRun, m map[string]any) { c.ids["noteId"] = nested(m, "note", "id") }},
	{op: "contacts/get-note"},
	{op: "contacts/update-note"},
	{op: "contacts/get-all-tasks"},
	{op: "contacts/create-task", after: func(c *confRun, m map[string]any) { c.ids["taskId"] = nested(m, "task", "id") }},
	{op: "contacts/get-task"},
	{op: "contacts/update-task"},
	{op: "contacts/update-task-completed"},
	{op: "contacts/get-appointments-for-contact"},
	{op: "contacts/add-followers-contact"},
	{op: "contacts/add-contact-to-campaign"},
	{op: "contacts/add-contact-to-workflow", req: func(c *confRun, r *confRequest) {
		r.Body = map[string]any{"eventStartTime": "2030-01-01T10:00:00+00:00"}
	}},

	// ---- destructive, each after every read of its object ----
	{op: "contacts/remove-tags"},
	{op: "contacts/remove-followers-contact"},
	{op: "contacts/remove-contact-from-campaign"},
	{op: "contacts/remove-contact-from-every-campaign"},
	{op: "contacts/delete-contact-from-workflow"},
	{op: "contacts/delete-note", req: func(c *confRun, r *confRequest) { r.Path = c.contactPath("notes", c.ids["noteId"]) }},
	{op: "contacts/delete-task", req: func(c *confRun, r *confRequest) { r.Path = c.contactPath("tasks", c.ids["taskId"]) }},
	{op: "contacts/delete-contact", req: func(c *confRun, r *confRequest) { r.Path = "/contacts/" + c.ids["contactId"] }},
	{op: "locations/delete-tag", req: func(c *confRun, r *confRequest) { r.Path = c.locPath("tags", c.ids["tagId"]) }},
	{op: "locations/delete-custom-field", req: func(c *confRun, r *confRequest) { r.Path = c.locPath("customFields", c.ids["locationCustomFieldId"]) }},
	{op: "locations/delete-custom-value", req: func(c *confRun, r *confRequest) { r.Path = c.locPath("customValues", c.ids["customValueId"]) }},
	{op: "locations/DELETE-an-email-sms-template", req: func(c *confRun, r *confRequest) { r.Path = c.locPath("templates", sandbox.NewID()) }},
	{op: "locations/delete-recurring-task", req: func(c *confRun, r *confRequest) { r.Path = c.locPath("recurring-tasks", c.ids["recurringTaskId"]) }},
	{op: "custom-fields/delete-custom-field", req: func(c *confRun, r *confRequest) { r.Path = "/custom-fields/" + c.ids["v2FieldId"] }},
	{op: "custom-fields/delete-custom-field-folder", req: func(c *confRun, r *confRequest) { r.Path = "/custom-fields/folder/" + c.ids["folderId"] }},
	{op: "users/delete-user", req: func(c *confRun, r *confRequest) { r.Path = "/users/" + c.ids["userId"] }},
	{op: "locations/delete-location", req: func(c *confRun, r *confRequest) { r.Path = "/locations/" + c.ids["locationId"] }},
}

func (c *confRun) locPath(kind, id string) string {
	return "/locations/" + c.e.L1 + "/" + kind + "/" + url.PathEscape(id)
}

func (c *confRun) contactPath(kind, id string) string {
	return "/contacts/" + c.fx.ids["contactId"] + "/" + kind + "/" + url.PathEscape(id)
}

// nested returns the string at a path of a decoded answer, "" if none.
func nested(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		obj, _ := cur.(map[string]any)
		cur = obj[p]
	}
	s, _ := cur.(string)
	return s
}

// newConfRun builds the demo data set, the isolation fixture on the demo
// location, and an OAuth app installed on the demo company.
func newConfRun(t *testing.T) *confRun {
	e, seed := newDemoEnv(t, demoNow)
	fx := newIsolationFixture(t, e)
	fx.ids["calendarId"] = seed.CalendarID // the demo calendar has open hours and team members
	c := &confRun{t: t, e: e, fx: fx, seed: seed, ids: map[string]string{}}
	c.app = newOAuthApp(t, e, "https://conformance.example.com/cb", map[string]any{"distributionType": "Agency",
		"scopes": []string{"oauth.readonly", "oauth.write", "locations.readonly", "contacts.readonly", "contacts.write"}})
	code := approveConsent(t, e, c.app, "", "company:"+e.C1)
	tok := exchangeCode(e, c.app, code, "Company").mustStatus(t, 200).JSON(t)
	c.agencyOAuth, c.agencyRefresh = jsonStr(tok, "access_token"), jsonStr(tok, "refresh_token")
	c.ids["fileFieldId"] = mustID(t, e.do("POST", "/locations/"+e.L1+"/customFields", e.TokL1, map[string]any{"name": "Conformance File", "dataType": "FILE_UPLOAD",
		"acceptedFormat": []string{".pdf"}, "maxNumberOfFiles": 1}).mustStatus(t, 201).JSON(t), "customField", "id")
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error {
		var err error
		c.locationOAuth, err = sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenAccess, UserType: sandbox.UserTypeLocation, CompanyID: e.C1,
			LocationID: e.L1, AppID: c.app.ID, Scopes: sandbox.AllScopes(), ExpiresAt: sandbox.Time{Time: time.Now().Add(time.Hour)}}, time.Now())
		return err
	})
	return c
}

// defaultRequest is the owner's request for an operation: L1's objects in
// the path, query and body (as the isolation test builds them), the
// owner's token of the class the operation's security names, and the
// Version the spec declares.
func (c *confRun) defaultRequest(op *spec.Operation) *confRequest {
	e := c.e
	// The run's own objects stand in for the fixture's where it has them.
	ids := map[string]string{}
	for k, v := range c.fx.ids {
		ids[k] = v
	}
	fx := &isolationFixture{ids: ids}
	for k, v := range c.ids {
		switch k {
		case "tagId", "customValueId", "recurringTaskId", "noteId", "taskId", "userId":
			fx.ids[k] = v
		}
	}
	r := &confRequest{Token: e.TokL1, Path: fx.pathFor(e, op), Headers: map[string]string{"Version": ""}}
	if q := queryFor(e, op); q != "" {
		r.Query, _ = url.ParseQuery(strings.TrimPrefix(q, "?"))
	} else {
		r.Query = url.Values{}
	}
	classes := map[spec.TokenClass]bool{}
	for _, s := range op.Security {
		classes[s.Class] = true
	}
	switch {
	case classes[spec.Location]:
		r.Token = e.TokL1
	case classes[spec.LocationOAuthOnly]:
		r.Token = c.locationOAuth
	case classes[spec.Agency]:
		r.Token = e.TokC1
	case classes[spec.AgencyOAuthOnly]:
		r.Token = c.agencyOAuth
	}
	if len(op.Versions) > 0 {
		r.Headers["Version"] = op.Versions[0]
	}
	if len(op.BodyTypes) > 0 && op.BodyTypes[0] == "application/x-www-form-urlencoded" {
		r.Body = url.Values{"companyId": {e.C1}, "locationId": {e.L1}}.Encode()
		r.Headers["Content-Type"] = "application/x-www-form-urlencoded"
	} else if b := fx.bodyFor(e, op); b != nil {
		r.Body = b
	}
	return r
}

// specResponse returns the spec's response object of an operation for a
// status ("default" if the spec has no entry for it), nil if none.
func specResponse(t *testing.T, v *schemaValidator, op *spec.Operation, status int) (file string, resp map[string]any) {
	t.Helper()
	file = "apps/" + op.Namespace + ".json"
	paths, _ := v.doc(file)["paths"].(map[string]any)
	item, _ := paths[op.Path].(map[string]any)
	o, _ := item[strings.ToLower(op.Method)].(map[string]any)
	responses, _ := o["responses"].(map[string]any)
	for _, k := range []string{strconv.Itoa(status), strconv.Itoa(status/100) + "XX", "default"} {
		if r, ok := responses[k].(map[string]any); ok {
			if ref, ok := r["$ref"].(string); ok {
				f, rr, err := v.resolve(file, ref)
				if err != nil {
					t.Fatalf("%s: %v", op.ID, err)
				}
				return f, rr
			}
			return file, r
		}
	}
	return file, nil
}

// confGeneric returns the distinct paths with indexes replaced by [*].
func confGeneric(paths []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		g := confIndex.ReplaceAllString(p, "[*]")
		if !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

var confIndex = regexp.MustCompile(`\[\d+\]`)

// confAllowedFor returns the allowlist entry covering a mismatch, -1 if none.
func confAllowedFor(op, path string) int {
	generic := confIndex.ReplaceAllString(path, "[*]")
	for i, a := range confAllowed {
		if a.op == op && (generic == a.path || strings.HasPrefix(generic, a.path+".") || strings.HasPrefix(generic, a.path+"[")) {
			return i
		}
	}
	return -1
}

// valuesAt returns the values at a path pattern ("$.a[*].b") of a decoded
// JSON value, by their concrete paths.
func valuesAt(v any, pattern string) map[string]any {
	out := map[string]any{}
	var walk func(cur any, at, rest string)
	walk = func(cur any, at, rest string) {
		switch {
		case rest == "":
			out[at] = cur
		case strings.HasPrefix(rest, "[*]"):
			list, _ := cur.([]any)
			for i, x := range list {
				walk(x, fmt.Sprintf("%s[%d]", at, i), rest[3:])
			}
		case strings.HasPrefix(rest, "."):
			name := rest[1:]
			if i := strings.IndexAny(name, ".["); i >= 0 {
				name = name[:i]
			}
			if obj, ok := cur.(map[string]any); ok {
				if x, ok := obj[name]; ok {
					walk(x, at+"."+name, rest[1+len(name):])
				}
			}
		}
	}
	walk(v, "$", strings.TrimPrefix(pattern, "$"))
	return out
}

// TestSpecConformance runs every implemented operation once, successfully,
// and checks its answer against the embedded spec: a status the spec lists
// (a 2xx), Content-Type application/json, and a body that validates against
// the response schema of that status.
func TestSpecConformance(t *testing.T) {
	c := newConfRun(t)
	v := newSpecValidator(t)

	// The run covers every implemented operation exactly once.
	byKey := map[string]*spec.Operation{}
	for _, op := range spec.MustOperations() {
		if c.e.Server.Implemented(op.Namespace, op.ID) {
			byKey[op.Namespace+"/"+op.ID] = op
		}
	}
	seen := map[string]bool{}
	for _, cs := range confCases {
		if byKey[cs.op] == nil {
			t.Errorf("case %s: no such implemented operation", cs.op)
		}
		if seen[cs.op] {
			t.Errorf("case %s listed twice", cs.op)
		}
		seen[cs.op] = true
	}
	for k := range byKey {
		if !seen[k] {
			t.Errorf("implemented operation %s has no conformance case: add one to confCases", k)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	usedAllow := make([]bool, len(confAllowed))
	usedStatus := map[string]bool{}
	validated, statusOnly := 0, 0
	for _, cs := range confCases {
		op := byKey[cs.op]
		r := c.defaultRequest(op)
		if cs.req != nil {
			cs.req(c, r)
		}
		target := r.Path
		if len(r.Query) > 0 {
			target += "?" + r.Query.Encode()
		}
		res := c.e.doH(op.Method, target, r.Token, r.Body, r.Headers)
		name := fmt.Sprintf("%s (%s %s) answered %d", cs.op, op.Method, op.Path, res.Status)
		if os.Getenv("CONF_DUMP") != "" {
			t.Logf("%s %s: %.600s", name, target, res.Body)
		}

		if res.Status/100 != 2 {
			t.Errorf("%s, want a 2xx: %s", name, res.Body)
			continue
		}
		file, resp := specResponse(t, v, op, res.Status)
		if resp == nil {
			if a, ok := confStatusAllowed[cs.op]; ok && a.status == res.Status {
				usedStatus[cs.op] = true
			} else {
				t.Errorf("%s: the spec lists no %d for the operation", name, res.Status)
			}
		}
		var body any
		isJSON := len(res.Body) > 0 && json.Unmarshal(res.Body, &body) == nil
		content, _ := resp["content"].(map[string]any)
		media, hasJSON := content["application/json"].(map[string]any)
		if isJSON || hasJSON {
			if mt, _, err := mime.ParseMediaType(res.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				t.Errorf("%s with Content-Type %q, want application/json", name, res.Header.Get("Content-Type"))
			}
		}
		if hasJSON && !isJSON {
			t.Errorf("%s: the spec declares a JSON body, got %q", name, res.Body)
			continue
		}
		if m, ok := body.(map[string]any); ok && cs.after != nil {
			cs.after(c, m)
		}
		schema, _ := media["schema"].(map[string]any)
		if schema == nil {
			statusOnly++
			continue
		}
		validated++
		// The envelope: an answer that names none of the schema's top-level
		// properties ({"contacts": …} for {"contact": …}) is wrong even
		// where the spec requires nothing.
		if named := v.propertyNames(file, schema, 0); len(named) > 0 {
			obj, _ := body.(map[string]any)
			hit := false
			for k := range obj {
				hit = hit || named[k]
			}
			if !hit {
				t.Errorf("%s: $ has none of the schema's properties %v: %.200s", name, slices.Sorted(maps.Keys(named)), res.Body)
			}
		}
		var unknown []string
		v.unknown = &unknown
		mismatches := v.Validate(file, schema, body)
		v.unknown = nil
		if len(unknown) > 0 {
			t.Logf("%s: properties the spec does not name (allowed): %s", name, strings.Join(confGeneric(unknown), ", "))
		}
		for i, a := range confAllowed {
			if a.op != cs.op || a.schema == nil {
				continue
			}
			found := valuesAt(body, a.path)
			for _, at := range slices.Sorted(maps.Keys(found)) {
				for _, mm := range v.Validate(file, a.schema, found[at]) {
					t.Errorf("%s: %s%s %s (checked against the allowlist's schema: %s)", name, at, strings.TrimPrefix(mm.Path, "$"), mm.Msg, confAllowed[i].why)
				}
			}
		}
		for _, mm := range mismatches {
			if i := confAllowedFor(cs.op, mm.Path); i >= 0 {
				usedAllow[i] = true
				continue
			}
			t.Errorf("%s: %s %s", name, mm.Path, mm.Msg)
		}
	}
	for i, used := range usedAllow {
		if !used {
			t.Errorf("allowlist entry %s %s matched nothing: drop it (%s)", confAllowed[i].op, confAllowed[i].path, confAllowed[i].why)
		}
	}
	for op, a := range confStatusAllowed {
		if !usedStatus[op] {
			t.Errorf("status allowlist entry %s %d matched nothing: drop it (%s)", op, a.status, a.why)
		}
	}
	t.Logf("%d operations validated against their response schema, %d (no schema in the spec) checked for status and type", validated, statusOnly)
}
