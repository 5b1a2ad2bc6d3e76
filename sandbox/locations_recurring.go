package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Record kinds of the recurring tasks and the custom-field file uploads.
const (
	// KindRecurringTask holds a recurringTaskDoc; LocationID set.
	KindRecurringTask Kind = "recurringTask"
	// KindCustomFieldFile holds an uploadedFile; LocationID set, ParentID
	// the id the upload named (a custom field, contact or opportunity id).
	KindCustomFieldFile Kind = "customFieldFile"
)

// registerLocationsRecurring wires the recurring-task operations and the
// custom-field file upload of apps/locations.json, and the URL the uploaded
// files are served at.
func (s *Server) registerLocationsRecurring() {
	s.handle("locations", "create-recurring-task", s.createRecurringTask)
	s.handle("locations", "get-recurring-task-by-id", s.getRecurringTask)
	s.handle("locations", "update-recurring-task", s.updateRecurringTask)
	s.handle("locations", "delete-recurring-task", s.deleteRecurringTask)
	s.handle("locations", "upload-file-customFields", s.uploadCustomFieldFiles)
	s.mux.Handle("GET /_ghlkit/files/{fileId}/{name}", s.adminJSON(s.serveUploadedFile))
}

// ---- recurring tasks ----

// RRuleOptions is CustomRRulesOptions: the recurrence of a recurring task.
type RRuleOptions struct {
	IntervalType        string `json:"intervalType"`
	Interval            int    `json:"interval"`
	StartDate           Time   `json:"startDate"`
	EndDate             Time   `json:"endDate,omitzero"`
	DayOfMonth          int    `json:"dayOfMonth,omitempty"`
	DayOfWeek           string `json:"dayOfWeek,omitempty"`
	MonthOfYear         int    `json:"monthOfYear,omitempty"`
	Count               int    `json:"count,omitempty"`
	CreateTaskIfOverDue bool   `json:"createTaskIfOverDue"`
	DueAfterSeconds     int    `json:"dueAfterSeconds"`
}

// RecurringTask is RecurringTaskResponseDTO. ContactID and AssignedTo are
// the first of the contactIds and owners the task was given.
type RecurringTask struct {
	ID              string       `json:"id"`
	Title           string       `json:"title"`
	Description     string       `json:"description"`
	LocationID      string       `json:"locationId"`
	UpdatedAt       Time         `json:"updatedAt"`
	CreatedAt       Time         `json:"createdAt"`
	RRuleOptions    RRuleOptions `json:"rruleOptions"`
	TotalOccurrence int          `json:"totalOccurrence"`
	Deleted         bool         `json:"deleted"`
	AssignedTo      string       `json:"assignedTo,omitempty"`
	ContactID       string       `json:"contactId,omitempty"`
}

// recurringTaskDoc is the stored document: the answer plus the full lists
// the task was given.
type recurringTaskDoc struct {
	RecurringTask
	ContactIDs []string `json:"contactIds"`
	Owners     []string `json:"owners"`
}

// recurringTaskMaxList bounds contactIds and owners.
const recurringTaskMaxList = 100

// rruleIntervalTypes and rruleDays are CustomRRulesOptions' enums.
var (
	rruleIntervalTypes = []string{"yearly", "monthly", "weekly", "daily", "hourly"}
	rruleDays          = []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"}
)

// rruleInput is CustomRRulesOptions as received; pointers tell absent from
// zero, and numbers are float64 so a fraction is reported, not truncated.
type rruleInput struct {
	IntervalType        *string  `json:"intervalType"`
	Interval            *float64 `json:"interval"`
	StartDate           *string  `json:"startDate"`
	EndDate             *string  `json:"endDate"`
	DayOfMonth          *float64 `json:"dayOfMonth"`
	DayOfWeek           *string  `json:"dayOfWeek"`
	MonthOfYear         *float64 `json:"monthOfYear"`
	Count               *float64 `json:"count"`
	CreateTaskIfOverDue *bool    `json:"createTaskIfOverDue"`
	DueAfterSeconds     *float64 `json:"dueAfterSeconds"`
}

