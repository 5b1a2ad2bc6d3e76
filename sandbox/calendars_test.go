package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// newDemoEnv runs a sandbox on the demo data set whose clock reads now. L1
// is the demo location (TokL1 its demo token), L2 the second location of
// the demo company (TokL2 a token of it, TokC1 the agency token).
func newDemoEnv(t *testing.T, now time.Time) (*testEnv, *sandbox.SeedResult) {
	t.Helper()
	st := openSeedStore(t)
	res, err := sandbox.Seed(context.Background(), st, sandbox.SeedOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sandbox.NewServer(sandbox.Config{Store: st, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e := &testEnv{t: t, Server: srv, Store: st, HTTP: hs, now: now, C1: res.CompanyID, L1: res.LocationID, L2: res.LocationIDs[1],
		TokL1: res.Token, TokC1: res.AgencyToken}
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error {
		e.TokL2, err = sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenPIT, UserType: sandbox.UserTypeLocation,
			CompanyID: e.C1, LocationID: e.L2, Scopes: sandbox.AllScopes()}, time.Now())
		return err
	})
	return e, res
}

// calDo sends a calendars request with the namespace's own Version.
func calDo(e *testEnv, path, token string) *response {
	e.t.Helper()
	return e.doH("GET", path, token, nil, map[string]string{"Version": "2021-04-15"})
}

// demoNow is a Monday morning in the demo location's zone (10:10 PST).
var demoNow = time.Date(2026, 3, 2, 18, 10, 0, 0, time.UTC)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	z, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func TestGetCalendarsAndCalendar(t *testing.T) {
	e, res := newDemoEnv(t, demoNow)
	schemas := specSchemas(t, "calendars")

	m := calDo(e, "/calendars/?locationId="+e.L1, e.TokL1).mustStatus(t, 200).JSON(t)
	checkSchema(t, schemas, schemas["CalendarsGetSuccessfulResponseDTO"], m, "body")
	list := m["calendars"].([]any)
	if len(list) != 1 {
		t.Fatalf("calendars = %v", m)
	}
	cal := list[0].(map[string]any)
	if cal["id"] != res.CalendarID || cal["locationId"] != e.L1 || cal["name"] != "New Patient Consultation" || cal["slotDuration"] != float64(30) ||
		cal["isActive"] != true || cal["availabilityType"] != float64(0) || len(cal["teamMembers"].([]any)) != 2 {
		t.Errorf("calendar = %v", cal)
	}
	hours := cal["openHours"].([]any)
	if len(hours) != 2 || !reflect.DeepEqual(hours[1], map[string]any{"daysOfTheWeek": []any{float64(6)},
		"hours": []any{map[string]any{"openHour": float64(9), "openMinute": float64(0), "closeHour": float64(12), "closeMinute": float64(0)}}}) {
		t.Errorf("openHours = %v", hours)
	}

	// GET by id answers the same object in {calendar}; without the slash
	// and with the Version the Node SDK sends too.
	one := e.do("GET", "/calendars/"+res.CalendarID, e.TokL1, nil).mustStatus(t, 200).JSON(t)
	checkSchema(t, schemas, schemas["CalendarByIdSuccessfulResponseDTO"], one, "body")
	if !reflect.DeepEqual(one["calendar"], cal) {
		t.Errorf("GET calendar = %v\nlist entry   = %v", one["calendar"], cal)
	}
	if n := len(e.do("GET", "/calendars?locationId="+e.L1, e.TokL1, nil).mustStatus(t, 200).JSON(t)["calendars"].([]any)); n != 1 {
		t.Errorf("/calendars without slash: %d", n)
	}

	// A draft and an active calendar of a group, and a bare record written
	// by another component: filters, and a full view of the bare one.
	group := sandbox.NewID()
	draft := &sandbox.Calendar{Name: "Draft", LocationID: e.L1, GroupID: group}
	active := &sandbox.Calendar{Name: "Group active", LocationID: e.L1, GroupID: group, IsActive: true, CalendarType: sandbox.CalendarEvent}
	bare := sandbox.NewID()
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error {
		for _, c := range []*sandbox.Calendar{draft, active} {
			if err := sandbox.PutCalendar(ctx, tx, e.C1, c); err != nil {
				return err
			}
		}
		return sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindCalendar, ID: bare, LocationID: e.L1, CompanyID: e.C1,
			CreatedAt: time.Now().Add(time.Hour)}, map[string]any{"name": "Bare", "isActive": true, "internal": "x"})
	})
	ids := func(query string) []string {
		t.Helper()
		var out []string
		for _, c := range calDo(e, "/calendars/?locationId="+e.L1+query, e.TokL1).mustStatus(t, 200).JSON(t)["calendars"].([]any) {
			out = append(out, c.(map[string]any)["id"].(string))
		}
		return out
	}
	for query, want := range map[string][]string{
		"":                   {res.CalendarID, draft.ID, active.ID, bare},
		"&showDrafted=true":  {res.CalendarID, draft.ID, active.ID, bare},
		"&showDrafted=false": {res.CalendarID, active.ID, bare},
		"&groupId=" + group:  {draft.ID, active.ID},
		"&groupId=" + group + "&showDrafted=false": {active.ID},
		"&groupId=" + sandbox.NewID():              nil,
	} {
		// Calendars put in the same instant have no defined order.
		got := ids(query)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("calendars%s = %v, want %v", query, got, want)
		}
	}
	b := calDo(e, "/calendars/"+bare, e.TokL1).mustStatus(t, 200).JSON(t)
	checkSchema(t, schemas, schemas["CalendarByIdSuccessfulResponseDTO"], b, "body")
	bc := b["calendar"].(map[string]any)
	if bc["id"] != bare || bc["locationId"] != e.L1 || bc["internal"] != nil {
		t.Errorf("bare calendar view = %v", bc)
	}
	for _, k := range []string{"teamMembers", "openHours", "availabilities", "locationConfigurations", "notifications"} {
		if v, ok := bc[k].([]any); !ok || len(v) != 0 {
			t.Errorf("bare calendar %s = %v, want []", k, bc[k])
		}
	}

	// An empty location answers an empty array, not null.
	if r := calDo(e, "/calendars/?locationId="+e.L2, e.TokL2).mustStatus(t, 200); strings.TrimSpace(string(r.Body)) != `{"calendars":[]}` {
		t.Errorf("empty list = %s", r.Body)
	}
}

