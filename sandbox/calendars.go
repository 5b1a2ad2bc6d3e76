package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// registerCalendars wires the read side of the calendars namespace
// (apps/calendars.json): list, get and free slots. Calendars are
// KindCalendar records (LocationID set) written by the demo seed, the admin
// API or tests (PutCalendar); the calendar's hours apply in its location's
// time zone. Appointments and blocked slots will take capacity away from
// the free slots through SlotQuery.Busy once the events API stores them.
func (s *Server) registerCalendars() {
	s.handle("calendars", "get-calendars", s.listCalendars)
	s.handle("calendars", "get-calendar", s.getCalendar)
	s.handle("calendars", "get-slots", s.getFreeSlots)
}

// Calendar is a booking calendar of a location, stored as a KindCalendar
// record with LocationID set. The JSON names are those of the spec's
// CalendarDTO (including GHL's "appoinment" spelling); optional settings
// are left out when unset.
type Calendar struct {
	ID                     string                    `json:"id"`
	LocationID             string                    `json:"locationId"`
	GroupID                string                    `json:"groupId,omitempty"`
	Name                   string                    `json:"name"`
	Description            string                    `json:"description"`
	Slug                   string                    `json:"slug"`
	WidgetSlug             string                    `json:"widgetSlug"`
	CalendarType           string                    `json:"calendarType,omitempty"` // CalendarRoundRobin, …
	WidgetType             string                    `json:"widgetType,omitempty"`
	EventType              string                    `json:"eventType,omitempty"`
	EventTitle             string                    `json:"eventTitle"`
	EventColor             string                    `json:"eventColor"`
	IsActive               bool                      `json:"isActive"` // false: a draft
	TeamMembers            []CalendarTeamMember      `json:"teamMembers"`
	LocationConfigurations []CalendarMeetingLocation `json:"locationConfigurations"`
	SlotDuration           int                       `json:"slotDuration"`
	SlotDurationUnit       string                    `json:"slotDurationUnit,omitempty"` // "mins" or "hours"
	SlotInterval           int                       `json:"slotInterval"`
	SlotIntervalUnit       string                    `json:"slotIntervalUnit,omitempty"`
	SlotBuffer             int                       `json:"slotBuffer"` // after an appointment
	SlotBufferUnit         string                    `json:"slotBufferUnit,omitempty"`
	PreBuffer              int                       `json:"preBuffer"` // before an appointment
	PreBufferUnit          string                    `json:"preBufferUnit,omitempty"`
	AppoinmentPerSlot      int                       `json:"appoinmentPerSlot"` // per user; seats of a class
	AppoinmentPerDay       int                       `json:"appoinmentPerDay"`  // 0: no limit
	// AllowBookingAfter is the minimum scheduling notice.
	AllowBookingAfter     int    `json:"allowBookingAfter"`
	AllowBookingAfterUnit string `json:"allowBookingAfterUnit,omitempty"` // hours, days, weeks, months
	// AllowBookingFor is how far ahead bookings are taken (0: no limit).
	AllowBookingFor     int                    `json:"allowBookingFor"`
	AllowBookingForUnit string                 `json:"allowBookingForUnit,omitempty"` // days, weeks, months
	OpenHours           []CalendarOpenHour     `json:"openHours"`
	Availabilities      []CalendarAvailability `json:"availabilities"`
	// AvailabilityType selects the hours that apply: 0 only OpenHours, 1
	// only Availabilities, nil both (a date's custom hours replace the
	// weekly ones).
	AvailabilityType        *int                   `json:"availabilityType,omitempty"`
	EnableRecurring         bool                   `json:"enableRecurring"`
	Recurring               *CalendarRecurring     `json:"recurring,omitempty"`
	AutoConfirm             bool                   `json:"autoConfirm"`
	AllowReschedule         bool                   `json:"allowReschedule"`
	AllowCancellation       bool                   `json:"allowCancellation"`
	GoogleInvitationEmails  bool                   `json:"googleInvitationEmails"`
	FormSubmitType          string                 `json:"formSubmitType,omitempty"`
	FormSubmitThanksMessage string                 `json:"formSubmitThanksMessage"`
	Notifications           []CalendarNotification `json:"notifications"`

	FormID                                string            `json:"formId,omitempty"`
	FormSubmitRedirectURL                 string            `json:"formSubmitRedirectURL,omitempty"`
	AlertEmail                            string            `json:"alertEmail,omitempty"`
	CalendarCoverImage                    string            `json:"calendarCoverImage,omitempty"`
	ConsentLabel                          string            `json:"consentLabel,omitempty"`
	GuestType                             string            `json:"guestType,omitempty"`
	IsLivePaymentMode                     bool              `json:"isLivePaymentMode,omitempty"`
	LookBusyConfig                        *CalendarLookBusy `json:"lookBusyConfig,omitempty"`
	Notes                                 string            `json:"notes,omitempty"`
	PixelID                               string            `json:"pixelId,omitempty"`
	ShouldAssignContactToTeamMember       bool              `json:"shouldAssignContactToTeamMember,omitempty"`
	ShouldSendAlertEmailsToAssignedMember bool              `json:"shouldSendAlertEmailsToAssignedMember,omitempty"`
	ShouldSkipAssigningContactForExisting bool              `json:"shouldSkipAssigningContactForExisting,omitempty"`
	StickyContact                         bool              `json:"stickyContact,omitempty"`
}

