package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// DefaultSeed selects the demo data set `ghlkit dev` loads. Everything the
// seed creates — ids, names, the demo tokens — derives from it, so every
// machine gets the same demo ids and the same well-known demo token.
const DefaultSeed uint64 = 20260701

// DefaultSeedContacts is the number of demo contacts.
const DefaultSeedContacts = 50

// MaxSeedContacts bounds SeedOptions.Contacts.
const MaxSeedContacts = 1000

// SeedOptions configures Seed.
type SeedOptions struct {
	// Seed selects the data set; 0 means DefaultSeed.
	Seed uint64
	// Now anchors the demo's dates (contacts were added over the half year
	// before it); zero means time.Now().
	Now time.Time
	// Contacts is the number of contacts of the demo location; 0 means
	// DefaultSeedContacts, and at most MaxSeedContacts are made.
	Contacts int
}

// SeedResult describes the demo data: the same ids (and token) every time
// for a given seed.
type SeedResult struct {
	// Created is true when this call wrote the data, false when it was
	// already there.
	Created   bool
	CompanyID string
	// LocationID is the demo location (the first of LocationIDs), which
	// holds the contacts, pipeline, calendar, workflows and campaign.
	LocationID  string
	LocationIDs []string
	// Token is a Private Integration Token of LocationID with every scope.
	// It is a well-known development credential, like Stripe's test keys:
	// anyone who knows the seed knows it, so never expose a seeded sandbox.
	Token   string
	TokenID string
	// AgencyToken is an agency Private Integration Token of CompanyID with
	// every scope; as well-known as Token.
	AgencyToken    string
	AgencyTokenID  string
	UserIDs        []string
	ContactIDs     []string
	CustomFieldIDs []string
	PipelineID     string
	StageIDs       []string
	CalendarID     string
	WorkflowIDs    []string
	CampaignIDs    []string
	// Tags are the location's tags the contacts carry.
	Tags []string
}

