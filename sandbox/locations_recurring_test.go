package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// rrule is a valid CustomRRulesOptions with the fields overridden.
func rrule(kv ...any) map[string]any {
	m := map[string]any{"intervalType": "weekly", "interval": 1, "startDate": "2030-01-02T09:30:00Z", "dueAfterSeconds": 3600}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// contactTasks lists the tasks of a contact.
func contactTasks(t *testing.T, e *testEnv, contactID string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, x := range e.do("GET", "/contacts/"+contactID+"/tasks", e.TokL1, nil).mustStatus(t, 200).JSON(t)["tasks"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func newRTContact(t *testing.T, e *testEnv, tok, loc, email string) string {
	t.Helper()
	return mustID(t, e.do("POST", "/contacts/", tok, map[string]any{"locationId": loc, "firstName": "Rec", "email": email}).mustStatus(t, 201).JSON(t), "contact", "id")
}

func TestRecurringTaskLifecycle(t *testing.T) {
	e := newTestEnv(t)
	base := "/locations/" + e.L1 + "/recurring-tasks"
	c1 := newRTContact(t, e, e.TokL1, e.L1, "rt1@example.com")
	c2 := newRTContact(t, e, e.TokL1, e.L1, "rt2@example.com")
	u := mustID(t, e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "Owen", "owen@example.com", "account", "user", e.L1)).mustStatus(t, 201).JSON(t), "id")

	// 2030-01-02 is a Wednesday: the first Monday at or after it is the 7th.
	created := e.do("POST", base, e.TokL1, map[string]any{"title": " Weekly review ", "description": "Go through the pipeline",
		"contactIds": []string{c1, c2, c1}, "owners": []string{u}, "rruleOptions": rrule("dayOfWeek", "MO", "count", 10, "endDate", "2030-12-31")}).
		mustStatus(t, 201).JSON(t)
	rt := created["recurringTask"].(map[string]any)
	id, _ := rt["id"].(string)
	if len(id) != 20 || rt["title"] != "Weekly review" || rt["description"] != "Go through the pipeline" || rt["locationId"] != e.L1 ||
		rt["contactId"] != c1 || rt["assignedTo"] != u || rt["totalOccurrence"] != float64(1) || rt["deleted"] != false {
		t.Fatalf("created %v", rt)
	}
	if rt["createdAt"] == nil || rt["createdAt"] != rt["updatedAt"] {
		t.Errorf("timestamps %v / %v", rt["createdAt"], rt["updatedAt"])
	}
	wantRule := map[string]any{"intervalType": "weekly", "interval": float64(1), "startDate": "2030-01-02T09:30:00.000Z", "endDate": "2030-12-31T00:00:00.000Z",
		"dayOfWeek": "MO", "count": float64(10), "createTaskIfOverDue": false, "dueAfterSeconds": float64(3600)}
	if fmt.Sprint(rt["rruleOptions"]) != fmt.Sprint(wantRule) {
		t.Errorf("rruleOptions %v, want %v", rt["rruleOptions"], wantRule)
	}
	for _, k := range []string{"contactIds", "owners", "ignoreTaskCreation"} {
		if _, ok := rt[k]; ok {
			t.Errorf("answer has %s: %v", k, rt)
		}
	}

	// The first occurrence is a task on each contact, and TaskCreate fires.
	for _, c := range []string{c1, c2} {
		tasks := contactTasks(t, e, c)
		if len(tasks) != 1 || tasks[0]["title"] != "Weekly review" || tasks[0]["body"] != "Go through the pipeline" ||
			tasks[0]["dueDate"] != "2030-01-07T10:30:00.000Z" || tasks[0]["assignedTo"] != u || tasks[0]["completed"] != false {
			t.Errorf("tasks of %s: %v", c, tasks)
		}
	}
	if evs := outboxEvents(t, e, "TaskCreate"); len(evs) != 2 || evs[0]["title"] != "Weekly review" || evs[0]["locationId"] != e.L1 {
		t.Errorf("TaskCreate events %v", evs)
	}
	found := e.do("POST", "/locations/"+e.L1+"/tasks/search", e.TokL1, map[string]any{"query": "weekly"}).mustStatus(t, 200).JSON(t)["tasks"].([]any)
	if len(found) != 2 {
		t.Errorf("task search found %v", found)
	}

	got := e.do("GET", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	if fmt.Sprint(got) != fmt.Sprint(created) {
		t.Errorf("GET %v\nwant %v", got, created)
	}

	// An update changes what it names; a new rule replaces the old one.
	time.Sleep(2 * time.Millisecond)
	upd := e.do("PUT", base+"/"+id, e.TokL1, map[string]any{"title": "Monthly review", "contactIds": []string{c2},
		"rruleOptions": map[string]any{"intervalType": "monthly", "interval": 2, "startDate": "2030-02-01", "dayOfMonth": 15, "dueAfterSeconds": 0, "createTaskIfOverDue": true}}).
		mustStatus(t, 200).JSON(t)["recurringTask"].(map[string]any)
	wantRule = map[string]any{"intervalType": "monthly", "interval": float64(2), "startDate": "2030-02-01T00:00:00.000Z", "dayOfMonth": float64(15),
		"createTaskIfOverDue": true, "dueAfterSeconds": float64(0)}
	if upd["title"] != "Monthly review" || upd["description"] != "Go through the pipeline" || upd["contactId"] != c2 || upd["assignedTo"] != u ||
		fmt.Sprint(upd["rruleOptions"]) != fmt.Sprint(wantRule) || upd["createdAt"] != rt["createdAt"] || upd["updatedAt"] == rt["updatedAt"] {
		t.Errorf("updated %v", upd)
	}
	// Updates create no tasks.
	if n := len(contactTasks(t, e, c2)); n != 1 {
		t.Errorf("contact has %d tasks after update", n)
	}
	upd2 := e.do("PUT", base+"/"+id, e.TokL1, map[string]any{"description": "", "owners": []string{}}).mustStatus(t, 200).JSON(t)["recurringTask"].(map[string]any)
	if upd2["description"] != "" || upd2["assignedTo"] != nil || upd2["title"] != "Monthly review" || upd2["totalOccurrence"] != float64(1) {
		t.Errorf("updated %v", upd2)
	}
	if got := e.do("GET", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)["recurringTask"].(map[string]any); fmt.Sprint(got) != fmt.Sprint(upd2) {
		t.Errorf("GET after update %v", got)
	}

	del := e.do("DELETE", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	if del["id"] != id || del["success"] != true || len(del) != 2 {
		t.Errorf("delete = %v", del)
	}
	wantError(t, e.do("GET", base+"/"+id, e.TokL1, nil), 404, "Recurring task not found")
	wantError(t, e.do("DELETE", base+"/"+id, e.TokL1, nil), 404, "Recurring task not found")
	// The tasks it created stay.
	if n := len(contactTasks(t, e, c1)); n != 1 {
		t.Errorf("contact has %d tasks after delete", n)
	}
}

// TestRecurringTaskFirstOccurrence checks the task of the first occurrence
// each rule selects, read as an RFC 5545 RRULE in UTC.
func TestRecurringTaskFirstOccurrence(t *testing.T) {
	e := newTestEnv(t)
	cases := []struct {
		name  string
		rule  map[string]any
		extra map[string]any
		due   string // "" when no task is created
	}{
		{"daily", map[string]any{"intervalType": "daily", "interval": 3, "startDate": "2030-03-10T08:00:00Z", "dueAfterSeconds": 0}, nil, "2030-03-10T08:00:00.000Z"},
		{"weekly on the start's weekday", rrule(), nil, "2030-01-02T10:30:00.000Z"},
		{"every other Monday", rrule("interval", 2, "dayOfWeek", "MO"), nil, "2030-01-14T10:30:00.000Z"},
		{"hourly on Saturdays", rrule("intervalType", "hourly", "dayOfWeek", "SA", "dueAfterSeconds", 0), nil, "2030-01-05T00:30:00.000Z"},
		// Wednesday 09:30 plus 8785 hours is Friday 2031-01-03 10:30.
		{"every 8785 hours on Fridays", rrule("intervalType", "hourly", "interval", 8785, "dayOfWeek", "FR"), nil, "2031-01-03T11:30:00.000Z"},
		// Three million hours (342 years) is more than a time.Duration holds.
		{"every 3,000,000 hours on Thursdays", rrule("intervalType", "hourly", "interval", 3_000_000, "dayOfWeek", "TH"), nil, "2372-03-30T10:30:00.000Z"},
		{"monthly on the 31st", rrule("intervalType", "monthly", "startDate", "2030-04-05T12:00:00Z", "dayOfMonth", 31, "dueAfterSeconds", 60), nil, "2030-05-31T12:01:00.000Z"},
		{"monthly on the start's day", rrule("intervalType", "monthly", "startDate", "2030-01-31T10:00:00.000Z", "dueAfterSeconds", 0), nil, "2030-01-31T10:00:00.000Z"},
		{"yearly on Feb 29", rrule("intervalType", "yearly", "startDate", "2030-03-01T00:00:00Z", "monthOfYear", 2, "dayOfMonth", 29, "dueAfterSeconds", 0), nil, "2032-02-29T00:00:00.000Z"},
		{"yearly on the 15th of every month", rrule("intervalType", "yearly", "startDate", "2030-03-20T00:00:00Z", "dayOfMonth", 15, "dueAfterSeconds", 0), nil, "2030-04-15T00:00:00.000Z"},
		{"yearly in March", rrule("intervalType", "yearly", "startDate", "2030-06-10T07:00:00Z", "monthOfYear", 3, "interval", 10, "dueAfterSeconds", 0), nil, "2040-03-10T07:00:00.000Z"},
		{"a 31st every April never comes", rrule("intervalType", "monthly", "interval", 12, "startDate", "2030-04-05T00:00:00Z", "dayOfMonth", 31), nil, ""},
		{"endDate before the first match", rrule("intervalType", "monthly", "startDate", "2030-04-05T00:00:00Z", "dayOfMonth", 31, "endDate", "2030-05-01T00:00:00Z"), nil, ""},
		{"overdue", rrule("intervalType", "daily", "startDate", "2020-01-01T00:00:00Z"), nil, ""},
		{"overdue with createTaskIfOverDue", rrule("intervalType", "daily", "startDate", "2020-01-01T00:00:00Z", "createTaskIfOverDue", true), nil, "2020-01-01T01:00:00.000Z"},
		{"due after year 9999", rrule("intervalType", "daily", "startDate", "9999-12-31T23:00:00Z", "dueAfterSeconds", 7200), nil, ""},
		{"ignoreTaskCreation", rrule(), map[string]any{"ignoreTaskCreation": true}, ""},
		{"ignoreTaskCreation false", rrule(), map[string]any{"ignoreTaskCreation": false}, "2030-01-02T10:30:00.000Z"},
		{"no contacts", rrule(), map[string]any{"contactIds": []string{}}, ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newRTContact(t, e, e.TokL1, e.L1, fmt.Sprintf("occ%d@example.com", i))
			body := map[string]any{"title": tc.name, "contactIds": []string{c}, "rruleOptions": tc.rule}
			for k, v := range tc.extra {
				body[k] = v
			}
			rt := e.do("POST", "/locations/"+e.L1+"/recurring-tasks", e.TokL1, body).mustStatus(t, 201).JSON(t)["recurringTask"].(map[string]any)
			tasks := contactTasks(t, e, c)
			if tc.due == "" {
				if len(tasks) != 0 || rt["totalOccurrence"] != float64(0) {
					t.Errorf("tasks %v, totalOccurrence %v; want none", tasks, rt["totalOccurrence"])
				}
				return
			}
			if len(tasks) != 1 || tasks[0]["dueDate"] != tc.due || rt["totalOccurrence"] != float64(1) {
				t.Errorf("tasks %v, totalOccurrence %v; want one due %s", tasks, rt["totalOccurrence"], tc.due)
			}
		})
	}
}

func TestRecurringTaskValidation(t *testing.T) {
	e := newTestEnv(t)
	base := "/locations/" + e.L1 + "/recurring-tasks"
	c := newRTContact(t, e, e.TokL1, e.L1, "val@example.com")
	other := newRTContact(t, e, e.TokL2, e.L2, "val2@example.com")
	elsewhere := mustID(t, e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "Lou", "lou@example.com", "account", "user", e.L2)).mustStatus(t, 201).JSON(t), "id")
	gone := mustID(t, e.do("POST", "/users/", e.TokC1, newUserBody(e.C1, "Gus", "gus@example.com", "account", "user", e.L1)).mustStatus(t, 201).JSON(t), "id")
	e.do("DELETE", "/users/"+gone, e.TokC1, nil).mustStatus(t, 200)
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("c%d", i)
	}
	valid := func(kv ...any) map[string]any {
		m := map[string]any{"title": "T", "rruleOptions": rrule()}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	cases := []struct {
		body   any
		status int
		msg    string
	}{
		{map[string]any{}, 422, "title should not be empty"},
		{map[string]any{}, 422, "rruleOptions should not be empty"},
		{valid("title", "  "), 422, "title should not be empty"},
		{valid("title", 5), 422, "title must be a string"},
		{valid("description", false), 422, "description must be a string"},
		{valid("rruleOptions", nil), 422, "rruleOptions should not be empty"},
		{valid("rruleOptions", []any{}), 422, "rruleOptions must be an object"},
		{valid("rruleOptions", map[string]any{}), 422, "rruleOptions.intervalType should not be empty"},
		{valid("rruleOptions", map[string]any{}), 422, "rruleOptions.interval should not be empty"},
		{valid("rruleOptions", map[string]any{}), 422, "rruleOptions.startDate should not be empty"},
		{valid("rruleOptions", map[string]any{}), 422, "rruleOptions.dueAfterSeconds should not be empty"},
		{valid("rruleOptions", rrule("intervalType", "fortnightly")), 422, "rruleOptions.intervalType must be one of the following values: yearly, monthly, weekly, daily, hourly"},
		{valid("rruleOptions", rrule("intervalType", 1)), 422, "rruleOptions.intervalType must be a string"},
		{valid("rruleOptions", rrule("interval", 0)), 422, "rruleOptions.interval must not be less than 1"},
		{valid("rruleOptions", rrule("interval", 1.5)), 422, "rruleOptions.interval must be an integer number"},
		{valid("rruleOptions", rrule("interval", "2")), 422, "rruleOptions.interval must be a number"},
		{valid("rruleOptions", rrule("interval", 1e12)), 422, "rruleOptions.interval must not be greater than 2147483647"},
		{valid("rruleOptions", rrule("startDate", "next tuesday")), 422, "rruleOptions.startDate must be a valid ISO 8601 date string"},
		{valid("rruleOptions", rrule("startDate", "")), 422, "rruleOptions.startDate should not be empty"},
		{valid("rruleOptions", rrule("startDate", "0700000000000000")), 422, "rruleOptions.startDate must be a valid ISO 8601 date string"},
		{valid("rruleOptions", rrule("endDate", "soon")), 422, "rruleOptions.endDate must be a valid ISO 8601 date string"},
		{valid("rruleOptions", rrule("endDate", "2029-01-01")), 422, "rruleOptions.endDate must not be before rruleOptions.startDate"},
		{valid("rruleOptions", rrule("dayOfMonth", 0)), 422, "rruleOptions.dayOfMonth must not be less than 1"},
		{valid("rruleOptions", rrule("dayOfMonth", 32)), 422, "rruleOptions.dayOfMonth must not be greater than 31"},
		{valid("rruleOptions", rrule("dayOfWeek", "MON")), 422, "rruleOptions.dayOfWeek must be one of the following values: MO, TU, WE, TH, FR, SA, SU"},
		{valid("rruleOptions", rrule("monthOfYear", 13)), 422, "rruleOptions.monthOfYear must not be greater than 12"},
		{valid("rruleOptions", rrule("count", 0)), 422, "rruleOptions.count must not be less than 1"},
		{valid("rruleOptions", rrule("createTaskIfOverDue", "yes")), 422, "rruleOptions.createTaskIfOverDue must be a boolean"},
		{valid("rruleOptions", rrule("dueAfterSeconds", -1)), 422, "rruleOptions.dueAfterSeconds must not be less than 0"},
		{valid("rruleOptions", rrule("dueAfterSeconds", 3e9)), 422, "rruleOptions.dueAfterSeconds must not be greater than 2147483647"},
		{valid("ignoreTaskCreation", "no"), 422, "ignoreTaskCreation must be a boolean"},
		{valid("contactIds", c), 422, "contactIds must be an array"},
		{valid("contactIds", []any{1}), 422, "each value in contactIds must be a string"},
		{valid("contactIds", []string{" "}), 422, "contactIds[0] should not be empty"},
		{valid("contactIds", many), 422, "contactIds must contain no more than 100 elements"},
		{valid("contactIds", []string{c, c, "nobody"}), 422, `contactIds[2] "nobody" is not a contact of this location`},
		{valid("contactIds", []string{other}), 422, `contactIds[0] "` + other + `" is not a contact of this location`},
		{valid("owners", "u"), 422, "owners must be an array"},
		{valid("owners", []any{true}), 422, "each value in owners must be a string"},
		{valid("owners", []string{sandbox.NewID()}), 422, "owners[0]"},
		{valid("owners", []string{elsewhere}), 422, `owners[0] "` + elsewhere + `" is not a user of this location`},
		{valid("owners", []string{gone}), 422, "is not a user of this location"},
		{`{"title":`, 400, "Unexpected token in JSON"},
		{`[]`, 400, "request body must be a JSON object"},
	}
	for _, tc := range cases {
		wantError(t, e.do("POST", base, e.TokL1, tc.body), tc.status, tc.msg)
	}
	if n := countRecords(t, e, sandbox.KindRecurringTask, e.L1); n != 0 {
		t.Fatalf("%d recurring tasks stored by refused requests", n)
	}

	// The update checks what it is given, and needs no field.
	id := mustID(t, e.do("POST", base, e.TokL1, valid()).mustStatus(t, 201).JSON(t), "recurringTask", "id")
	before := e.do("GET", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	for _, tc := range []struct {
		body   any
		status int
		msg    string
	}{
		{map[string]any{"title": ""}, 422, "title should not be empty"},
		{map[string]any{"rruleOptions": map[string]any{"interval": 2}}, 422, "rruleOptions.intervalType should not be empty"},
		{map[string]any{"rruleOptions": rrule("dayOfWeek", "XX")}, 422, "rruleOptions.dayOfWeek must be one of"},
		{map[string]any{"contactIds": []string{other}}, 422, "is not a contact of this location"},
		{map[string]any{"owners": []string{elsewhere}}, 422, "is not a user of this location"},
		{map[string]any{"title": []string{}}, 422, "title must be a string"},
		{`{"title"`, 400, "Unexpected token in JSON"},
	} {
		wantError(t, e.do("PUT", base+"/"+id, e.TokL1, tc.body), tc.status, tc.msg)
	}
	if after := e.do("GET", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("refused updates changed the task:\n%v\n%v", before, after)
	}
	if got := e.do("PUT", base+"/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)["recurringTask"].(map[string]any); got["title"] != "T" {
		t.Errorf("empty update = %v", got)
	}
}

func TestRecurringTaskAccess(t *testing.T) {
	e := newTestEnv(t)
	body := map[string]any{"title": "T", "rruleOptions": rrule()}
	id := mustID(t, e.do("POST", "/locations/"+e.L1+"/recurring-tasks", e.TokL1, body).mustStatus(t, 201).JSON(t), "recurringTask", "id")
	id2 := mustID(t, e.do("POST", "/locations/"+e.L2+"/recurring-tasks", e.TokL2, body).mustStatus(t, 201).JSON(t), "recurringTask", "id")
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		var b any
		if m == "PUT" {
			b = map[string]any{"title": "Mallory"}
		}
		// Unknown ids, and another location's id under this location's path:
		// the same 404, so nothing tells the id exists elsewhere.
		wantError(t, e.do(m, "/locations/"+e.L1+"/recurring-tasks/"+sandbox.NewID(), e.TokL1, b), 404, "Recurring task not found")
		wantError(t, e.do(m, "/locations/"+e.L1+"/recurring-tasks/"+id2, e.TokL1, b), 404, "Recurring task not found")
		wantError(t, e.do(m, "/locations/"+e.L2+"/recurring-tasks/"+id, e.TokL2, b), 404, "Recurring task not found")
		// Another location's token.
		wantError(t, e.do(m, "/locations/"+e.L1+"/recurring-tasks/"+id, e.TokL2, b), 403, sandbox.MsgLocation)
		wantError(t, e.do(m, "/locations/"+e.L1+"/recurring-tasks/"+id, e.TokL3, b), 403, sandbox.MsgLocation)
		// The spec takes sub-account tokens only.
		wantError(t, e.do(m, "/locations/"+e.L1+"/recurring-tasks/"+id, e.TokC1, b), 401, sandbox.MsgAuthClass)
	}
	wantError(t, e.do("POST", "/locations/"+e.L1+"/recurring-tasks", e.TokL2, body), 403, sandbox.MsgLocation)
	// They take locations/tasks.readonly|write: contacts.readonly is not enough.
	wantError(t, e.do("GET", "/locations/"+e.L1+"/recurring-tasks/"+id, e.TokL1Read, nil), 401, sandbox.MsgScope)
	if got := e.do("GET", "/locations/"+e.L1+"/recurring-tasks/"+id, e.TokL1, nil).mustStatus(t, 200).JSON(t)["recurringTask"].(map[string]any); got["title"] != "T" {
		t.Errorf("task changed by refused requests: %v", got)
	}

	if got := e.do("GET", "/locations/"+e.L2+"/recurring-tasks/"+id2, e.TokL2, nil).mustStatus(t, 200).JSON(t)["recurringTask"].(map[string]any); got["title"] != "T" {
		t.Errorf("task changed by refused requests: %v", got)
	}

	// Deleting a location deletes its recurring tasks, uploaded files,
	// calendars and pipelines; the other location's stay.
	for _, l := range []struct{ tok, loc string }{{e.TokL1, e.L1}, {e.TokL2, e.L2}} {
		upload(t, e, l.tok, l.loc, multipartBody(t, nil, []testFile{{"f", "a.txt", "text/plain", "x"}})).mustStatus(t, 200)
	}
	cal, cal1 := &sandbox.Calendar{Name: "Doomed", LocationID: e.L2}, &sandbox.Calendar{Name: "Kept", LocationID: e.L1}
	pipe, pipe1 := &sandbox.Pipeline{Name: "Doomed", LocationID: e.L2}, &sandbox.Pipeline{Name: "Kept", LocationID: e.L1}
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error {
		for _, c := range []*sandbox.Calendar{cal, cal1} {
			if err := sandbox.PutCalendar(ctx, tx, e.C1, c); err != nil {
				return err
			}
		}
		for _, p := range []*sandbox.Pipeline{pipe, pipe1} {
			if err := sandbox.PutPipeline(ctx, tx, e.C1, p); err != nil {
				return err
			}
		}
		return nil
	})
	kinds := []sandbox.Kind{sandbox.KindRecurringTask, sandbox.KindCustomFieldFile, sandbox.KindCalendar, sandbox.KindPipeline}
	for _, k := range kinds {
		if n := countRecords(t, e, k, e.L2); n != 1 {
			t.Fatalf("%d %s records before the location's deletion, want 1", n, k)
		}
	}
	calDo(e, "/calendars/"+cal.ID, e.TokL2).mustStatus(t, 200)
	e.do("DELETE", "/locations/"+e.L2+"?deleteTwilioAccount=false", e.TokC1, nil).mustStatus(t, 200)
	for _, k := range kinds {
		if n := countRecords(t, e, k, e.L2); n != 0 {
			t.Errorf("%d %s records left after the location's deletion", n, k)
		}
		if n := countRecords(t, e, k, e.L1); n != 1 {
			t.Errorf("%d %s records of the other location after the deletion, want 1", n, k)
		}
	}
	wantAPIError(t, calDo(e, "/calendars/"+cal.ID, e.TokL2), 404, "Calendar not found")
	if r := calDo(e, "/calendars/?locationId="+e.L2, e.TokL2).mustStatus(t, 200); strings.TrimSpace(string(r.Body)) != `{"calendars":[]}` {
		t.Errorf("calendars of the deleted location: %s", r.Body)
	}
	if r := e.do("GET", "/opportunities/pipelines?locationId="+e.L2, e.TokL2, nil).mustStatus(t, 200); strings.TrimSpace(string(r.Body)) != `{"pipelines":[]}` {
		t.Errorf("pipelines of the deleted location: %s", r.Body)
	}
	calDo(e, "/calendars/"+cal1.ID, e.TokL1).mustStatus(t, 200)
}