// recurringTaskBody is RecurringTaskCreateDTO and RecurringTaskUpdateDTO.
// The lists are raw so their element types are reported per element.
type recurringTaskBody struct {
	Title              *string         `json:"title"`
	Description        *string         `json:"description"`
	ContactIDs         json.RawMessage `json:"contactIds"`
	Owners             json.RawMessage `json:"owners"`
	RRuleOptions       *rruleInput     `json:"rruleOptions"`
	IgnoreTaskCreation *bool           `json:"ignoreTaskCreation"`
}

// parsedRecurringTask is a validated body: nil fields were absent, and
// contactIDs and owners are nil unless given.
type parsedRecurringTask struct {
	title, description *string
	contactIDs, owners []string
	hasContacts        bool
	hasOwners          bool
	rrule              *RRuleOptions
	ignoreTaskCreation bool
}

// decodeRecurringTask decodes and validates the body of a create or, with
// creating false, an update.
func decodeRecurringTask(r *Request, creating bool) (*parsedRecurringTask, error) {
	var body recurringTaskBody
	if err := r.Decode(&body); err != nil {
		return nil, err
	}
	return body.parse(creating)
}

// checkReferences loads the task's location and checks the contacts and
// owners given (checkTaskReferences).
func (in *parsedRecurringTask) checkReferences(ctx context.Context, tx Tx, locID string) (*Location, error) {
	loc, _, err := loadLocation(ctx, tx, locID)
	if err != nil {
		return nil, err
	}
	if err := checkTaskReferences(ctx, tx, loc, in.contactIDs, in.owners); err != nil {
		return nil, err
	}
	return loc, nil
}

// parse validates the body; creating requires title and rruleOptions.
func (b *recurringTaskBody) parse(creating bool) (*parsedRecurringTask, error) {
	var msgs []string
	out := &parsedRecurringTask{description: b.Description, ignoreTaskCreation: b.IgnoreTaskCreation != nil && *b.IgnoreTaskCreation}
	if b.Title != nil {
		t := strings.TrimSpace(*b.Title)
		if t == "" {
			msgs = append(msgs, "title should not be empty")
		}
		out.title = &t
	} else if creating {
		msgs = append(msgs, "title should not be empty")
	}
	var m []string
	out.contactIDs, out.hasContacts, m = idList(b.ContactIDs, "contactIds")
	msgs = append(msgs, m...)
	out.owners, out.hasOwners, m = idList(b.Owners, "owners")
	msgs = append(msgs, m...)
	if b.RRuleOptions != nil {
		out.rrule, m = b.RRuleOptions.parse()
		msgs = append(msgs, m...)
	} else if creating {
		msgs = append(msgs, "rruleOptions should not be empty")
	}
	if len(msgs) > 0 {
		return nil, Invalid(msgs...)
	}
	return out, nil
}

// idList reads an optional array of ids: null or absent is not given.
func idList(raw json.RawMessage, field string) ([]string, bool, []string) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, nil
	}
	var items []any
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, true, []string{field + " must be an array"}
	}
	if len(items) > recurringTaskMaxList {
		return nil, true, []string{fmt.Sprintf("%s must contain no more than %d elements", field, recurringTaskMaxList)}
	}
	var msgs []string
	ids := []string{}
	for i, it := range items {
		s, ok := it.(string)
		switch {
		case !ok:
			msgs = append(msgs, fmt.Sprintf("each value in %s must be a string (%s[%d])", field, field, i))
		case strings.TrimSpace(s) == "":
			msgs = append(msgs, fmt.Sprintf("%s[%d] should not be empty", field, i))
		default:
			ids = append(ids, strings.TrimSpace(s))
		}
	}
	return ids, true, msgs
}

// maxRRuleNumber bounds the numbers of a rule: an int32 is more than any
// real rule needs and keeps the date arithmetic far from overflow.
const maxRRuleNumber = math.MaxInt32