// Calendar types GHL knows (CalendarDTO.calendarType).
const (
	CalendarRoundRobin     = "round_robin"
	CalendarEvent          = "event"
	CalendarClassBooking   = "class_booking"
	CalendarCollective     = "collective"
	CalendarServiceBooking = "service_booking"
	CalendarPersonal       = "personal"
)

// CalendarTeamMember is a user taking the calendar's appointments.
type CalendarTeamMember struct {
	UserID                 string                    `json:"userId"`
	Priority               float64                   `json:"priority"` // 0, 0.5 or 1
	IsPrimary              bool                      `json:"isPrimary"`
	LocationConfigurations []CalendarMeetingLocation `json:"locationConfigurations"`
}

// CalendarMeetingLocation is where a meeting takes place
// (LocationConfigurationResponse).
type CalendarMeetingLocation struct {
	Kind      string `json:"kind"` // custom, zoom_conference, physical, …
	Location  string `json:"location,omitempty"`
	MeetingID string `json:"meetingId,omitempty"`
}

// CalendarOpenHour is the weekly availability of some days: 0 is Sunday,
// as in time.Weekday.
type CalendarOpenHour struct {
	DaysOfTheWeek []int          `json:"daysOfTheWeek"`
	Hours         []CalendarHour `json:"hours"`
}

// CalendarHour is an open range of a day in the calendar's time zone.
// 00:00 as the close means midnight at the end of the day.
type CalendarHour struct {
	OpenHour    int `json:"openHour"`
	OpenMinute  int `json:"openMinute"`
	CloseHour   int `json:"closeHour"`
	CloseMinute int `json:"closeMinute"`
}

// CalendarAvailability is a custom availability: the hours of one date
// (formatted "<YYYY-MM-DD in the calendar's zone>T00:00:00.000Z"). No hours
// closes the date.
type CalendarAvailability struct {
	Date    string         `json:"date"`
	Hours   []CalendarHour `json:"hours"`
	Deleted bool           `json:"deleted"`
}

// CalendarNotification is a (deprecated) notification setting of a calendar.
type CalendarNotification struct {
	Type                      string `json:"type,omitempty"`
	ShouldSendToContact       bool   `json:"shouldSendToContact"`
	ShouldSendToGuest         bool   `json:"shouldSendToGuest"`
	ShouldSendToUser          bool   `json:"shouldSendToUser"`
	ShouldSendToSelectedUsers bool   `json:"shouldSendToSelectedUsers"`
	SelectedUsers             string `json:"selectedUsers"`
}

