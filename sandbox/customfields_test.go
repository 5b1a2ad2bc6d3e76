package sandbox_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
)

func TestLocationCustomFieldsV1(t *testing.T) {
	e := newTestEnv(t)
	base := "/locations/" + e.L1 + "/customFields"
	f := e.do("POST", base, e.TokL1, map[string]any{"name": "Pin Code", "dataType": "TEXT", "placeholder": "Pin", "position": 2}).mustStatus(t, 201).JSON(t)["customField"].(map[string]any)
	id, _ := f["id"].(string)
	if len(id) != 20 || f["fieldKey"] != "contact.pin_code" || f["model"] != "contact" || f["dataType"] != "TEXT" ||
		f["placeholder"] != "Pin" || f["position"] != float64(2) || f["locationId"] != e.L1 {
		t.Fatalf("created = %v", f)
	}
	opp := e.do("POST", base, e.TokL1, map[string]any{"name": "Deal Size", "dataType": "SINGLE_OPTIONS", "model": "opportunity", "options": []string{"Small", "Large"}}).mustStatus(t, 201).JSON(t)["customField"].(map[string]any)
	if opp["fieldKey"] != "opportunity.deal_size" || fmt.Sprint(opp["picklistOptions"]) != "[Small Large]" {
		t.Errorf("opportunity field = %v", opp)
	}
	e.do("POST", "/locations/"+e.L2+"/customFields", e.TokL2, map[string]any{"name": "Elsewhere", "dataType": "TEXT"}).mustStatus(t, 201)

	keys := func(q string) string {
		var out []any
		for _, f := range e.do("GET", base+q, e.TokL1, nil).mustStatus(t, 200).JSON(t)["customFields"].([]any) {
			out = append(out, f.(map[string]any)["fieldKey"])
		}
		return fmt.Sprint(out)
	}
	if got := keys(""); got != "[contact.pin_code opportunity.deal_size]" {
		t.Errorf("list = %s", got)
	}
	if got := keys("?model=contact"); got != "[contact.pin_code]" {
		t.Errorf("model=contact = %s", got)
	}
	if got := keys("?model=opportunity"); got != "[opportunity.deal_size]" {
		t.Errorf("model=opportunity = %s", got)
	}
	wantError(t, e.do("GET", base+"?model=invoice", e.TokL1, nil), 422, "model must be one of")

	// One source of truth: the v2 API sees the field created through v1.
	v2 := e.do("GET", "/custom-fields/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)["field"].(map[string]any)
	if v2["fieldKey"] != "contact.pin_code" || v2["objectKey"] != "contact" || v2["name"] != "Pin Code" {
		t.Errorf("v2 view = %v", v2)
	}

	upd := e.do("PUT", base+"/"+id, e.TokL1, map[string]any{"name": "Postal Code", "placeholder": "Zip"}).mustStatus(t, 200).JSON(t)["customField"].(map[string]any)
	if upd["name"] != "Postal Code" || upd["placeholder"] != "Zip" || upd["fieldKey"] != "contact.pin_code" || upd["position"] != float64(2) {
		t.Errorf("update = %v", upd)
	}
	got := e.do("GET", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)["customField"].(map[string]any)
	if got["name"] != "Postal Code" {
		t.Errorf("read back = %v", got)
	}

	// Keys are unique per location; validation names the field.
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"name": "pin code", "dataType": "TEXT"}), 400, "contact.pin_code already exists")
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"name": "X", "dataType": "COLOR"}), 422, "dataType must be one of")
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"name": "X"}), 422, "dataType should not be empty")
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"dataType": "TEXT"}), 422, "name should not be empty")
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"name": "X", "dataType": "MULTIPLE_OPTIONS"}), 422, "options should not be empty")
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"name": "X", "dataType": "TEXT", "model": "invoice"}), 422, "model must be one of")
	wantError(t, e.do("POST", base, e.TokL1, map[string]any{"name": "X", "dataType": "TEXT", "position": "first"}), 422, "position must be a number")
	wantError(t, e.do("PUT", base+"/"+id, e.TokL1, map[string]any{"placeholder": "x"}), 422, "name should not be empty")
	wantError(t, e.do("POST", base, e.TokL1, `{"name":"X",`), 400, "")

	// Access.
	wantError(t, e.do("GET", "/locations/"+e.L2+"/customFields/"+id, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("PUT", "/locations/"+e.L2+"/customFields/"+id, e.TokL2, map[string]any{"name": "x"}), 403, sandbox.MsgLocation)
	wantError(t, e.do("DELETE", "/locations/"+e.L2+"/customFields/"+id, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", base, e.TokL3, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", base, e.TokC1, nil), 401, sandbox.MsgAuthClass)
	wantError(t, e.do("GET", base, e.TokL1Read, nil), 401, sandbox.MsgScope)
	wantError(t, e.do("POST", base, e.TokL1Read, map[string]any{"name": "X", "dataType": "TEXT"}), 401, sandbox.MsgScope)

	if m := e.do("DELETE", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t); m["succeded"] != true {
		t.Errorf("delete = %v", m)
	}
	wantError(t, e.do("GET", base+"/"+id, e.TokL1, nil), 404, "Custom field not found")
	wantError(t, e.do("GET", "/custom-fields/"+id, e.TokL1, nil), 404, "Custom field not found")
	// The key is free again.
	e.do("POST", base, e.TokL1, map[string]any{"name": "Pin Code", "dataType": "TEXT"}).mustStatus(t, 201)
}