func TestGetCalendarsErrors(t *testing.T) {
	e, res := newDemoEnv(t, demoNow)
	theirs := &sandbox.Calendar{Name: "Theirs", LocationID: e.L2, IsActive: true}
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error { return sandbox.PutCalendar(ctx, tx, e.C1, theirs) })

	wantAPIError(t, calDo(e, "/calendars/", e.TokL1), 422, "locationId should not be empty")
	wantAPIError(t, calDo(e, "/calendars/?locationId="+e.L1+"&showDrafted=maybe", e.TokL1), 422, "showDrafted must be a boolean value")
	wantAPIError(t, calDo(e, "/calendars/?locationId="+e.L2, e.TokL1), 403, sandbox.MsgLocation)
	wantAPIError(t, calDo(e, "/calendars/"+sandbox.NewID(), e.TokL1), 404, "Calendar not found")
	wantAPIError(t, calDo(e, "/calendars/"+theirs.ID, e.TokL1), 403, sandbox.MsgLocation)
	wantAPIError(t, calDo(e, "/calendars/"+res.CalendarID, "not-a-token"), 401, sandbox.MsgInvalidToken)
	wantAPIError(t, e.doH("GET", "/calendars/"+res.CalendarID, e.TokL1, nil, map[string]string{"Version": ""}), 400, sandbox.MsgVersionHeader)
	// The 404 is GHL's error shape.
	m := calDo(e, "/calendars/"+sandbox.NewID(), e.TokL1).JSON(t)
	if m["error"] != "Not Found" || m["traceId"] == "" {
		t.Errorf("404 body = %v", m)
	}
}