// parse validates CustomRRulesOptions: intervalType, interval, startDate and
// dueAfterSeconds are required; the rest must be in range when given.
func (in *rruleInput) parse() (*RRuleOptions, []string) {
	var msgs []string
	out := &RRuleOptions{}
	const p = "rruleOptions."
	integer := func(name string, v *float64, min, max int, required bool) int {
		switch {
		case v == nil:
			if required {
				msgs = append(msgs, p+name+" should not be empty")
			}
			return 0
		case *v != math.Trunc(*v):
			msgs = append(msgs, p+name+" must be an integer number")
		case *v < float64(min):
			msgs = append(msgs, fmt.Sprintf("%s%s must not be less than %d", p, name, min))
		case *v > float64(max):
			msgs = append(msgs, fmt.Sprintf("%s%s must not be greater than %d", p, name, max))
		default:
			return int(*v)
		}
		return 0
	}
	date := func(name string, v *string, required bool) Time {
		if v == nil || strings.TrimSpace(*v) == "" {
			if required {
				msgs = append(msgs, p+name+" should not be empty")
			}
			return Time{}
		}
		t, err := ParseTime(strings.TrimSpace(*v))
		if err != nil || t.Year() < 1 || t.Year() > 9999 {
			msgs = append(msgs, p+name+" must be a valid ISO 8601 date string")
			return Time{}
		}
		return stampOf(t)
	}
	switch {
	case in.IntervalType == nil:
		msgs = append(msgs, p+"intervalType should not be empty")
	case !oneOf(*in.IntervalType, rruleIntervalTypes):
		msgs = append(msgs, p+"intervalType must be one of the following values: "+strings.Join(rruleIntervalTypes, ", "))
	default:
		out.IntervalType = *in.IntervalType
	}
	out.Interval = integer("interval", in.Interval, 1, maxRRuleNumber, true)
	out.StartDate = date("startDate", in.StartDate, true)
	out.EndDate = date("endDate", in.EndDate, false)
	if !out.StartDate.IsZero() && !out.EndDate.IsZero() && out.EndDate.Before(out.StartDate.Time) {
		msgs = append(msgs, p+"endDate must not be before rruleOptions.startDate")
	}
	out.DayOfMonth = integer("dayOfMonth", in.DayOfMonth, 1, 31, false)
	if in.DayOfWeek != nil {
		if oneOf(*in.DayOfWeek, rruleDays) {
			out.DayOfWeek = *in.DayOfWeek
		} else {
			msgs = append(msgs, p+"dayOfWeek must be one of the following values: "+strings.Join(rruleDays, ", "))
		}
	}
	out.MonthOfYear = integer("monthOfYear", in.MonthOfYear, 1, 12, false)
	out.Count = integer("count", in.Count, 1, maxRRuleNumber, false)
	if in.CreateTaskIfOverDue != nil {
		out.CreateTaskIfOverDue = *in.CreateTaskIfOverDue
	}
	out.DueAfterSeconds = integer("dueAfterSeconds", in.DueAfterSeconds, 0, maxRRuleNumber, true)
	return out, msgs
}

