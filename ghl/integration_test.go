package ghl_test

// Integration tests: every SDK service method against the real ghlkit
// sandbox (sandbox/sandboxtest), each change read back with a second call.
// The unit tests (httptest) check the wire format; these check that the SDK
// and the sandbox agree on what the wire means.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/ghl"
	"github.com/ghlkit/ghlkit/ghl/oauth"
	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/sandboxtest"
)

// must returns v, failing the test when err is set:
// c := must(sdk.Contacts.Get(ctx, id))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// must3 is must for the methods that also return the *ghl.Response.
func must3[T any](v T, _ *ghl.Response, err error) func(testing.TB) T {
	return must(v, err)
}

// wantAPIError checks that err is a *ghl.Error with the status and matches
// the sentinel (nil: no sentinel to check).
func wantAPIError(t testing.TB, err error, status int, sentinel error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %d", status)
	}
	var e *ghl.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *ghl.Error", err, err)
	}
	if e.StatusCode != status {
		t.Fatalf("status %d, want %d: %v", e.StatusCode, status, err)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Fatalf("errors.Is(%v, %v) = false", err, sentinel)
	}
}

// wantNotImplemented checks the sandbox's 501 for an operation it does not
// serve yet.
func wantNotImplemented(t testing.TB, err error) {
	t.Helper()
	wantAPIError(t, err, http.StatusNotImplemented, ghl.ErrServer)
}