// slotsOf fetches the free slots of the calendar between two local times.
func slotsOf(t *testing.T, e *testEnv, tok, calID string, from, to time.Time, extra string) map[string][]string {
	t.Helper()
	path := fmt.Sprintf("/calendars/%s/free-slots?startDate=%d&endDate=%d%s", calID, from.UnixMilli(), to.UnixMilli(), extra)
	res := calDo(e, path, tok).mustStatus(t, 200)
	var m map[string]sandbox.SlotDay
	if err := json.Unmarshal(res.Body, &m); err != nil {
		t.Fatalf("free slots body %s: %v", res.Body, err)
	}
	// The answer is valid against the spec's response schema.
	var generic map[string]any
	_ = json.Unmarshal(res.Body, &generic)
	schemas := specSchemas(t, "calendars")
	checkSchema(t, schemas, map[string]any{"type": "object", "additionalProperties": map[string]any{"$ref": "#/components/schemas/SlotsSchema"}}, generic, "body")
	out := map[string][]string{}
	for day, d := range m {
		if len(d.Slots) == 0 {
			t.Errorf("date %s listed without slots", day)
		}
		out[day] = d.Slots
	}
	return out
}

// halfHours lists "<date>T<hh:mm>:00<offset>" every 30 minutes in [from, to).
func halfHours(date string, from, to int, offset string) []string {
	var out []string
	for m := from * 60; m < to*60; m += 30 {
		out = append(out, fmt.Sprintf("%sT%02d:%02d:00%s", date, m/60, m%60, offset))
	}
	return out
}

func TestFreeSlotsNextWeek(t *testing.T) {
	e, res := newDemoEnv(t, demoNow)
	la := mustZone(t, "America/Los_Angeles")
	// Next week, Monday 00:00 to Sunday 23:59:59.999 in the location's zone.
	from := time.Date(2026, 3, 9, 0, 0, 0, 0, la)
	got := slotsOf(t, e, e.TokL1, res.CalendarID, from, from.AddDate(0, 0, 7).Add(-time.Millisecond), "")
	want := map[string][]string{}
	for d := 9; d <= 13; d++ { // Monday to Friday 9:00–17:00
		date := fmt.Sprintf("2026-03-%02d", d)
		want[date] = halfHours(date, 9, 17, "-07:00")
	}
	want["2026-03-14"] = halfHours("2026-03-14", 9, 12, "-07:00") // Saturday morning; closed Sunday
	if !reflect.DeepEqual(got, want) {
		t.Errorf("free slots next week:\n got %v\nwant %v", got, want)
	}
	// The raw body keys dates in order and has nothing else.
	raw := calDo(e, fmt.Sprintf("/calendars/%s/free-slots?startDate=%d&endDate=%d", res.CalendarID, from.UnixMilli(), from.Add(24*time.Hour-time.Millisecond).UnixMilli()), e.TokL1).mustStatus(t, 200)
	if !strings.HasPrefix(string(raw.Body), `{"2026-03-09":{"slots":["2026-03-09T09:00:00-07:00","2026-03-09T09:30:00-07:00",`) {
		t.Errorf("body = %s", raw.Body)
	}
	// A team member's slots are the calendar's (no appointments yet); a user
	// who is not on the calendar has none.
	if one := slotsOf(t, e, e.TokL1, res.CalendarID, from, from.AddDate(0, 0, 7), "&userId="+res.UserIDs[1]); len(one) != 6 {
		t.Errorf("team member's slots: %v", one)
	}
	if two := slotsOf(t, e, e.TokL1, res.CalendarID, from, from.AddDate(0, 0, 7), "&userIds[]="+res.UserIDs[0]+"&userIds[]="+res.UserIDs[2]); len(two) != 6 {
		t.Errorf("userIds slots: %v", two)
	}
	if none := slotsOf(t, e, e.TokL1, res.CalendarID, from, from.AddDate(0, 0, 7), "&userId="+res.UserIDs[0]); len(none) != 0 {
		t.Errorf("a user not on the calendar has slots: %v", none)
	}
}