// ---- custom field file upload ----

type testFile struct{ field, name, contentType, content string }

type multipartForm struct {
	body        []byte
	contentType string
}

func multipartBody(t *testing.T, fields map[string]string, files []testFile) multipartForm {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.field, f.name))
		if f.contentType != "" {
			h.Set("Content-Type", f.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(f.content))
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return multipartForm{buf.Bytes(), mw.FormDataContentType()}
}

func upload(t *testing.T, e *testEnv, tok, loc string, form multipartForm) *response {
	t.Helper()
	return e.doH("POST", "/locations/"+loc+"/customFields/upload", tok, form.body, map[string]string{"Version": "2021-07-28", "Content-Type": form.contentType})
}

// fetch GETs an uploaded file's url from the test server.
func fetch(t *testing.T, e *testEnv, rawURL string, headers map[string]string) *http.Response {
	t.Helper()
	return fetchMethod(t, e, "GET", rawURL, headers)
}

// fetchMethod sends a request without a body to an uploaded file's url on
// the test server.
func fetchMethod(t *testing.T, e *testEnv, method, rawURL string, headers map[string]string) *http.Response {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, e.HTTP.URL+u.EscapedPath(), nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func TestUploadCustomFieldFiles(t *testing.T) {
	e := newTestEnv(t)
	field := mustID(t, e.do("POST", "/locations/"+e.L1+"/customFields", e.TokL1, map[string]any{"name": "Contract", "dataType": "FILE_UPLOAD",
		"acceptedFormat": []string{".pdf", ".csv"}, "maxNumberOfFiles": 2}).mustStatus(t, 201).JSON(t), "customField", "id")

	res := upload(t, e, e.TokL1, e.L1, multipartBody(t, map[string]string{"id": field, "maxFiles": "2"}, []testFile{
		{field + "_a1", "contract.pdf", "application/pdf", "%PDF-1.4 hello"},
		{"FileName.csv", "FileName.csv", "", "a,b\n1,2\n"},
	})).mustStatus(t, 200).JSON(t)
	files, _ := res["uploadedFiles"].(map[string]any)
	meta, _ := res["meta"].([]any)
	if len(files) != 2 || len(meta) != 2 || len(res) != 2 {
		t.Fatalf("answer %v", res)
	}
	m0, m1 := meta[0].(map[string]any), meta[1].(map[string]any)
	if m0["fieldname"] != field+"_a1" || m0["originalname"] != "contract.pdf" || m0["encoding"] != "7bit" || m0["mimetype"] != "application/pdf" ||
		m0["size"] != float64(len("%PDF-1.4 hello")) || m0["url"] != files[field+"_a1"] {
		t.Errorf("meta[0] %v", m0)
	}
	if m1["fieldname"] != "FileName.csv" || m1["mimetype"] != "application/octet-stream" || m1["size"] != float64(8) || m1["url"] != files["FileName.csv"] {
		t.Errorf("meta[1] %v", m1)
	}
	u0, _ := m0["url"].(string)
	if !strings.HasPrefix(u0, "http://127.0.0.1:8080/_ghlkit/files/") || !strings.HasSuffix(u0, "/contract.pdf") {
		t.Errorf("url %q", u0)
	}
	if n := countRecords(t, e, sandbox.KindCustomFieldFile, e.L1); n != 2 {
		t.Errorf("%d files stored", n)
	}

	// The url serves the file, as a download.
	got := fetch(t, e, u0, nil)
	var b bytes.Buffer
	b.ReadFrom(got.Body)
	if got.StatusCode != 200 || b.String() != "%PDF-1.4 hello" || got.Header.Get("Content-Type") != "application/pdf" ||
		got.Header.Get("Content-Disposition") != `attachment; filename=contract.pdf` || got.Header.Get("X-Content-Type-Options") != "nosniff" ||
		got.Header.Get("Content-Security-Policy") != "sandbox; default-src 'none'" || got.Header.Get("Content-Length") != "14" {
		t.Errorf("GET %s: %d %v %q", u0, got.StatusCode, got.Header, b.String())
	}
	// HEAD answers the same headers without the body.
	head := fetchMethod(t, e, "HEAD", u0, nil)
	b.Reset()
	b.ReadFrom(head.Body)
	if head.StatusCode != 200 || b.Len() != 0 || head.Header.Get("Content-Type") != "application/pdf" || head.Header.Get("Content-Length") != "14" ||
		head.Header.Get("X-Content-Type-Options") != "nosniff" || head.Header.Get("Content-Security-Policy") != "sandbox; default-src 'none'" ||
		head.Header.Get("Content-Disposition") != `attachment; filename=contract.pdf` {
		t.Errorf("HEAD %s: %d %v %q", u0, head.StatusCode, head.Header, b.String())
	}
	// An unknown id, or a known id under another name, is a 404 in the
	// API's error shape.
	for _, u := range []string{"http://x/_ghlkit/files/" + sandbox.NewID() + "/a.pdf", strings.TrimSuffix(u0, "contract.pdf") + "other.pdf",
		strings.TrimSuffix(u0, "contract.pdf") + "contract.PDF", strings.TrimSuffix(u0, "/contract.pdf") + "/file"} {
		res := fetch(t, e, u, nil)
		var m map[string]any
		if err := json.NewDecoder(res.Body).Decode(&m); res.StatusCode != 404 || err != nil || m["statusCode"] != float64(404) || m["message"] != "File not found" {
			t.Errorf("GET %s: %d %v (%v)", u, res.StatusCode, m, err)
		}
	}

	// Without an id (or with one that names no custom field) any file goes.
	res = upload(t, e, e.TokL1, e.L1, multipartBody(t, map[string]string{"id": sandbox.NewID()}, []testFile{{"f", "run.sh", "text/x-sh", "echo"}, {"g", "..", "", "x"},
		{"h", "my report é.txt", "text/plain", "hi"}})).mustStatus(t, 200).JSON(t)
	meta = res["meta"].([]any)
	if len(meta) != 3 || !strings.HasSuffix(meta[1].(map[string]any)["url"].(string), "/file") ||
		!strings.HasSuffix(meta[2].(map[string]any)["url"].(string), "/my%20report%20%C3%A9.txt") {
		t.Fatalf("answer %v", res)
	}
	// The url's name is matched unescaped: "file" for "..", the escaped
	// name for one with spaces.
	for _, x := range meta[1:] {
		u := x.(map[string]any)["url"].(string)
		if got := fetch(t, e, u, nil); got.StatusCode != 200 {
			t.Errorf("GET %s: %d", u, got.StatusCode)
		}
	}
	if got := fetch(t, e, strings.TrimSuffix(meta[2].(map[string]any)["url"].(string), "%20%C3%A9.txt")+".txt", nil); got.StatusCode != 404 {
		t.Errorf("a shorter name: %d", got.StatusCode)
	}
	// A maxFiles too large for a number is the maximum, as any above it.
	upload(t, e, e.TokL1, e.L1, multipartBody(t, map[string]string{"maxFiles": "99999999999999999999"}, []testFile{{"f", "a.txt", "", "x"}})).mustStatus(t, 200)
	upload(t, e, e.TokL1, e.L1, multipartBody(t, nil, []testFile{{"f", "a.txt", "", "x"}})).mustStatus(t, 200)
}

func TestUploadCustomFieldFilesErrors(t *testing.T) {
	e := newTestEnv(t)
	pdf := mustID(t, e.do("POST", "/locations/"+e.L1+"/customFields", e.TokL1, map[string]any{"name": "Scan", "dataType": "FILE_UPLOAD",
		"acceptedFormat": []string{".pdf"}}).mustStatus(t, 201).JSON(t), "customField", "id")
	text := mustID(t, e.do("POST", "/locations/"+e.L1+"/customFields", e.TokL1, map[string]any{"name": "Note", "dataType": "TEXT"}).mustStatus(t, 201).JSON(t), "customField", "id")
	one := []testFile{{"f", "a.pdf", "application/pdf", "x"}}
	two := []testFile{{"f", "a.pdf", "application/pdf", "x"}, {"g", "b.pdf", "application/pdf", "y"}}
	many := make([]testFile, 51)
	for i := range many {
		many[i] = testFile{fmt.Sprint("f", i), "a.txt", "", "x"}
	}
	for _, tc := range []struct {
		form   multipartForm
		status int
		msg    string
	}{
		{multipartBody(t, map[string]string{"id": pdf}, two), 422, `custom field "Scan" takes at most 1 files; 2 were sent`},
		{multipartBody(t, map[string]string{"id": pdf}, []testFile{{"f", "a.exe", "", "x"}}), 422, `f: "a.exe" is not an accepted format of custom field "Scan" (.pdf)`},
		{multipartBody(t, map[string]string{"id": text}, one), 422, `id must be a FILE_UPLOAD custom field; "Note" is TEXT`},
		{multipartBody(t, map[string]string{"maxFiles": "1"}, two), 422, "maxFiles: 2 files were sent, at most 1 may be"},
		{multipartBody(t, map[string]string{"maxFiles": "many"}, one), 422, "maxFiles must be a number string not less than 1"},
		{multipartBody(t, map[string]string{"maxFiles": "0"}, one), 422, "maxFiles must be a number string not less than 1"},
		{multipartBody(t, map[string]string{"maxFiles": "-99999999999999999999"}, one), 422, "maxFiles must be a number string not less than 1"},
		{multipartBody(t, map[string]string{"maxFiles": "99999999999999999999"}, many), 422, "maxFiles: 51 files were sent, at most 50 may be"},
		{multipartBody(t, map[string]string{"id": pdf}, nil), 422, "at least one file must be uploaded"},
		{multipartBody(t, nil, many), 422, "maxFiles: 51 files were sent, at most 50 may be"},
		{multipartForm{[]byte(`{"id":"x"}`), "application/json"}, 400, "Content-Type must be multipart/form-data"},
		{multipartForm{[]byte("--x--\r\n"), "multipart/form-data"}, 400, "multipart/form-data boundary is missing"},
		{multipartForm{[]byte("hello"), "multipart/form-data; boundary=x"}, 400, "malformed multipart body"},
		{multipartForm{nil, "multipart/form-data; boundary=x"}, 400, "malformed multipart body"},
		{multipartForm{[]byte("--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nunterminated"), "multipart/form-data; boundary=x"}, 400, "malformed multipart body"},
		{multipartForm{[]byte("--x\r\nContent-Type: text/plain\r\n\r\nno name\r\n--x--\r\n"), "multipart/form-data; boundary=x"}, 400, "a part has no form-data name"},
		{multipartForm{bytes.Repeat([]byte("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n"), 101), "multipart/form-data; boundary=x"}, 400, "Too many parts"},
		{multipartForm{[]byte("--x--\r\n"), "multipart/form-data; boundary=x"}, 422, "at least one file must be uploaded"},
		{multipartBody(t, nil, []testFile{{"f", "big.bin", "", strings.Repeat("x", sandbox.MaxBodyBytes)}}), 413, "request entity too large"},
	} {
		wantError(t, upload(t, e, e.TokL1, e.L1, tc.form), tc.status, tc.msg)
	}
	if n := countRecords(t, e, sandbox.KindCustomFieldFile, e.L1); n != 0 {
		t.Errorf("%d files stored by refused uploads", n)
	}

	good := multipartBody(t, nil, one)
	wantError(t, upload(t, e, e.TokL2, e.L1, good), 403, sandbox.MsgLocation)
	wantError(t, upload(t, e, e.TokL1Read, e.L1, good), 401, sandbox.MsgScope)
	wantError(t, upload(t, e, e.TokC1, e.L1, good), 401, sandbox.MsgAuthClass)
	// Another location's FILE_UPLOAD field is just an id here: its rules
	// don't apply and nothing of it is revealed.
	other := mustID(t, e.do("POST", "/locations/"+e.L2+"/customFields", e.TokL2, map[string]any{"name": "Other", "dataType": "FILE_UPLOAD",
		"acceptedFormat": []string{".png"}}).mustStatus(t, 201).JSON(t), "customField", "id")
	upload(t, e, e.TokL1, e.L1, multipartBody(t, map[string]string{"id": other}, one)).mustStatus(t, 200)
}

// TestUploadedFilesArePublic: file URLs work without credentials, as GHL's
// storage URLs do, even when the admin API is behind a token; the rest of
// /_ghlkit/ stays protected, and an unknown file id is a 404.
func TestUploadedFilesArePublic(t *testing.T) {
	e := newTestEnv(t, func(c *sandbox.Config) { c.AdminToken = "admin-secret" })
	res := upload(t, e, e.TokL1, e.L1, multipartBody(t, nil, []testFile{{"f", "a.txt", "text/plain", "hello"}})).mustStatus(t, 200).JSON(t)
	u := res["meta"].([]any)[0].(map[string]any)["url"].(string)
	if got := fetch(t, e, u, nil); got.StatusCode != 200 || got.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("without credentials: %d %v", got.StatusCode, got.Header)
	}
	if got := fetch(t, e, e.HTTP.URL+"/_ghlkit/files/"+sandbox.NewID()+"/a.txt", nil); got.StatusCode != 404 {
		t.Errorf("unknown file: %d", got.StatusCode)
	}
	if got := fetch(t, e, e.HTTP.URL+"/_ghlkit/apps", nil); got.StatusCode != 401 {
		t.Errorf("admin API without the admin token: %d", got.StatusCode)
	}
}