// putRecord stores a record of a kind the sandbox has no API for yet
// (campaigns, workflows), as an admin would create it.
func putRecord(t testing.TB, sb *sandboxtest.Sandbox, kind sandbox.Kind, locationID, name string) string {
	t.Helper()
	id := sandbox.NewID()
	doc := map[string]any{"id": id, "name": name, "status": "published", "locationId": locationID}
	err := sb.Store.Write(t.Context(), func(tx sandbox.Tx) error {
		return sandbox.PutRecordOf(t.Context(), tx, sandbox.Record{Kind: kind, ID: id, LocationID: locationID, CompanyID: sb.CompanyID}, doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// enrollments returns the campaign/workflow enrollment keys
// ("campaign:<id>", "workflow:<id>") of a contact, read from the store: GHL
// has no API that lists them.
func enrollments(t testing.TB, sb *sandboxtest.Sandbox, contactID string) []string {
	t.Helper()
	var keys []string
	err := sb.Store.Read(t.Context(), func(tx sandbox.Tx) error {
		recs, err := tx.ListRecords(t.Context(), sandbox.RecordQuery{Kind: sandbox.KindEnrollment, ParentID: contactID})
		for _, r := range recs {
			keys = append(keys, r.Key)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(keys)
	return keys
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func equalSets(a, b []string) bool { return slices.Equal(sorted(a), sorted(b)) }

// equalFold is equalSets ignoring case: GHL matches tags case-insensitively.
func equalFold(a, b []string) bool {
	lower := func(s []string) []string {
		out := make([]string, len(s))
		for i, v := range s {
			out[i] = strings.ToLower(v)
		}
		return out
	}
	return equalSets(lower(a), lower(b))
}

func customValue(c *ghl.Contact, fieldID string) (any, bool) {
	for _, f := range c.CustomFields {
		if f.ID == fieldID {
			return f.Value, true
		}
	}
	return nil, false
}

func TestIntegrationContacts(t *testing.T) {
	sb := sandboxtest.New(t)
	sdk, loc, ctx := sb.Client, sb.LocationID, t.Context()

	// Create, Get.
	c := must(sdk.Contacts.Create(ctx, ghl.CreateContactParams{
		LocationID: loc, FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com",
		Phone: "+15555550101", Tags: []string{"vip"}, Source: "integration", City: "London",
	}))(t)
	if c.ID == "" || c.LocationID != loc {
		t.Fatalf("Create: %+v", c)
	}
	got := must(sdk.Contacts.Get(ctx, c.ID))(t)
	if got.Email != "ada@example.com" || got.FirstName != "Ada" || got.City != "London" || !equalSets(got.Tags, []string{"vip"}) || got.Phone != "+15555550101" {
		t.Fatalf("Get after Create: %+v", got)
	}
	if got.DateAdded == "" {
		t.Errorf("Get: no dateAdded")
	}

	t.Run("Update", func(t *testing.T) {
		must(sdk.Contacts.Update(ctx, c.ID, ghl.UpdateContactParams{FirstName: "Augusta", Website: "https://ada.example"}))(t)
		got := must(sdk.Contacts.Get(ctx, c.ID))(t)
		if got.FirstName != "Augusta" || got.Website != "https://ada.example" || got.LastName != "Lovelace" {
			t.Fatalf("Get after Update: %+v", got)
		}
	})

	t.Run("Upsert", func(t *testing.T) {
		res := must(sdk.Contacts.Upsert(ctx, ghl.UpsertContactParams{CreateContactParams: ghl.CreateContactParams{
			LocationID: loc, Email: "ADA@example.com", LastName: "King"}}))(t)
		if res.New || res.Contact == nil || res.Contact.ID != c.ID {
			t.Fatalf("Upsert of an existing email: new=%v contact=%+v, want the contact %s", res.New, res.Contact, c.ID)
		}
		if got := must(sdk.Contacts.Get(ctx, c.ID))(t); got.LastName != "King" {
			t.Fatalf("Get after Upsert: lastName %q", got.LastName)
		}
		// Matched by phone when the email is new.
		res = must(sdk.Contacts.Upsert(ctx, ghl.UpsertContactParams{CreateContactParams: ghl.CreateContactParams{
			LocationID: loc, Phone: "+1 555 555 0101", CompanyName: "Analytical Engines"}}))(t)
		if res.New || res.Contact.ID != c.ID {
			t.Fatalf("Upsert of an existing phone: new=%v id=%s, want %s", res.New, res.Contact.ID, c.ID)
		}
		res = must(sdk.Contacts.Upsert(ctx, ghl.UpsertContactParams{CreateContactParams: ghl.CreateContactParams{
			LocationID: loc, Email: "charles@example.com", FirstName: "Charles"}}))(t)
		if !res.New || res.Contact.ID == c.ID {
			t.Fatalf("Upsert of a new email: new=%v id=%s", res.New, res.Contact.ID)
		}
		if got := must(sdk.Contacts.Get(ctx, res.Contact.ID))(t); got.FirstName != "Charles" {
			t.Fatalf("Get after Upsert (new): %+v", got)
		}
	})

	t.Run("GetDuplicate", func(t *testing.T) {
		dup := must(sdk.Contacts.GetDuplicate(ctx, ghl.DuplicateContactParams{LocationID: loc, Email: "ada@example.com"}))(t)
		if dup == nil || dup.ID != c.ID {
			t.Fatalf("GetDuplicate by email: %+v", dup)
		}
		dup = must(sdk.Contacts.GetDuplicate(ctx, ghl.DuplicateContactParams{LocationID: loc, Number: "+15555550101"}))(t)
		if dup == nil || dup.ID != c.ID {
			t.Fatalf("GetDuplicate by phone: %+v", dup)
		}
		if dup := must(sdk.Contacts.GetDuplicate(ctx, ghl.DuplicateContactParams{LocationID: loc, Email: "nobody@example.com"}))(t); dup != nil {
			t.Fatalf("GetDuplicate of an unknown email: %+v, want nil", dup)
		}
	})

	t.Run("FindOrCreate", func(t *testing.T) {
		found, created, err := sdk.Contacts.FindOrCreate(ctx, ghl.CreateContactParams{LocationID: loc, Email: "ada@example.com", FirstName: "Other"})
		if err != nil || created || found.ID != c.ID {
			t.Fatalf("FindOrCreate existing: %+v created=%v err=%v", found, created, err)
		}
		found, created, err = sdk.Contacts.FindOrCreate(ctx, ghl.CreateContactParams{LocationID: loc, Email: "new@example.com", Phone: "+15555550199"})
		if err != nil || !created || found.ID == "" {
			t.Fatalf("FindOrCreate new: %+v created=%v err=%v", found, created, err)
		}
		again, created, err := sdk.Contacts.FindOrCreate(ctx, ghl.CreateContactParams{LocationID: loc, Phone: "+15555550199"})
		if err != nil || created || again.ID != found.ID {
			t.Fatalf("FindOrCreate by the new phone: %+v created=%v err=%v, want %s", again, created, err, found.ID)
		}
	})

	t.Run("CustomFields", func(t *testing.T) {
		pin := must(sdk.Locations.CreateCustomField(ctx, loc, ghl.LocationCustomFieldParams{Name: "Pincode", DataType: "TEXT"}))(t)
		if pin.FieldKey == "" {
			t.Fatalf("CreateCustomField: no fieldKey: %+v", pin)
		}
		// By key, in every spelling the SDK accepts.
		key := strings.TrimPrefix(pin.FieldKey, "contact.")
		must(sdk.Contacts.SetCustomFields(ctx, c.ID, map[string]any{key: "560001"}))(t)
		got := must(sdk.Contacts.Get(ctx, c.ID))(t)
		if v, ok := customValue(got, pin.ID); !ok || v != "560001" {
			t.Fatalf("after SetCustomFields(%q): customFields %+v", key, got.CustomFields)
		}
		must(sdk.Contacts.SetCustomFields(ctx, c.ID, map[string]any{"{{ " + pin.FieldKey + " }}": "560002"}))(t)
		if v, _ := customValue(must(sdk.Contacts.Get(ctx, c.ID))(t), pin.ID); v != "560002" {
			t.Fatalf("after SetCustomFields by {{ key }}: %v", v)
		}
		// A field created after the key cache was filled is found too.
		floor := must(sdk.Locations.CreateCustomField(ctx, loc, ghl.LocationCustomFieldParams{Name: "Floor", DataType: "NUMERICAL"}))(t)
		nc := must(sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: loc, Email: "fields@example.com",
			CustomFields: []ghl.CustomFieldValue{{Key: floor.FieldKey, Value: 3}, {ID: pin.ID, Value: "1"}}}))(t)
		got = must(sdk.Contacts.Get(ctx, nc.ID))(t)
		if v, ok := customValue(got, floor.ID); !ok || fmt.Sprint(v) != "3" {
			t.Fatalf("Create with a custom field by key: %+v", got.CustomFields)
		}
		_, err := sdk.Contacts.SetCustomFields(ctx, c.ID, map[string]any{"no_such_field": "x"})
		if !errors.Is(err, ghl.ErrUnknownCustomField) {
			t.Fatalf("SetCustomFields with an unknown key: %v, want ErrUnknownCustomField", err)
		}
		// The sandbox validates the value against the field's type.
		_, err = sdk.Contacts.SetCustomFields(ctx, c.ID, map[string]any{floor.FieldKey: "not a number"})
		wantAPIError(t, err, http.StatusUnprocessableEntity, ghl.ErrValidation)
	})

	t.Run("Tags", func(t *testing.T) {
		tags := must(sdk.Contacts.AddTags(ctx, c.ID, "paid", "Newsletter"))(t)
		if !slices.Contains(tags, "paid") {
			t.Fatalf("AddTags answer: %v", tags)
		}
		got := must(sdk.Contacts.Get(ctx, c.ID))(t)
		if !equalFold(got.Tags, []string{"vip", "paid", "newsletter"}) {
			t.Fatalf("tags after AddTags: %v", got.Tags)
		}
		must(sdk.Contacts.RemoveTags(ctx, c.ID, "vip"))(t)
		if got := must(sdk.Contacts.Get(ctx, c.ID))(t); !equalFold(got.Tags, []string{"paid", "newsletter"}) {
			t.Fatalf("tags after RemoveTags: %v", got.Tags)
		}
		other := must(sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: loc, Email: "bulk-tags@example.com"}))(t)
		res := must(sdk.Contacts.BulkUpdateTags(ctx, ghl.BulkTagsAdd, ghl.BulkUpdateTagsParams{LocationID: loc, Contacts: []string{c.ID, other.ID}, Tags: []string{"bulk"}}))(t)
		if !res.Succeeded || res.ErrorCount != 0 {
			t.Fatalf("BulkUpdateTags add: %+v", res)
		}
		for _, id := range []string{c.ID, other.ID} {
			if got := must(sdk.Contacts.Get(ctx, id))(t); !slices.Contains(got.Tags, "bulk") {
				t.Fatalf("contact %s after bulk add: tags %v", id, got.Tags)
			}
		}
		must(sdk.Contacts.BulkUpdateTags(ctx, ghl.BulkTagsRemove, ghl.BulkUpdateTagsParams{LocationID: loc, Contacts: []string{other.ID}, Tags: []string{"bulk"}}))(t)
		if got := must(sdk.Contacts.Get(ctx, other.ID))(t); slices.Contains(got.Tags, "bulk") {
			t.Fatalf("after bulk remove: tags %v", got.Tags)
		}
		must(sdk.Contacts.BulkUpdateTags(ctx, ghl.BulkTagsRemove, ghl.BulkUpdateTagsParams{LocationID: loc, Contacts: []string{c.ID}, RemoveAllTags: ghl.Bool(true)}))(t)
		if got := must(sdk.Contacts.Get(ctx, c.ID))(t); len(got.Tags) != 0 {
			t.Fatalf("after removeAllTags: tags %v", got.Tags)
		}
	})

	t.Run("Notes", func(t *testing.T) {
		n := must(sdk.Contacts.CreateNote(ctx, c.ID, ghl.NoteParams{Body: "met at the conference"}))(t)
		if n.ID == "" || n.Body != "met at the conference" {
			t.Fatalf("CreateNote: %+v", n)
		}
		must(sdk.Contacts.UpdateNote(ctx, c.ID, n.ID, ghl.NoteParams{Body: "met at the conference; follow up"}))(t)
		if got := must(sdk.Contacts.GetNote(ctx, c.ID, n.ID))(t); got.Body != "met at the conference; follow up" || got.ContactID != c.ID {
			t.Fatalf("GetNote after UpdateNote: %+v", got)
		}
		if notes := must(sdk.Contacts.ListNotes(ctx, c.ID))(t); len(notes) != 1 || notes[0].ID != n.ID {
			t.Fatalf("ListNotes: %+v", notes)
		}
		if ok := must(sdk.Contacts.DeleteNote(ctx, c.ID, n.ID))(t); !ok.Succeeded {
			t.Fatalf("DeleteNote: %+v", ok)
		}
		_, err := sdk.Contacts.GetNote(ctx, c.ID, n.ID)
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
		if notes := must(sdk.Contacts.ListNotes(ctx, c.ID))(t); len(notes) != 0 {
			t.Fatalf("ListNotes after DeleteNote: %+v", notes)
		}
	})

	t.Run("Tasks", func(t *testing.T) {
		due := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
		task := must(sdk.Contacts.CreateTask(ctx, c.ID, ghl.CreateTaskParams{Title: "Call back", Body: "about the engine", DueDate: due}))(t)
		if task.ID == "" || task.Completed {
			t.Fatalf("CreateTask: %+v", task)
		}
		must(sdk.Contacts.UpdateTask(ctx, c.ID, task.ID, ghl.UpdateTaskParams{Title: "Call back soon"}))(t)
		if got := must(sdk.Contacts.GetTask(ctx, c.ID, task.ID))(t); got.Title != "Call back soon" || got.Body != "about the engine" || got.Completed {
			t.Fatalf("GetTask after UpdateTask: %+v", got)
		}
		must(sdk.Contacts.CompleteTask(ctx, c.ID, task.ID, true))(t)
		tasks := must(sdk.Contacts.ListTasks(ctx, c.ID))(t)
		if len(tasks) != 1 || !tasks[0].Completed {
			t.Fatalf("ListTasks after CompleteTask: %+v", tasks)
		}
		must(sdk.Contacts.UpdateTask(ctx, c.ID, task.ID, ghl.UpdateTaskParams{Completed: ghl.Bool(false)}))(t)
		if got := must(sdk.Contacts.GetTask(ctx, c.ID, task.ID))(t); got.Completed {
			t.Fatalf("GetTask after UpdateTask(completed=false): %+v", got)
		}
		if ok := must(sdk.Contacts.DeleteTask(ctx, c.ID, task.ID))(t); !ok.Succeeded {
			t.Fatalf("DeleteTask: %+v", ok)
		}
		_, err := sdk.Contacts.GetTask(ctx, c.ID, task.ID)
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
	})

	t.Run("Appointments", func(t *testing.T) {
		if appts := must(sdk.Contacts.ListAppointments(ctx, c.ID))(t); len(appts) != 0 {
			t.Fatalf("ListAppointments: %+v", appts)
		}
	})

	t.Run("Followers", func(t *testing.T) {
		u1, u2 := sandbox.NewID(), sandbox.NewID()
		res := must(sdk.Contacts.AddFollowers(ctx, c.ID, u1, u2))(t)
		if !equalSets(res.FollowersAdded, []string{u1, u2}) {
			t.Fatalf("AddFollowers: %+v", res)
		}
		if got := must(sdk.Contacts.Get(ctx, c.ID))(t); !equalSets(got.Followers, []string{u1, u2}) {
			t.Fatalf("followers after AddFollowers: %v", got.Followers)
		}
		res = must(sdk.Contacts.RemoveFollowers(ctx, c.ID, u1))(t)
		if !equalSets(res.FollowersRemoved, []string{u1}) {
			t.Fatalf("RemoveFollowers: %+v", res)
		}
		if got := must(sdk.Contacts.Get(ctx, c.ID))(t); !equalSets(got.Followers, []string{u2}) {
			t.Fatalf("followers after RemoveFollowers: %v", got.Followers)
		}
	})

	t.Run("Campaigns", func(t *testing.T) {
		camp1 := putRecord(t, sb, sandbox.KindCampaign, loc, "Drip 1")
		camp2 := putRecord(t, sb, sandbox.KindCampaign, loc, "Drip 2")
		for _, id := range []string{camp1, camp2} {
			if ok := must(sdk.Contacts.AddToCampaign(ctx, c.ID, id))(t); !ok.Succeeded {
				t.Fatalf("AddToCampaign: %+v", ok)
			}
		}
		if got := enrollments(t, sb, c.ID); !slices.Equal(got, sorted([]string{"campaign:" + camp1, "campaign:" + camp2})) {
			t.Fatalf("enrollments after AddToCampaign: %v", got)
		}
		must(sdk.Contacts.RemoveFromCampaign(ctx, c.ID, camp1))(t)
		if got := enrollments(t, sb, c.ID); !slices.Equal(got, []string{"campaign:" + camp2}) {
			t.Fatalf("enrollments after RemoveFromCampaign: %v", got)
		}
		must(sdk.Contacts.AddToCampaign(ctx, c.ID, camp1))(t)
		must(sdk.Contacts.RemoveFromAllCampaigns(ctx, c.ID))(t)
		if got := enrollments(t, sb, c.ID); len(got) != 0 {
			t.Fatalf("enrollments after RemoveFromAllCampaigns: %v", got)
		}
		_, err := sdk.Contacts.AddToCampaign(ctx, c.ID, sandbox.NewID())
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
		// Another location's campaign is as unknown as a missing one.
		_, err = sdk.Contacts.AddToCampaign(ctx, c.ID, putRecord(t, sb, sandbox.KindCampaign, sb.OtherLocationID, "Theirs"))
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
	})

	t.Run("Workflows", func(t *testing.T) {
		wf := putRecord(t, sb, sandbox.KindWorkflow, loc, "Welcome")
		start := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		if ok := must(sdk.Contacts.AddToWorkflow(ctx, c.ID, wf, start))(t); !ok.Succeeded {
			t.Fatalf("AddToWorkflow: %+v", ok)
		}
		if got := enrollments(t, sb, c.ID); !slices.Equal(got, []string{"workflow:" + wf}) {
			t.Fatalf("enrollments after AddToWorkflow: %v", got)
		}
		must(sdk.Contacts.RemoveFromWorkflow(ctx, c.ID, wf, ""))(t)
		if got := enrollments(t, sb, c.ID); len(got) != 0 {
			t.Fatalf("enrollments after RemoveFromWorkflow: %v", got)
		}
		_, err := sdk.Contacts.AddToWorkflow(ctx, c.ID, sandbox.NewID(), "")
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
	})

	t.Run("Business", func(t *testing.T) {
		biz := sandbox.NewID()
		var ids []string
		for i := range 3 {
			ids = append(ids, must(sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: loc, Email: fmt.Sprintf("biz%d@example.com", i)}))(t).ID)
		}
		res := must(sdk.Contacts.BulkUpdateBusiness(ctx, ghl.BulkUpdateBusinessParams{LocationID: loc, IDs: ids, BusinessID: &biz}))(t)
		if !res.Success || !equalSets(res.IDs, ids) {
			t.Fatalf("BulkUpdateBusiness: %+v", res)
		}
		if got := must(sdk.Contacts.Get(ctx, ids[0]))(t); got.BusinessID != biz {
			t.Fatalf("businessId after BulkUpdateBusiness: %q", got.BusinessID)
		}
		page := must3(sdk.Contacts.ListByBusiness(ctx, ghl.ListContactsByBusinessParams{BusinessID: biz, LocationID: loc, Limit: 2}))(t)
		if len(page.Contacts) != 2 || page.Count != 3 {
			t.Fatalf("ListByBusiness limit 2: %d contacts, count %d", len(page.Contacts), page.Count)
		}
		var all []string
		for c, err := range sdk.Contacts.ListByBusinessIter(ctx, ghl.ListContactsByBusinessParams{BusinessID: biz, LocationID: loc, Limit: 2}) {
			all = append(all, must(c, err)(t).ID)
		}
		if !equalSets(all, ids) {
			t.Fatalf("ListByBusinessIter: %v, want %v", all, ids)
		}
		must(sdk.Contacts.BulkUpdateBusiness(ctx, ghl.BulkUpdateBusinessParams{LocationID: loc, IDs: ids[:1], BusinessID: nil}))(t)
		if got := must(sdk.Contacts.Get(ctx, ids[0]))(t); got.BusinessID != "" {
			t.Fatalf("businessId after removal: %q", got.BusinessID)
		}
		if page := must3(sdk.Contacts.ListByBusiness(ctx, ghl.ListContactsByBusinessParams{BusinessID: biz, LocationID: loc}))(t); page.Count != 2 {
			t.Fatalf("ListByBusiness after removal: count %d", page.Count)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		gone := must(sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: loc, Email: "gone@example.com"}))(t)
		if ok := must(sdk.Contacts.Delete(ctx, gone.ID))(t); !ok.Succeeded {
			t.Fatalf("Delete: %+v", ok)
		}
		_, err := sdk.Contacts.Get(ctx, gone.ID)
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
		if dup := must(sdk.Contacts.GetDuplicate(ctx, ghl.DuplicateContactParams{LocationID: loc, Email: "gone@example.com"}))(t); dup != nil {
			t.Fatalf("GetDuplicate finds a deleted contact: %+v", dup)
		}
	})
}

// seedContacts upserts n contacts named Person 00 … in the location through
// BulkUpsert and returns their ids in input order.
func seedContacts(t *testing.T, sdk *ghl.Client, loc string, n int, tag string) []string {
	t.Helper()
	in := make([]ghl.UpsertContactParams, n)
	for i := range in {
		in[i] = ghl.UpsertContactParams{CreateContactParams: ghl.CreateContactParams{
			LocationID: loc, FirstName: fmt.Sprintf("Person %02d", i), LastName: tag,
			Email: fmt.Sprintf("%s-%02d@example.com", tag, i), Tags: []string{tag},
		}}
	}
	var batches []int
	res, err := sdk.Contacts.BulkUpsert(t.Context(), in, &ghl.BulkUpsertOptions{Concurrency: 3, BatchSize: 10, OnBatch: func(done, total int) { batches = append(batches, done) }})
	if err != nil {
		t.Fatalf("BulkUpsert: %v", err)
	}
	ids := make([]string, n)
	for i, r := range res {
		if r.Err != nil || r.Result == nil || !r.Result.New || r.Index != i {
			t.Fatalf("BulkUpsert result %d: %+v", i, r)
		}
		ids[i] = r.Result.Contact.ID
	}
	if want := (n + 9) / 10; len(batches) != want || batches[len(batches)-1] != n {
		t.Errorf("OnBatch calls %v, want %d ending at %d", batches, want, n)
	}
	return ids
}

// searchOp is the metrics name of POST /contacts/search.
const searchOp = "contacts/search-contacts-advanced"

func TestIntegrationContactSearchAndPaging(t *testing.T) {
	sb := sandboxtest.New(t)
	sdk, loc, ctx := sb.Client, sb.LocationID, t.Context()
	const n = 25
	ids := seedContacts(t, sdk, loc, n, "batch")
	// Noise the filters must leave out: other tags, and another location.
	seedContacts(t, sdk, loc, 5, "noise")
	other := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.LocationToken(t, sb.OtherLocationID)))
	must(other.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.OtherLocationID, FirstName: "Person 99", Email: "batch-99@example.com", Tags: []string{"batch"}}))(t)

	t.Run("BulkUpsertExisting", func(t *testing.T) {
		in := []ghl.UpsertContactParams{{CreateContactParams: ghl.CreateContactParams{LocationID: loc, Email: "batch-03@example.com", City: "Paris"}}}
		res, err := sdk.Contacts.BulkUpsert(ctx, in, nil)
		if err != nil || res[0].Err != nil || res[0].Result.New || res[0].Result.Contact.ID != ids[3] {
			t.Fatalf("BulkUpsert of an existing contact: %+v %v", res, err)
		}
		if got := must(sdk.Contacts.Get(ctx, ids[3]))(t); got.City != "Paris" {
			t.Fatalf("after BulkUpsert: city %q", got.City)
		}
	})

	batch := ghl.Where("tags", ghl.OpEq, "batch")

	t.Run("SearchFilterSortPage", func(t *testing.T) {
		p := ghl.SearchContactsParams{LocationID: loc, PageLimit: 10, Filters: []ghl.ContactFilter{batch},
			Sort: []ghl.ContactSort{{Field: "firstName", Direction: "desc"}}}
		res := must3(sdk.Contacts.Search(ctx, p))(t)
		if res.Total != n || len(res.Contacts) != 10 || res.Contacts[0].FirstName != "Person 24" || res.Contacts[9].FirstName != "Person 15" {
			t.Fatalf("Search page 1: total %d, %d contacts, first %q", res.Total, len(res.Contacts), res.Contacts[0].FirstName)
		}
		if len(res.Contacts[9].SearchAfter) == 0 {
			t.Fatalf("Search: no searchAfter cursor on the contacts")
		}
		p.Page = 3
		res = must3(sdk.Contacts.Search(ctx, p))(t)
		if len(res.Contacts) != 5 || res.Contacts[0].FirstName != "Person 04" {
			t.Fatalf("Search page 3: %d contacts", len(res.Contacts))
		}
		// searchAfter from page 1's last contact gives page 2.
		p.Page, p.SearchAfter = 0, must3(sdk.Contacts.Search(ctx, ghl.SearchContactsParams{LocationID: loc, PageLimit: 10,
			Filters: p.Filters, Sort: p.Sort}))(t).Contacts[9].SearchAfter
		res = must3(sdk.Contacts.Search(ctx, p))(t)
		if len(res.Contacts) != 10 || res.Contacts[0].FirstName != "Person 14" {
			t.Fatalf("Search after the cursor: first %q", res.Contacts[0].FirstName)
		}
	})

	t.Run("SearchFilters", func(t *testing.T) {
		cases := []struct {
			name    string
			filters []ghl.ContactFilter
			query   string
			want    int
		}{
			{"and", []ghl.ContactFilter{ghl.AllOf(batch, ghl.Where("firstName", ghl.OpContains, "person 1"))}, "", 10},
			{"or", []ghl.ContactFilter{ghl.AnyOf(ghl.Where("email", ghl.OpEq, "batch-01@example.com"), ghl.Where("email", ghl.OpEq, "noise-01@example.com"))}, "", 2},
			{"not_eq", []ghl.ContactFilter{ghl.Where("tags", ghl.OpNotEq, "batch")}, "", 5},
			{"exists", []ghl.ContactFilter{batch, ghl.Where("city", ghl.OpExists, nil)}, "", 1},
			{"range", []ghl.ContactFilter{batch, ghl.Where("dateAdded", ghl.OpRange, ghl.RangeValue{GTE: time.Now().Add(-time.Hour).UnixMilli()})}, "", n},
			{"range empty", []ghl.ContactFilter{batch, ghl.Where("dateAdded", ghl.OpRange, ghl.RangeValue{LT: time.Now().Add(-time.Hour).UnixMilli()})}, "", 0},
			{"query", nil, "noise-0", 5},
		}
		for _, tc := range cases {
			res := must3(sdk.Contacts.Search(ctx, ghl.SearchContactsParams{LocationID: loc, Filters: tc.filters, Query: tc.query, PageLimit: 100}))(t)
			if res.Total != tc.want || len(res.Contacts) != tc.want {
				t.Errorf("%s: total %d, %d contacts, want %d", tc.name, res.Total, len(res.Contacts), tc.want)
			}
		}
	})

	t.Run("SearchIter", func(t *testing.T) {
		var got []string
		before := sb.Requests(t, searchOp)[http.StatusOK]
		for c, err := range sdk.Contacts.SearchIter(ctx, ghl.SearchContactsParams{LocationID: loc, PageLimit: 7, Filters: []ghl.ContactFilter{batch},
			Sort: []ghl.ContactSort{{Field: "firstName", Direction: "asc"}}}) {
			got = append(got, must(c, err)(t).ID)
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("SearchIter (asc by firstName, 7 a page): %d contacts\n got %v\nwant %v", len(got), got, ids)
		}
		if pages := sb.Requests(t, searchOp)[http.StatusOK] - before; pages != 4 {
			t.Errorf("SearchIter read %d pages, want 4", pages)
		}
		// Stopping early stops paging.
		k := 0
		for _, err := range sdk.Contacts.SearchIter(ctx, ghl.SearchContactsParams{LocationID: loc, PageLimit: 5}) {
			must(0, err)(t)
			if k++; k == 3 {
				break
			}
		}
	})

	t.Run("ListIter", func(t *testing.T) {
		page := must3(sdk.Contacts.List(ctx, ghl.ListContactsParams{LocationID: loc, Limit: 10}))(t)
		if len(page.Contacts) != 10 {
			t.Fatalf("List limit 10: %d contacts", len(page.Contacts))
		}
		last := page.Contacts[9]
		next := must3(sdk.Contacts.List(ctx, ghl.ListContactsParams{LocationID: loc, Limit: 10, StartAfterID: last.ID}))(t)
		if len(next.Contacts) != 10 || slices.ContainsFunc(next.Contacts, func(c *ghl.Contact) bool { return c.ID == last.ID }) {
			t.Fatalf("List after %s: %d contacts", last.ID, len(next.Contacts))
		}
		var got []string
		before := sb.Requests(t, "contacts/get-contacts")[http.StatusOK]
		for c, err := range sdk.Contacts.ListIter(ctx, ghl.ListContactsParams{LocationID: loc, Limit: 4}) {
			got = append(got, must(c, err)(t).ID)
		}
		if pages := sb.Requests(t, "contacts/get-contacts")[http.StatusOK] - before; pages != (n+5+3)/4 {
			t.Errorf("ListIter read %d pages of 4 for %d contacts", pages, n+5)
		}
		all := map[string]bool{}
		for _, id := range got {
			if all[id] {
				t.Fatalf("ListIter yielded %s twice", id)
			}
			all[id] = true
		}
		if len(got) != n+5 {
			t.Fatalf("ListIter: %d contacts, want %d", len(got), n+5)
		}
		for _, id := range ids {
			if !all[id] {
				t.Fatalf("ListIter misses %s", id)
			}
		}
		var q []string
		for c, err := range sdk.Contacts.ListIter(ctx, ghl.ListContactsParams{LocationID: loc, Limit: 2, Query: "noise"}) {
			q = append(q, must(c, err)(t).ID)
		}
		if len(q) != 5 {
			t.Fatalf("ListIter with query: %d contacts, want 5", len(q))
		}
	})
}