func TestFreeSlotsTimezonesAcrossDST(t *testing.T) {
	e, res := newDemoEnv(t, demoNow)
	la := mustZone(t, "America/Los_Angeles")
	// Friday 6 March to Monday 9 March 2026: US clocks go forward on Sunday
	// the 8th, so the calendar's 9:00 is 17:00 UTC before and 16:00 after.
	from, to := time.Date(2026, 3, 6, 0, 0, 0, 0, la), time.Date(2026, 3, 9, 23, 59, 59, 999e6, la)

	def := slotsOf(t, e, e.TokL1, res.CalendarID, from, to, "")
	want := map[string][]string{
		"2026-03-06": halfHours("2026-03-06", 9, 17, "-08:00"),
		"2026-03-07": halfHours("2026-03-07", 9, 12, "-08:00"),
		"2026-03-09": halfHours("2026-03-09", 9, 17, "-07:00"),
	}
	if !reflect.DeepEqual(def, want) {
		t.Errorf("location zone:\n got %v\nwant %v", def, want)
	}

	ny := slotsOf(t, e, e.TokL1, res.CalendarID, from, to, "&timezone=America/New_York")
	want = map[string][]string{
		"2026-03-06": halfHours("2026-03-06", 12, 20, "-05:00"),
		"2026-03-07": halfHours("2026-03-07", 12, 15, "-05:00"),
		"2026-03-09": halfHours("2026-03-09", 12, 20, "-04:00"),
	}
	if !reflect.DeepEqual(ny, want) {
		t.Errorf("America/New_York:\n got %v\nwant %v", ny, want)
	}

	// In UTC Friday's last hour falls on Saturday's date.
	utc := slotsOf(t, e, e.TokL1, res.CalendarID, from, to, "&timezone=UTC")
	want = map[string][]string{
		"2026-03-06": halfHours("2026-03-06", 17, 24, "+00:00"),
		"2026-03-07": append(halfHours("2026-03-07", 0, 1, "+00:00"), halfHours("2026-03-07", 17, 20, "+00:00")...),
		"2026-03-09": halfHours("2026-03-09", 16, 24, "+00:00"),
	}
	if !reflect.DeepEqual(utc, want) {
		t.Errorf("UTC:\n got %v\nwant %v", utc, want)
	}

	// Each zone lists the same instants.
	instants := func(m map[string][]string) []int64 {
		var out []int64
		for _, day := range m {
			for _, s := range day {
				ts, err := time.Parse(sandbox.SlotTimeLayout, s)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, ts.UnixMilli())
			}
		}
		slices.Sort(out)
		return out
	}
	if a, b, c := instants(def), instants(ny), instants(utc); !slices.Equal(a, b) || !slices.Equal(a, c) || len(a) != 16+6+16 {
		t.Errorf("zones list different instants: %d %d %d", len(a), len(b), len(c))
	}
	// A half-hour zone.
	if ist := slotsOf(t, e, e.TokL1, res.CalendarID, from, to, "&timezone=Asia/Kolkata"); ist["2026-03-06"][0] != "2026-03-06T22:30:00+05:30" {
		t.Errorf("Asia/Kolkata: %v", ist)
	}
}