// CalendarLookBusy hides a share of the free slots in GHL's booking widget.
// The API's free slots ignore it, as GHL's do.
type CalendarLookBusy struct {
	Enabled            bool    `json:"enabled"`
	LookBusyPercentage float64 `json:"LookBusyPercentage"`
}

// CalendarRecurring configures recurring appointments.
type CalendarRecurring struct {
	Freq                        string `json:"freq,omitempty"` // DAILY, WEEKLY, MONTHLY
	Count                       int    `json:"count,omitempty"`
	BookingOption               string `json:"bookingOption,omitempty"`
	BookingOverlapDefaultStatus string `json:"bookingOverlapDefaultStatus,omitempty"`
}

// listCalendars serves GET /calendars/?locationId&groupId&showDrafted →
// {calendars: [...]}, oldest first. groupId keeps the group's calendars;
// showDrafted=false leaves out drafts (isActive false). The pipeline has
// already checked that the token may use the location.
func (s *Server) listCalendars(w http.ResponseWriter, r *Request) error {
	locID := strings.TrimSpace(r.Query("locationId"))
	if locID == "" {
		return Invalid("locationId should not be empty")
	}
	groupID := strings.TrimSpace(r.Query("groupId"))
	showDrafted := true
	switch v := strings.TrimSpace(r.Query("showDrafted")); v {
	case "", "true":
	case "false":
		showDrafted = false
	default:
		return Invalid("showDrafted must be a boolean value")
	}
	ctx := r.Context()
	var all []Calendar
	err := s.read(ctx, func(tx Tx) error {
		var err error
		all, err = ListCalendars(ctx, tx, locID)
		return err
	})
	if err != nil {
		return err
	}
	out := make([]Calendar, 0, len(all))
	for _, c := range all {
		if (groupID == "" || c.GroupID == groupID) && (showDrafted || c.IsActive) {
			out = append(out, c)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"calendars": out})
	return nil
}

// getCalendar serves GET /calendars/{calendarId} → {calendar: {...}}.
func (s *Server) getCalendar(w http.ResponseWriter, r *Request) error {
	ctx := r.Context()
	var cal *Calendar
	err := s.read(ctx, func(tx Tx) error {
		var err error
		cal, err = calendarForRequest(ctx, tx, r, r.PathParam("calendarId"))
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"calendar": cal})
	return nil
}

// MaxSlotRange is the longest startDate–endDate range free slots are
// asked for: 31 days, as GHL documents (plus an hour, so a month whose
// clocks go back an hour still fits).
const MaxSlotRange = 31*24*time.Hour + time.Hour

// SlotDay is the free slots of one date in the free-slots answer.
type SlotDay struct {
	Slots []string `json:"slots"`
}

// SlotTimeLayout formats a free slot: local time with its UTC offset, as
// GHL answers ("2024-10-28T10:00:00-05:00").
const SlotTimeLayout = "2006-01-02T15:04:05-07:00"