func TestIntegrationLocations(t *testing.T) {
	sb := sandboxtest.New(t)
	sdk, loc, ctx := sb.Client, sb.LocationID, t.Context()
	agency := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.AgencyToken))

	t.Run("GetSearch", func(t *testing.T) {
		l := must(sdk.Locations.Get(ctx, loc))(t)
		if l.ID != loc || l.CompanyID != sb.CompanyID || l.Name != "Test Location" {
			t.Fatalf("Get: %+v", l)
		}
		list := must3(agency.Locations.Search(ctx, ghl.SearchLocationsParams{CompanyID: sb.CompanyID}))(t)
		var names []string
		for _, l := range list.Locations {
			names = append(names, l.Name)
		}
		if !equalSets(names, []string{"Test Location", "Other Location"}) {
			t.Fatalf("Search (agency): %v", names)
		}
		// A location token sees only its own location.
		list = must3(sdk.Locations.Search(ctx, ghl.SearchLocationsParams{CompanyID: sb.CompanyID}))(t)
		if len(list.Locations) != 1 || list.Locations[0].ID != loc {
			t.Fatalf("Search (location token): %+v", list.Locations)
		}
	})

	t.Run("CreateUpdateDelete", func(t *testing.T) {
		l := must(agency.Locations.Create(ctx, ghl.LocationParams{CompanyID: sb.CompanyID, Name: "Branch", Timezone: "US/Central", Country: "US"}))(t)
		if l.ID == "" || l.Name != "Branch" {
			t.Fatalf("Create: %+v", l)
		}
		must(agency.Locations.Update(ctx, l.ID, ghl.LocationParams{CompanyID: sb.CompanyID, City: "Austin",
			Settings: &ghl.LocationSettings{AllowDuplicateContact: ghl.Bool(true)}}))(t)
		got := must(agency.Locations.Get(ctx, l.ID))(t)
		if got.City != "Austin" || got.Timezone != "US/Central" || got.Settings == nil || got.Settings.AllowDuplicateContact == nil || !*got.Settings.AllowDuplicateContact {
			t.Fatalf("Get after Update: %+v settings %+v", got, got.Settings)
		}
		var seen []string
		for l, err := range agency.Locations.SearchIter(ctx, ghl.SearchLocationsParams{CompanyID: sb.CompanyID, Limit: 2}) {
			seen = append(seen, must(l, err)(t).ID)
		}
		if len(seen) != 3 || !slices.Contains(seen, l.ID) {
			t.Fatalf("SearchIter (2 a page): %v", seen)
		}
		res := must(agency.Locations.Delete(ghl.WithCompany(ctx, sb.CompanyID), l.ID, false))(t)
		if !res.Success {
			t.Fatalf("Delete: %+v", res)
		}
		_, err := agency.Locations.Get(ctx, l.ID)
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
	})

	t.Run("Tags", func(t *testing.T) {
		tag := must(sdk.Locations.CreateTag(ctx, loc, "Prospect"))(t)
		if tag.ID == "" || tag.Name != "Prospect" {
			t.Fatalf("CreateTag: %+v", tag)
		}
		must(sdk.Locations.UpdateTag(ctx, loc, tag.ID, "Hot prospect"))(t)
		if got := must(sdk.Locations.GetTag(ctx, loc, tag.ID))(t); got.Name != "Hot prospect" {
			t.Fatalf("GetTag after UpdateTag: %+v", got)
		}
		tags := must(sdk.Locations.ListTags(ctx, loc))(t)
		if len(tags) != 1 || tags[0].ID != tag.ID {
			t.Fatalf("ListTags: %+v", tags)
		}
		must(sdk.Locations.DeleteTag(ctx, loc, tag.ID))(t)
		_, err := sdk.Locations.GetTag(ctx, loc, tag.ID)
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
	})

	t.Run("CustomFields", func(t *testing.T) {
		f := must(sdk.Locations.CreateCustomField(ctx, loc, ghl.LocationCustomFieldParams{Name: "Shoe size", DataType: "NUMERICAL", Placeholder: "42"}))(t)
		if f.ID == "" || f.FieldKey != "contact.shoe_size" || f.DataType != "NUMERICAL" {
			t.Fatalf("CreateCustomField: %+v", f)
		}
		must(sdk.Locations.UpdateCustomField(ctx, loc, f.ID, ghl.LocationCustomFieldParams{Name: "Shoe size (EU)"}))(t)
		got := must(sdk.Locations.GetCustomField(ctx, loc, f.ID))(t)
		if got.Name != "Shoe size (EU)" || got.DataType != "NUMERICAL" {
			t.Fatalf("GetCustomField after UpdateCustomField: %+v", got)
		}
		list := must(sdk.Locations.ListCustomFields(ctx, loc, "contact"))(t)
		if len(list) != 1 || list[0].ID != f.ID {
			t.Fatalf("ListCustomFields: %+v", list)
		}
		if all := must(sdk.Locations.ListCustomFields(ctx, loc, ""))(t); len(all) != 1 {
			t.Fatalf("ListCustomFields (default model): %+v", all)
		}
		must(sdk.Locations.DeleteCustomField(ctx, loc, f.ID))(t)
		_, err := sdk.Locations.GetCustomField(ctx, loc, f.ID)
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
	})

	t.Run("CustomValues", func(t *testing.T) {
		v := must(sdk.Locations.CreateCustomValue(ctx, loc, ghl.CustomValueParams{Name: "Opening hours", Value: "9-5"}))(t)
		if v.ID == "" || v.FieldKey != "{{ custom_values.opening_hours }}" {
			t.Fatalf("CreateCustomValue: %+v", v)
		}
		must(sdk.Locations.UpdateCustomValue(ctx, loc, v.ID, ghl.CustomValueParams{Name: "Opening hours", Value: "8-6"}))(t)
		if got := must(sdk.Locations.GetCustomValue(ctx, loc, v.ID))(t); got.Value != "8-6" {
			t.Fatalf("GetCustomValue after UpdateCustomValue: %+v", got)
		}
		if list := must(sdk.Locations.ListCustomValues(ctx, loc))(t); len(list) != 1 || list[0].ID != v.ID {
			t.Fatalf("ListCustomValues: %+v", list)
		}
		must(sdk.Locations.DeleteCustomValue(ctx, loc, v.ID))(t)
		if list := must(sdk.Locations.ListCustomValues(ctx, loc))(t); len(list) != 0 {
			t.Fatalf("ListCustomValues after DeleteCustomValue: %+v", list)
		}
	})

	t.Run("TimezonesTemplates", func(t *testing.T) {
		tz := must(sdk.Locations.Timezones(ctx, loc))(t)
		if len(tz) < 100 || !slices.Contains(tz, "America/New_York") || !slices.Contains(tz, "US/Central") {
			t.Fatalf("Timezones: %d zones", len(tz))
		}
		list := must3(sdk.Locations.ListTemplates(ctx, ghl.ListTemplatesParams{LocationID: loc, Type: "sms", Limit: 10}))(t)
		if len(list.Templates) != 0 || list.TotalCount != 0 {
			t.Fatalf("ListTemplates: %+v", list)
		}
		n := 0
		for tpl, err := range sdk.Locations.ListTemplatesIter(ctx, ghl.ListTemplatesParams{LocationID: loc}) {
			must(tpl, err)(t)
			n++
		}
		if n != 0 {
			t.Fatalf("ListTemplatesIter: %d templates", n)
		}
		if err := sdk.Locations.DeleteTemplate(ctx, loc, sandbox.NewID()); err != nil {
			t.Fatalf("DeleteTemplate: %v", err)
		}
		_, _, err := sdk.Locations.ListTemplates(ctx, ghl.ListTemplatesParams{LocationID: loc, Type: "fax"})
		wantAPIError(t, err, http.StatusUnprocessableEntity, ghl.ErrValidation)
	})

	t.Run("SearchTasks", func(t *testing.T) {
		a := must(sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: loc, Email: "tasks-a@example.com"}))(t)
		b := must(sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: loc, Email: "tasks-b@example.com"}))(t)
		due := func(h int) string { return time.Now().Add(time.Duration(h) * time.Hour).UTC().Format(time.RFC3339) }
		t1 := must(sdk.Contacts.CreateTask(ctx, a.ID, ghl.CreateTaskParams{Title: "Send quote", DueDate: due(1)}))(t)
		t2 := must(sdk.Contacts.CreateTask(ctx, a.ID, ghl.CreateTaskParams{Title: "Invoice", DueDate: due(2), Completed: true}))(t)
		t3 := must(sdk.Contacts.CreateTask(ctx, b.ID, ghl.CreateTaskParams{Title: "Send contract", DueDate: due(3)}))(t)
		taskIDs := func(ts []*ghl.LocationTask) []string {
			var out []string
			for _, x := range ts {
				out = append(out, x.ID)
			}
			return out
		}
		res := must3(sdk.Locations.SearchTasks(ctx, ghl.SearchTasksParams{LocationID: loc}))(t)
		if got := taskIDs(res.Tasks); !slices.Equal(got, []string{t1.ID, t2.ID, t3.ID}) {
			t.Fatalf("SearchTasks (all, by due date): %v", got)
		}
		res = must3(sdk.Locations.SearchTasks(ctx, ghl.SearchTasksParams{LocationID: loc, ContactIDs: []string{a.ID}, Completed: ghl.Bool(false)}))(t)
		if got := taskIDs(res.Tasks); !slices.Equal(got, []string{t1.ID}) {
			t.Fatalf("SearchTasks (contact a, open): %v", got)
		}
		res = must3(sdk.Locations.SearchTasks(ctx, ghl.SearchTasksParams{LocationID: loc, Query: "send"}))(t)
		if got := taskIDs(res.Tasks); !slices.Equal(got, []string{t1.ID, t3.ID}) {
			t.Fatalf("SearchTasks (query): %v", got)
		}
		var it []string
		for x, err := range sdk.Locations.SearchTasksIter(ctx, ghl.SearchTasksParams{LocationID: loc, Limit: 2}) {
			it = append(it, must(x, err)(t).ID)
		}
		if !slices.Equal(it, []string{t1.ID, t2.ID, t3.ID}) {
			t.Fatalf("SearchTasksIter (2 a page): %v", it)
		}
		if res.Tasks[0].ContactID != a.ID || res.Tasks[0].Title != "Send quote" {
			t.Fatalf("SearchTasks task: %+v", res.Tasks[0])
		}
	})

	t.Run("RecurringTasks", func(t *testing.T) {
		c := must(sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: loc, Email: "recurring@example.com"}))(t)
		owner := must(agency.Users.Create(ctx, ghl.UserParams{CompanyID: sb.CompanyID, FirstName: "Rita", LastName: "Recur", Email: "rita@example.com",
			Password: "s3cret-Pass!", Type: "account", Role: "user", LocationIDs: []string{loc}}))(t)
		const stamp = "2006-01-02T15:04:05.000Z"
		start := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
		rt := must(sdk.Locations.CreateRecurringTask(ctx, loc, ghl.RecurringTaskParams{Title: "Weekly review", Description: "Go through the pipeline",
			ContactIDs: []string{c.ID}, Owners: []string{owner.ID},
			RRuleOptions: &ghl.RRuleOptions{IntervalType: "weekly", Interval: 1, StartDate: start.Format(time.RFC3339), DueAfterSeconds: 3600, Count: 4}}))(t)
		if rt.ID == "" || rt.Title != "Weekly review" || rt.Description != "Go through the pipeline" || rt.LocationID != loc || rt.ContactID != c.ID ||
			rt.AssignedTo != owner.ID || rt.TotalOccurrence != 1 || rt.Deleted || rt.CreatedAt == "" || rt.RRuleOptions == nil {
			t.Fatalf("CreateRecurringTask: %+v", rt)
		}
		if r := rt.RRuleOptions; r.IntervalType != "weekly" || r.Interval != 1 || r.StartDate != start.Format(stamp) || r.DueAfterSeconds != 3600 || r.Count != 4 {
			t.Fatalf("CreateRecurringTask rule: %+v", r)
		}
		// Its first occurrence is a task on the contact.
		tasks := must(sdk.Contacts.ListTasks(ctx, c.ID))(t)
		if len(tasks) != 1 || tasks[0].Title != "Weekly review" || tasks[0].AssignedTo != owner.ID || tasks[0].DueDate != start.Add(time.Hour).Format(stamp) {
			t.Fatalf("ListTasks after CreateRecurringTask: %+v", tasks)
		}
		if got := must(sdk.Locations.GetRecurringTask(ctx, loc, rt.ID))(t); !reflect.DeepEqual(got, rt) {
			t.Fatalf("GetRecurringTask: %+v", got)
		}

		upd := must(sdk.Locations.UpdateRecurringTask(ctx, loc, rt.ID, ghl.RecurringTaskParams{Title: "Fortnightly review",
			RRuleOptions: &ghl.RRuleOptions{IntervalType: "weekly", Interval: 2, DayOfWeek: "FR", StartDate: start.Format(time.RFC3339), DueAfterSeconds: 7200, CreateTaskIfOverDue: ghl.Bool(true)}}))(t)
		if upd.Title != "Fortnightly review" || upd.Description != "Go through the pipeline" || upd.RRuleOptions.Interval != 2 || upd.RRuleOptions.DayOfWeek != "FR" ||
			upd.RRuleOptions.CreateTaskIfOverDue == nil || !*upd.RRuleOptions.CreateTaskIfOverDue || upd.RRuleOptions.Count != 0 || upd.ContactID != c.ID {
			t.Fatalf("UpdateRecurringTask: %+v rule %+v", upd, upd.RRuleOptions)
		}
		if got := must(sdk.Locations.GetRecurringTask(ctx, loc, rt.ID))(t); got.Title != "Fortnightly review" || got.RRuleOptions.DayOfWeek != "FR" {
			t.Fatalf("GetRecurringTask after UpdateRecurringTask: %+v", got)
		}

		// The rule, the title and the references are checked.
		_, err := sdk.Locations.CreateRecurringTask(ctx, loc, ghl.RecurringTaskParams{Title: "x",
			RRuleOptions: &ghl.RRuleOptions{IntervalType: "fortnightly", Interval: 1, StartDate: start.Format(time.RFC3339)}})
		wantAPIError(t, err, http.StatusUnprocessableEntity, ghl.ErrValidation)
		_, err = sdk.Locations.CreateRecurringTask(ctx, loc, ghl.RecurringTaskParams{RRuleOptions: &ghl.RRuleOptions{IntervalType: "daily", Interval: 1, StartDate: start.Format(time.RFC3339)}})
		wantAPIError(t, err, http.StatusUnprocessableEntity, ghl.ErrValidation)
		_, err = sdk.Locations.UpdateRecurringTask(ctx, loc, rt.ID, ghl.RecurringTaskParams{ContactIDs: []string{sandbox.NewID()}})
		wantAPIError(t, err, http.StatusUnprocessableEntity, ghl.ErrValidation)

		del := must(sdk.Locations.DeleteRecurringTask(ctx, loc, rt.ID))(t)
		if del.ID != rt.ID || !del.Success {
			t.Fatalf("DeleteRecurringTask: %+v", del)
		}
		_, err = sdk.Locations.GetRecurringTask(ctx, loc, rt.ID)
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
		_, err = sdk.Locations.DeleteRecurringTask(ctx, loc, rt.ID)
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
	})

	t.Run("UploadCustomFieldFiles", func(t *testing.T) {
		f := must(sdk.Locations.CreateCustomField(ctx, loc, ghl.LocationCustomFieldParams{Name: "Signed contract", DataType: "FILE_UPLOAD",
			AcceptedFormat: []string{".pdf"}, MaxNumberOfFiles: 2}))(t)
		res := must(sdk.Locations.UploadCustomFieldFiles(ctx, ghl.UploadCustomFieldFilesParams{LocationID: loc, ID: f.ID, MaxFiles: 2,
			Files: []ghl.UploadFile{{FieldName: f.ID + "_1", FileName: "contract.pdf", ContentType: "application/pdf", Content: []byte("%PDF-1.4 signed")}}}))(t)
		fileURL, _ := res.UploadedFiles[f.ID+"_1"].(string)
		if len(res.UploadedFiles) != 1 || len(res.Meta) != 1 || fileURL == "" {
			t.Fatalf("UploadCustomFieldFiles: %+v", res)
		}
		var meta struct {
			FieldName    string `json:"fieldname"`
			OriginalName string `json:"originalname"`
			MimeType     string `json:"mimetype"`
			Size         int    `json:"size"`
			URL          string `json:"url"`
		}
		if err := json.Unmarshal(res.Meta[0], &meta); err != nil || meta.FieldName != f.ID+"_1" || meta.OriginalName != "contract.pdf" ||
			meta.MimeType != "application/pdf" || meta.Size != len("%PDF-1.4 signed") || meta.URL != fileURL {
			t.Fatalf("meta %s: %v", res.Meta[0], err)
		}
		// The url serves the file (the sandbox's base URL is its default
		// here, so the path is asked of the test server).
		u, err := url.Parse(fileURL)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := sb.HTTP.Client().Get(sb.URL + u.EscapedPath())
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "%PDF-1.4 signed" || resp.Header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("GET %s: %d %q", fileURL, resp.StatusCode, body)
		}

		// The field's accepted formats apply.
		_, err = sdk.Locations.UploadCustomFieldFiles(ctx, ghl.UploadCustomFieldFilesParams{LocationID: loc, ID: f.ID,
			Files: []ghl.UploadFile{{FieldName: f.ID + "_2", FileName: "virus.exe", Content: []byte("MZ")}}})
		wantAPIError(t, err, http.StatusUnprocessableEntity, ghl.ErrValidation)
		_, err = sdk.Locations.UploadCustomFieldFiles(ctx, ghl.UploadCustomFieldFilesParams{LocationID: loc, ID: f.ID})
		wantAPIError(t, err, http.StatusUnprocessableEntity, ghl.ErrValidation)
	})
}