func TestFreeSlotsNoticeWindowAndPast(t *testing.T) {
	e, res := newDemoEnv(t, demoNow)
	la := mustZone(t, "America/Los_Angeles")
	// Today (10:10 local): an hour's notice leaves 11:30 onwards.
	today := time.Date(2026, 3, 2, 0, 0, 0, 0, la)
	got := slotsOf(t, e, e.TokL1, res.CalendarID, today, today.Add(24*time.Hour-time.Millisecond), "")
	if want := halfHours("2026-03-02", 11, 17, "-08:00")[1:]; !reflect.DeepEqual(got, map[string][]string{"2026-03-02": want}) {
		t.Errorf("today: %v, want %v", got, want)
	}
	// Last week is in the past.
	if past := slotsOf(t, e, e.TokL1, res.CalendarID, today.AddDate(0, 0, -7), today.Add(-time.Millisecond), ""); len(past) != 0 {
		t.Errorf("past slots: %v", past)
	}
	// Bookable for 60 days: through Thursday 30 April, not Friday 1 May.
	got = slotsOf(t, e, e.TokL1, res.CalendarID, time.Date(2026, 4, 27, 0, 0, 0, 0, la), time.Date(2026, 5, 3, 23, 59, 59, 0, la), "")
	var days []string
	for d := range got {
		days = append(days, d)
	}
	slices.Sort(days)
	if !slices.Equal(days, []string{"2026-04-27", "2026-04-28", "2026-04-29", "2026-04-30"}) {
		t.Errorf("booking window days: %v", days)
	}
	// The range bounds are instants, both inclusive.
	at := time.Date(2026, 3, 10, 10, 0, 0, 0, la)
	if one := slotsOf(t, e, e.TokL1, res.CalendarID, at, at, ""); !reflect.DeepEqual(one, map[string][]string{"2026-03-10": {"2026-03-10T10:00:00-07:00"}}) {
		t.Errorf("single instant: %v", one)
	}
}

func TestFreeSlotsErrors(t *testing.T) {
	e, res := newDemoEnv(t, demoNow)
	theirs := &sandbox.Calendar{Name: "Theirs", LocationID: e.L2, IsActive: true}
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error { return sandbox.PutCalendar(ctx, tx, e.C1, theirs) })
	path := func(cal string, q url.Values) string { return "/calendars/" + cal + "/free-slots?" + q.Encode() }
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC).UnixMilli()
	ms := func(v int64) string { return fmt.Sprint(v) }
	day := int64(24 * time.Hour / time.Millisecond)

	// Missing and malformed fields: 422 naming each.
	r := calDo(e, path(res.CalendarID, nil), e.TokL1)
	wantAPIError(t, r, 422, "startDate should not be empty")
	wantAPIError(t, r, 422, "endDate should not be empty")
	wantAPIError(t, calDo(e, path(res.CalendarID, url.Values{"startDate": {ms(start)}}), e.TokL1), 422, "endDate should not be empty")
	// Only decimal numbers: not Go's other float syntaxes.
	for _, bad := range []string{"abc", "2026-03-10", "1e300", "NaN", "nan", "inf", "+Inf", "-infinity", "1_772_352_000_000", "0x1p4", "0x19c", "0b1", "0o17",
		"1e", "e5", ".", "+", "1.5.2", "12 34"} {
		wantAPIError(t, calDo(e, path(res.CalendarID, url.Values{"startDate": {bad}, "endDate": {ms(start)}}), e.TokL1), 422,
			"startDate must be a number conforming to the specified constraints")
	}
	for _, good := range []string{"+1772352000000", "1772352000000.", "1772352000000.25", "1.772352e12", "1.772352E+12", "0177235200000e1"} {
		calDo(e, path(res.CalendarID, url.Values{"startDate": {good}, "endDate": {ms(start + day)}}), e.TokL1).mustStatus(t, 200)
	}
	wantAPIError(t, calDo(e, path(res.CalendarID, url.Values{"startDate": {ms(start)}, "endDate": {"soon"}}), e.TokL1), 422, "endDate must be a number")
	for _, tz := range []string{"Mars/Olympus", "Local", "../../etc/passwd"} {
		wantAPIError(t, calDo(e, path(res.CalendarID, url.Values{"startDate": {ms(start)}, "endDate": {ms(start + day)}, "timezone": {tz}}), e.TokL1), 422,
			"timezone must be a valid IANA time zone")
	}
	// Validation comes before the calendar is looked up.
	wantAPIError(t, calDo(e, path(sandbox.NewID(), nil), e.TokL1), 422, "startDate should not be empty")

	// Ranges: end before start, more than 31 days.
	wantAPIError(t, calDo(e, path(res.CalendarID, url.Values{"startDate": {ms(start)}, "endDate": {ms(start - 1)}}), e.TokL1), 400,
		"endDate must be greater than or equal to startDate")
	wantAPIError(t, calDo(e, path(res.CalendarID, url.Values{"startDate": {ms(start)}, "endDate": {ms(start + 32*day)}}), e.TokL1), 400,
		"Date range cannot be more than 31 days")
	// A whole 31-day month passes, clocks going forward or back inside it.
	la := mustZone(t, "America/Los_Angeles")
	for _, m := range []time.Month{time.March, time.October} {
		from := time.Date(2026, m, 1, 0, 0, 0, 0, la)
		calDo(e, path(res.CalendarID, url.Values{"startDate": {ms(from.UnixMilli())}, "endDate": {ms(from.AddDate(0, 1, 0).UnixMilli() - 1)}}), e.TokL1).mustStatus(t, 200)
	}
	london := mustZone(t, "Europe/London")
	from := time.Date(2026, time.October, 1, 0, 0, 0, 0, london)
	calDo(e, path(res.CalendarID, url.Values{"startDate": {ms(from.UnixMilli())}, "endDate": {ms(from.AddDate(0, 1, 0).UnixMilli() - 1)}}), e.TokL1).mustStatus(t, 200)

	ok := url.Values{"startDate": {ms(start)}, "endDate": {ms(start + day)}}
	wantAPIError(t, calDo(e, path(sandbox.NewID(), ok), e.TokL1), 404, "Calendar not found")
	wantAPIError(t, calDo(e, path(theirs.ID, ok), e.TokL1), 403, sandbox.MsgLocation)
}

