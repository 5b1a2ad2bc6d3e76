package sandbox_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
)

func openSeedStore(t *testing.T) sandbox.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "seed.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func countKind(t *testing.T, st sandbox.Store, q sandbox.RecordQuery) int {
	t.Helper()
	var n int
	err := st.Read(context.Background(), func(tx sandbox.Tx) error {
		var err error
		n, err = tx.CountRecords(context.Background(), q)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSeedIdempotentAndDeterministic(t *testing.T) {
	ctx := context.Background()
	st := openSeedStore(t)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	start := time.Now()
	first, err := sandbox.Seed(ctx, st, sandbox.SeedOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("seeding took %v; ghlkit dev must start in under 3 s", d)
	}
	if !first.Created {
		t.Error("first Seed: Created = false")
	}
	if !strings.HasPrefix(first.Token, "pit-") || len(first.Token) != 40 {
		t.Errorf("demo token %q is not PIT-shaped", first.Token)
	}

	// A second run (later, as a restart would be) writes nothing and
	// answers the same ids and token.
	events := countEvents(t, st)
	second, err := sandbox.Seed(ctx, st, sandbox.SeedOptions{Now: now.Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if second.Created {
		t.Error("second Seed: Created = true")
	}
	second.Created = true
	if !reflect.DeepEqual(first, second) {
		t.Errorf("second Seed differs:\n%+v\n%+v", first, second)
	}
	if n := countKind(t, st, sandbox.RecordQuery{Kind: sandbox.KindCompany}); n != 1 {
		t.Errorf("%d companies after seeding twice, want 1", n)
	}
	if n := countEvents(t, st); n != events {
		t.Errorf("second Seed appended %d events", n-events)
	}

	// Another store seeded with the same seed gets the same ids and token
	// (the demo token is derived, not stored anywhere readable); another
	// seed gets other ones.
	again, err := sandbox.Seed(ctx, openSeedStore(t), sandbox.SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Token != first.Token || again.CompanyID != first.CompanyID || !slices.Equal(again.ContactIDs, first.ContactIDs) ||
		!slices.Equal(again.UserIDs, first.UserIDs) || again.PipelineID != first.PipelineID {
		t.Errorf("same seed, other store: different data set\n%+v\n%+v", first, again)
	}
	other, err := sandbox.Seed(ctx, st, sandbox.SeedOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !other.Created || other.Token == first.Token || other.CompanyID == first.CompanyID || other.LocationID == first.LocationID {
		t.Errorf("seed 7 reuses the default data set: %+v", other)
	}
}

func countEvents(t *testing.T, st sandbox.Store) int {
	t.Helper()
	// The outbox is not readable through Tx; count in the database.
	db, ok := st.(interface{ ReadDB() *sql.DB })
	if !ok {
		t.Fatalf("store %T does not expose its database", st)
	}
	var n int
	if err := db.ReadDB().QueryRow(`SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSeedContents(t *testing.T) {
	ctx := context.Background()
	st := openSeedStore(t)
	res, err := sandbox.Seed(ctx, st, sandbox.SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.NewServer(sandbox.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e := &testEnv{t: t, Server: srv, Store: st, HTTP: hs}
	loc := res.LocationID

	if len(res.LocationIDs) != 2 || res.LocationIDs[0] != loc {
		t.Fatalf("locations = %v", res.LocationIDs)
	}
	// The demo token reaches its location with every scope; the agency
	// token reaches the company.
	l := e.do("GET", "/locations/"+loc, res.Token, nil).mustStatus(t, 200).JSON(t)["location"].(map[string]any)
	if l["name"] != "Bright Smile Dental" || l["timezone"] != "America/Los_Angeles" || l["address"] == "" || l["companyId"] != res.CompanyID {
		t.Errorf("location = %v", l)
	}
	company := e.do("GET", "/companies/"+res.CompanyID, res.AgencyToken, nil).mustStatus(t, 200).JSON(t)["company"].(map[string]any)
	if company["locationCount"] != float64(2) {
		t.Errorf("company = %v", company)
	}
	e.do("GET", "/locations/"+res.LocationIDs[1], res.Token, nil).mustStatus(t, 403)

	// Users: three, all with access to the demo location.
	users := e.do("GET", "/users/?locationId="+loc, res.Token, nil).mustStatus(t, 200).JSON(t)["users"].([]any)
	if len(users) != 3 || len(res.UserIDs) != 3 {
		t.Errorf("%d users (result %d), want 3", len(users), len(res.UserIDs))
	}

	// Contacts: 50, realistic and unique by email and phone.
	if len(res.ContactIDs) != sandbox.DefaultSeedContacts {
		t.Fatalf("%d contact ids", len(res.ContactIDs))
	}
	var contacts []*sandbox.Contact
	err = st.Read(ctx, func(tx sandbox.Tx) error {
		page, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: loc, Limit: 500})
		if err != nil {
			return err
		}
		contacts = page.Contacts
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(contacts) != 50 {
		t.Fatalf("%d contacts stored, want 50", len(contacts))
	}
	emails, phones, tagCount := map[string]bool{}, map[string]bool{}, map[string]int{}
	withFields, months := 0, map[string]bool{}
	for _, c := range contacts {
		if c.FirstName == "" || c.LastName == "" || c.Name != c.FirstName+" "+c.LastName || c.City == "" || c.Source == "" {
			t.Errorf("thin contact %+v", c)
		}
		if c.Email != strings.ToLower(c.Email) || !strings.Contains(c.Email, "@") || emails[c.Email] {
			t.Errorf("email %q not lower-cased or duplicated", c.Email)
		}
		emails[c.Email] = true
		if p, err := sandbox.NormalizePhone(c.Phone, "US"); err != nil || p != c.Phone || phones[c.Phone] {
			t.Errorf("phone %q is not unique E.164 (%v)", c.Phone, err)
		}
		phones[c.Phone] = true
		if last4 := c.Phone[len(c.Phone)-4:]; last4 >= "0190" {
			t.Errorf("phone %s is in 555-0190…0199, kept free for examples", c.Phone)
		}
		if len(c.Tags) == 0 {
			t.Errorf("contact %s has no tags", c.ID)
		}
		for _, tag := range c.Tags {
			tagCount[tag]++
		}
		if len(c.CustomFields) > 0 {
			withFields++
		}
		months[c.DateAdded.Format("2006-01")] = true
	}
	for _, tag := range []string{"lead", "customer", "vip", "newsletter", "webinar-2026"} {
		if tagCount[tag] == 0 {
			t.Errorf("no contact tagged %q: %v", tag, tagCount)
		}
	}
	if len(tagCount) != 5 {
		t.Errorf("tags outside the demo set: %v", tagCount)
	}
	if withFields < 25 {
		t.Errorf("only %d contacts have custom field values", withFields)
	}
	if len(months) < 4 {
		t.Errorf("dateAdded spans only %d months", len(months))
	}
	// Search finds seeded contacts by tag, through the API.
	m := e.do("POST", "/contacts/search", res.Token, map[string]any{"locationId": loc, "pageLimit": 100,
		"filters": []any{map[string]any{"field": "tags", "operator": "eq", "value": "vip"}}}).mustStatus(t, 200).JSON(t)
	if m["total"] != float64(tagCount["vip"]) {
		t.Errorf("search tags=vip total %v, want %d", m["total"], tagCount["vip"])
	}

	// Location tags are the five used, by lower-cased key.
	tags := e.do("GET", "/locations/"+loc+"/tags", res.Token, nil).mustStatus(t, 200).JSON(t)["tags"].([]any)
	if len(tags) != 5 {
		t.Errorf("location tags = %v", tags)
	}
	if n := countKind(t, st, sandbox.RecordQuery{Kind: sandbox.KindTag, LocationID: loc, Key: "webinar-2026"}); n != 1 {
		t.Errorf("tag record by key: %d", n)
	}

	// Custom fields: text, number and dropdown, with values on contacts.
	fields := e.do("GET", "/locations/"+loc+"/customFields", res.Token, nil).mustStatus(t, 200).JSON(t)["customFields"].([]any)
	types := map[string]string{}
	for _, f := range fields {
		f := f.(map[string]any)
		types[f["fieldKey"].(string)] = f["dataType"].(string)
	}
	if types["contact.lead_score"] != "NUMERICAL" || types["contact.preferred_contact_method"] != "SINGLE_OPTIONS" || types["contact.industry"] != "TEXT" {
		t.Errorf("custom fields = %v", types)
	}
	c := e.do("GET", "/contacts/"+contacts[0].ID, res.Token, nil).mustStatus(t, 200).JSON(t)["contact"].(map[string]any)
	if c["email"] != contacts[0].Email {
		t.Errorf("GET contact = %v", c)
	}

	// Pipeline, calendar, workflows, campaign.
	var pipeline struct {
		ID, Name, LocationID string
		Stages               []struct {
			ID, Name string
			Position int
		}
		ShowInFunnel, ShowInPieChart bool
	}
	var calendar map[string]any
	err = st.Read(ctx, func(tx sandbox.Tx) error {
		if err := sandbox.GetRecordAs(ctx, tx, sandbox.KindPipeline, res.PipelineID, &pipeline); err != nil {
			return err
		}
		return sandbox.GetRecordAs(ctx, tx, sandbox.KindCalendar, res.CalendarID, &calendar)
	})
	if err != nil {
		t.Fatal(err)
	}
	if pipeline.LocationID != loc || len(pipeline.Stages) < 4 || pipeline.Stages[3].Position != 3 || !pipeline.ShowInFunnel {
		t.Errorf("pipeline = %+v", pipeline)
	}
	hours, _ := calendar["openHours"].([]any)
	if calendar["locationId"] != loc || calendar["slotDuration"] != float64(30) || len(hours) == 0 {
		t.Errorf("calendar = %v", calendar)
	}
	wfs := e.do("GET", "/workflows/?locationId="+loc, res.Token, nil).mustStatus(t, 200).JSON(t)["workflows"].([]any)
	published := 0
	for _, w := range wfs {
		if w.(map[string]any)["status"] == "published" {
			published++
		}
	}
	if len(wfs) != len(res.WorkflowIDs) || published != 1 {
		t.Errorf("workflows = %v", wfs)
	}
	camps := e.do("GET", "/campaigns/?locationId="+loc+"&status=published", res.Token, nil).mustStatus(t, 200).JSON(t)["campaigns"].([]any)
	if len(camps) != 1 || camps[0].(map[string]any)["id"] != res.CampaignIDs[0] {
		t.Errorf("campaigns = %v", camps)
	}
	// The second location is empty but usable with the agency token.
	if n := countKind(t, st, sandbox.RecordQuery{Kind: sandbox.KindUser, CompanyID: res.CompanyID}); n != 3 {
		t.Errorf("%d users in the company", n)
	}
}

// TestSeedRefreshesDemoTokenScopes: a store seeded by an older binary,
// whose demo tokens lack scopes added since, gets every scope back on the
// next start; a revoked demo token stays revoked and as it was.
func TestSeedRefreshesDemoTokenScopes(t *testing.T) {
	ctx := context.Background()
	st := openSeedStore(t)
	res, err := sandbox.Seed(ctx, st, sandbox.SeedOptions{})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(id string, fn func(*sandbox.Token)) {
		t.Helper()
		err := st.Write(ctx, func(tx sandbox.Tx) error {
			rec, err := tx.GetRecord(ctx, sandbox.KindToken, id)
			if err != nil {
				return err
			}
			var tok sandbox.Token
			if err := json.Unmarshal(rec.Data, &tok); err != nil {
				return err
			}
			fn(&tok)
			if rec.Data, err = json.Marshal(&tok); err != nil {
				return err
			}
			return tx.PutRecord(ctx, rec)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	scopes := func(id string) (sandbox.Token, []string) {
		t.Helper()
		var tok sandbox.Token
		if err := st.Read(ctx, func(tx sandbox.Tx) error { return sandbox.GetRecordAs(ctx, tx, sandbox.KindToken, id, &tok) }); err != nil {
			t.Fatal(err)
		}
		return tok, tok.Scopes
	}
	edit(res.TokenID, func(tok *sandbox.Token) { tok.Scopes = []string{"contacts.readonly"} })
	edit(res.AgencyTokenID, func(tok *sandbox.Token) { tok.Scopes = []string{"locations.readonly"}; tok.Revoked = true })

	if _, err := sandbox.Seed(ctx, st, sandbox.SeedOptions{}); err != nil {
		t.Fatal(err)
	}
	if tok, got := scopes(res.TokenID); !slices.Equal(got, sandbox.AllScopes()) || tok.Hash != sandbox.HashSecret(res.Token) {
		t.Errorf("demo token after a restart: %d scopes (want %d), hash kept %v", len(got), len(sandbox.AllScopes()), tok.Hash == sandbox.HashSecret(res.Token))
	}
	if tok, got := scopes(res.AgencyTokenID); !tok.Revoked || !slices.Equal(got, []string{"locations.readonly"}) {
		t.Errorf("revoked agency token changed: revoked %v, scopes %v", tok.Revoked, got)
	}
	// The token works with a scope it had lost.
	srv, err := sandbox.NewServer(sandbox.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	req, _ := http.NewRequest("GET", hs.URL+"/users/?locationId="+res.LocationID, nil)
	req.Header.Set("Authorization", "Bearer "+res.Token)
	req.Header.Set("Version", "2021-07-28")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /users/ with the refreshed demo token: %d", resp.StatusCode)
	}
}