func TestIntegrationCustomFieldsV2(t *testing.T) {
	sb := sandboxtest.New(t)
	sdk, loc, ctx := sb.Client, sb.LocationID, t.Context()

	folder := must(sdk.CustomFields.CreateFolder(ctx, ghl.CreateFolderParams{ObjectKey: "contact", Name: "Preferences", LocationID: loc}))(t)
	if folder.ID == "" || folder.Name != "Preferences" {
		t.Fatalf("CreateFolder: %+v", folder)
	}
	must(sdk.CustomFields.UpdateFolder(ctx, folder.ID, loc, "Customer preferences"))(t)

	f := must(sdk.CustomFields.Create(ctx, ghl.CreateCustomFieldParams{LocationID: loc, Name: "Favourite colour", DataType: "SINGLE_OPTIONS",
		FieldKey: "contact.favourite_colour", ObjectKey: "contact", ParentID: folder.ID,
		Options: []ghl.CustomFieldOption{{Key: "red", Label: "Red"}, {Key: "blue", Label: "Blue"}}}))(t)
	if f.ID == "" || f.FieldKey != "contact.favourite_colour" || f.ParentID != folder.ID || len(f.Options) != 2 {
		t.Fatalf("Create: %+v", f)
	}
	must(sdk.CustomFields.Update(ctx, f.ID, ghl.UpdateCustomFieldParams{LocationID: loc, Name: "Colour", Description: "favourite",
		Options: []ghl.CustomFieldOption{{Key: "red", Label: "Red"}, {Key: "blue", Label: "Blue"}, {Key: "green", Label: "Green"}}}))(t)
	got := must(sdk.CustomFields.Get(ctx, f.ID))(t)
	if got.Name != "Colour" || len(got.Options) != 3 || got.DataType != "SINGLE_OPTIONS" {
		t.Fatalf("Get after Update: %+v", got)
	}

	byObj := must(sdk.CustomFields.ListByObjectKey(ctx, "contact", loc))(t)
	if len(byObj.Fields) != 1 || byObj.Fields[0].ID != f.ID || len(byObj.Folders) != 1 || byObj.Folders[0].Name != "Customer preferences" {
		t.Fatalf("ListByObjectKey: fields %+v folders %+v", byObj.Fields, byObj.Folders)
	}

	// The v2 field is a contact custom field like any other: a contact can
	// set it by key, through the SDK's key cache that Create invalidated.
	c := must(sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: loc, Email: "colour@example.com"}))(t)
	must(sdk.Contacts.SetCustomFields(ctx, c.ID, map[string]any{"favourite_colour": "Green"}))(t)
	if v, ok := customValue(must(sdk.Contacts.Get(ctx, c.ID))(t), f.ID); !ok || v != "Green" {
		t.Fatalf("contact value of the v2 field: %v", v)
	}

	must(sdk.CustomFields.Delete(ctx, f.ID))(t)
	_, err := sdk.CustomFields.Get(ctx, f.ID)
	wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
	must(sdk.CustomFields.DeleteFolder(ctx, folder.ID, loc))(t)
	if byObj := must(sdk.CustomFields.ListByObjectKey(ctx, "contact", loc))(t); len(byObj.Fields)+len(byObj.Folders) != 0 {
		t.Fatalf("ListByObjectKey after deletes: %+v", byObj)
	}
}