// Seed loads the demo data set into store in one transaction: an agency
// with two locations; in the first, three users, contacts with tags and
// custom field values, a sales pipeline, a calendar with weekly open hours,
// workflows, a campaign, and the demo tokens. It is idempotent: when the
// demo company already exists it writes nothing and returns the existing
// ids. Seeding emits no webhook events: the data is the state a sandbox
// starts from, not changes anyone made.
func Seed(ctx context.Context, store Store, opts SeedOptions) (*SeedResult, error) {
	if opts.Seed == 0 {
		opts.Seed = DefaultSeed
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Contacts <= 0 {
		opts.Contacts = DefaultSeedContacts
	}
	// The demo cities' fictional 555-01xx numbers run out a little above
	// this.
	opts.Contacts = min(opts.Contacts, MaxSeedContacts)
	d := newDemoData(opts)

	// Most starts find the data already there: check without taking the
	// write lock, then check again inside the writer in case another
	// process seeded in between.
	exists := false
	err := store.Read(ctx, func(tx Tx) error {
		var err error
		exists, err = demoExists(ctx, tx, d.company.ID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	if exists {
		if err := d.refreshTokenScopes(ctx, store); err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
		return d.result(false), nil
	}
	created := false
	err = store.Write(ctx, func(tx Tx) error {
		exists, err := demoExists(ctx, tx, d.company.ID)
		if err != nil || exists {
			return err
		}
		created = true
		return d.write(ctx, tx)
	})
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	return d.result(created), nil
}

// refreshTokenScopes gives the demo tokens of an existing demo data set
// every scope of this binary, as the banner promises: a store seeded by an
// older binary lacks the scopes added since. A revoked or deleted demo
// token stays as it is.
func (d *demoData) refreshTokenScopes(ctx context.Context, store Store) error {
	// stale returns the demo tokens whose scopes differ from this binary's,
	// with their records; the read first spares most starts the write lock.
	stale := func(tx Tx) (recs []*Record, toks []*Token, err error) {
		for _, id := range []string{d.token.ID, d.agencyToken.ID} {
			rec, err := tx.GetRecord(ctx, KindToken, id)
			if IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			t := new(Token)
			if err := json.Unmarshal(rec.Data, t); err != nil {
				return nil, nil, err
			}
			if !t.Revoked && !slices.Equal(t.Scopes, d.token.Scopes) {
				recs, toks = append(recs, rec), append(toks, t)
			}
		}
		return recs, toks, nil
	}
	var n int
	if err := store.Read(ctx, func(tx Tx) error {
		recs, _, err := stale(tx)
		n = len(recs)
		return err
	}); err != nil || n == 0 {
		return err
	}
	return store.Write(ctx, func(tx Tx) error {
		recs, toks, err := stale(tx)
		for i := 0; err == nil && i < len(recs); i++ {
			toks[i].Scopes = d.token.Scopes
			err = replaceRecordOf(ctx, tx, recs[i], toks[i])
		}
		return err
	})
}

func demoExists(ctx context.Context, tx Tx, companyID string) (bool, error) {
	_, err := tx.GetRecord(ctx, KindCompany, companyID)
	if IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// demoData is the whole data set, built in memory before it is written.
type demoData struct {
	now          time.Time
	company      Company
	locations    []Location
	token        Token
	secret       string
	agencyToken  Token
	agencySecret string
	users        []User
	fields       []CustomField
	tags         []Tag
	contacts     []*Contact
	pipeline     Pipeline
	calendar     Calendar
	workflows    []Workflow
	campaigns    []Campaign
}

// seedRand returns the random stream of one part of the data set. Parts
// draw from separate streams so that changing one (say, the number of
// contacts) leaves the ids of the others as they were.
func seedRand(seed uint64, part string) *rand.Rand {
	sum := sha256.Sum256([]byte(part))
	return rand.New(rand.NewPCG(seed, binary.BigEndian.Uint64(sum[:8])))
}

// seedID draws a GHL-shaped id (20 alphanumerics) from r.
func seedID(r *rand.Rand) string {
	b := make([]byte, 20)
	for i := range b {
		b[i] = idAlphabet[r.IntN(len(idAlphabet))]
	}
	return string(b)
}

// seedPIT draws a Private Integration Token shaped like GHL's
// (pit-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) from r.
func seedPIT(r *rand.Rand) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 32)
	for i := range b {
		b[i] = hex[r.IntN(16)]
	}
	s := string(b)
	return "pit-" + s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:32]
}

// seedTime truncates to GHL's millisecond precision, in UTC.
func seedTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Millisecond)} }