func TestCalendarFreeSlotsCapacity(t *testing.T) {
	zone := mustZone(t, "Europe/Berlin")
	day := time.Date(2026, 6, 15, 0, 0, 0, 0, zone) // a Monday
	at := func(h, m int) time.Time { return time.Date(2026, 6, 15, h, m, 0, 0, zone) }
	base := sandbox.Calendar{
		SlotDuration: 30, SlotDurationUnit: "mins", SlotInterval: 30, SlotIntervalUnit: "mins", AppoinmentPerSlot: 1,
		TeamMembers: []sandbox.CalendarTeamMember{{UserID: "A"}, {UserID: "B"}},
		OpenHours:   []sandbox.CalendarOpenHour{{DaysOfTheWeek: []int{1}, Hours: []sandbox.CalendarHour{{OpenHour: 9, CloseHour: 12}}}},
	}
	q := sandbox.SlotQuery{From: day, To: day.Add(24*time.Hour - 1), Now: day.AddDate(0, 0, -1), Zone: zone}
	clock := func(slots []time.Time) []string {
		out := []string{}
		for _, s := range slots {
			out = append(out, s.In(zone).Format("15:04"))
		}
		return out
	}
	all := []string{"09:00", "09:30", "10:00", "10:30", "11:00", "11:30"}
	apptA := sandbox.BusyTime{Start: at(10, 0), End: at(10, 30), UserID: "A"}
	cases := []struct {
		name  string
		edit  func(c *sandbox.Calendar, q *sandbox.SlotQuery)
		slots []string
	}{
		{"open hours", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {}, all},
		{"round robin: B takes 10:00", func(c *sandbox.Calendar, q *sandbox.SlotQuery) { q.Busy = []sandbox.BusyTime{apptA} }, all},
		{"only A", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			q.Busy, q.UserIDs = []sandbox.BusyTime{apptA}, []string{"A"}
		}, []string{"09:00", "09:30", "10:30", "11:00", "11:30"}},
		{"collective", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.CalendarType, q.Busy = sandbox.CalendarCollective, []sandbox.BusyTime{apptA}
		}, []string{"09:00", "09:30", "10:30", "11:00", "11:30"}},
		{"buffers around A's appointment", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.SlotBuffer, c.PreBuffer = 15, 1
			c.PreBufferUnit = "mins"
			q.Busy, q.UserIDs = []sandbox.BusyTime{apptA}, []string{"A"}
		}, []string{"09:00", "11:00", "11:30"}},
		{"two per slot", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.AppoinmentPerSlot = 2
			q.Busy, q.UserIDs = []sandbox.BusyTime{apptA}, []string{"A"}
		}, all},
		{"blocked for everyone", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.AppoinmentPerSlot = 5
			q.Busy = []sandbox.BusyTime{{Start: at(9, 15), End: at(10, 0), Blocked: true}}
		}, []string{"10:00", "10:30", "11:00", "11:30"}},
		{"one a day, booked", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.AppoinmentPerDay = 1
			q.Busy = []sandbox.BusyTime{{Start: at(16, 0), End: at(16, 30), UserID: "B"}}
		}, []string{}},
		{"hourly slots every 45 minutes", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.SlotDuration, c.SlotDurationUnit, c.SlotInterval = 1, "hours", 45
		}, []string{"09:00", "09:45", "10:30"}},
		{"notice of a day", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.AllowBookingAfter, c.AllowBookingAfterUnit = 1, "days"
			q.Now = at(8, 50).AddDate(0, 0, -1)
		}, []string{"09:00", "09:30", "10:00", "10:30", "11:00", "11:30"}},
		{"notice of a day, asked later", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.AllowBookingAfter, c.AllowBookingAfterUnit = 1, "days"
			q.Now = at(10, 5).AddDate(0, 0, -1)
		}, []string{"10:30", "11:00", "11:30"}},
		{"custom hours replace the weekday's", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.Availabilities = []sandbox.CalendarAvailability{{Date: "2026-06-15T00:00:00.000Z", Hours: []sandbox.CalendarHour{{OpenHour: 14, CloseHour: 15}}}}
		}, []string{"14:00", "14:30"}},
		{"open hours only", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.AvailabilityType = new(int)
			c.Availabilities = []sandbox.CalendarAvailability{{Date: "2026-06-15T00:00:00.000Z", Hours: []sandbox.CalendarHour{{OpenHour: 14, CloseHour: 15}}}}
		}, all},
		{"custom only, none that date", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			one := 1
			c.AvailabilityType = &one
			c.Availabilities = []sandbox.CalendarAvailability{{Date: "2026-06-16T00:00:00.000Z", Hours: []sandbox.CalendarHour{{OpenHour: 14, CloseHour: 15}}}}
		}, []string{}},
		{"deleted custom hours", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.Availabilities = []sandbox.CalendarAvailability{{Date: "2026-06-15T00:00:00.000Z", Deleted: true}}
		}, all},
		{"closing at midnight", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.OpenHours = []sandbox.CalendarOpenHour{{DaysOfTheWeek: []int{1}, Hours: []sandbox.CalendarHour{{OpenHour: 23}}}}
		}, []string{"23:00", "23:30"}},
		// Overlapping ranges list each slot once, in order.
		{"overlapping weekly hours", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.OpenHours = append(slices.Clone(c.OpenHours), sandbox.CalendarOpenHour{DaysOfTheWeek: []int{1, 2},
				Hours: []sandbox.CalendarHour{{OpenHour: 10, CloseHour: 13}, {OpenHour: 11, OpenMinute: 15, CloseHour: 12}}})
		}, []string{"09:00", "09:30", "10:00", "10:30", "11:00", "11:15", "11:30", "12:00", "12:30"}},
		{"overlapping custom hours of a date", func(c *sandbox.Calendar, q *sandbox.SlotQuery) {
			c.Availabilities = []sandbox.CalendarAvailability{
				{Date: "2026-06-15T00:00:00.000Z", Hours: []sandbox.CalendarHour{{OpenHour: 14, CloseHour: 15}}},
				{Date: "2026-06-15T00:00:00.000Z", Hours: []sandbox.CalendarHour{{OpenHour: 14, CloseHour: 16}, {OpenHour: 15, CloseHour: 16}}},
			}
		}, []string{"14:00", "14:30", "15:00", "15:30"}},
	}
	for _, tc := range cases {
		c := base
		qc := q
		tc.edit(&c, &qc)
		if got := clock(c.FreeSlots(qc)); !slices.Equal(got, tc.slots) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.slots)
		}
	}
}

