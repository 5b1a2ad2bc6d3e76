package ghl

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestContactsService(t *testing.T) {
	const L = "Location:loc1"
	task := `{"id":"t1","title":"Call","body":"b","assignedTo":"u1","dueDate":"2024-01-01T00:00:00Z","completed":false,"contactId":"c1"}`
	wantTask := &Task{ID: "t1", Title: "Call", Body: "b", AssignedTo: "u1", DueDate: "2024-01-01T00:00:00Z", ContactID: "c1"}
	note := `{"id":"n1","body":"hello","userId":"u1","dateAdded":"2024-01-01","contactId":"c1","title":"T","color":"#FFAA00","pinned":true}`
	wantNote := &Note{ID: "n1", Body: "hello", UserID: "u1", DateAdded: "2024-01-01", ContactID: "c1", Title: "T", Color: "#FFAA00", Pinned: true}
	ok := &Succeeded{Succeeded: true}

	runAPICases(t, []apiCase{
		{
			name: "Search", method: "POST", path: "/contacts/search", auth: L,
			body: `{"locationId":"loc1","page":2,"pageLimit":10,"query":"ann",
				"filters":[{"field":"email","operator":"exists"},
				           {"group":"OR","filters":[{"field":"tags","operator":"contains","value":"vip"},
				                                    {"field":"dateAdded","operator":"range","value":{"gte":"2024-01-01"}}]}],
				"sort":[{"field":"dateAdded","direction":"desc"}]}`,
			respond: `{"contacts":[{"id":"c1","locationId":"loc1","email":"a@b.co","dateAdded":"2024-01-02T00:00:00Z","searchAfter":[1704153600000,"c1"],
				"customFields":[{"id":"f1","value":"x"}],"lastActivity":1704153600000}],"total":1}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return drop(c.Contacts.Search(ctx, SearchContactsParams{
					LocationID: "loc1", Page: 2, PageLimit: 10, Query: "ann",
					Filters: []ContactFilter{
						Where("email", OpExists, nil),
						AnyOf(Where("tags", OpContains, "vip"), Where("dateAdded", OpRange, RangeValue{GTE: "2024-01-01"})),
					},
					Sort: []ContactSort{{Field: "dateAdded", Direction: "desc"}},
				}))
			},
			want: &ContactSearchResult{Total: 1, Contacts: []*Contact{{
				ID: "c1", LocationID: "loc1", Email: "a@b.co", DateAdded: "2024-01-02T00:00:00Z",
				SearchAfter: json.RawMessage(`[1704153600000,"c1"]`), LastActivity: "1704153600000",
				CustomFields: []ContactCustomField{{ID: "f1", Value: "x"}},
			}}},
		},
		{
			name: "GetDuplicate", method: "GET", path: "/contacts/search/duplicate", auth: L,
			query:   q("locationId", "loc1", "email", "a+b@c.co", "number", "+14155550100"),
			respond: `{"contact":{"id":"c1","email":"a+b@c.co"},"traceId":"t"}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.GetDuplicate(ctx, DuplicateContactParams{LocationID: "loc1", Email: "a+b@c.co", Number: "+14155550100"}))
			},
			want: &Contact{ID: "c1", Email: "a+b@c.co"},
		},
		{
			name: "GetDuplicate/none", method: "GET", path: "/contacts/search/duplicate", auth: L,
			query: q("locationId", "loc1", "email", "x@y.z"), respond: `{"contact":null}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.GetDuplicate(ctx, DuplicateContactParams{LocationID: "loc1", Email: "x@y.z"}))
			},
			want: (*Contact)(nil),
		},
		{
			name: "ListTasks", method: "GET", path: "/contacts/c1/tasks", auth: L, respond: `{"tasks":[` + task + `]}`,
			call: func(ctx context.Context, c *Client) (any, error) { return one(c.Contacts.ListTasks(locCtx(ctx), "c1")) },
			want: []*Task{wantTask},
		},
		{
			name: "CreateTask", method: "POST", path: "/contacts/c1/tasks", auth: L, status: 201,
			body:    `{"title":"Call","dueDate":"2024-01-01T00:00:00Z","completed":false}`,
			respond: `{"task":` + task + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.CreateTask(locCtx(ctx), "c1", CreateTaskParams{Title: "Call", DueDate: "2024-01-01T00:00:00Z"}))
			},
			want: wantTask,
		},
		{
			name: "GetTask", method: "GET", path: "/contacts/c1/tasks/t1", auth: L, respond: `{"task":` + task + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.GetTask(locCtx(ctx), "c1", "t1"))
			},
			want: wantTask,
		},
		{
			name: "UpdateTask", method: "PUT", path: "/contacts/c1/tasks/t1", auth: L,
			body: `{"title":"New","completed":true}`, respond: `{"task":` + task + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.UpdateTask(locCtx(ctx), "c1", "t1", UpdateTaskParams{Title: "New", Completed: Bool(true)}))
			},
			want: wantTask,
		},
		{
			name: "CompleteTask", method: "PUT", path: "/contacts/c1/tasks/t1/completed", auth: L,
			body: `{"completed":true}`, respond: `{"task":` + task + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.CompleteTask(locCtx(ctx), "c1", "t1", true))
			},
			want: wantTask,
		},
		{
			name: "DeleteTask", method: "DELETE", path: "/contacts/c1/tasks/t1", auth: L, respond: `{"succeded":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.DeleteTask(locCtx(ctx), "c1", "t1"))
			},
			want: ok,
		},
		{
			name: "ListAppointments", method: "GET", path: "/contacts/c1/appointments", auth: L,
			respond: `{"events":[{"id":"e1","calendarId":"cal1","status":"booked","startTime":"2021-07-16 11:00:00","users":["u1"]}]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.ListAppointments(locCtx(ctx), "c1"))
			},
			want: []*ContactAppointment{{ID: "e1", CalendarID: "cal1", Status: "booked", StartTime: "2021-07-16 11:00:00", Users: []string{"u1"}}},
		},
		{
			name: "AddTags", method: "POST", path: "/contacts/c1/tags", auth: L, status: 201,
			body: `{"tags":["a","b"]}`, respond: `{"tags":["a","b","old"]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.AddTags(locCtx(ctx), "c1", "a", "b"))
			},
			want: []string{"a", "b", "old"},
		},
		{
			name: "RemoveTags", method: "DELETE", path: "/contacts/c1/tags", auth: L,
			body: `{"tags":["a"]}`, respond: `{"tags":["b"]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.RemoveTags(locCtx(ctx), "c1", "a"))
			},
			want: []string{"b"},
		},
		{
			name: "ListNotes", method: "GET", path: "/contacts/c1/notes", auth: L, respond: `{"notes":[` + note + `]}`,
			call: func(ctx context.Context, c *Client) (any, error) { return one(c.Contacts.ListNotes(locCtx(ctx), "c1")) },
			want: []*Note{wantNote},
		},
		{
			name: "CreateNote", method: "POST", path: "/contacts/c1/notes", auth: L, status: 201,
			body: `{"body":"hello","userId":"u1","pinned":false}`, respond: `{"note":` + note + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.CreateNote(locCtx(ctx), "c1", NoteParams{Body: "hello", UserID: "u1", Pinned: Bool(false)}))
			},
			want: wantNote,
		},
		{
			name: "GetNote", method: "GET", path: "/contacts/c1/notes/n1", auth: L, respond: `{"note":` + note + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.GetNote(locCtx(ctx), "c1", "n1"))
			},
			want: wantNote,
		},
		{
			name: "UpdateNote", method: "PUT", path: "/contacts/c1/notes/n1", auth: L,
			body: `{"body":"edited"}`, respond: `{"note":` + note + `}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.UpdateNote(locCtx(ctx), "c1", "n1", NoteParams{Body: "edited"}))
			},
			want: wantNote,
		},
		{
			name: "DeleteNote", method: "DELETE", path: "/contacts/c1/notes/n1", auth: L, respond: `{"succeded":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.DeleteNote(locCtx(ctx), "c1", "n1"))
			},
			want: ok,
		},
		{
			name: "BulkUpdateTags", method: "POST", path: "/contacts/bulk/tags/update/add", auth: L, status: 201,
			body:    `{"locationId":"loc1","contacts":["c1","c2"],"tags":["vip"],"removeAllTags":false}`,
			respond: `{"succeded":true,"errorCount":0,"responses":["ok"]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.BulkUpdateTags(ctx, BulkTagsAdd, BulkUpdateTagsParams{LocationID: "loc1", Contacts: []string{"c1", "c2"}, Tags: []string{"vip"}, RemoveAllTags: Bool(false)}))
			},
			want: &BulkUpdateTagsResult{Succeeded: true, Responses: []json.RawMessage{json.RawMessage(`"ok"`)}},
		},
		{
			name: "BulkUpdateBusiness", method: "POST", path: "/contacts/bulk/business", auth: L,
			body: `{"locationId":"loc1","ids":["c1"],"businessId":null}`, respond: `{"success":true,"ids":["c1"]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.BulkUpdateBusiness(ctx, BulkUpdateBusinessParams{LocationID: "loc1", IDs: []string{"c1"}}))
			},
			want: &BulkUpdateBusinessResult{Success: true, IDs: []string{"c1"}},
		},
		{
			name: "Get", method: "GET", path: "/contacts/c1", auth: L,
			respond: `{"contact":{"id":"c1","firstName":"Ann","tags":["vip"],"dndSettings":{"SMS":{"status":"active"}},
				"attributionSource":{"url":"https://x","utmSource":"ads"},"dateOfBirth":"1990-01-02"}}`,
			call: func(ctx context.Context, c *Client) (any, error) { return one(c.Contacts.Get(locCtx(ctx), "c1")) },
			want: &Contact{ID: "c1", FirstName: "Ann", Tags: []string{"vip"}, DNDSettings: &DNDSettings{SMS: &DNDSetting{Status: "active"}},
				AttributionSource: &AttributionSource{URL: "https://x", UTMSource: "ads"}, DateOfBirth: "1990-01-02"},
		},
		{
			name: "Update", method: "PUT", path: "/contacts/c1", auth: L,
			body:    `{"firstName":"Ann","dnd":false,"customFields":[{"id":"f1","field_value":["a","b"]}]}`,
			respond: `{"succeded":true,"contact":{"id":"c1","firstName":"Ann"}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.Update(locCtx(ctx), "c1", UpdateContactParams{FirstName: "Ann", DND: Bool(false),
					CustomFields: []CustomFieldValue{{ID: "f1", Value: []string{"a", "b"}}}}))
			},
			want: &Contact{ID: "c1", FirstName: "Ann"},
		},
		{
			name: "Delete", method: "DELETE", path: "/contacts/c1", auth: L, respond: `{"succeded":true}`,
			call: func(ctx context.Context, c *Client) (any, error) { return one(c.Contacts.Delete(locCtx(ctx), "c1")) },
			want: ok,
		},
		{
			name: "Upsert", method: "POST", path: "/contacts/upsert", auth: L,
			body:    `{"locationId":"loc1","email":"a@b.co","tags":["new"],"createNewIfDuplicateAllowed":false}`,
			respond: `{"new":true,"contact":{"id":"c9","email":"a@b.co"},"traceId":"tr1"}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.Upsert(ctx, UpsertContactParams{
					CreateContactParams:         CreateContactParams{LocationID: "loc1", Email: "a@b.co", Tags: []string{"new"}},
					CreateNewIfDuplicateAllowed: Bool(false),
				}))
			},
			want: &UpsertContactResult{New: true, Contact: &Contact{ID: "c9", Email: "a@b.co"}, TraceID: "tr1"},
		},
		{
			name: "ListByBusiness", method: "GET", path: "/contacts/business/b1", auth: L,
			query:   q("locationId", "loc1", "skip", "10", "limit", "5", "query", "x"),
			respond: `{"contacts":[{"id":"c1","businessId":"b1","followers":["u1"]}],"count":1}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return drop(c.Contacts.ListByBusiness(ctx, ListContactsByBusinessParams{BusinessID: "b1", LocationID: "loc1", Skip: 10, Limit: 5, Query: "x"}))
			},
			want: &ContactList{Contacts: []*Contact{{ID: "c1", BusinessID: "b1", Followers: []string{"u1"}}}, Count: 1},
		},
		{
			name: "AddFollowers", method: "POST", path: "/contacts/c1/followers", auth: L, status: 201,
			body: `{"followers":["u1"]}`, respond: `{"followers":["u0","u1"],"followersAdded":["u1"]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.AddFollowers(locCtx(ctx), "c1", "u1"))
			},
			want: &FollowersResult{Followers: []string{"u0", "u1"}, FollowersAdded: []string{"u1"}},
		},
		{
			name: "RemoveFollowers", method: "DELETE", path: "/contacts/c1/followers", auth: L,
			body: `{"followers":["u1"]}`, respond: `{"followers":["u0"],"followersRemoved":["u1"]}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.RemoveFollowers(locCtx(ctx), "c1", "u1"))
			},
			want: &FollowersResult{Followers: []string{"u0"}, FollowersRemoved: []string{"u1"}},
		},
		{
			name: "AddToCampaign", method: "POST", path: "/contacts/c1/campaigns/cp1", auth: L, status: 201,
			body: `{}`, respond: `{"succeded":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.AddToCampaign(locCtx(ctx), "c1", "cp1"))
			},
			want: ok,
		},
		{
			name: "RemoveFromCampaign", method: "DELETE", path: "/contacts/c1/campaigns/cp1", auth: L, respond: `{"succeded":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.RemoveFromCampaign(locCtx(ctx), "c1", "cp1"))
			},
			want: ok,
		},
		{
			name: "RemoveFromAllCampaigns", method: "DELETE", path: "/contacts/c1/campaigns/removeAll", auth: L, respond: `{"succeded":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.RemoveFromAllCampaigns(locCtx(ctx), "c1"))
			},
			want: ok,
		},
		{
			name: "AddToWorkflow", method: "POST", path: "/contacts/c1/workflow/w1", auth: L,
			body: `{"eventStartTime":"2021-06-23T03:30:00+01:00"}`, respond: `{"succeded":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.AddToWorkflow(locCtx(ctx), "c1", "w1", "2021-06-23T03:30:00+01:00"))
			},
			want: ok,
		},
		{
			name: "RemoveFromWorkflow", method: "DELETE", path: "/contacts/c1/workflow/w1", auth: L,
			body: `{}`, respond: `{"succeded":true}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.RemoveFromWorkflow(locCtx(ctx), "c1", "w1", ""))
			},
			want: ok,
		},
		{
			name: "Create", method: "POST", path: "/contacts/", auth: L, status: 201,
			body: `{"locationId":"loc1","firstName":"Ann","phone":"+14155550100","dndSettings":{"Email":{"status":"inactive"}},
				"inboundDndSettings":{"all":{"status":"active","message":"m"}}}`,
			respond: `{"contact":{"id":"c1","firstName":"Ann","birthMonth":8,"deleted":false}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return one(c.Contacts.Create(ctx, CreateContactParams{LocationID: "loc1", FirstName: "Ann", Phone: "+14155550100",
					DNDSettings:        &DNDSettings{Email: &DNDSetting{Status: "inactive"}},
					InboundDNDSettings: &InboundDNDSettings{All: &InboundDNDSetting{Status: "active", Message: "m"}}}))
			},
			want: &Contact{ID: "c1", FirstName: "Ann", BirthMonth: 8},
		},
		{
			name: "List", method: "GET", path: "/contacts/", auth: L,
			query:   q("locationId", "loc1", "startAfterId", "c0", "startAfter", "1700000000000", "limit", "2", "query", "ann"),
			respond: `{"contacts":[{"id":"c1"}],"count":30,"meta":{"startAfterId":"c1","startAfter":1700000000001,"nextPageUrl":"https://x"}}`,
			call: func(ctx context.Context, c *Client) (any, error) {
				return drop(c.Contacts.List(ctx, ListContactsParams{LocationID: "loc1", StartAfterID: "c0", StartAfter: 1700000000000, Limit: 2, Query: "ann"}))
			},
			want: &ContactList{Contacts: []*Contact{{ID: "c1"}}, Count: 30,
				Meta: &ListMeta{StartAfterID: "c1", StartAfter: "1700000000001", NextPageURL: "https://x"}},
		},
	})
}