// ---- fuzzing ----

// rtFuzzServer is a fuzzServer with a FILE_UPLOAD field and one recurring
// task.
type rtFuzzServer struct {
	*fuzzServer
	task string
}

func newRTFuzzServer(f *testing.F) *rtFuzzServer {
	fs := &rtFuzzServer{fuzzServer: newFuzzServer(f, func(loc string) []*sandbox.CustomField {
		return []*sandbox.CustomField{{ID: "field000000000000001", Name: "F", FieldKey: "contact.f", DataType: "FILE_UPLOAD", Model: "contact", LocationID: loc, AcceptedFormats: ".pdf", MaxFileLimit: 1}}
	})}
	rec := fs.send("POST", "/locations/"+fs.loc+"/recurring-tasks", "application/json", []byte(`{"title":"T","rruleOptions":{"intervalType":"daily","interval":1,"startDate":"2030-01-01","dueAfterSeconds":0}}`))
	var m struct {
		RecurringTask struct{ ID string } `json:"recurringTask"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m.RecurringTask.ID == "" {
		f.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	fs.task = m.RecurringTask.ID
	return fs
}

// checkFuzzAnswer fails on a 5xx, a body that is not a JSON object, or an
// error without GHL's statusCode.
func checkFuzzAnswer(t *testing.T, rec *httptest.ResponseRecorder, input []byte) map[string]any {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d for %q: %s", rec.Code, input, rec.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("status %d, body not a JSON object: %q", rec.Code, rec.Body)
	}
	if rec.Code >= 400 && m["statusCode"] != float64(rec.Code) {
		t.Fatalf("error body %v for status %d", m, rec.Code)
	}
	return m
}

// FuzzRecurringTaskBody sends arbitrary bodies to the create and update
// operations: never a 5xx, always JSON, and what is stored reads back.
func FuzzRecurringTaskBody(f *testing.F) {
	for _, seed := range []string{
		`{"title":"T","rruleOptions":{"intervalType":"weekly","interval":2,"startDate":"2030-01-02T09:30:00Z","dueAfterSeconds":3600,"dayOfWeek":"MO"}}`,
		`{"title":"T","rruleOptions":{"intervalType":"hourly","interval":2147483647,"startDate":"9999-12-31T23:00:00Z","dueAfterSeconds":2147483647,"monthOfYear":2,"dayOfMonth":31}}`,
		`{"title":"T","rruleOptions":{"intervalType":"yearly","interval":1,"startDate":"0001-01-01","dueAfterSeconds":0,"monthOfYear":2,"dayOfMonth":29,"createTaskIfOverDue":true}}`,
		`{"title":"T","rruleOptions":{"intervalType":"monthly","interval":1e9,"startDate":"1700000000000","endDate":"1700000000001","dueAfterSeconds":1,"count":3}}`,
		`{"title":"T","contactIds":["a",1,null],"owners":{},"rruleOptions":{"intervalType":"daily","interval":-1}}`,
		`{"title":null,"description":null,"contactIds":null,"owners":null,"rruleOptions":null,"ignoreTaskCreation":null}`,
		`{"title":"0","rruleOptions":{"intervalType":"monthly","interval":100,"startDate":"0700000000000000","dueAfterSeconds":0}}`,
		`{"rruleOptions":[]}`, `[]`, `null`, `{"`, `"x"`,
	} {
		f.Add([]byte(seed))
	}
	fs := newRTFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		m := checkFuzzAnswer(t, fs.send("POST", "/locations/"+fs.loc+"/recurring-tasks", "application/json", body), body)
		if rt, ok := m["recurringTask"].(map[string]any); ok {
			id, _ := rt["id"].(string)
			got := checkFuzzAnswer(t, fs.send("GET", "/locations/"+fs.loc+"/recurring-tasks/"+url.PathEscape(id), "", nil), body)
			if fmt.Sprint(got["recurringTask"]) != fmt.Sprint(rt) {
				t.Fatalf("created %v, read %v", rt, got)
			}
		}
		checkFuzzAnswer(t, fs.send("PUT", "/locations/"+fs.loc+"/recurring-tasks/"+fs.task, "application/json", body), body)
	})
}