// TestFreeSlotsZoneFallback: a location without a time zone, or with one
// this machine doesn't know, has its calendar's hours in UTC; overlapping
// hours list each slot once.
func TestFreeSlotsZoneFallback(t *testing.T) {
	e := newTestEnv(t)
	cal := &sandbox.Calendar{Name: "Fallback", LocationID: e.L3, IsActive: true, OpenHours: []sandbox.CalendarOpenHour{
		{DaysOfTheWeek: []int{1}, Hours: []sandbox.CalendarHour{{OpenHour: 9, CloseHour: 10}}},
		{DaysOfTheWeek: []int{1}, Hours: []sandbox.CalendarHour{{OpenHour: 9, OpenMinute: 30, CloseHour: 10, CloseMinute: 30}}},
	}}
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error { return sandbox.PutCalendar(ctx, tx, e.C2, cal) })
	monday := time.Date(2030, 6, 3, 0, 0, 0, 0, time.UTC) // a Monday
	inZone := func(name string) map[string][]string {
		t.Helper()
		z := mustZone(t, name)
		return map[string][]string{"2030-06-03": {
			time.Date(2030, 6, 3, 9, 0, 0, 0, z).Format(sandbox.SlotTimeLayout),
			time.Date(2030, 6, 3, 9, 30, 0, 0, z).Format(sandbox.SlotTimeLayout),
			time.Date(2030, 6, 3, 10, 0, 0, 0, z).Format(sandbox.SlotTimeLayout),
		}}
	}
	// The location's zone while it has one this machine knows.
	from, to := monday.Add(-12*time.Hour), monday.Add(36*time.Hour)
	if got, want := slotsOf(t, e, e.TokL3, cal.ID, from, to, ""), inZone("America/New_York"); !reflect.DeepEqual(got, want) {
		t.Errorf("America/New_York: %v, want %v", got, want)
	}
	for _, tz := range []string{"", "Mars/Olympus", "Local"} {
		putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error {
			return sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindLocation, ID: e.L3, LocationID: e.L3, CompanyID: e.C2},
				&sandbox.Location{ID: e.L3, CompanyID: e.C2, Name: "Location Three", Timezone: tz})
		})
		if got, want := slotsOf(t, e, e.TokL3, cal.ID, from, to, ""), inZone("UTC"); !reflect.DeepEqual(got, want) {
			t.Errorf("timezone %q: %v, want %v", tz, got, want)
		}
	}
}