// firstOccurrence returns the first time at or after the start date that
// the rule selects, read as an RFC 5545 RRULE in UTC (FREQ=intervalType,
// INTERVAL, BYMONTH=monthOfYear, BYMONTHDAY=dayOfMonth, BYDAY=dayOfWeek,
// UNTIL=endDate, week start Monday), and false when it selects none (a 31st
// in a month that has none, an endDate before the first match) within the
// range searched.
func (o *RRuleOptions) firstOccurrence() (time.Time, bool) {
	start := o.StartDate.UTC()
	interval := max(o.Interval, 1)
	matches := func(t time.Time) bool {
		return (o.MonthOfYear == 0 || int(t.Month()) == o.MonthOfYear) &&
			(o.DayOfMonth == 0 || t.Day() == o.DayOfMonth) &&
			(o.DayOfWeek == "" || rruleDays[(int(t.Weekday())+6)%7] == o.DayOfWeek)
	}
	within := func(t time.Time) (time.Time, bool) {
		if !o.EndDate.IsZero() && t.After(o.EndDate.Time) {
			return time.Time{}, false
		}
		return t, true
	}
	if o.IntervalType == "hourly" {
		// Every interval-th hour from the start; the day parts filter. The
		// step is added in seconds: interval hours (at most MaxInt32) can be
		// more than a time.Duration holds, and a step of centuries still
		// lands before year 10000 when the start is early enough.
		step := int64(interval) * 3600
		for k, t := 0, start; k < 100_000 && t.Year() <= 9999; k, t = k+1, time.Unix(t.Unix()+step, int64(t.Nanosecond())).UTC() {
			if !o.EndDate.IsZero() && t.After(o.EndDate.Time) {
				break
			}
			if matches(t) {
				return t, true
			}
		}
		return time.Time{}, false
	}
	// RFC 5545's defaults: a rule without a day part repeats on the start
	// date's weekday (weekly), day of month (monthly) or date (yearly).
	defaults := func(t time.Time) bool {
		switch o.IntervalType {
		case "weekly":
			return o.DayOfWeek != "" || t.Weekday() == start.Weekday()
		case "monthly":
			return o.DayOfMonth != 0 || o.DayOfWeek != "" || t.Day() == start.Day()
		case "yearly":
			if o.DayOfMonth != 0 || o.DayOfWeek != "" {
				return true
			}
			return t.Day() == start.Day() && (o.MonthOfYear != 0 || t.Month() == start.Month())
		}
		return true
	}
	day0 := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
	clock := start.Sub(day0)
	// Each period (day, week, month or year, every interval-th one) is
	// scanned day by day; 20,000 days cover every rule that fires at all
	// within half a century.
	// The offset of the last period that can start before year 10000.
	maxOffset := map[string]int{"daily": 3_700_000, "weekly": 530_000, "monthly": 120_000, "yearly": 10_000}[o.IntervalType]
	scanned := 0
	for k := 0; scanned < 20_000 && k*interval <= maxOffset; k++ {
		var first, end time.Time
		switch o.IntervalType {
		case "daily":
			first = day0.AddDate(0, 0, k*interval)
			end = first.AddDate(0, 0, 1)
		case "weekly":
			monday := day0.AddDate(0, 0, -((int(day0.Weekday()) + 6) % 7))
			first = monday.AddDate(0, 0, 7*k*interval)
			end = first.AddDate(0, 0, 7)
		case "monthly":
			first = time.Date(start.Year(), start.Month()+time.Month(k*interval), 1, 0, 0, 0, 0, time.UTC)
			end = first.AddDate(0, 1, 0)
		default: // yearly
			first = time.Date(start.Year()+k*interval, 1, 1, 0, 0, 0, 0, time.UTC)
			end = first.AddDate(1, 0, 0)
		}
		if first.Year() > 9999 || (!o.EndDate.IsZero() && first.After(o.EndDate.Time)) {
			return time.Time{}, false
		}
		for d := first; d.Before(end); d = d.AddDate(0, 0, 1) {
			scanned++
			t := d.Add(clock)
			if t.Before(start) || !matches(t) || !defaults(t) {
				continue
			}
			return within(t)
		}
	}
	return time.Time{}, false
}

// loadRecurringTask reads the recurring task of the path: another
// location's task is a 404 under this location's path, as an unknown id is
// (nothing tells it exists elsewhere), and the token must have access to
// the task's location.
func loadRecurringTask(r *Request, tx Tx) (*recurringTaskDoc, *Record, error) {
	rec, err := tx.GetRecord(r.Context(), KindRecurringTask, r.PathParam("id"))
	if err != nil && !IsNotFound(err) {
		return nil, nil, err
	}
	if err != nil || rec.LocationID != r.PathParam("locationId") {
		return nil, nil, Errorf(ENOTFOUND, "Recurring task not found")
	}
	if err := r.CheckLocation(rec.LocationID); err != nil {
		return nil, nil, err
	}
	doc := new(recurringTaskDoc)
	if err := json.Unmarshal(rec.Data, doc); err != nil {
		return nil, nil, err
	}
	return doc, rec, nil
}