// customFieldsHandler serves the custom field list of loc1 and counts calls.
func customFieldsHandler(t *testing.T, mux *http.ServeMux, fields string) *atomic.Int32 {
	var n atomic.Int32
	mux.HandleFunc("GET /locations/loc1/customFields", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if m := r.URL.Query().Get("model"); m != "contact" {
			t.Errorf("model = %q", m)
		}
		io.WriteString(w, `{"customFields":`+fields+`}`)
	})
	return &n
}

func TestCustomFieldsByKey(t *testing.T) {
	c, mux, _ := setup(t)
	lists := customFieldsHandler(t, mux, `[{"id":"f-pin","fieldKey":"contact.pincode","name":"Pin"},{"id":"f-size","fieldKey":"contact.shoe_size"}]`)
	var bodies []string
	mux.HandleFunc("POST /contacts/upsert", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		io.WriteString(w, `{"new":false,"contact":{"id":"c1"}}`)
	})
	mux.HandleFunc("PUT /contacts/c1", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		io.WriteString(w, `{"contact":{"id":"c1"}}`)
	})
	ctx := t.Context()
	for range 3 {
		_, err := c.Contacts.Upsert(ctx, UpsertContactParams{CreateContactParams: CreateContactParams{LocationID: "loc1", Email: "a@b.co",
			CustomFields: []CustomFieldValue{{Key: "contact.pincode", Value: "12345"}, {Key: "{{ contact.shoe_size }}", Value: 42}, {ID: "f-raw", Value: "x"}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Contacts.SetCustomFields(WithLocation(ctx, "loc1"), "c1", map[string]any{"pincode": "999", "f-size": 43}); err != nil {
		t.Fatal(err)
	}
	if n := lists.Load(); n != 1 {
		t.Errorf("custom field list fetched %d times, want 1 (cached per location)", n)
	}
	if diff := jsonDiff(t, `{"locationId":"loc1","email":"a@b.co","customFields":[{"id":"f-pin","field_value":"12345"},{"id":"f-size","field_value":42},{"id":"f-raw","field_value":"x"}]}`, bodies[0]); diff != "" {
		t.Errorf("upsert body (-want +got):\n%s", diff)
	}
	if diff := jsonDiff(t, `{"customFields":[{"id":"f-size","field_value":43},{"id":"f-pin","field_value":"999"}]}`, bodies[3]); diff != "" {
		t.Errorf("update body (-want +got):\n%s", diff)
	}

	// An unknown key refetches the list once (the field may be new), then fails.
	_, err := c.Contacts.Upsert(ctx, UpsertContactParams{CreateContactParams: CreateContactParams{LocationID: "loc1",
		CustomFields: []CustomFieldValue{{Key: "nope", Value: 1}}}})
	if !errors.Is(err, ErrUnknownCustomField) {
		t.Errorf("unknown key: err = %v", err)
	}
	// Without a location, keys cannot be resolved.
	if _, err := c.Contacts.SetCustomFields(ctx, "c1", map[string]any{"pincode": 1}); err == nil {
		t.Error("SetCustomFields without location: no error")
	}
}

func TestFindOrCreate(t *testing.T) {
	c, mux, _ := setup(t)
	var created int
	mux.HandleFunc("GET /contacts/search/duplicate", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Query().Get("email") == "known@x.co":
			io.WriteString(w, `{"contact":{"id":"by-email"}}`)
		case r.URL.Query().Get("number") == "+1555":
			io.WriteString(w, `{"contact":{"id":"by-phone"}}`)
		default:
			io.WriteString(w, `{"contact":null}`)
		}
	})
	mux.HandleFunc("POST /contacts/", func(w http.ResponseWriter, r *http.Request) {
		created++
		w.WriteHeader(201)
		io.WriteString(w, `{"contact":{"id":"new"}}`)
	})
	for _, tc := range []struct {
		email, phone string
		wantID       string
		wantCreated  bool
	}{
		{"known@x.co", "+1555", "by-email", false},
		{"other@x.co", "+1555", "by-phone", false},
		{"other@x.co", "+1000", "new", true},
		{"", "+1000", "new", true},
	} {
		got, isNew, err := c.Contacts.FindOrCreate(t.Context(), CreateContactParams{LocationID: "loc1", Email: tc.email, Phone: tc.phone})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != tc.wantID || isNew != tc.wantCreated {
			t.Errorf("FindOrCreate(%q,%q) = %s,%v; want %s,%v", tc.email, tc.phone, got.ID, isNew, tc.wantID, tc.wantCreated)
		}
	}
	if created != 2 {
		t.Errorf("created %d contacts", created)
	}
	if _, _, err := c.Contacts.FindOrCreate(t.Context(), CreateContactParams{LocationID: "loc1"}); err == nil {
		t.Error("no email or phone: no error")
	}
}

func TestBulkUpsert(t *testing.T) {
	c, mux, _ := setup(t)
	var calls atomic.Int32
	mux.HandleFunc("POST /contacts/upsert", func(w http.ResponseWriter, r *http.Request) {
		var p UpsertContactParams
		json.NewDecoder(r.Body).Decode(&p)
		calls.Add(1)
		if p.Email == "bad@x.co" {
			w.WriteHeader(422)
			io.WriteString(w, `{"statusCode":422,"message":["email is invalid"]}`)
			return
		}
		io.WriteString(w, `{"new":true,"contact":{"id":"id-`+p.Email+`"}}`)
	})
	var in []UpsertContactParams
	for _, e := range []string{"a@x.co", "b@x.co", "bad@x.co", "c@x.co", "d@x.co"} {
		in = append(in, UpsertContactParams{CreateContactParams: CreateContactParams{LocationID: "loc1", Email: e}})
	}
	var progress [][2]int
	res, err := c.Contacts.BulkUpsert(t.Context(), in, &BulkUpsertOptions{Concurrency: 2, BatchSize: 2,
		OnBatch: func(done, total int) { progress = append(progress, [2]int{done, total}) }})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 5 {
		t.Errorf("calls = %d", calls.Load())
	}
	for i, r := range res {
		if r.Index != i {
			t.Errorf("result %d has index %d", i, r.Index)
		}
		if i == 2 {
			if !errors.Is(r.Err, ErrValidation) {
				t.Errorf("bad contact: err = %v", r.Err)
			}
			continue
		}
		if r.Err != nil || r.Result.Contact.ID != "id-"+in[i].Email {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	if diff := cmp.Diff([][2]int{{2, 5}, {4, 5}, {5, 5}}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
}

func TestBulkUpsertStopsWhenDailyBudgetSpent(t *testing.T) {
	c, mux, _ := setup(t, WithRateLimiter(NewMemoryLimiter(MemoryLimiterConfig{})))
	var calls atomic.Int32
	mux.HandleFunc("POST /contacts/upsert", func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("X-RateLimit-Daily-Remaining", "0")
		w.Header().Set("X-RateLimit-Remaining", "50")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"statusCode":429,"message":"daily limit"}`)
	})
	in := make([]UpsertContactParams, 10)
	for i := range in {
		in[i].LocationID = "loc1"
	}
	res, err := c.Contacts.BulkUpsert(t.Context(), in, &BulkUpsertOptions{Concurrency: 1, BatchSize: 3})
	if !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("server got %d calls after the daily budget was reported spent", n)
	}
	for i, r := range res {
		if !errors.Is(r.Err, ErrRateLimited) {
			t.Errorf("result %d err = %v", i, r.Err)
		}
	}
}