// FuzzUploadCustomFieldFiles sends arbitrary multipart bodies: never a 5xx,
// always JSON in GHL's shape.
func FuzzUploadCustomFieldFiles(f *testing.F) {
	seed := func(fields map[string]string, files ...[3]string) []byte {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.SetBoundary("fuzzboundary")
		for k, v := range fields {
			mw.WriteField(k, v)
		}
		for _, x := range files {
			w, _ := mw.CreateFormFile(x[0], x[1])
			w.Write([]byte(x[2]))
		}
		mw.Close()
		return buf.Bytes()
	}
	for _, s := range [][]byte{
		seed(map[string]string{"id": "field000000000000001", "maxFiles": "1"}, [3]string{"f", "a.pdf", "%PDF"}),
		seed(map[string]string{"id": "field000000000000001"}, [3]string{"f", "a.exe", "MZ"}, [3]string{"g", "b.pdf", ""}),
		seed(map[string]string{"maxFiles": "-1"}, [3]string{"", "", ""}),
		seed(nil),
		[]byte("--fuzzboundary\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=41=\r\n--fuzzboundary--\r\n"),
		[]byte("--fuzzboundary\r\n\r\n"), []byte(""), []byte("garbage"),
	} {
		f.Add(s)
	}
	fs := newRTFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		m := checkFuzzAnswer(t, fs.send("POST", "/locations/"+fs.loc+"/customFields/upload", "multipart/form-data; boundary=fuzzboundary", body), body)
		if meta, ok := m["meta"].([]any); ok {
			files, _ := m["uploadedFiles"].(map[string]any)
			if len(meta) == 0 || len(files) == 0 || len(files) > len(meta) {
				t.Fatalf("answer %v", m)
			}
		}
	})
}