// getFreeSlots serves GET /calendars/{calendarId}/free-slots?startDate&
// endDate&timezone&userId&userIds → {"YYYY-MM-DD": {slots: [...]}, …}:
// the slot start times between startDate and endDate (epoch milliseconds,
// both inclusive) that the calendar's hours, notice, booking window and
// capacity leave free, in the timezone asked for (the location's by
// default) and keyed by their date there. Dates without free slots are
// left out.
func (s *Server) getFreeSlots(w http.ResponseWriter, r *Request) error {
	var problems []string
	from, okFrom := epochMillisParam(r, "startDate", &problems)
	to, okTo := epochMillisParam(r, "endDate", &problems)
	var outZone *time.Location
	if name := strings.TrimSpace(r.Query("timezone")); name != "" {
		z, err := loadZone(name)
		if err != nil {
			problems = append(problems, "timezone must be a valid IANA time zone")
		}
		outZone = z
	}
	if len(problems) > 0 {
		return Invalid(problems...)
	}
	if okFrom && okTo {
		if to.Before(from) {
			return Errorf(EINVALID, "endDate must be greater than or equal to startDate")
		}
		if to.Sub(from) > MaxSlotRange {
			return Errorf(EINVALID, "Date range cannot be more than 31 days")
		}
	}
	users := append(r.QueryList("userId"), r.QueryList("userIds")...)

	ctx := r.Context()
	var cal *Calendar
	var zone *time.Location
	err := s.read(ctx, func(tx Tx) error {
		var err error
		if cal, err = calendarForRequest(ctx, tx, r, r.PathParam("calendarId")); err != nil {
			return err
		}
		zone, err = calendarZone(ctx, tx, cal)
		return err
	})
	if err != nil {
		return err
	}
	if outZone == nil {
		outZone = zone
	}
	// No appointments are stored yet, so nothing is Busy: the events API
	// will load the calendar's appointments and blocked slots here.
	slots := cal.FreeSlots(SlotQuery{From: from, To: to, Now: s.now(), Zone: zone, UserIDs: users})
	writeJSON(w, http.StatusOK, SlotsByDate(slots, outZone))
	return nil
}

// decimalNumber is a number written in decimal: an optional sign, digits
// with an optional fraction, an optional exponent. ParseFloat alone would
// also take "1_000", "0x1p4", "Inf" and "NaN".
var decimalNumber = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// epochMillisParam parses a required query parameter holding epoch
// milliseconds, adding GHL's validation message to problems when it is
// missing or not a decimal number.
func epochMillisParam(r *Request, name string, problems *[]string) (time.Time, bool) {
	v := strings.TrimSpace(r.Query(name))
	if v == "" {
		*problems = append(*problems, name+" should not be empty")
		return time.Time{}, false
	}
	var f float64
	var err error
	if !decimalNumber.MatchString(v) {
		err = strconv.ErrSyntax
	} else {
		f, err = strconv.ParseFloat(v, 64)
	}
	// ±8.64e15 ms is the range of a JavaScript Date.
	if err != nil || math.IsNaN(f) || math.Abs(f) > 8.64e15 {
		*problems = append(*problems, name+" must be a number conforming to the specified constraints")
		return time.Time{}, false
	}
	return time.UnixMilli(int64(f)).UTC(), true
}

// loadZone loads an IANA time zone by name ("Local" is not one).
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	return time.LoadLocation(name)
}

// calendarZone is the zone a calendar's hours apply in: its location's,
// UTC when the location names none (or one this machine doesn't know).
func calendarZone(ctx context.Context, tx Tx, c *Calendar) (*time.Location, error) {
	var loc Location
	if err := GetRecordAs(ctx, tx, KindLocation, c.LocationID, &loc); err != nil {
		if IsNotFound(err) {
			return time.UTC, nil
		}
		return nil, err
	}
	if z, err := loadZone(loc.Timezone); err == nil {
		return z, nil
	}
	return time.UTC, nil
}

// SlotsByDate groups slot start times by their date in zone, formatted as
// GHL answers them; the map encodes with the dates in order.
func SlotsByDate(slots []time.Time, zone *time.Location) map[string]SlotDay {
	out := map[string]SlotDay{}
	for _, t := range slots {
		t = t.In(zone)
		day := t.Format(time.DateOnly)
		d := out[day]
		d.Slots = append(d.Slots, t.Format(SlotTimeLayout))
		out[day] = d
	}
	return out
}

