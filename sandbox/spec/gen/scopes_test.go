package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

const scopesSnippet = `
| Scope                   | API Endpoints                             | Webhook Events | Access Type |
| ----------------------- | ----------------------------------------- | -------------- | ----------- |
| locations.readonly      | GET /locations/:locationId                | LocationCreate | Sub-Account |
|                         | GET /locations/search                     | &nbsp;         | Sub-Account |
| locations/tags.readonly | GET /locations/:locationId/tags           | &nbsp;         | Sub-Account |
|                         | GET /locations/:locationId/tags/:tagId    | &nbsp;         | Sub-Account |
| locations/tags.write    | POST /locations/:locationId/tags/         | &nbsp;         | Sub-Account |
| &nbsp;                  | PUT /locations/:locationId/tags/:tagId    | &nbsp;         | Sub-Account |
| objects/schema.write    |                                           | &nbsp;         | Sub-Account |
| emails/builder.readonly | GET emails/builder                        | &nbsp;         | Sub-Account |
| funnels/page.readonly   | GET /funnels/page                         | &nbsp;         | Sub-Account |
| &nbsp;                  | DELETE /funnels/lookup/redirect/:id       | &nbsp;         | Sub-Account |
`

func TestParseScopesMD(t *testing.T) {
	got := parseScopesMD(scopesSnippet)
	for k, want := range map[string]string{
		"GET locations/{}":                  "locations.readonly",
		"GET locations/search":              "locations.readonly",
		"GET locations/{}/tags/{}":          "locations/tags.readonly",
		"POST locations/{}/tags":            "locations/tags.write",
		"PUT locations/{}/tags/{}":          "locations/tags.write",
		"GET emails/builder":                "emails/builder.readonly",
		"DELETE funnels/lookup/redirect/{}": "funnels/page.readonly",
	} {
		if !slices.Equal(got[k], []string{want}) {
			t.Errorf("%s: %v, want [%s]", k, got[k], want)
		}
	}
	if len(got) != 9 {
		t.Errorf("%d endpoints: %v", len(got), got)
	}
	if endpointKey("get", "/locations/{locationId}/tags/{tagId}/") != "GET locations/{}/tags/{}" {
		t.Error("endpointKey does not normalise spec paths")
	}
}

func TestScopeFiller(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{"paths": {
		"/locations/{locationId}/tags/{tagId}": {
			"get": {"operationId": "get-tag-by-id", "security": [{"bearer": []}]},
			"put": {"operationId": "update-tag", "security": [{"bearer": []}]},
			"delete": {"operationId": "delete-tag", "security": [{"bearer": []}]}
		},
		"/locations/{locationId}/tags": {"get": {"operationId": "get-location-tags", "security": [{"bearer": ["locations/tags.readonly"]}]}},
		"/locations/{locationId}/recurring-tasks": {"post": {"operationId": "create-recurring-task", "security": [{"bearer": []}]}},
		"/locations/{locationId}/recurring-tasks/{id}": {
			"get": {"operationId": "get-recurring-task-by-id", "security": [{"bearer": []}]},
			"put": {"operationId": "update-recurring-task", "security": [{"bearer": []}]},
			"delete": {"operationId": "delete-recurring-task", "security": [{"bearer": []}]}
		},
		"/locations/{locationId}/templates/{id}": {"delete": {"operationId": "DELETE-an-email-sms-template", "security": [{"bearer": []}]}},
		"/funnels/lookup/redirect/{id}": {"delete": {"operationId": "delete-redirect", "security": [{"Location-Access": []}]}},
		"/contacts/bulk/business": {"post": {"operationId": "unsecured"}}
	}}`), &doc); err != nil {
		t.Fatal(err)
	}
	f := newScopeFiller(parseScopesMD(scopesSnippet))
	f.apply("locations", doc)
	err := f.finish()
	// The snippet's DELETE /funnels/lookup/redirect/:id sits under a read
	// scope, as in the real table: refused, not copied.
	if err == nil || !strings.Contains(err.Error(), "delete-redirect") || strings.Count(err.Error(), "\n") != 1 {
		t.Fatalf("finish: %v", err)
	}
	paths := doc.(map[string]any)["paths"].(map[string]any)
	op := func(p, m string) map[string]any { return paths[p].(map[string]any)[m].(map[string]any) }
	for _, tc := range []struct{ p, m, scope, source string }{
		{"/locations/{locationId}/tags/{tagId}", "get", "locations/tags.readonly", scopesDoc},
		{"/locations/{locationId}/tags/{tagId}", "put", "locations/tags.write", scopesDoc},
		{"/locations/{locationId}/recurring-tasks/{id}", "get", "locations/tasks.readonly", "ghlkit: "},
		{"/locations/{locationId}/recurring-tasks", "post", "locations/tasks.write", "ghlkit: "},
		{"/locations/{locationId}/templates/{id}", "delete", "locations/templates.readonly", "ghlkit: "},
	} {
		o := op(tc.p, tc.m)
		sec, _ := json.Marshal(o["security"])
		if string(sec) != `[{"bearer":["`+tc.scope+`"]}]` || !strings.HasPrefix(o[ScopeSourceKey].(string), tc.source) {
			t.Errorf("%s %s: security %s from %v", tc.m, tc.p, sec, o[ScopeSourceKey])
		}
	}
	// Not in the snippet's table, no override: left as is and reported.
	if o := op("/locations/{locationId}/tags/{tagId}", "delete"); o[ScopeSourceKey] != nil || !slices.Contains(f.unfilled, "locations/delete-tag (DELETE /locations/{locationId}/tags/{tagId})") {
		t.Errorf("delete-tag %v, unfilled %v", o, f.unfilled)
	}
	// Scopes of the spec's own and operations without security are untouched.
	if o := op("/locations/{locationId}/tags", "get"); o[ScopeSourceKey] != nil {
		t.Errorf("get-location-tags %v", o)
	}
	if o := op("/contacts/bulk/business", "post"); o["security"] != nil || o[ScopeSourceKey] != nil {
		t.Errorf("unsecured %v", o)
	}
}
