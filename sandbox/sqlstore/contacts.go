package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ghlkit/ghlkit/sandbox"
)

// contactColumn maps a sandbox.ContactFields entry to its column.
type contactColumn struct {
	name  string // column of the contacts table
	typ   sandbox.ContactFieldType
	exact bool // stored as given (ids, E.164 phone), not lower-cased
}

// contactColumns has an entry for every sandbox.ContactFields field except
// tags (which live in contact_tags); a test keeps the two in step.
var contactColumns = map[string]contactColumn{
	"id":           {name: "id", typ: sandbox.FieldText, exact: true},
	"email":        {name: "email", typ: sandbox.FieldText},
	"phone":        {name: "phone", typ: sandbox.FieldText, exact: true},
	"firstName":    {name: "first_name", typ: sandbox.FieldText},
	"lastName":     {name: "last_name", typ: sandbox.FieldText},
	"name":         {name: "name", typ: sandbox.FieldText},
	"companyName":  {name: "company_name", typ: sandbox.FieldText},
	"source":       {name: "source", typ: sandbox.FieldText},
	"type":         {name: "contact_type", typ: sandbox.FieldText},
	"assignedTo":   {name: "assigned_to", typ: sandbox.FieldText},
	"address1":     {name: "address1", typ: sandbox.FieldText},
	"city":         {name: "city", typ: sandbox.FieldText},
	"state":        {name: "state", typ: sandbox.FieldText},
	"country":      {name: "country", typ: sandbox.FieldText},
	"postalCode":   {name: "postal_code", typ: sandbox.FieldText},
	"website":      {name: "website", typ: sandbox.FieldText},
	"businessId":   {name: "business_id", typ: sandbox.FieldText},
	"timezone":     {name: "timezone", typ: sandbox.FieldText},
	"dateOfBirth":  {name: "date_of_birth", typ: sandbox.FieldText},
	"dnd":          {name: "dnd", typ: sandbox.FieldBool},
	"dateAdded":    {name: "date_added", typ: sandbox.FieldDate},
	"dateUpdated":  {name: "date_updated", typ: sandbox.FieldDate},
	"lastActivity": {name: "last_activity", typ: sandbox.FieldDate},
}

// contactInsertColumns lists the contacts columns in the order contactArgs
// returns their values.
const contactInsertColumns = `id, location_id, email, phone, first_name, last_name, name, company_name,
	source, contact_type, assigned_to, address1, city, state, country, postal_code, website,
	business_id, timezone, date_of_birth, dnd, date_added, date_updated, last_activity,
	search_text, data`

const contactPlaceholders = `?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?`

// maxIndexedText bounds the bytes of an indexed text value: Postgres refuses
// b-tree entries over about 2.7 kB. Longer values are indexed (and compared
// for equality) by their first maxIndexedText bytes.
const maxIndexedText = 1024

// clean makes s storable as TEXT on every dialect: valid UTF-8, without NUL
// (Postgres refuses both).
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

// truncate cuts s to at most maxIndexedText bytes on a rune boundary.
func truncate(s string) string {
	if len(s) <= maxIndexedText {
		return s
	}
	i := maxIndexedText
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// fold is the stored form of a case-insensitive text value, and of the
// values compared with it.
func fold(s string) string { return truncate(strings.ToLower(clean(s))) }

// exactText is the stored form of an exact text value (ids, phone).
func exactText(s string) string { return truncate(clean(s)) }

// dateMillis is the stored form of a contact date: epoch milliseconds, 0
// when unset.
func dateMillis(t sandbox.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// searchText is what ContactQuery.Query matches: names, email, phone and
// company name, lower-cased, one per line.
func searchText(c *sandbox.Contact) string {
	full := strings.TrimSpace(c.FirstName + " " + c.LastName)
	parts := []string{c.Name, full, c.Email, c.Phone, c.CompanyName}
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p)
	}
	return strings.ToLower(clean(b.String()))
}

// contactArgs returns the values of contactInsertColumns for c.
func contactArgs(c *sandbox.Contact) ([]any, error) {
	doc, err := sandbox.ContactJSON(c)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encode contact: %w", err)
	}
	return []any{
		clean(c.ID), clean(c.LocationID), fold(c.Email), exactText(c.Phone),
		fold(c.FirstName), fold(c.LastName), fold(c.Name), fold(c.CompanyName),
		fold(c.Source), fold(c.Type), fold(c.AssignedTo), fold(c.Address1), fold(c.City),
		fold(c.State), fold(c.Country), fold(c.PostalCode), fold(c.Website),
		fold(c.BusinessID), fold(c.Timezone), fold(c.DateOfBirth), boolInt(c.Dnd),
		dateMillis(c.DateAdded), dateMillis(c.DateUpdated), dateMillis(c.LastActivity),
		searchText(c), string(doc),
	}, nil
}