// checkTaskReferences answers 422 naming the entry for a contact that is
// not one of the location's, or an owner who is not a live user with access
// to the location.
func checkTaskReferences(ctx context.Context, tx Tx, loc *Location, contactIDs, owners []string) error {
	var msgs []string
	for i, id := range contactIDs {
		c, err := tx.GetContact(ctx, id)
		if err != nil && !IsNotFound(err) {
			return err
		}
		if err != nil || c.LocationID != loc.ID {
			msgs = append(msgs, fmt.Sprintf("contactIds[%d] %q is not a contact of this location", i, id))
		}
	}
	for i, id := range owners {
		var u User
		err := GetRecordAs(ctx, tx, KindUser, id, &u)
		if err != nil && !IsNotFound(err) {
			return err
		}
		if err != nil || u.Deleted || u.CompanyID != loc.CompanyID || !oneOf(loc.ID, u.Roles.LocationIDs) {
			msgs = append(msgs, fmt.Sprintf("owners[%d] %q is not a user of this location", i, id))
		}
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	return nil
}

// createRecurringTask serves POST /locations/{locationId}/recurring-tasks →
// 201 {recurringTask}. Unless ignoreTaskCreation is true, the rule's first
// occurrence at or after startDate becomes a task on each of contactIds
// (assigned to the first owner, due dueAfterSeconds later, TaskCreate
// emitted) and totalOccurrence is 1. A first task that would already be
// overdue is created only with createTaskIfOverDue. Later occurrences are
// not generated: the sandbox has no scheduler.
func (s *Server) createRecurringTask(w http.ResponseWriter, r *Request) error {
	in, err := decodeRecurringTask(r, true)
	if err != nil {
		return err
	}
	ctx := r.Context()
	locID := r.PathParam("locationId")
	now := stampOf(s.now())
	doc := &recurringTaskDoc{
		RecurringTask: RecurringTask{ID: NewID(), Title: *in.title, LocationID: locID, CreatedAt: now, UpdatedAt: now, RRuleOptions: *in.rrule},
		ContactIDs:    uniqueTrimmed(in.contactIDs), Owners: uniqueTrimmed(in.owners),
	}
	if in.description != nil {
		doc.Description = *in.description
	}
	doc.syncFirsts()
	err = s.write(ctx, func(tx Tx) error {
		loc, err := in.checkReferences(ctx, tx, locID)
		if err != nil {
			return err
		}
		if !in.ignoreTaskCreation {
			if err := s.createFirstOccurrence(ctx, tx, loc, doc, now); err != nil {
				return err
			}
		}
		return PutRecordOf(ctx, tx, Record{Kind: KindRecurringTask, ID: doc.ID, LocationID: locID, CompanyID: loc.CompanyID, CreatedAt: now.Time, UpdatedAt: now.Time}, doc)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"recurringTask": doc.RecurringTask})
	return nil
}

// syncFirsts sets the answer's contactId and assignedTo from the lists.
func (d *recurringTaskDoc) syncFirsts() {
	d.ContactID, d.AssignedTo = "", ""
	if len(d.ContactIDs) > 0 {
		d.ContactID = d.ContactIDs[0]
	}
	if len(d.Owners) > 0 {
		d.AssignedTo = d.Owners[0]
	}
}

// createFirstOccurrence creates the task of the rule's first occurrence on
// each contact of the recurring task.
func (s *Server) createFirstOccurrence(ctx context.Context, tx Tx, loc *Location, doc *recurringTaskDoc, now Time) error {
	if len(doc.ContactIDs) == 0 {
		return nil
	}
	at, ok := doc.RRuleOptions.firstOccurrence()
	if !ok {
		return nil
	}
	due := at.Add(time.Duration(doc.RRuleOptions.DueAfterSeconds) * time.Second)
	if due.Year() > 9999 || (due.Before(now.Time) && !doc.RRuleOptions.CreateTaskIfOverDue) {
		return nil
	}
	for _, cid := range doc.ContactIDs {
		task := &ContactTask{ID: NewID(), Title: doc.Title, Body: doc.Description, AssignedTo: doc.AssignedTo,
			DueDate: stampOf(due), ContactID: cid, DateAdded: now, DateUpdated: now}
		if err := s.putContactTask(ctx, tx, loc.ID, loc.CompanyID, task); err != nil {
			return err
		}
	}
	doc.TotalOccurrence++
	return nil
}

// putContactTask stores a new task of a contact (task.ContactID) of the
// location, created at task.DateAdded, and emits TaskCreate: what the task
// API's create and a recurring task's occurrence both do.
func (s *Server) putContactTask(ctx context.Context, tx Tx, locationID, companyID string, task *ContactTask) error {
	rec := Record{Kind: KindTask, ID: task.ID, LocationID: locationID, CompanyID: companyID, ParentID: task.ContactID,
		CreatedAt: task.DateAdded.Time, UpdatedAt: task.DateUpdated.Time}
	if err := PutRecordOf(ctx, tx, rec, task); err != nil {
		return err
	}
	return s.Emit(ctx, tx, "TaskCreate", locationID, companyID, task)
}

// getRecurringTask serves GET /locations/{locationId}/recurring-tasks/{id}
// → {recurringTask}.
func (s *Server) getRecurringTask(w http.ResponseWriter, r *Request) error {
	var doc *recurringTaskDoc
	err := s.read(r.Context(), func(tx Tx) error {
		var err error
		doc, _, err = loadRecurringTask(r, tx)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recurringTask": doc.RecurringTask})
	return nil
}

// updateRecurringTask serves PUT /locations/{locationId}/recurring-tasks/{id}
// → {recurringTask}. Only the fields given change; rruleOptions, when given,
// is a whole rule and replaces the old one. Tasks already created stay as
// they are, and an update creates none.
func (s *Server) updateRecurringTask(w http.ResponseWriter, r *Request) error {
	in, err := decodeRecurringTask(r, false)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var doc *recurringTaskDoc
	err = s.write(ctx, func(tx Tx) error {
		var rec *Record
		var err error
		doc, rec, err = loadRecurringTask(r, tx)
		if err != nil {
			return err
		}
		if _, err := in.checkReferences(ctx, tx, rec.LocationID); err != nil {
			return err
		}
		if in.title != nil {
			doc.Title = *in.title
		}
		if in.description != nil {
			doc.Description = *in.description
		}
		if in.hasContacts {
			doc.ContactIDs = uniqueTrimmed(in.contactIDs)
		}
		if in.hasOwners {
			doc.Owners = uniqueTrimmed(in.owners)
		}
		if in.rrule != nil {
			doc.RRuleOptions = *in.rrule
		}
		doc.syncFirsts()
		doc.UpdatedAt = stampOf(s.now())
		return replaceRecordOf(ctx, tx, rec, doc)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recurringTask": doc.RecurringTask})
	return nil
}

// deleteRecurringTask serves DELETE
// /locations/{locationId}/recurring-tasks/{id} → {id, success}. The tasks
// it created stay.
func (s *Server) deleteRecurringTask(w http.ResponseWriter, r *Request) error {
	var id string
	err := s.write(r.Context(), func(tx Tx) error {
		doc, _, err := loadRecurringTask(r, tx)
		if err != nil {
			return err
		}
		id = doc.ID
		return tx.DeleteRecord(r.Context(), KindRecurringTask, doc.ID)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "success": true})
	return nil
}

// ---- custom field file upload ----

// uploadMaxFiles bounds the files of one upload (the body itself is at most
// MaxBodyBytes).
const uploadMaxFiles = 50

// uploadedFile is a stored upload; Content is the file itself.
type uploadedFile struct {
	ID           string `json:"id"`
	LocationID   string `json:"locationId"`
	ObjectID     string `json:"objectId,omitempty"`
	FieldName    string `json:"fieldname"`
	OriginalName string `json:"originalname"`
	Encoding     string `json:"encoding"`
	MimeType     string `json:"mimetype"`
	Size         int    `json:"size"`
	URL          string `json:"url"`
	Content      []byte `json:"content"`
	DateAdded    Time   `json:"dateAdded"`
}

// uploadMeta is one entry of FileUploadResponseDto.meta (multer's file
// description plus the url).
type uploadMeta struct {
	FieldName    string `json:"fieldname"`
	OriginalName string `json:"originalname"`
	Encoding     string `json:"encoding"`
	MimeType     string `json:"mimetype"`
	Size         int    `json:"size"`
	URL          string `json:"url"`
}

// uploadForm is a parsed FileUploadBody.
type uploadForm struct {
	id, maxFiles string
	files        []*uploadedFile
}

// parseUploadForm reads the multipart body: the id and maxFiles fields and
// every part with a filename. Anything that is not a well-formed
// multipart/form-data body is a 400.
func parseUploadForm(r *Request) (*uploadForm, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, Errorf(EINVALID, "Content-Type must be multipart/form-data")
	}
	if params["boundary"] == "" {
		return nil, Errorf(EINVALID, "multipart/form-data boundary is missing")
	}
	form := &uploadForm{}
	mr := multipart.NewReader(bytes.NewReader(r.RawBody), params["boundary"])
	seenID, seenMax := false, false
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if err == io.EOF { // only the final boundary; a wrapped EOF is a truncated body
			break
		}
		if err != nil {
			return nil, Errorf(EINVALID, "malformed multipart body: %v", err)
		}
		if parts >= 2*uploadMaxFiles {
			return nil, Errorf(EINVALID, "Too many parts: at most %d files may be uploaded at once", uploadMaxFiles)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, Errorf(EINVALID, "malformed multipart body: %v", err)
		}
		name := p.FormName()
		if name == "" {
			return nil, Errorf(EINVALID, "malformed multipart body: a part has no form-data name")
		}
		if p.FileName() == "" {
			switch {
			case name == "id" && !seenID:
				form.id, seenID = strings.TrimSpace(string(data)), true
			case name == "maxFiles" && !seenMax:
				form.maxFiles, seenMax = strings.TrimSpace(string(data)), true
			}
			continue
		}
		ct := p.Header.Get("Content-Type")
		if _, _, err := mime.ParseMediaType(ct); err != nil {
			ct = "application/octet-stream"
		}
		enc := p.Header.Get("Content-Transfer-Encoding")
		if enc == "" {
			enc = "7bit"
		}
		form.files = append(form.files, &uploadedFile{FieldName: name, OriginalName: p.FileName(), Encoding: enc, MimeType: ct, Size: len(data), Content: data})
	}
	return form, nil
}

// uploadFieldRules checks the files against a FILE_UPLOAD custom field of
// the location the upload names: its accepted formats and file limit.
func uploadFieldRules(f *CustomField, files []*uploadedFile) error {
	if f.DataType != "FILE_UPLOAD" {
		return Invalid(fmt.Sprintf("id must be a FILE_UPLOAD custom field; %q is %s", f.Name, f.DataType))
	}
	var msgs []string
	if f.MaxFileLimit > 0 && len(files) > f.MaxFileLimit {
		msgs = append(msgs, fmt.Sprintf("custom field %q takes at most %d files; %d were sent", f.Name, f.MaxFileLimit, len(files)))
	}
	var formats []string
	for _, x := range strings.Split(strings.ToLower(f.AcceptedFormats), ",") {
		if x = strings.TrimSpace(x); x != "" {
			formats = append(formats, x)
		}
	}
	if len(formats) > 0 && !oneOf("all", formats) {
		for _, file := range files {
			ext := strings.ToLower(path.Ext(file.OriginalName))
			if !oneOf(ext, formats) {
				msgs = append(msgs, fmt.Sprintf("%s: %q is not an accepted format of custom field %q (%s)", file.FieldName, file.OriginalName, f.Name, strings.Join(formats, ", ")))
			}
		}
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	return nil
}

// uploadCustomFieldFiles serves POST /locations/{locationId}/customFields/upload
// (multipart/form-data: id, maxFiles, and the files, each under its own
// field name) → {uploadedFiles: {fieldname: url}, meta: [{fieldname,
// originalname, encoding, mimetype, size, url}]}. The files are stored with
// the location; each url serves its file at
// <BaseURL>/_ghlkit/files/<fileId>/<name>, publicly as GHL's storage URLs
// (the ids are random). When id names a custom field of the location, it must be a
// FILE_UPLOAD field, and its accepted formats and file limit apply.
func (s *Server) uploadCustomFieldFiles(w http.ResponseWriter, r *Request) error {
	form, err := parseUploadForm(r)
	if err != nil {
		return err
	}
	var msgs []string
	limit := uploadMaxFiles
	if form.maxFiles != "" {
		// Any maxFiles above uploadMaxFiles means uploadMaxFiles, also one
		// too large for an int.
		n, err := strconv.Atoi(form.maxFiles)
		if errors.Is(err, strconv.ErrRange) && n > 0 {
			n, err = uploadMaxFiles, nil
		}
		if err != nil || n < 1 {
			msgs = append(msgs, "maxFiles must be a number string not less than 1")
		} else {
			limit = min(n, uploadMaxFiles)
		}
	}
	switch {
	case len(form.files) == 0:
		msgs = append(msgs, "at least one file must be uploaded")
	case len(form.files) > limit:
		msgs = append(msgs, fmt.Sprintf("maxFiles: %d files were sent, at most %d may be", len(form.files), limit))
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	ctx := r.Context()
	locID := r.PathParam("locationId")
	now := stampOf(s.now())
	err = s.write(ctx, func(tx Tx) error {
		loc, _, err := loadLocation(ctx, tx, locID)
		if err != nil {
			return err
		}
		if form.id != "" {
			rec, err := tx.GetRecord(ctx, KindCustomField, form.id)
			if err != nil && !IsNotFound(err) {
				return err
			}
			if err == nil && rec.LocationID == locID {
				var f CustomField
				if err := json.Unmarshal(rec.Data, &f); err != nil {
					return err
				}
				if err := uploadFieldRules(&f, form.files); err != nil {
					return err
				}
			}
		}
		for _, f := range form.files {
			f.ID, f.LocationID, f.ObjectID, f.DateAdded = NewSecretID(), locID, form.id, now
			f.URL = s.cfg.BaseURL + "/_ghlkit/files/" + f.ID + "/" + url.PathEscape(urlFileName(f.OriginalName))
			rec := Record{Kind: KindCustomFieldFile, ID: f.ID, LocationID: locID, CompanyID: loc.CompanyID, ParentID: form.id, CreatedAt: now.Time, UpdatedAt: now.Time}
			if err := PutRecordOf(ctx, tx, rec, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	uploaded := map[string]string{}
	meta := make([]uploadMeta, 0, len(form.files))
	for _, f := range form.files {
		uploaded[f.FieldName] = f.URL
		meta = append(meta, uploadMeta{FieldName: f.FieldName, OriginalName: f.OriginalName, Encoding: f.Encoding, MimeType: f.MimeType, Size: f.Size, URL: f.URL})
	}
	writeJSON(w, http.StatusOK, map[string]any{"uploadedFiles": uploaded, "meta": meta})
	return nil
}

// urlFileName is the last segment of a file's url: its name, unless that
// would be a dot segment a URL path cannot hold.
func urlFileName(name string) string {
	if name == "" || name == "." || name == ".." {
		return "file"
	}
	return name
}

// serveUploadedFile serves GET /_ghlkit/files/{fileId}/{name}: an uploaded
// file, as a download (never rendered inline on the sandbox's origin). The
// name must be the one of the url the upload answered.
func (s *Server) serveUploadedFile(w http.ResponseWriter, r *http.Request) error {
	var f uploadedFile
	err := s.read(r.Context(), func(tx Tx) error {
		return GetRecordAs(r.Context(), tx, KindCustomFieldFile, r.PathValue("fileId"), &f)
	})
	if IsNotFound(err) || err == nil && r.PathValue("name") != urlFileName(f.OriginalName) {
		return Errorf(ENOTFOUND, "File not found")
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", f.MimeType)
	h.Set("Content-Length", strconv.Itoa(len(f.Content)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.OriginalName}))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(f.Content)
	}
	return nil
}