func TestIntegrationUsers(t *testing.T) {
	sb := sandboxtest.New(t)
	ctx := t.Context()
	agency := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.AgencyToken))
	sdk := sb.Client

	u := must(agency.Users.Create(ctx, ghl.UserParams{CompanyID: sb.CompanyID, FirstName: "Grace", LastName: "Hopper",
		Email: "grace@example.com", Password: "s3cret-Pass!", Type: "account", Role: "user", LocationIDs: []string{sb.LocationID},
		Permissions: ghl.UserPermissions{"contactsEnabled": true, "campaignsEnabled": false}}))(t)
	if u.ID == "" || u.Email != "grace@example.com" || u.Roles == nil || u.Roles.Type != "account" {
		t.Fatalf("Create: %+v", u)
	}
	admin := must(agency.Users.Create(ctx, ghl.UserParams{CompanyID: sb.CompanyID, FirstName: "Alan", LastName: "Turing",
		Email: "alan@example.com", Password: "s3cret-Pass!", Type: "agency", Role: "admin", LocationIDs: []string{}}))(t)

	must(agency.Users.Update(ctx, u.ID, ghl.UserParams{Phone: "+15555550142", Role: "admin", Type: "account", LocationIDs: []string{sb.LocationID, sb.OtherLocationID}}))(t)
	got := must(agency.Users.Get(ctx, u.ID))(t)
	if got.Phone != "+15555550142" || got.Roles.Role != "admin" || !equalSets(got.Roles.LocationIDs, []string{sb.LocationID, sb.OtherLocationID}) {
		t.Fatalf("Get after Update: %+v roles %+v", got, got.Roles)
	}
	if !got.Permissions["contactsEnabled"] || got.Permissions["campaignsEnabled"] {
		t.Errorf("permissions: %v", got.Permissions)
	}
	// A location token reads the users of its location.
	if got := must(sdk.Users.Get(ctx, u.ID))(t); got.ID != u.ID {
		t.Fatalf("Get (location token): %+v", got)
	}

	byLoc := must(sdk.Users.ListByLocation(ctx, sb.LocationID))(t)
	if len(byLoc) != 1 || byLoc[0].ID != u.ID {
		t.Fatalf("ListByLocation: %+v", byLoc)
	}
	list := must3(agency.Users.Search(ctx, ghl.SearchUsersParams{CompanyID: sb.CompanyID, Query: "grace"}))(t)
	if len(list.Users) != 1 || list.Users[0].ID != u.ID {
		t.Fatalf("Search (query): %+v", list.Users)
	}
	var ids []string
	for u, err := range agency.Users.SearchIter(ctx, ghl.SearchUsersParams{CompanyID: sb.CompanyID, Limit: 1}) {
		ids = append(ids, must(u, err)(t).ID)
	}
	if !equalSets(ids, []string{u.ID, admin.ID}) {
		t.Fatalf("SearchIter (1 a page): %v", ids)
	}
	byEmail := must3(agency.Users.FilterByEmail(ctx, ghl.FilterUsersByEmailParams{CompanyID: sb.CompanyID, Emails: []string{"alan@example.com", "nobody@example.com"}}))(t)
	if len(byEmail.Users) != 1 || byEmail.Users[0].ID != admin.ID {
		t.Fatalf("FilterByEmail: %+v", byEmail.Users)
	}
	ids = nil
	for u, err := range agency.Users.FilterByEmailIter(ctx, ghl.FilterUsersByEmailParams{CompanyID: sb.CompanyID, Emails: []string{"alan@example.com", "grace@example.com"}, Limit: 1}) {
		ids = append(ids, must(u, err)(t).ID)
	}
	if !equalSets(ids, []string{u.ID, admin.ID}) {
		t.Fatalf("FilterByEmailIter (1 a page): %v", ids)
	}

	if ok := must(agency.Users.Delete(ctx, u.ID))(t); !ok.Succeeded {
		t.Fatalf("Delete: %+v", ok)
	}
	if got, err := agency.Users.Get(ctx, u.ID); err == nil && !got.Deleted {
		t.Fatalf("Get after Delete: %+v", got)
	} else if err != nil {
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
	}
	if byLoc := must(sdk.Users.ListByLocation(ctx, sb.LocationID))(t); len(byLoc) != 0 {
		t.Fatalf("ListByLocation after Delete: %+v", byLoc)
	}
	// An email taken in the company is refused.
	_, err := agency.Users.Create(ctx, ghl.UserParams{CompanyID: sb.CompanyID, FirstName: "A", LastName: "T",
		Email: "alan@example.com", Password: "s3cret-Pass!", Type: "agency", Role: "user", LocationIDs: []string{}})
	if err == nil {
		t.Fatal("Create with a taken email succeeded")
	}
}