// calendarForRequest loads a calendar for the caller: unknown ids are 404,
// another location's calendar 403.
func calendarForRequest(ctx context.Context, tx Tx, r *Request, id string) (*Calendar, error) {
	c, err := GetCalendar(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := r.CheckLocation(c.LocationID); err != nil {
		return nil, err
	}
	return c, nil
}

// GetCalendar loads a calendar by id: ENOTFOUND "Calendar not found" when
// there is none. Callers check its LocationID against the caller.
func GetCalendar(ctx context.Context, tx Tx, id string) (*Calendar, error) {
	rec, err := tx.GetRecord(ctx, KindCalendar, id)
	if err != nil {
		if IsNotFound(err) {
			return nil, Errorf(ENOTFOUND, "Calendar not found")
		}
		return nil, err
	}
	return calendarOf(rec)
}

// ListCalendars returns a location's calendars, oldest first (never nil).
func ListCalendars(ctx context.Context, tx Tx, locationID string) ([]Calendar, error) {
	recs, err := tx.ListRecords(ctx, RecordQuery{Kind: KindCalendar, LocationID: locationID})
	if err != nil {
		return nil, err
	}
	out := make([]Calendar, 0, len(recs))
	for _, rec := range recs {
		c, err := calendarOf(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, nil
}

// calendarOf decodes a KindCalendar record into the API's view: the
// record's columns fill a missing id or location, and absent lists are
// empty rather than null.
func calendarOf(rec *Record) (*Calendar, error) {
	c := new(Calendar)
	if err := json.Unmarshal(rec.Data, c); err != nil {
		return nil, err
	}
	c.ID = firstNonEmpty(c.ID, rec.ID)
	c.LocationID = firstNonEmpty(c.LocationID, rec.LocationID)
	// The spec's defaults, so the view says what FreeSlots uses.
	if c.SlotDuration <= 0 {
		c.SlotDuration, c.SlotDurationUnit = 30, "mins"
	}
	if c.SlotInterval <= 0 {
		c.SlotInterval, c.SlotIntervalUnit = c.SlotDuration, c.SlotDurationUnit
	}
	c.SlotDurationUnit = firstNonEmpty(c.SlotDurationUnit, "mins")
	c.SlotIntervalUnit = firstNonEmpty(c.SlotIntervalUnit, "mins")
	c.AppoinmentPerSlot = max(c.AppoinmentPerSlot, 1)
	if c.TeamMembers == nil {
		c.TeamMembers = []CalendarTeamMember{}
	}
	for i := range c.TeamMembers {
		if c.TeamMembers[i].LocationConfigurations == nil {
			c.TeamMembers[i].LocationConfigurations = []CalendarMeetingLocation{}
		}
	}
	if c.LocationConfigurations == nil {
		c.LocationConfigurations = []CalendarMeetingLocation{}
	}
	if c.OpenHours == nil {
		c.OpenHours = []CalendarOpenHour{}
	}
	if c.Availabilities == nil {
		c.Availabilities = []CalendarAvailability{}
	}
	if c.Notifications == nil {
		c.Notifications = []CalendarNotification{}
	}
	return c, nil
}

// PutCalendar stores a calendar of a location (inserting or replacing it),
// for the admin API, the demo seed and tests. A replaced calendar keeps its
// creation time, and so its place in the oldest-first list.
func PutCalendar(ctx context.Context, tx Tx, companyID string, c *Calendar) error {
	return putCalendarAt(ctx, tx, companyID, c, time.Time{})
}

// putCalendarAt is PutCalendar with the creation time of a new calendar
// (zero: now).
func putCalendarAt(ctx context.Context, tx Tx, companyID string, c *Calendar, created time.Time) error {
	if c.ID == "" {
		c.ID = NewID()
	}
	rec := Record{Kind: KindCalendar, ID: c.ID, LocationID: c.LocationID, CompanyID: companyID, CreatedAt: created}
	if err := keepCreatedAt(ctx, tx, &rec); err != nil {
		return err
	}
	return PutRecordOf(ctx, tx, rec, c)
}

// keepCreatedAt gives rec the creation time of the record it replaces, if
// there is one.
func keepCreatedAt(ctx context.Context, tx Tx, rec *Record) error {
	old, err := tx.GetRecord(ctx, rec.Kind, rec.ID)
	switch {
	case IsNotFound(err):
		return nil
	case err != nil:
		return err
	}
	rec.CreatedAt = old.CreatedAt
	return nil
}

// SlotQuery asks a calendar for its free slots.
type SlotQuery struct {
	// From and To bound the slots' start times, both inclusive.
	From, To time.Time
	// Now is the current time: slots before it, within the minimum
	// scheduling notice (allowBookingAfter) or beyond the booking window
	// (allowBookingFor, counted in whole days from today) are not free.
	Now time.Time
	// Zone is where the calendar's hours apply (its location's zone); nil
	// means UTC.
	Zone *time.Location
	// UserIDs keeps the slots of these team members (none: any member).
	UserIDs []string
	// Busy are the times already taken: appointments and blocked slots.
	Busy []BusyTime
}

// BusyTime is a time a calendar, or one of its team members, is taken.
type BusyTime struct {
	Start, End time.Time
	// UserID is the team member taken; "" takes the whole calendar.
	UserID string
	// Blocked marks a blocked slot: it takes every seat and does not count
	// as an appointment of its day.
	Blocked bool
}

// FreeSlots returns the start times of the calendar's free slots for q,
// ascending. A slot of slotDuration starts every slotInterval from the
// opening of each of a date's hours and ends by its close. It is free
// when it starts within [From, To], after Now plus the minimum notice and
// inside the booking window, its date has not reached appoinmentPerDay,
// and a team member (every member, on a collective calendar) has fewer
// than appoinmentPerSlot appointments overlapping it, buffers included.
func (c *Calendar) FreeSlots(q SlotQuery) []time.Time {
	zone := q.Zone
	if zone == nil {
		zone = time.UTC
	}
	dur := unitDuration(c.SlotDuration, c.SlotDurationUnit, 30*time.Minute)
	step := unitDuration(c.SlotInterval, c.SlotIntervalUnit, dur)
	stepMin := max(int(step/time.Minute), 1)
	pre := unitDuration(c.PreBuffer, c.PreBufferUnit, 0)
	post := unitDuration(c.SlotBuffer, c.SlotBufferUnit, 0)

	lower := q.From
	if earliest := addUnits(q.Now, c.AllowBookingAfter, c.AllowBookingAfterUnit, "hours"); earliest.After(lower) {
		lower = earliest
	}
	upper := q.To
	if c.AllowBookingFor > 0 {
		// Exclusive: the first day beyond the window.
		end := addUnits(midnight(q.Now.In(zone)), c.AllowBookingFor, c.AllowBookingForUnit, "days")
		if !end.After(upper) {
			upper = end.Add(-time.Nanosecond)
		}
	}
	members := c.slotMembers(q.UserIDs)
	if upper.Before(lower) || len(members) == 0 {
		return nil
	}
	collective := c.CalendarType == CalendarCollective
	perSlot := max(c.AppoinmentPerSlot, 1)

	seen := map[int64]bool{}
	var out []time.Time
	for day := midnight(lower.In(zone)); !day.After(upper); day = day.AddDate(0, 0, 1) {
		y, m, d := day.Date()
		if c.AppoinmentPerDay > 0 && bookedOn(q.Busy, y, m, d, zone) >= c.AppoinmentPerDay {
			continue
		}
		for _, h := range c.hoursOn(day.Format(time.DateOnly), day.Weekday()) {
			open, close := h.minutes()
			closeAt := time.Date(y, m, d, 0, close, 0, 0, zone)
			for at := open; at < close; at += stepMin {
				start := time.Date(y, m, d, 0, at, 0, 0, zone)
				end := start.Add(dur)
				if end.After(closeAt) {
					break
				}
				if start.Before(lower) || start.After(upper) || seen[start.UnixMilli()] {
					continue
				}
				if !slotFree(start, end, pre, post, members, perSlot, collective, q.Busy) {
					continue
				}
				seen[start.UnixMilli()] = true
				out = append(out, start)
			}
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// slotMembers are the team members whose capacity counts: all of them, or
// those of userIDs; "" stands for a calendar without team members.
func (c *Calendar) slotMembers(userIDs []string) []string {
	if len(c.TeamMembers) == 0 {
		return []string{""}
	}
	out := []string{}
	for _, tm := range c.TeamMembers {
		if len(userIDs) == 0 || slices.Contains(userIDs, tm.UserID) {
			out = append(out, tm.UserID)
		}
	}
	return out
}

// hoursOn returns the open hours of a date (YYYY-MM-DD) in the calendar's
// zone, per AvailabilityType.
func (c *Calendar) hoursOn(date string, wd time.Weekday) []CalendarHour {
	var custom []CalendarHour
	hasCustom := false
	for _, a := range c.Availabilities {
		if !a.Deleted && strings.HasPrefix(a.Date, date) {
			hasCustom = true
			custom = append(custom, a.Hours...)
		}
	}
	if c.AvailabilityType != nil && *c.AvailabilityType == 1 || c.AvailabilityType == nil && hasCustom {
		return custom
	}
	var weekly []CalendarHour
	for _, oh := range c.OpenHours {
		if slices.Contains(oh.DaysOfTheWeek, int(wd)) {
			weekly = append(weekly, oh.Hours...)
		}
	}
	return weekly
}

// minutes returns the range as minutes from midnight, close > open unless
// the range is empty; a close at 00:00 is midnight at the end of the day.
func (h CalendarHour) minutes() (open, close int) {
	open = min(max(h.OpenHour*60+h.OpenMinute, 0), 24*60)
	close = min(max(h.CloseHour*60+h.CloseMinute, 0), 24*60)
	if close == 0 {
		close = 24 * 60
	}
	return open, close
}

// slotFree reports whether enough members can take [start, end).
func slotFree(start, end time.Time, pre, post time.Duration, members []string, perSlot int, collective bool, busy []BusyTime) bool {
	if len(busy) == 0 {
		return true
	}
	free := 0
	for _, m := range members {
		taken := 0
		for _, b := range busy {
			if m != "" && b.UserID != "" && b.UserID != m {
				continue
			}
			// The new appointment's buffers may not overlap the busy time,
			// nor the busy time's buffers the new appointment.
			if start.Add(-pre).Before(b.End) && b.Start.Before(end.Add(post)) ||
				start.Before(b.End.Add(post)) && b.Start.Add(-pre).Before(end) {
				if b.Blocked {
					taken = perSlot
					break
				}
				taken++
			}
		}
		if taken < perSlot {
			free++
		}
	}
	if collective {
		return free == len(members)
	}
	return free > 0
}

// bookedOn counts the appointments starting on a date in zone.
func bookedOn(busy []BusyTime, y int, m time.Month, d int, zone *time.Location) int {
	n := 0
	for _, b := range busy {
		if b.Blocked {
			continue
		}
		by, bm, bd := b.Start.In(zone).Date()
		if by == y && bm == m && bd == d {
			n++
		}
	}
	return n
}

// unitDuration converts a "mins"/"hours" setting; def when n is not positive.
func unitDuration(n int, unit string, def time.Duration) time.Duration {
	if n <= 0 {
		return def
	}
	if unit == "hours" {
		return time.Duration(n) * time.Hour
	}
	return time.Duration(n) * time.Minute
}

// addUnits adds n of a calendar setting's unit (mins, hours, days, weeks,
// months; def when unit is empty) to t, days and longer on the calendar of
// t's zone.
func addUnits(t time.Time, n int, unit, def string) time.Time {
	if n <= 0 {
		return t
	}
	if unit == "" {
		unit = def
	}
	switch unit {
	case "mins":
		return t.Add(time.Duration(n) * time.Minute)
	case "hours":
		return t.Add(time.Duration(n) * time.Hour)
	case "weeks":
		return t.AddDate(0, 0, 7*n)
	case "months":
		return t.AddDate(0, n, 0)
	default: // days
		return t.AddDate(0, 0, n)
	}
}

// midnight is the start of t's date in t's zone.
func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}