// Demo content. Names, places and companies are invented; every email
// domain is reserved for examples (RFC 2606: example.com, *.example) and
// every phone number is in the fictional 555-0100…0189 range, so no demo
// contact reaches a real person.
var (
	demoFirstNames = []string{"Olivia", "Liam", "Emma", "Noah", "Ava", "Mateo", "Sophia", "Lucas", "Isabella", "Ethan",
		"Mia", "Aiden", "Amara", "Kenji", "Priya", "Diego", "Chloe", "Omar", "Hannah", "Wei",
		"Grace", "Samuel", "Fatima", "Leo", "Zoe", "Daniel", "Aaliyah", "Marcus", "Ingrid", "Rafael"}
	demoLastNames = []string{"Johnson", "Garcia", "Nguyen", "Patel", "Kim", "Okafor", "Rossi", "Schmidt", "Martinez", "Chen",
		"Williams", "Brown", "Silva", "Haddad", "Kowalski", "Tanaka", "O'Brien", "Lopez", "Andersen", "Reyes"}
	demoCompanies = []struct{ name, domain string }{
		{"Blue Harbor Logistics", "blueharbor.example"}, {"Cedar & Pine Interiors", "cedarpine.example"},
		{"Northstar Analytics", "northstar.example"}, {"Golden Gate Bakery", "goldengatebakery.example"},
		{"Redwood Legal Group", "redwoodlegal.example"}, {"Summit Peak Fitness", "summitpeak.example"},
		{"Brightline Solar", "brightline.example"}, {"Harborview Realty", "harborview.example"},
		{"Copperleaf Coffee", "copperleaf.example"}, {"Atlas Auto Repair", "atlasauto.example"},
	}
	demoPersonalDomains = []string{"example.com", "example.net", "example.org", "mail.example"}
	demoCities          = []struct{ city, state, postal, tz, area string }{
		{"San Francisco", "CA", "94105", "America/Los_Angeles", "415"}, {"Oakland", "CA", "94612", "America/Los_Angeles", "510"},
		{"Los Angeles", "CA", "90012", "America/Los_Angeles", "213"}, {"San Diego", "CA", "92101", "America/Los_Angeles", "619"},
		{"Seattle", "WA", "98101", "America/Los_Angeles", "206"}, {"Portland", "OR", "97204", "America/Los_Angeles", "503"},
		{"Denver", "CO", "80202", "America/Denver", "303"}, {"Phoenix", "AZ", "85004", "America/Phoenix", "602"},
		{"Austin", "TX", "78701", "America/Chicago", "512"}, {"Chicago", "IL", "60601", "America/Chicago", "312"},
		{"New York", "NY", "10001", "America/New_York", "212"}, {"Boston", "MA", "02108", "America/New_York", "617"},
		{"Miami", "FL", "33130", "America/New_York", "305"}, {"Atlanta", "GA", "30303", "America/New_York", "404"},
	}
	demoStreets = []string{"Market St", "Main St", "Oak Ave", "Mission Blvd", "Elm St", "Sunset Ave", "Harbor Way", "Pine St", "Maple Dr", "Lakeview Rd"}
	demoSources = []string{"website", "facebook", "google ads", "referral", "webinar", "walk-in", "instagram"}
	// demoTags are the location's tags, in the lower case GHL stores.
	demoTags       = []string{"lead", "customer", "vip", "newsletter", "webinar-2026"}
	demoIndustries = []string{"Healthcare", "Retail", "Real Estate", "Hospitality", "Legal", "Construction", "Technology", "Education"}
	demoMethods    = []string{"Email", "Phone", "SMS"}
)