func TestIntegrationCompanies(t *testing.T) {
	sb := sandboxtest.New(t)
	agency := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.AgencyToken))
	co := must(agency.Companies.Get(t.Context(), sb.CompanyID))(t)
	if co.ID != sb.CompanyID || co.Name != "Test Agency" || co.Email != "agency@example.com" {
		t.Fatalf("Get: %+v", co)
	}
	// A location token is the wrong class of token for an agency call.
	_, err := sb.Client.Companies.Get(t.Context(), sb.CompanyID)
	wantAPIError(t, err, http.StatusUnauthorized, ghl.ErrUnauthorized)
	// An agency token reaches its own company only.
	_, err = agency.Companies.Get(t.Context(), sandbox.NewID())
	wantAPIError(t, err, http.StatusForbidden, ghl.ErrForbidden)
}

func TestIntegrationErrors(t *testing.T) {
	sb := sandboxtest.New(t)
	ctx := t.Context()
	sdk := sb.Client
	noRetry := ghl.WithRetryPolicy(ghl.RetryPolicy{MaxAttempts: 1})

	t.Run("NotFound", func(t *testing.T) {
		_, err := sdk.Contacts.Get(ctx, sandbox.NewID())
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
		var e *ghl.Error
		errors.As(err, &e)
		if e.Message == "" || e.RequestID == "" || e.Method != http.MethodGet || len(e.Body) == 0 {
			t.Errorf("error fields: %+v", e)
		}
		_, err = sdk.Locations.GetTag(ctx, sb.LocationID, sandbox.NewID())
		wantAPIError(t, err, http.StatusNotFound, ghl.ErrNotFound)
	})

	t.Run("Forbidden", func(t *testing.T) {
		// The other location's contact, through this location's token.
		other := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.LocationToken(t, sb.OtherLocationID)))
		theirs := must(other.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.OtherLocationID, Email: "theirs@example.com"}))(t)
		_, err := sdk.Contacts.Get(ctx, theirs.ID)
		wantAPIError(t, err, http.StatusForbidden, ghl.ErrForbidden)
		_, err = sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.OtherLocationID, Email: "x@example.com"})
		wantAPIError(t, err, http.StatusForbidden, ghl.ErrForbidden)
		_, err = sdk.Locations.Get(ctx, sb.OtherLocationID)
		wantAPIError(t, err, http.StatusForbidden, ghl.ErrForbidden)
	})

	t.Run("Unauthorized", func(t *testing.T) {
		bad := sb.NewClient(t, ghl.WithPrivateIntegrationToken("pit-00000000-0000-0000-0000-000000000000"), ghl.WithDefaultLocation(sb.LocationID), noRetry)
		_, err := bad.Contacts.Get(ctx, sandbox.NewID())
		wantAPIError(t, err, http.StatusUnauthorized, ghl.ErrUnauthorized)
		// A token without the scope.
		readOnly := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.LocationToken(t, sb.LocationID, "contacts.readonly")), ghl.WithDefaultLocation(sb.LocationID))
		_, err = readOnly.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.LocationID, Email: "scope@example.com"})
		wantAPIError(t, err, http.StatusUnauthorized, ghl.ErrUnauthorized)
		if !strings.Contains(err.Error(), "scope") {
			t.Errorf("scope error: %v", err)
		}
		// No credentials at all.
		anon := sb.NewClient(t)
		_, err = anon.Contacts.Get(ghl.WithLocation(ctx, sb.LocationID), sandbox.NewID())
		wantAPIError(t, err, http.StatusUnauthorized, ghl.ErrUnauthorized)
	})

	t.Run("Validation", func(t *testing.T) {
		_, err := sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.LocationID, Email: "not-an-email"})
		wantAPIError(t, err, http.StatusUnprocessableEntity, ghl.ErrValidation)
		var e *ghl.Error
		errors.As(err, &e)
		if len(e.Messages) == 0 || !strings.Contains(e.Message, "email") {
			t.Errorf("validation messages: %q", e.Messages)
		}
		_, err = sdk.Contacts.CreateTask(ctx, must(sdk.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.LocationID, Email: "v@example.com"}))(t).ID,
			ghl.CreateTaskParams{Title: "no due date"})
		if !errors.Is(err, ghl.ErrValidation) {
			t.Fatalf("CreateTask without dueDate: %v, want ErrValidation", err)
		}
		_, err = sdk.Contacts.GetDuplicate(ctx, ghl.DuplicateContactParams{LocationID: sb.LocationID})
		if !errors.Is(err, ghl.ErrValidation) {
			t.Fatalf("GetDuplicate without email or number: %v, want ErrValidation", err)
		}
	})

	t.Run("Version", func(t *testing.T) {
		// GHL refuses a Version header the namespace does not list.
		odd := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.Token), ghl.WithDefaultLocation(sb.LocationID), ghl.WithVersion("1999-01-01"))
		_, err := odd.Contacts.Get(ctx, sandbox.NewID())
		if !errors.Is(err, ghl.ErrValidation) {
			t.Fatalf("Version 1999-01-01: %v, want ErrValidation", err)
		}
		// The Node SDK's 2023-02-21 is accepted everywhere.
		node := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.Token), ghl.WithDefaultLocation(sb.LocationID), ghl.WithVersion("2023-02-21"))
		must(node.Locations.Get(ctx, sb.LocationID))(t)
	})

	t.Run("EmptyID", func(t *testing.T) {
		if _, err := sdk.Contacts.Get(ctx, ""); !errors.Is(err, ghl.ErrEmptyID) {
			t.Fatalf("Get(\"\"): %v, want ErrEmptyID", err)
		}
	})

	t.Run("Context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := sdk.Contacts.Get(cctx, sandbox.NewID()); !errors.Is(err, context.Canceled) {
			t.Fatalf("Get with a canceled context: %v", err)
		}
	})
}