// TestPutCalendarReplaceKeepsOrder: replacing a calendar keeps its place in
// the oldest-first list.
func TestPutCalendarReplaceKeepsOrder(t *testing.T) {
	e := newTestEnv(t)
	first, second := &sandbox.Calendar{Name: "First", LocationID: e.L1}, &sandbox.Calendar{Name: "Second", LocationID: e.L1}
	list := func() []string {
		t.Helper()
		var out []string
		for _, c := range calDo(e, "/calendars/?locationId="+e.L1, e.TokL1).mustStatus(t, 200).JSON(t)["calendars"].([]any) {
			out = append(out, c.(map[string]any)["name"].(string))
		}
		return out
	}
	for _, c := range []*sandbox.Calendar{first, second} {
		putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error { return sandbox.PutCalendar(ctx, tx, e.C1, c) })
		time.Sleep(5 * time.Millisecond)
	}
	if got := list(); !slices.Equal(got, []string{"First", "Second"}) {
		t.Fatalf("calendars = %v", got)
	}
	first.Name = "First, renamed"
	putRecords(t, e, func(ctx context.Context, tx sandbox.Tx) error { return sandbox.PutCalendar(ctx, tx, e.C1, first) })
	if got := list(); !slices.Equal(got, []string{"First, renamed", "Second"}) {
		t.Errorf("calendars after a replace = %v", got)
	}
}