// newDemoData builds the data set for opts (with defaults applied).
func newDemoData(opts SeedOptions) *demoData {
	now := opts.Now.UTC()
	d := &demoData{now: now}
	seed := opts.Seed

	// Agency, locations and tokens.
	r := seedRand(seed, "account")
	d.company = Company{
		ID: seedID(r), Name: "Summit Growth Agency", Email: "hello@summitgrowth.example", Phone: "+14155550100",
		Website: "https://summitgrowth.example", Address: "500 Howard St, Suite 300", City: "San Francisco", State: "CA",
		Country: "US", Timezone: "America/Los_Angeles", DateAdded: seedTime(now.AddDate(-1, 0, 0)),
	}
	first := Location{
		ID: seedID(r), CompanyID: d.company.ID, Name: "Bright Smile Dental", Address: "120 Market St", City: "San Francisco",
		State: "CA", Country: "US", PostalCode: "94105", Website: "https://brightsmile.example", Timezone: "America/Los_Angeles",
		Email: "frontdesk@brightsmile.example", Phone: "+14155550123", DateAdded: seedTime(now.AddDate(0, -8, 0)),
	}
	first.Business = &LocationBusiness{Name: first.Name, Address: first.Address, City: first.City, State: first.State,
		Country: first.Country, PostalCode: first.PostalCode, Website: first.Website, Timezone: first.Timezone, Email: first.Email}
	second := Location{
		ID: seedID(r), CompanyID: d.company.ID, Name: "Peak Fitness Studio", Address: "1600 Blake St", City: "Denver",
		State: "CO", Country: "US", PostalCode: "80202", Website: "https://peakfitness.example", Timezone: "America/Denver",
		Email: "team@peakfitness.example", Phone: "+13035550142", DateAdded: seedTime(now.AddDate(0, -5, 0)),
	}
	second.Business = &LocationBusiness{Name: second.Name, Address: second.Address, City: second.City, State: second.State,
		Country: second.Country, PostalCode: second.PostalCode, Website: second.Website, Timezone: second.Timezone, Email: second.Email}
	d.locations = []Location{first, second}
	loc := first.ID

	r = seedRand(seed, "tokens")
	scopes := AllScopes()
	d.secret = seedPIT(r)
	d.token = Token{ID: seedID(r), Type: TokenPIT, Name: "ghlkit demo token (well-known; development only)", UserType: UserTypeLocation,
		CompanyID: d.company.ID, LocationID: loc, Scopes: scopes, Hash: HashSecret(d.secret), CreatedAt: first.DateAdded}
	d.agencySecret = seedPIT(r)
	d.agencyToken = Token{ID: seedID(r), Type: TokenPIT, Name: "ghlkit demo agency token (well-known; development only)", UserType: UserTypeCompany,
		CompanyID: d.company.ID, Scopes: scopes, Hash: HashSecret(d.agencySecret), CreatedAt: first.DateAdded}

	// Team.
	r = seedRand(seed, "users")
	for _, u := range []struct {
		first, last, email, phone, typ, role string
		locs                                 []string
	}{
		{"Alex", "Morgan", "alex.morgan@summitgrowth.example", "+14155550161", "agency", "admin", []string{loc, second.ID}},
		{"Priya", "Shah", "priya.shah@brightsmile.example", "+14155550162", "account", "admin", []string{loc}},
		{"Diego", "Ramirez", "diego.ramirez@brightsmile.example", "+14155550163", "account", "user", []string{loc}},
	} {
		d.users = append(d.users, User{
			ID: seedID(r), Name: u.first + " " + u.last, FirstName: u.first, LastName: u.last, Email: u.email, Phone: u.phone,
			CompanyID: d.company.ID, Permissions: defaultUserPermissions,
			Roles: UserRoles{Type: u.typ, Role: u.role, LocationIDs: u.locs}, DateAdded: first.DateAdded,
		})
	}

	// Custom fields, one of each common kind.
	r = seedRand(seed, "customFields")
	for i, f := range []struct {
		name, key, dataType string
		options             []string
	}{
		{"Lead Score", "contact.lead_score", "NUMERICAL", nil},
		{"Preferred Contact Method", "contact.preferred_contact_method", "SINGLE_OPTIONS", demoMethods},
		{"Industry", "contact.industry", "TEXT", nil},
	} {
		cf := CustomField{
			ID: seedID(r), Name: f.name, FieldKey: f.key, DataType: f.dataType, Position: i * 50, LocationID: loc,
			Model: "contact", ObjectKey: "contact", ShowInForms: true, DateAdded: first.DateAdded, DateUpdated: first.DateAdded,
		}
		if len(f.options) > 0 {
			cf.PicklistOptions = f.options
			for _, o := range f.options {
				cf.Options = append(cf.Options, CustomFieldOption{Key: strings.ToLower(o), Label: o})
			}
		}
		d.fields = append(d.fields, cf)
	}

	r = seedRand(seed, "tags")
	for _, name := range demoTags {
		d.tags = append(d.tags, Tag{ID: seedID(r), Name: name, LocationID: loc})
	}

	d.contacts = demoContacts(seedRand(seed, "contacts"), now, loc, opts.Contacts, d.users, d.fields)

	// Sales pipeline.
	r = seedRand(seed, "pipeline")
	d.pipeline = Pipeline{ID: seedID(r), Name: "Sales Pipeline", LocationID: loc, ShowInFunnel: true, ShowInPieChart: true}
	for i, name := range []string{"New Lead", "Contacted", "Consultation Booked", "Proposal Sent", "Closed Won"} {
		d.pipeline.Stages = append(d.pipeline.Stages, PipelineStage{ID: seedID(r), Name: name, Position: i})
	}

	// A calendar open on weekdays 9:00–17:00 and Saturday mornings in the
	// location's time zone, bookable from an hour ahead for 60 days, so
	// free slots exist in the coming weeks.
	r = seedRand(seed, "calendar")
	meet := []CalendarMeetingLocation{{Kind: "custom", Location: "https://meet.brightsmile.example/consult"}}
	d.calendar = Calendar{
		ID: seedID(r), LocationID: loc, Name: "New Patient Consultation",
		Description: "A 30-minute consultation for new patients.", Slug: "new-patient-consultation", WidgetSlug: "new-patient-consultation",
		CalendarType: "round_robin", WidgetType: "default", EventType: "RoundRobin_OptimizeForAvailability",
		EventTitle: "{{contact.name}} — consultation", EventColor: "#039be5", IsActive: true,
		TeamMembers: []CalendarTeamMember{
			{UserID: d.users[1].ID, Priority: 0.5, IsPrimary: true, LocationConfigurations: meet},
			{UserID: d.users[2].ID, Priority: 0.5, LocationConfigurations: meet},
		},
		LocationConfigurations: meet,
		SlotDuration:           30, SlotDurationUnit: "mins", SlotInterval: 30, SlotIntervalUnit: "mins",
		SlotBufferUnit: "mins", PreBufferUnit: "mins", AppoinmentPerSlot: 1,
		AllowBookingAfter: 1, AllowBookingAfterUnit: "hours", AllowBookingFor: 60, AllowBookingForUnit: "days",
		OpenHours: []CalendarOpenHour{
			{DaysOfTheWeek: []int{1, 2, 3, 4, 5}, Hours: []CalendarHour{{OpenHour: 9, CloseHour: 17}}},
			{DaysOfTheWeek: []int{6}, Hours: []CalendarHour{{OpenHour: 9, CloseHour: 12}}},
		},
		Availabilities: []CalendarAvailability{}, AvailabilityType: new(int),
		AutoConfirm: true, AllowReschedule: true, AllowCancellation: true,
		FormSubmitType: "ThankYouMessage", FormSubmitThanksMessage: "Thank you! We look forward to seeing you.",
		Notifications: []CalendarNotification{},
	}

	r = seedRand(seed, "automation")
	d.workflows = []Workflow{
		{ID: seedID(r), Name: "New Lead Nurture", Status: WorkflowPublished, Version: 3, LocationID: loc,
			CreatedAt: seedTime(now.AddDate(0, -6, 0)), UpdatedAt: seedTime(now.AddDate(0, -1, 0))},
		{ID: seedID(r), Name: "Webinar Follow-up", Status: WorkflowDraft, Version: 1, LocationID: loc,
			CreatedAt: seedTime(now.AddDate(0, -2, 0)), UpdatedAt: seedTime(now.AddDate(0, 0, -10))},
	}
	d.campaigns = []Campaign{{ID: seedID(r), Name: "Spring Cleaning Reminder", Status: CampaignPublished, LocationID: loc}}
	return d
}