func TestCustomFieldsV2(t *testing.T) {
	e := newTestEnv(t)
	create := func(tok string, body any) *response {
		t.Helper()
		return e.do("POST", "/custom-fields/", tok, body)
	}
	f := create(e.TokL1, map[string]any{
		"locationId": e.L1, "name": "Favourite Colour", "dataType": "SINGLE_OPTIONS", "objectKey": "contact", "showInForms": true,
		"options": []map[string]any{{"key": "red", "label": "Red"}, {"label": "Sky Blue"}},
	}).mustStatus(t, 201).JSON(t)["field"].(map[string]any)
	id, _ := f["id"].(string)
	if len(id) != 20 || f["fieldKey"] != "contact.favourite_colour" || f["objectKey"] != "contact" || f["locationId"] != e.L1 || f["parentId"] != "" {
		t.Fatalf("created = %v", f)
	}
	if opts := fmt.Sprint(f["options"]); opts != "[map[key:red label:Red] map[key:sky_blue label:Sky Blue]]" {
		t.Errorf("options = %s", opts)
	}
	// The v1 view shows the labels as picklist options.
	v1 := e.do("GET", "/locations/"+e.L1+"/customFields/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)["customField"].(map[string]any)
	if fmt.Sprint(v1["picklistOptions"]) != "[Red Sky Blue]" || v1["model"] != "contact" {
		t.Errorf("v1 view = %v", v1)
	}

	// Explicit keys, bare or prefixed, and custom objects.
	// The DTO examples' "custom_object." spelling is answered in GHL's
	// canonical "custom_objects." one (see TestCustomObjectKeySpellings).
	pet := create(e.TokL1, map[string]any{"locationId": e.L1, "name": "Pet Name", "dataType": "TEXT", "objectKey": "custom_object.pet", "fieldKey": "custom_object.pet.name"}).mustStatus(t, 201).JSON(t)["field"].(map[string]any)
	if pet["fieldKey"] != "custom_objects.pet.name" || pet["objectKey"] != "custom_objects.pet" {
		t.Errorf("custom object field = %v", pet)
	}
	bare := create(e.TokL1, map[string]any{"locationId": e.L1, "name": "Score", "dataType": "NUMERICAL", "fieldKey": "lead_score"}).mustStatus(t, 201).JSON(t)["field"].(map[string]any)
	if bare["fieldKey"] != "contact.lead_score" {
		t.Errorf("bare key = %v", bare["fieldKey"])
	}
	// Custom-object fields stay out of the v1 list.
	if n := len(e.do("GET", "/locations/"+e.L1+"/customFields", e.TokL1, nil).mustStatus(t, 200).JSON(t)["customFields"].([]any)); n != 2 {
		t.Errorf("v1 list has %d fields, want 2", n)
	}

	// Folders and the object-key listing.
	folder := e.do("POST", "/custom-fields/folder", e.TokL1, map[string]any{"objectKey": "contact", "name": "Profile", "locationId": e.L1}).mustStatus(t, 201).JSON(t)
	fid, _ := folder["id"].(string)
	if len(fid) != 20 || folder["name"] != "Profile" || folder["objectKey"] != "contact" || folder["locationId"] != e.L1 {
		t.Fatalf("folder = %v", folder)
	}
	inFolder := create(e.TokL1, map[string]any{"locationId": e.L1, "name": "Nickname", "dataType": "TEXT", "parentId": fid}).mustStatus(t, 201).JSON(t)["field"].(map[string]any)
	if inFolder["parentId"] != fid {
		t.Errorf("field in folder = %v", inFolder)
	}
	wantError(t, create(e.TokL1, map[string]any{"locationId": e.L1, "name": "Y", "dataType": "TEXT", "parentId": sandbox.NewID()}), 422, "parentId")
	wantError(t, create(e.TokL1, map[string]any{"locationId": e.L1, "name": "Y", "dataType": "TEXT", "objectKey": "opportunity", "parentId": fid}), 422, "parentId")

	byKey := e.do("GET", "/custom-fields/object-key/contact?locationId="+e.L1, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	var fkeys []any
	for _, f := range byKey["fields"].([]any) {
		fkeys = append(fkeys, f.(map[string]any)["fieldKey"])
	}
	if fmt.Sprint(fkeys) != "[contact.favourite_colour contact.lead_score contact.nickname]" {
		t.Errorf("object-key fields = %v", fkeys)
	}
	if folders := byKey["folders"].([]any); len(folders) != 1 || folders[0].(map[string]any)["id"] != fid {
		t.Errorf("object-key folders = %v", folders)
	}
	petList := e.do("GET", "/custom-fields/object-key/custom_object.pet?locationId="+e.L1, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	if fs := petList["fields"].([]any); len(fs) != 1 || len(petList["folders"].([]any)) != 0 {
		t.Errorf("pet listing = %v", petList)
	}
	wantError(t, e.do("GET", "/custom-fields/object-key/contact", e.TokL1, nil), 422, "locationId should not be empty")
	wantError(t, e.do("GET", "/custom-fields/object-key/contact?locationId="+e.L1, e.TokL2, nil), 403, sandbox.MsgLocation)

	ren := e.do("PUT", "/custom-fields/folder/"+fid, e.TokL1, map[string]any{"name": "About", "locationId": e.L1}).mustStatus(t, 200).JSON(t)
	if ren["name"] != "About" || ren["id"] != fid {
		t.Errorf("folder rename = %v", ren)
	}
	wantError(t, e.do("PUT", "/custom-fields/folder/"+fid, e.TokL1, map[string]any{"locationId": e.L1}), 422, "name should not be empty")
	wantError(t, e.do("PUT", "/custom-fields/folder/"+fid, e.TokL2, map[string]any{"name": "x", "locationId": e.L2}), 403, sandbox.MsgLocation)
	wantError(t, e.do("DELETE", "/custom-fields/folder/"+fid+"?locationId="+e.L2, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("DELETE", "/custom-fields/folder/"+fid, e.TokL1, nil), 422, "locationId should not be empty")
	wantError(t, e.do("POST", "/custom-fields/folder", e.TokL1, map[string]any{"name": "x", "locationId": e.L1}), 422, "objectKey should not be empty")
	wantError(t, e.do("POST", "/custom-fields/folder", e.TokL2, map[string]any{"objectKey": "contact", "name": "x", "locationId": e.L1}), 403, sandbox.MsgLocation)
	delFolder := e.do("DELETE", "/custom-fields/folder/"+fid+"?locationId="+e.L1, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	if delFolder["succeded"] != true || delFolder["id"] != fid || delFolder["key"] != "contact" {
		t.Errorf("folder delete = %v", delFolder)
	}
	// Its field survives at the top level.
	if got := e.do("GET", "/custom-fields/"+inFolder["id"].(string), e.TokL1, nil).mustStatus(t, 200).JSON(t)["field"].(map[string]any); got["parentId"] != "" {
		t.Errorf("field after folder delete = %v", got)
	}
	wantError(t, e.do("PUT", "/custom-fields/folder/"+fid, e.TokL1, map[string]any{"name": "x", "locationId": e.L1}), 404, "Folder not found")

	// Update: options may grow, never shrink.
	upd := e.do("PUT", "/custom-fields/"+id, e.TokL1, map[string]any{
		"locationId": e.L1, "name": "Colour", "showInForms": false,
		"options": []map[string]any{{"key": "red", "label": "Red"}, {"key": "sky_blue", "label": "Sky Blue"}, {"key": "green", "label": "Green"}},
	}).mustStatus(t, 200).JSON(t)["field"].(map[string]any)
	if upd["name"] != "Colour" || upd["showInForms"] != false || len(upd["options"].([]any)) != 3 || upd["fieldKey"] != "contact.favourite_colour" {
		t.Errorf("update = %v", upd)
	}
	wantError(t, e.do("PUT", "/custom-fields/"+id, e.TokL1, map[string]any{"locationId": e.L1, "showInForms": true, "options": []map[string]any{{"key": "red", "label": "Red"}}}), 422, "removing options is not supported")
	v1 = e.do("GET", "/locations/"+e.L1+"/customFields/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)["customField"].(map[string]any)
	if fmt.Sprint(v1["picklistOptions"]) != "[Red Sky Blue Green]" || v1["name"] != "Colour" {
		t.Errorf("v1 after v2 update = %v", v1)
	}
	wantError(t, e.do("PUT", "/custom-fields/"+id, e.TokL1, map[string]any{"showInForms": true}), 422, "locationId should not be empty")
	wantError(t, e.do("PUT", "/custom-fields/"+id, e.TokL1, map[string]any{"locationId": e.L1, "acceptedFormats": ".exe"}), 422, "acceptedFormats must be one of")

	// Creation validation, uniqueness and malformed bodies.
	wantError(t, create(e.TokL1, map[string]any{"locationId": e.L1, "name": "Favourite Colour", "dataType": "TEXT"}), 400, "contact.favourite_colour already exists")
	wantError(t, create(e.TokL1, map[string]any{"locationId": e.L1, "name": "Other", "dataType": "TEXT", "fieldKey": "contact.lead_score"}), 400, "already exists")
	wantError(t, create(e.TokL1, map[string]any{"locationId": e.L1, "name": "X", "dataType": "BLOB"}), 422, "dataType must be one of")
	wantError(t, create(e.TokL1, map[string]any{"locationId": e.L1, "name": "X", "dataType": "RADIO"}), 422, "options should not be empty for a RADIO field")
	wantError(t, create(e.TokL1, map[string]any{"locationId": e.L1, "name": "X", "dataType": "TEXT", "objectKey": "invoice"}), 422, "objectKey must be")
	wantError(t, create(e.TokL1, map[string]any{"locationId": e.L1, "name": "X", "dataType": "TEXT", "fieldKey": "contact.bad key"}), 422, "fieldKey must be")
	wantError(t, create(e.TokL1, map[string]any{"name": "X", "dataType": "TEXT"}), 422, "locationId should not be empty")
	wantError(t, create(e.TokL1, map[string]any{"locationId": e.L1, "name": "X", "dataType": "TEXT", "options": "red"}), 422, "options must be a")
	wantError(t, create(e.TokL1, `{"locationId":`), 400, "")
	if n := countRecords(t, e, sandbox.KindCustomField, e.L1); n != 4 {
		t.Errorf("%d fields stored after failed creates, want 4", n)
	}

	// Access: another location's field, by id and by body; classes; scopes.
	wantError(t, e.do("GET", "/custom-fields/"+id, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", "/custom-fields/"+id, e.TokL3, nil), 403, sandbox.MsgLocation)
	wantError(t, e.do("PUT", "/custom-fields/"+id, e.TokL2, map[string]any{"locationId": e.L2, "name": "x"}), 403, sandbox.MsgLocation)
	wantError(t, e.do("PUT", "/custom-fields/"+id, e.TokL2, map[string]any{"locationId": e.L1, "name": "x"}), 403, sandbox.MsgLocation)
	wantError(t, e.do("DELETE", "/custom-fields/"+id, e.TokL2, nil), 403, sandbox.MsgLocation)
	wantError(t, create(e.TokL2, map[string]any{"locationId": e.L1, "name": "X", "dataType": "TEXT"}), 403, sandbox.MsgLocation)
	wantError(t, e.do("GET", "/custom-fields/"+id, e.TokC1, nil), 401, sandbox.MsgAuthClass)
	wantError(t, e.do("GET", "/custom-fields/"+id, e.TokL1Read, nil), 401, sandbox.MsgScope)
	wantError(t, e.do("GET", "/custom-fields/"+sandbox.NewID(), e.TokL1, nil), 404, "Custom field not found")

	del := e.do("DELETE", "/custom-fields/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	if del["succeded"] != true || del["id"] != id || del["key"] != "contact.favourite_colour" {
		t.Errorf("delete = %v", del)
	}
	wantError(t, e.do("DELETE", "/custom-fields/"+id, e.TokL1, nil), 404, "Custom field not found")
	wantError(t, e.do("GET", "/locations/"+e.L1+"/customFields/"+id, e.TokL1, nil), 404, "Custom field not found")
}

func TestCustomFieldRoutesRefuse(t *testing.T) {
	e := newTestEnv(t)
	id := e.do("POST", "/custom-fields/", e.TokL1, map[string]any{"locationId": e.L1, "name": "A", "dataType": "TEXT"}).mustStatus(t, 201).JSON(t)["field"].(map[string]any)["id"].(string)
	fid := e.do("POST", "/custom-fields/folder", e.TokL1, map[string]any{"objectKey": "contact", "name": "F", "locationId": e.L1}).mustStatus(t, 201).JSON(t)["id"].(string)
	body := map[string]any{"locationId": e.L1, "name": "B", "dataType": "TEXT"}
	runAuthCases(t, e, []authCase{
		{"POST", "/custom-fields/", e.TokC1, body, 401, sandbox.MsgAuthClass},
		{"POST", "/custom-fields/", e.TokL1Read, body, 401, sandbox.MsgScope},
		{"PUT", "/custom-fields/" + id, e.TokL1Read, map[string]any{"locationId": e.L1}, 401, sandbox.MsgScope},
		{"PUT", "/custom-fields/" + id, e.TokL1, `{"locationId":`, 400, ""},
		{"PUT", "/custom-fields/" + sandbox.NewID(), e.TokL1, map[string]any{"locationId": e.L1}, 404, "Custom field not found"},
		{"DELETE", "/custom-fields/" + id, e.TokC1, nil, 401, sandbox.MsgAuthClass},
		{"DELETE", "/custom-fields/" + id, e.TokL1Read, nil, 401, sandbox.MsgScope},
		{"GET", "/custom-fields/object-key/contact?locationId=" + e.L1, e.TokC1, nil, 401, sandbox.MsgAuthClass},
		{"GET", "/custom-fields/object-key/contact?locationId=" + e.L1, e.TokL1Read, nil, 401, sandbox.MsgScope},
		{"POST", "/custom-fields/folder", e.TokL1Read, map[string]any{"objectKey": "contact", "name": "x", "locationId": e.L1}, 401, sandbox.MsgScope},
		{"POST", "/custom-fields/folder", e.TokC1, map[string]any{"objectKey": "contact", "name": "x", "locationId": e.L1}, 401, sandbox.MsgAuthClass},
		{"POST", "/custom-fields/folder", e.TokL1, `{"objectKey":`, 400, ""},
		{"PUT", "/custom-fields/folder/" + fid, e.TokL1, `{`, 400, ""},
		{"PUT", "/custom-fields/folder/" + fid, e.TokL1Read, map[string]any{"name": "x", "locationId": e.L1}, 401, sandbox.MsgScope},
		{"DELETE", "/custom-fields/folder/" + fid + "?locationId=" + e.L1, e.TokL1Read, nil, 401, sandbox.MsgScope},
		{"DELETE", "/custom-fields/folder/" + sandbox.NewID() + "?locationId=" + e.L1, e.TokL1, nil, 404, "Folder not found"},
		{"PUT", "/locations/" + e.L1 + "/customFields/" + id, e.TokL1, `{"name":`, 400, ""},
		{"PUT", "/locations/" + e.L1 + "/customFields/" + id, e.TokC1, map[string]any{"name": "x"}, 401, sandbox.MsgAuthClass},
		{"DELETE", "/locations/" + e.L1 + "/customFields/" + sandbox.NewID(), e.TokL1, nil, 404, "Custom field not found"},
	})
	if got := e.do("GET", "/custom-fields/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)["field"].(map[string]any); got["name"] != "A" {
		t.Errorf("field after refused writes = %v", got)
	}
}

// TestCustomObjectKeySpellings: the custom-fields DTOs' examples spell a
// custom object "custom_object.pet", the object-key path parameter (and
// GHL's Custom Objects API) "custom_objects.pet". Both are accepted, the
// second is what the sandbox stores and answers, and fields and folders
// stored with the first are read as the second.
func TestCustomObjectKeySpellings(t *testing.T) {
	e := newTestEnv(t)
	create := func(body map[string]any) *response {
		t.Helper()
		body["locationId"] = e.L1
		if _, ok := body["dataType"]; !ok {
			body["dataType"] = "TEXT"
		}
		return e.do("POST", "/custom-fields/", e.TokL1, body)
	}
	field := func(r *response) map[string]any {
		t.Helper()
		return r.mustStatus(t, 201).JSON(t)["field"].(map[string]any)
	}
	name := field(create(map[string]any{"name": "Name", "objectKey": "custom_objects.pet"}))
	if name["objectKey"] != "custom_objects.pet" || name["fieldKey"] != "custom_objects.pet.name" {
		t.Errorf("custom_objects. field = %v", name)
	}
	age := field(create(map[string]any{"name": "Age", "objectKey": "custom_object.pet", "fieldKey": "custom_object.pet.years", "dataType": "NUMERICAL"}))
	if age["objectKey"] != "custom_objects.pet" || age["fieldKey"] != "custom_objects.pet.years" {
		t.Errorf("custom_object. field = %v", age)
	}
	// A field key in the other spelling, or bare, under either object key.
	for i, tc := range []struct{ objectKey, fieldKey, want string }{
		{"custom_objects.pet", "custom_object.pet.colour", "custom_objects.pet.colour"},
		{"custom_object.pet", "custom_objects.pet.breed", "custom_objects.pet.breed"},
		{"custom_objects.pet", "weight", "custom_objects.pet.weight"},
	} {
		f := field(create(map[string]any{"name": fmt.Sprint("F", i), "objectKey": tc.objectKey, "fieldKey": tc.fieldKey}))
		if f["objectKey"] != "custom_objects.pet" || f["fieldKey"] != tc.want {
			t.Errorf("%+v: field = %v", tc, f)
		}
	}
	// One key, whatever the spelling.
	wantError(t, create(map[string]any{"name": "Name 2", "objectKey": "custom_object.pet", "fieldKey": "name"}), 400, "custom_objects.pet.name already exists")
	wantError(t, create(map[string]any{"name": "Years", "objectKey": "custom_objects.pet", "fieldKey": "custom_object.pet.years"}), 400, "already exists")
	// Still refused: no key, a bad key, an unknown object.
	for _, bad := range []string{"custom_objects.", "custom_object.", "custom_objects.Pet Food", "custom_objectz.pet", "pet"} {
		wantError(t, create(map[string]any{"name": "X", "objectKey": bad}), 422, "objectKey must be contact, opportunity, business or custom_objects.<key>")
	}

	// A field and a folder stored with the old spelling, as before.
	legacyID := putContactRecord(t, e, sandbox.KindCustomField, e.L1, "custom_object.pet.legacy", &sandbox.CustomField{
		Name: "Legacy", FieldKey: "custom_object.pet.legacy", DataType: "TEXT", Model: "custom_object.pet", ObjectKey: "custom_object.pet"})
	legacyFolder := sandbox.NewID()
	err := e.Store.Write(context.Background(), func(tx sandbox.Tx) error {
		return sandbox.PutRecordOf(context.Background(), tx, sandbox.Record{Kind: sandbox.KindCustomFieldFolder, ID: legacyFolder, LocationID: e.L1, Key: "custom_object.pet"},
			&sandbox.CustomFieldFolder{ID: legacyFolder, ObjectKey: "custom_object.pet", LocationID: e.L1, Name: "Old folder"})
	})
	if err != nil {
		t.Fatal(err)
	}
	newFolder := e.do("POST", "/custom-fields/folder", e.TokL1, map[string]any{"objectKey": "custom_object.pet", "name": "New folder", "locationId": e.L1}).mustStatus(t, 201).JSON(t)
	if newFolder["objectKey"] != "custom_objects.pet" {
		t.Errorf("new folder = %v", newFolder)
	}
	if got := e.do("GET", "/custom-fields/"+legacyID, e.TokL1, nil).mustStatus(t, 200).JSON(t)["field"].(map[string]any); got["objectKey"] != "custom_objects.pet" || got["fieldKey"] != "custom_objects.pet.legacy" {
		t.Errorf("legacy field read = %v", got)
	}
	wantError(t, create(map[string]any{"name": "Legacy", "objectKey": "custom_objects.pet"}), 400, "already exists")
	// A new field may go in the old folder.
	inOld := field(create(map[string]any{"name": "Toy", "objectKey": "custom_objects.pet", "parentId": legacyFolder}))
	if inOld["parentId"] != legacyFolder {
		t.Errorf("field in the legacy folder = %v", inOld)
	}

	// Both spellings of the path list every field and folder of the object,
	// in the canonical spelling.
	for _, key := range []string{"custom_objects.pet", "custom_object.pet"} {
		m := e.do("GET", "/custom-fields/object-key/"+key+"?locationId="+e.L1, e.TokL1, nil).mustStatus(t, 200).JSON(t)
		fields, folders := m["fields"].([]any), m["folders"].([]any)
		if len(fields) != 7 || len(folders) != 2 {
			t.Errorf("%s: %d fields, %d folders: %v", key, len(fields), len(folders), m)
		}
		for _, f := range append(fields, folders...) {
			if f.(map[string]any)["objectKey"] != "custom_objects.pet" {
				t.Errorf("%s: listed %v", key, f)
			}
		}
	}
	if m := e.do("GET", "/custom-fields/object-key/custom_objects.cat?locationId="+e.L1, e.TokL1, nil).mustStatus(t, 200).JSON(t); len(m["fields"].([]any)) != 0 {
		t.Errorf("another object lists %v", m)
	}
	// The legacy folder answers canonically; deletes answer canonical keys.
	ren := e.do("PUT", "/custom-fields/folder/"+legacyFolder, e.TokL1, map[string]any{"name": "Renamed", "locationId": e.L1}).mustStatus(t, 200).JSON(t)
	if ren["objectKey"] != "custom_objects.pet" {
		t.Errorf("legacy folder rename = %v", ren)
	}
	if del := e.do("DELETE", "/custom-fields/"+legacyID, e.TokL1, nil).mustStatus(t, 200).JSON(t); del["key"] != "custom_objects.pet.legacy" {
		t.Errorf("legacy field delete = %v", del)
	}
	if del := e.do("DELETE", "/custom-fields/folder/"+legacyFolder+"?locationId="+e.L1, e.TokL1, nil).mustStatus(t, 200).JSON(t); del["key"] != "custom_objects.pet" {
		t.Errorf("legacy folder delete = %v", del)
	}
	// Custom-object fields stay out of the v1 list.
	if n := len(e.do("GET", "/locations/"+e.L1+"/customFields", e.TokL1, nil).mustStatus(t, 200).JSON(t)["customFields"].([]any)); n != 0 {
		t.Errorf("v1 list has %d fields", n)
	}
}