// GetContact implements sandbox.Tx.
func (t *tx) GetContact(ctx context.Context, id string) (*sandbox.Contact, error) {
	rows, err := t.query(ctx, `SELECT data FROM contacts WHERE id = ?`, clean(id))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get contact: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlstore: get contact: %w", err)
		}
		return nil, sandbox.Errorf(sandbox.ENOTFOUND, "contact %s not found", id)
	}
	c, err := scanContact(rows)
	if err != nil {
		return nil, err
	}
	return c, rows.Close()
}

// GetContactJSON implements sandbox.Tx.
func (t *tx) GetContactJSON(ctx context.Context, id string) (string, json.RawMessage, error) {
	var loc string
	var doc []byte
	err := t.get(ctx, `SELECT location_id, data FROM contacts WHERE id = ?`, []any{clean(id)}, &loc, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, sandbox.Errorf(sandbox.ENOTFOUND, "contact %s not found", id)
	}
	if err != nil {
		return "", nil, fmt.Errorf("sqlstore: get contact: %w", err)
	}
	return loc, doc, nil
}

// scanContact decodes the data column, the first of the row.
func scanContact(rows *sql.Rows, extra ...any) (*sandbox.Contact, error) {
	var data sql.RawBytes
	if err := rows.Scan(append([]any{&data}, extra...)...); err != nil {
		return nil, fmt.Errorf("sqlstore: read contact: %w", err)
	}
	c := new(sandbox.Contact)
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("sqlstore: decode contact: %w", err)
	}
	return c, nil
}

// InsertContact implements sandbox.Tx. A contact whose ID exists already is
// refused with ECONFLICT.
func (t *tx) InsertContact(ctx context.Context, c *sandbox.Contact) error {
	return t.InsertContacts(ctx, []*sandbox.Contact{c})
}

// contactsPerStatement bounds the rows of one multi-row contact insert (26
// parameters each; SQLite allows 32766 parameters, Postgres 65535).
const contactsPerStatement = 100

// InsertContacts inserts many contacts with a few multi-row statements, for
// bulk loads (demo data, benchmarks); it is not part of sandbox.Tx, and
// callers reach it by a type assertion. If any contact's ID exists already
// it fails with ECONFLICT (and the transaction should be rolled back).
func (t *tx) InsertContacts(ctx context.Context, cs []*sandbox.Contact) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	for len(cs) > 0 {
		n := min(len(cs), contactsPerStatement)
		args := make([]any, 0, 26*n)
		for _, c := range cs[:n] {
			if c.ID == "" || c.LocationID == "" {
				return sandbox.Errorf(sandbox.EINVALID, "contact id and locationId are required")
			}
			a, err := contactArgs(c)
			if err != nil {
				return err
			}
			args = append(args, a...)
		}
		q := `INSERT INTO contacts (` + contactInsertColumns + `) VALUES ` + valuesList(n, 26) + ` ON CONFLICT (id) DO NOTHING`
		res, err := t.exec(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("sqlstore: insert contact: %w", err)
		}
		if got, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlstore: insert contact: %w", err)
		} else if got != int64(n) {
			if n == 1 {
				return sandbox.Errorf(sandbox.ECONFLICT, "contact %s exists already", cs[0].ID)
			}
			return sandbox.Errorf(sandbox.ECONFLICT, "%d of %d contacts exist already", int64(n)-got, n)
		}
		if err := t.insertContactSideRows(ctx, cs[:n]); err != nil {
			return err
		}
		cs = cs[n:]
	}
	return nil
}

// UpdateContact implements sandbox.Tx.
func (t *tx) UpdateContact(ctx context.Context, c *sandbox.Contact) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	if c.LocationID == "" {
		return sandbox.Errorf(sandbox.EINVALID, "contact locationId is required")
	}
	args, err := contactArgs(c)
	if err != nil {
		return err
	}
	// The same values as an insert, id last for the WHERE clause.
	args = append(args[1:], args[0])
	res, err := t.exec(ctx, `UPDATE contacts SET location_id = ?, email = ?, phone = ?,
	first_name = ?, last_name = ?, name = ?, company_name = ?, source = ?, contact_type = ?,
	assigned_to = ?, address1 = ?, city = ?, state = ?, country = ?, postal_code = ?,
	website = ?, business_id = ?, timezone = ?, date_of_birth = ?, dnd = ?, date_added = ?,
	date_updated = ?, last_activity = ?, search_text = ?, data = ?
WHERE id = ?`, args...)
	if err != nil {
		return fmt.Errorf("sqlstore: update contact: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: update contact: %w", err)
	} else if n == 0 {
		return sandbox.Errorf(sandbox.ENOTFOUND, "contact %s not found", c.ID)
	}
	if err := t.deleteContactSideRows(ctx, clean(c.ID)); err != nil {
		return err
	}
	return t.insertContactSideRows(ctx, []*sandbox.Contact{c})
}