// demoContacts draws n contacts of loc, added over the 180 days before now,
// with unique emails and phones (the location refuses duplicates).
func demoContacts(r *rand.Rand, now time.Time, loc string, n int, users []User, fields []CustomField) []*Contact {
	emails, phones := map[string]bool{}, map[string]bool{}
	out := make([]*Contact, 0, n)
	for len(out) < n {
		first := demoFirstNames[r.IntN(len(demoFirstNames))]
		last := demoLastNames[r.IntN(len(demoLastNames))]
		city := demoCities[r.IntN(len(demoCities))]
		c := &Contact{
			ID: seedID(r), LocationID: loc, FirstName: first, LastName: last, Name: first + " " + last,
			Country: "US", City: city.city, State: city.state, PostalCode: city.postal, Timezone: city.tz,
			Address1: fmt.Sprintf("%d %s", 100+r.IntN(9800), demoStreets[r.IntN(len(demoStreets))]),
			Source:   demoSources[r.IntN(len(demoSources))], Type: ContactTypeLead,
			Tags: []string{}, CustomFields: []CustomFieldValue{},
		}
		local := strings.ToLower(strings.ReplaceAll(first+"."+last, "'", ""))
		domain := demoPersonalDomains[r.IntN(len(demoPersonalDomains))]
		if r.IntN(10) < 6 {
			co := demoCompanies[r.IntN(len(demoCompanies))]
			c.CompanyName, domain = co.name, co.domain
			c.Website = "https://" + co.domain
		}
		email := local + "@" + domain
		for i := 2; emails[email]; i++ {
			email = fmt.Sprintf("%s%d@%s", local, i, domain)
		}
		emails[email] = true
		c.Email = email
		// 555-0100…0189: 555-0190…0199 stay free for examples (the
		// README's, the tests') so they never collide with a demo contact.
		phone := ""
		for phone == "" || phones[phone] {
			phone = fmt.Sprintf("+1%s5550%03d", city.area, 100+r.IntN(90))
		}
		phones[phone] = true
		c.Phone = phone

		added := now.Add(-time.Duration(r.Int64N(int64(180 * 24 * time.Hour))))
		c.DateAdded = seedTime(added)
		c.DateUpdated = seedTime(added.Add(time.Duration(r.Int64N(int64(now.Sub(added)) + 1))))
		if r.IntN(3) > 0 {
			c.LastActivity = c.DateUpdated
		}
		c.AssignedTo = users[1+r.IntN(len(users)-1)].ID

		if r.IntN(10) < 3 {
			c.Type = ContactTypeCustomer
			c.Tags = append(c.Tags, "customer")
			if r.IntN(3) == 0 {
				c.Tags = append(c.Tags, "vip")
			}
		} else {
			c.Tags = append(c.Tags, "lead")
		}
		if r.IntN(2) == 0 {
			c.Tags = append(c.Tags, "newsletter")
		}
		if r.IntN(4) == 0 {
			c.Tags = append(c.Tags, "webinar-2026")
		}

		// Most contacts have a lead score and a preferred channel; some an
		// industry, so searches on custom fields find some and miss others.
		if r.IntN(5) > 0 {
			c.CustomFields = append(c.CustomFields, CustomFieldValue{ID: fields[0].ID, Value: float64(10 + r.IntN(91))})
		}
		if r.IntN(3) > 0 {
			c.CustomFields = append(c.CustomFields, CustomFieldValue{ID: fields[1].ID, Value: demoMethods[r.IntN(len(demoMethods))]})
		}
		if c.CompanyName != "" && r.IntN(2) == 0 {
			c.CustomFields = append(c.CustomFields, CustomFieldValue{ID: fields[2].ID, Value: demoIndustries[r.IntN(len(demoIndustries))]})
		}
		out = append(out, c)
	}
	return out
}