// wireCounter counts the answers that reach the SDK's transport stack from
// the network, below its retry layer: a 429 that a retry hid still counts.
type wireCounter struct {
	base     http.RoundTripper
	total    atomic.Int64
	tooMany  atomic.Int64
	failures atomic.Int64 // network errors and 5xx
}

func (w *wireCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := w.base.RoundTrip(req)
	w.total.Add(1)
	switch {
	case err != nil || resp.StatusCode >= 500:
		w.failures.Add(1)
	case resp.StatusCode == http.StatusTooManyRequests:
		w.tooMany.Add(1)
	}
	return resp, err
}

// soakDuration reads a test duration from env (a Go duration), else def.
func soakDuration(t *testing.T, env string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 30s", env, v)
	}
	return d
}

// TestIntegrationLimiterSoak hammers one location from 4 goroutines through
// one client for GHLKIT_LIMITER_SOAK (default 30s, in whole 10 s windows)
// against the sandbox with
// GHL's limits on (100 requests / 10 s): the client-side limiter must keep
// every request under the budget (no 429 at all, not even one a retry
// hid) while still using most of it.
func TestIntegrationLimiterSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test; runs without -short")
	}
	d := soakDuration(t, "GHLKIT_LIMITER_SOAK", 30*time.Second)
	const burst, interval = 100, 10 * time.Second
	sb := sandboxtest.New(t, sandboxtest.WithRateLimit(burst, interval, 0))
	wire := &wireCounter{base: sb.HTTP.Client().Transport}
	sdk := sb.NewClient(t, ghl.WithHTTPClient(&http.Client{Transport: wire}),
		ghl.WithPrivateIntegrationToken(sb.Token), ghl.WithDefaultLocation(sb.LocationID))

	// Whole windows, so that the share of the budget used is meaningful;
	// stop just before the next would open.
	windows := max(1, int(d/interval))
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(windows)*interval-50*time.Millisecond)
	defer cancel()
	start := time.Now()
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				// Write, then read the write back.
				res, err := sdk.Contacts.Upsert(ctx, ghl.UpsertContactParams{CreateContactParams: ghl.CreateContactParams{
					LocationID: sb.LocationID, Email: fmt.Sprintf("soak-%d-%d@example.com", g, i%50), FirstName: fmt.Sprint(i)}})
				if err == nil {
					ok.Add(1)
					var got *ghl.Contact
					got, err = sdk.Contacts.Get(ctx, res.Contact.ID)
					if err == nil && got.FirstName != fmt.Sprint(i) {
						err = fmt.Errorf("read back firstName %q, want %d", got.FirstName, i)
					}
					if err == nil {
						ok.Add(1)
					}
				}
				if err != nil && ctx.Err() == nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	use := float64(wire.total.Load()) / float64(windows*burst) * 100
	t.Logf("%s (%d windows of %s): %d requests sent (%d calls ok, %d failed), %d answered 429, %.1f%% of the budget of %d a window",
		elapsed.Round(time.Millisecond), windows, interval, wire.total.Load(), ok.Load(), failed.Load(), wire.tooMany.Load(), use, burst)
	if n := wire.tooMany.Load(); n != 0 {
		t.Errorf("%d requests answered 429", n)
	}
	if n := sb.Requests(t, "")[http.StatusTooManyRequests]; n != 0 {
		t.Errorf("the sandbox counted %d 429s", n)
	}
	if n := failed.Load(); n != 0 {
		t.Errorf("%d calls failed; first: %v", n, firstErr.Load())
	}
	if n := wire.failures.Load(); n != 0 {
		t.Errorf("%d requests failed on the wire", n)
	}
	// The limiter paces; it must not starve. Allow for a slow CI machine.
	if want := int64(burst * windows * 3 / 4); wire.total.Load() < want {
		t.Errorf("only %d requests in %s; want at least %d", wire.total.Load(), elapsed, want)
	}
}