// contactChildKinds are the record kinds whose ParentID is a contact id.
var contactChildKinds = []sandbox.Kind{sandbox.KindNote, sandbox.KindTask, sandbox.KindEnrollment}

// DeleteContact implements sandbox.Tx. Besides the contact and its tags and
// custom values it deletes the records that hang off it: those of the kinds
// note, task and enrollment whose ParentID is the contact id.
func (t *tx) DeleteContact(ctx context.Context, id string) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	id = clean(id)
	if err := t.deleteContactSideRows(ctx, id); err != nil {
		return err
	}
	res, err := t.exec(ctx, `DELETE FROM contacts WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlstore: delete contact: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: delete contact: %w", err)
	} else if n == 0 {
		return sandbox.Errorf(sandbox.ENOTFOUND, "contact %s not found", id)
	}
	t.forgetRecords()
	for _, k := range contactChildKinds {
		if _, err := t.exec(ctx, `DELETE FROM records WHERE kind = ? AND parent_id = ?`, string(k), id); err != nil {
			return fmt.Errorf("sqlstore: delete contact %s: %w", k, err)
		}
	}
	return nil
}

func (t *tx) deleteContactSideRows(ctx context.Context, id string) error {
	if _, err := t.exec(ctx, `DELETE FROM contact_tags WHERE contact_id = ?`, id); err != nil {
		return fmt.Errorf("sqlstore: delete contact tags: %w", err)
	}
	if _, err := t.exec(ctx, `DELETE FROM contact_custom_values WHERE contact_id = ?`, id); err != nil {
		return fmt.Errorf("sqlstore: delete contact custom values: %w", err)
	}
	return nil
}

// sideRowsPerStatement bounds the rows of one multi-row insert into a side
// table (SQLite allows 32766 parameters, Postgres 65535).
const sideRowsPerStatement = 100

// insertContactSideRows writes the tags and custom values of cs, with one
// statement per table (per sideRowsPerStatement rows).
func (t *tx) insertContactSideRows(ctx context.Context, cs []*sandbox.Contact) error {
	var tagArgs, valueArgs []any
	for _, c := range cs {
		id, loc, added := clean(c.ID), clean(c.LocationID), dateMillis(c.DateAdded)
		for _, tag := range contactTags(c.Tags) {
			tagArgs = append(tagArgs, id, loc, tag, added)
		}
		for _, v := range customValueRows(c.CustomFields) {
			valueArgs = append(valueArgs, id, loc, v.fieldID, v.text, v.num)
		}
	}
	if err := t.insertRows(ctx, `INSERT INTO contact_tags (contact_id, location_id, tag, date_added) VALUES `, 4, tagArgs); err != nil {
		return fmt.Errorf("sqlstore: insert contact tags: %w", err)
	}
	if err := t.insertRows(ctx, `INSERT INTO contact_custom_values (contact_id, location_id, field_id, value_text, value_num) VALUES `, 5, valueArgs); err != nil {
		return fmt.Errorf("sqlstore: insert contact custom values: %w", err)
	}
	return nil
}

// insertRows runs prefix with the VALUES groups of args, width values each,
// sideRowsPerStatement groups per statement.
func (t *tx) insertRows(ctx context.Context, prefix string, width int, args []any) error {
	for len(args) > 0 {
		n := min(len(args)/width, sideRowsPerStatement)
		if _, err := t.exec(ctx, prefix+valuesList(n, width), args[:n*width]...); err != nil {
			return err
		}
		args = args[n*width:]
	}
	return nil
}

// valuesList returns n parenthesised groups of width placeholders.
func valuesList(n, width int) string {
	group := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(group+", ", n), ", ")
}

// contactTags returns the distinct non-empty tags, folded.
func contactTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, tag := range tags {
		tag = fold(tag)
		if tag != "" && !contains(out, tag) {
			out = append(out, tag)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// customValueRow is one row of contact_custom_values.
type customValueRow struct {
	fieldID string
	text    string
	num     any // float64 or nil
}

// customValueRows flattens custom field values into rows: one per value,
// one per element of a list; empty values have no row (so "exists" means
// non-empty). Numbers, and strings that are numbers or dates (as epoch
// milliseconds), also get value_num, which range filters compare.
func customValueRows(fields []sandbox.CustomFieldValue) []customValueRow {
	var rows []customValueRow
	add := func(fieldID string, v any) {
		text, num, ok := customValue(v)
		if !ok {
			return
		}
		for _, r := range rows {
			if r.fieldID == fieldID && r.text == text {
				return
			}
		}
		rows = append(rows, customValueRow{fieldID: fieldID, text: text, num: num})
	}
	for _, f := range fields {
		if f.ID == "" {
			continue
		}
		id := clean(f.ID)
		if list, ok := f.Value.([]any); ok {
			for _, v := range list {
				add(id, v)
			}
			continue
		}
		if list, ok := f.Value.([]string); ok {
			for _, v := range list {
				add(id, v)
			}
			continue
		}
		add(id, f.Value)
	}
	return rows
}

// customValue returns the stored forms of one custom field value.
func customValue(v any) (text string, num any, ok bool) {
	switch v := v.(type) {
	case nil:
		return "", nil, false
	case string:
		if strings.TrimSpace(v) == "" {
			return "", nil, false
		}
		if f, ok := numberOrDate(v); ok {
			return fold(v), f, true
		}
		return fold(v), nil, true
	case bool:
		return strconv.FormatBool(v), nil, true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", nil, false
		}
		return formatNumber(v), v, true
	case float32:
		return customValue(float64(v))
	case int:
		return customValue(float64(v))
	case int64:
		return customValue(float64(v))
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return fold(v.String()), nil, true
		}
		return customValue(f)
	default:
		// Objects (file uploads, …) are kept as their JSON text.
		b, err := json.Marshal(v)
		if err != nil || string(b) == "null" || string(b) == "{}" || string(b) == "[]" {
			return "", nil, false
		}
		return fold(string(b)), nil, true
	}
}

// formatNumber formats f as the text filters compare: no exponent, no
// trailing zeros ("5", "25.5").
func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// numberOrDate parses s as a number, or as a date (to epoch milliseconds).
func numberOrDate(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		return f, true
	}
	// Only strings that start like a date: ParseTime would also accept
	// other shapes a free-text value may have.
	if len(s) >= 10 && s[4] == '-' && s[7] == '-' {
		if tm, err := sandbox.ParseTime(s); err == nil {
			return float64(tm.UnixMilli()), true
		}
	}
	return 0, false
}

// LookupContacts implements sandbox.Tx.
func (t *tx) LookupContacts(ctx context.Context, l sandbox.ContactLookup) ([]*sandbox.Contact, error) {
	email, phone := fold(l.Email), exactText(l.Phone)
	var (
		q    string
		args []any
	)
	switch {
	case email != "" && phone != "":
		q = `SELECT data FROM contacts WHERE location_id = ? AND (email = ? OR phone = ?) ORDER BY date_added, id`
		args = []any{clean(l.LocationID), email, phone}
	case email != "":
		q = `SELECT data FROM contacts WHERE location_id = ? AND email = ? ORDER BY date_added, id`
		args = []any{clean(l.LocationID), email}
	case phone != "":
		q = `SELECT data FROM contacts WHERE location_id = ? AND phone = ? ORDER BY date_added, id`
		args = []any{clean(l.LocationID), phone}
	default:
		return nil, nil
	}
	if l.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, l.Limit)
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: lookup contacts: %w", err)
	}
	defer rows.Close()
	var out []*sandbox.Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: lookup contacts: %w", err)
	}
	return out, nil
}

// AppendEvent implements sandbox.Tx. An event whose ID is in the outbox
// already is refused with ECONFLICT.
func (t *tx) AppendEvent(ctx context.Context, e *sandbox.Event) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	if e.ID == "" || e.Type == "" {
		return sandbox.Errorf(sandbox.EINVALID, "event id and type are required")
	}
	payload := string(e.Payload)
	if len(e.Payload) == 0 {
		payload = "null"
	} else if !json.Valid(e.Payload) {
		return sandbox.Errorf(sandbox.EINVALID, "event %s: payload is not valid JSON", e.ID)
	}
	created := e.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	res, err := t.exec(ctx, `INSERT INTO events (id, type, location_id, company_id, created_at, payload)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		clean(e.ID), clean(e.Type), clean(e.LocationID), clean(e.CompanyID), created.UnixMicro(), payload)
	if err != nil {
		return fmt.Errorf("sqlstore: append event: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: append event: %w", err)
	} else if n == 0 {
		return sandbox.Errorf(sandbox.ECONFLICT, "event %s exists already", e.ID)
	}
	return nil
}