// write stores the data set in tx.
func (d *demoData) write(ctx context.Context, tx Tx) error {
	co := d.company
	if err := PutRecordOf(ctx, tx, Record{Kind: KindCompany, ID: co.ID, CompanyID: co.ID, CreatedAt: co.DateAdded.Time, UpdatedAt: co.DateAdded.Time}, &co); err != nil {
		return err
	}
	for i := range d.locations {
		l := &d.locations[i]
		if err := PutRecordOf(ctx, tx, Record{Kind: KindLocation, ID: l.ID, LocationID: l.ID, CompanyID: co.ID, CreatedAt: l.DateAdded.Time, UpdatedAt: l.DateAdded.Time}, l); err != nil {
			return err
		}
	}
	if err := StoreToken(ctx, tx, &d.token, d.secret); err != nil {
		return err
	}
	if err := StoreToken(ctx, tx, &d.agencyToken, d.agencySecret); err != nil {
		return err
	}
	for i := range d.users {
		u := &d.users[i]
		if err := PutRecordOf(ctx, tx, Record{Kind: KindUser, ID: u.ID, CompanyID: co.ID, Key: strings.ToLower(u.Email), CreatedAt: u.DateAdded.Time, UpdatedAt: u.DateAdded.Time}, u); err != nil {
			return err
		}
	}
	for i := range d.fields {
		f := &d.fields[i]
		if err := PutRecordOf(ctx, tx, Record{Kind: KindCustomField, ID: f.ID, LocationID: f.LocationID, CompanyID: co.ID, Key: f.FieldKey, CreatedAt: f.DateAdded.Time.Add(time.Duration(i) * time.Millisecond), UpdatedAt: f.DateAdded.Time}, f); err != nil {
			return err
		}
	}
	for i := range d.tags {
		t := &d.tags[i]
		if err := PutRecordOf(ctx, tx, Record{Kind: KindTag, ID: t.ID, LocationID: t.LocationID, CompanyID: co.ID, Key: strings.ToLower(t.Name), CreatedAt: d.locations[0].DateAdded.Time.Add(time.Duration(i) * time.Millisecond)}, t); err != nil {
			return err
		}
	}
	for _, c := range d.contacts {
		if err := tx.InsertContact(ctx, c); err != nil {
			return err
		}
	}
	loc := d.locations[0]
	if err := putPipelineAt(ctx, tx, co.ID, &d.pipeline, loc.DateAdded.Time); err != nil {
		return err
	}
	if err := putCalendarAt(ctx, tx, co.ID, &d.calendar, loc.DateAdded.Time); err != nil {
		return err
	}
	for i := range d.workflows {
		if err := PutWorkflow(ctx, tx, co.ID, &d.workflows[i]); err != nil {
			return err
		}
	}
	for i := range d.campaigns {
		c := &d.campaigns[i]
		if err := PutRecordOf(ctx, tx, Record{Kind: KindCampaign, ID: c.ID, LocationID: c.LocationID, CompanyID: co.ID, CreatedAt: d.now.AddDate(0, -3, 0)}, c); err != nil {
			return err
		}
	}
	return nil
}