func TestIntegrationOAuth(t *testing.T) {
	sb := sandboxtest.New(t)
	ctx := t.Context()
	// POST /oauth/token carries no bearer token: the client credentials
	// are in the form.
	sdk := sb.NewClient(t)
	if !sb.Server.Implemented("oauth", "get-access-token") {
		_, err := sdk.OAuth.Token(ctx, ghl.TokenParams{ClientID: "x", ClientSecret: "y", GrantType: ghl.GrantAuthorizationCode, Code: "z"})
		wantNotImplemented(t, err)
		t.Skip("the sandbox does not serve OAuth yet")
	}
	const redirect = "https://app.example/oauth/callback"
	app, secret, err := sandbox.CreateApp(ctx, sb.Store, sandbox.AppParams{Name: "SDK test app", RedirectURIs: []string{redirect},
		DistributionType: sandbox.DistributionBoth, CompanyID: sb.CompanyID,
		Scopes: []string{"contacts.readonly", "contacts.write", "locations.readonly", "oauth.readonly", "oauth.write"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &oauth.Config{ClientID: app.ClientID, ClientSecret: secret, RedirectURL: redirect, AuthURL: sb.URL + "/oauth/chooselocation",
		Scopes: []string{"contacts.readonly", "contacts.write", "locations.readonly", "oauth.readonly", "oauth.write"}}
	authorize := func(t *testing.T, choice string) string {
		state := sandbox.NewID()
		return sandboxtest.Code(t, sb.Consent(t, cfg.AuthCodeURL(state), choice), state)
	}
	token := func(p ghl.TokenParams) (*ghl.OAuthToken, error) {
		p.ClientID, p.ClientSecret = app.ClientID, secret
		return sdk.OAuth.Token(ctx, p)
	}

	t.Run("LocationInstall", func(t *testing.T) {
		tok := must(token(ghl.TokenParams{GrantType: ghl.GrantAuthorizationCode, Code: authorize(t, sb.LocationID),
			UserType: ghl.UserTypeLocation, RedirectURI: redirect}))(t)
		if tok.AccessToken == "" || tok.RefreshToken == "" || tok.UserType != ghl.UserTypeLocation || tok.LocationID != sb.LocationID ||
			tok.CompanyID != sb.CompanyID || tok.ExpiresIn <= 0 || !strings.Contains(tok.Scope, "contacts.write") {
			t.Fatalf("Token (authorization_code): %+v", tok)
		}
		loc := sb.NewClient(t, ghl.WithAccessToken(tok.AccessToken), ghl.WithDefaultLocation(sb.LocationID))
		c := must(loc.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.LocationID, Email: "oauth-sdk@example.com"}))(t)
		if got := must(loc.Contacts.Get(ctx, c.ID))(t); got.Email != "oauth-sdk@example.com" {
			t.Fatalf("Get with the OAuth token: %+v", got)
		}

		fresh := must(token(ghl.TokenParams{GrantType: ghl.GrantRefreshToken, RefreshToken: tok.RefreshToken, UserType: ghl.UserTypeLocation}))(t)
		if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken || fresh.LocationID != sb.LocationID {
			t.Fatalf("Token (refresh_token): %+v", fresh)
		}
		must(sb.NewClient(t, ghl.WithAccessToken(fresh.AccessToken)).Locations.Get(ctx, sb.LocationID))(t)
		// A refresh token is single-use.
		_, err := token(ghl.TokenParams{GrantType: ghl.GrantRefreshToken, RefreshToken: tok.RefreshToken, UserType: ghl.UserTypeLocation})
		wantAPIError(t, err, http.StatusBadRequest, ghl.ErrValidation)
		var e *ghl.Error
		errors.As(err, &e)
		if e.Reason != "invalid_grant" || !strings.Contains(e.Message, "single-use") {
			t.Errorf("reused refresh token: reason %q message %q, want invalid_grant and the error_description", e.Reason, e.Message)
		}
		_, err = sdk.OAuth.Token(ctx, ghl.TokenParams{ClientID: app.ClientID, ClientSecret: "wrong", GrantType: ghl.GrantRefreshToken, RefreshToken: fresh.RefreshToken})
		wantAPIError(t, err, http.StatusUnauthorized, ghl.ErrUnauthorized)
	})

	t.Run("AgencyInstall", func(t *testing.T) {
		tok := must(token(ghl.TokenParams{GrantType: ghl.GrantAuthorizationCode, Code: authorize(t, sb.CompanyID),
			UserType: ghl.UserTypeCompany, RedirectURI: redirect}))(t)
		if tok.UserType != ghl.UserTypeCompany || tok.CompanyID != sb.CompanyID || !tok.ApproveAllLocations || tok.RefreshToken == "" {
			t.Fatalf("Token (agency authorization_code): %+v", tok)
		}
		agency := sb.NewClient(t, ghl.WithAccessToken(tok.AccessToken))

		installed := func(p ghl.InstalledLocationsParams) map[string]bool {
			p.CompanyID, p.AppID = sb.CompanyID, app.ID
			out := map[string]bool{}
			for l, err := range agency.OAuth.InstalledLocationsIter(ctx, p) {
				l = must(l, err)(t)
				out[l.ID] = l.IsInstalled
			}
			return out
		}
		list := must3(agency.OAuth.InstalledLocations(ctx, ghl.InstalledLocationsParams{CompanyID: sb.CompanyID, AppID: app.ID}))(t)
		if list.Count != 2 || len(list.Locations) != 2 || !list.InstallToFutureLocations {
			t.Fatalf("InstalledLocations: %+v", list)
		}
		// The agency-level install approved all of the company's locations.
		if got := installed(ghl.InstalledLocationsParams{Limit: 1}); len(got) != 2 || !got[sb.LocationID] || !got[sb.OtherLocationID] {
			t.Fatalf("InstalledLocationsIter (1 a page): %v", got)
		}
		if got := installed(ghl.InstalledLocationsParams{IsInstalled: ghl.Bool(false)}); len(got) != 0 {
			t.Fatalf("InstalledLocationsIter (not installed): %v", got)
		}

		// The agency token mints a token for the other location, which
		// installs the app there.
		lt := must(agency.OAuth.LocationToken(ctx, sb.CompanyID, sb.OtherLocationID))(t)
		if lt.AccessToken == "" || lt.LocationID != sb.OtherLocationID || lt.UserType != ghl.UserTypeLocation || lt.RefreshToken != "" {
			t.Fatalf("LocationToken: %+v", lt)
		}
		other := sb.NewClient(t, ghl.WithAccessToken(lt.AccessToken), ghl.WithDefaultLocation(sb.OtherLocationID))
		c := must(other.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.OtherLocationID, Email: "minted@example.com"}))(t)
		must(other.Contacts.Get(ctx, c.ID))(t)
		if got := installed(ghl.InstalledLocationsParams{LocationID: sb.OtherLocationID}); !got[sb.OtherLocationID] {
			t.Fatalf("InstalledLocations after LocationToken: %v", got)
		}
		// The minted token reaches its location only.
		_, err := other.Contacts.Create(ctx, ghl.CreateContactParams{LocationID: sb.LocationID, Email: "x@example.com"})
		wantAPIError(t, err, http.StatusForbidden, ghl.ErrForbidden)

		// These operations take an agency OAuth token, not a PIT.
		pit := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.AgencyToken))
		_, err = pit.OAuth.LocationToken(ctx, sb.CompanyID, sb.LocationID)
		wantAPIError(t, err, http.StatusUnauthorized, ghl.ErrUnauthorized)
		_, _, err = pit.OAuth.InstalledLocations(ctx, ghl.InstalledLocationsParams{CompanyID: sb.CompanyID, AppID: app.ID})
		wantAPIError(t, err, http.StatusUnauthorized, ghl.ErrUnauthorized)
		// Nor does it see other apps' installs.
		other2, _, err := sandbox.CreateApp(ctx, sb.Store, sandbox.AppParams{Name: "Another app", RedirectURIs: []string{redirect}})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = agency.OAuth.InstalledLocations(ctx, ghl.InstalledLocationsParams{CompanyID: sb.CompanyID, AppID: other2.ID})
		wantAPIError(t, err, http.StatusForbidden, ghl.ErrForbidden)
	})
}