// result describes the data set.
func (d *demoData) result(created bool) *SeedResult {
	res := &SeedResult{
		Created: created, CompanyID: d.company.ID, LocationID: d.locations[0].ID,
		Token: d.secret, TokenID: d.token.ID, AgencyToken: d.agencySecret, AgencyTokenID: d.agencyToken.ID,
		PipelineID: d.pipeline.ID, CalendarID: d.calendar.ID,
	}
	for _, l := range d.locations {
		res.LocationIDs = append(res.LocationIDs, l.ID)
	}
	for _, u := range d.users {
		res.UserIDs = append(res.UserIDs, u.ID)
	}
	for _, c := range d.contacts {
		res.ContactIDs = append(res.ContactIDs, c.ID)
	}
	for _, f := range d.fields {
		res.CustomFieldIDs = append(res.CustomFieldIDs, f.ID)
	}
	for _, s := range d.pipeline.Stages {
		res.StageIDs = append(res.StageIDs, s.ID)
	}
	for _, w := range d.workflows {
		res.WorkflowIDs = append(res.WorkflowIDs, w.ID)
	}
	for _, c := range d.campaigns {
		res.CampaignIDs = append(res.CampaignIDs, c.ID)
	}
	for _, t := range d.tags {
		res.Tags = append(res.Tags, t.Name)
	}
	return res
}
