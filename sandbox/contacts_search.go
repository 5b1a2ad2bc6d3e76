package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits of POST /contacts/search, as GHL documents them: pageLimit up to
// 500, standard paging over the first 10,000 hits (searchAfter beyond), a
// query of at most 75 characters.
const (
	ContactSearchMaxPageLimit     = 500
	ContactSearchDefaultPageLimit = 20
	ContactSearchMaxWindow        = 10_000
	ContactSearchMaxQuery         = 75

	// The sandbox's own bounds on a filter tree, so one request cannot make
	// the store compile an unbounded query.
	contactSearchMaxDepth   = 5
	contactSearchMaxFilters = 100
	contactSearchMaxValues  = 500
	contactSearchMaxSort    = 5
	contactSearchMaxErrors  = 20
)

// contactSearchFieldAliases maps the field names GHL's search accepts to the
// canonical names of ContactFields; canonical names map to themselves.
var contactSearchFieldAliases = func() map[string]string {
	m := map[string]string{
		"firstNameLowerCase": "firstName",
		"lastNameLowerCase":  "lastName",
		"fullNameLowerCase":  "name",
		"contactName":        "name",
		"businessName":       "companyName",
		"address":            "address1",
		"emailLowerCase":     "email",
	}
	for f := range ContactFields {
		m[f] = f
	}
	return m
}()

// contactSearchOperators lists the filter operators, in the order error
// messages name them.
var contactSearchOperators = []string{OpEq, OpNotEq, OpContains, OpNotContains, OpExists, OpNotExists, OpRange}

// ContactSearchField resolves a field name of a search filter or sort to
// its canonical ContactFields name, or to "customFields.<idOrKey>" for the
// custom field forms GHL uses ("customFields.<id>", "customField.<id>",
// "customFields.<key>"). ok is false for unknown names.
func ContactSearchField(name string) (canonical string, ok bool) {
	for _, prefix := range []string{"customFields.", "customField.", "customfields."} {
		if ref, found := strings.CutPrefix(name, prefix); found {
			ref = strings.TrimSpace(ref)
			if ref == "" {
				return "", false
			}
			return CustomFieldPrefix + ref, true
		}
	}
	canonical, ok = contactSearchFieldAliases[name]
	return canonical, ok
}

// contactSearchParser collects validation messages while it walks a body.
type contactSearchParser struct {
	msgs   []string
	leaves int
}

func (p *contactSearchParser) fail(format string, args ...any) {
	if len(p.msgs) < contactSearchMaxErrors {
		p.msgs = append(p.msgs, fmt.Sprintf(format, args...))
	}
}

// ParseContactSearch parses and validates the body of POST /contacts/search
// (GHL's advanced contact search) into a ContactQuery: LocationID, Query,
// Filter (the top-level filters as an AND group), Sort, SearchAfter, and
// Offset/Limit from page and pageLimit. Malformed JSON is an EINVALID
// error; every validation failure is listed in one EUNPROCESSABLE error
// whose messages name the offending field ("filters[2].operator must be one
// of …"). Custom fields stay as "customFields.<idOrKey>": resolving keys
// needs the location's definitions (see Server.resolveContactSearchFields).
func ParseContactSearch(body []byte) (*ContactQuery, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	// Unmarshal validates the whole body (trailing data included) and
	// reports syntax errors with their offset; the decoder then keeps
	// numbers exact.
	if err := json.Unmarshal(body, new(json.RawMessage)); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, Errorf(EINVALID, "Unexpected token in JSON at position %d", syn.Offset)
		}
		return nil, Errorf(EINVALID, "invalid JSON body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, Errorf(EINVALID, "invalid JSON body: %v", err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, Errorf(EINVALID, "request body must be a JSON object")
	}

	p := &contactSearchParser{}
	q := &ContactQuery{}

	switch v := obj["locationId"].(type) {
	case string:
		q.LocationID = strings.TrimSpace(v)
		if q.LocationID == "" {
			p.fail("locationId should not be empty")
		}
	case nil:
		p.fail("locationId should not be empty")
	default:
		p.fail("locationId must be a string")
	}

	page := p.integer(obj, "page", 1, 1, math.MaxInt32)
	limit := p.integer(obj, "pageLimit", ContactSearchDefaultPageLimit, 1, ContactSearchMaxPageLimit)
	q.Limit = limit
	q.Offset = (page - 1) * limit
	if page >= 1 && limit >= 1 && int64(page)*int64(limit) > ContactSearchMaxWindow {
		p.fail("page * pageLimit must not exceed %d; use searchAfter to go further", ContactSearchMaxWindow)
	}

	switch v := obj["query"].(type) {
	case nil:
	case string:
		if utf8.RuneCountInString(v) > ContactSearchMaxQuery {
			p.fail("query must be shorter than or equal to %d characters", ContactSearchMaxQuery)
		}
		q.Query = strings.TrimSpace(v)
	default:
		p.fail("query must be a string")
	}

	q.Sort = p.sorts(obj["sort"])

	if v, present := obj["searchAfter"]; present && v != nil {
		list, ok := v.([]any)
		switch {
		case !ok:
			p.fail("searchAfter must be an array")
		case len(list) == 0:
		case page > 1:
			p.fail("searchAfter cannot be combined with page greater than 1")
		default:
			want := max(len(q.Sort), 1) + 1
			if len(list) != want {
				p.fail("searchAfter must have %d values (the sort values, then the contact id), got %d", want, len(list))
				break
			}
			for i, el := range list {
				sv, ok := contactSearchScalar(el)
				if !ok {
					p.fail("searchAfter[%d] must be a string, number or boolean", i)
					continue
				}
				q.SearchAfter = append(q.SearchAfter, sv)
			}
			q.Offset = 0
		}
	}

	if v, present := obj["filters"]; present && v != nil {
		list, ok := v.([]any)
		if !ok {
			p.fail("filters must be an array")
		} else if len(list) > 0 {
			root := &Filter{Group: "AND", Filters: p.filterList(list, "filters", 1)}
			q.Filter = root
		}
	}

	if len(p.msgs) > 0 {
		return nil, Invalid(p.msgs...)
	}
	return q, nil
}

// integer reads an optional positive integer (a JSON number or a numeric
// string, as GHL's validation pipe transforms them).
func (p *contactSearchParser) integer(obj map[string]any, name string, def, lo, hi int) int {
	v, present := obj[name]
	if !present || v == nil {
		return def
	}
	var n int64
	var err error
	switch v := v.(type) {
	case json.Number:
		n, err = strconv.ParseInt(v.String(), 10, 64)
	case string:
		n, err = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	default:
		err = errors.New("not a number")
	}
	switch {
	case err != nil:
		p.fail("%s must be an integer number", name)
		return def
	case n < int64(lo):
		p.fail("%s must not be less than %d", name, lo)
		return def
	case n > int64(hi):
		p.fail("%s must not be greater than %d", name, hi)
		return def
	}
	return int(n)
}

// sorts parses the sort array.
func (p *contactSearchParser) sorts(v any) []Sort {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		p.fail("sort must be an array")
		return nil
	}
	if len(list) > contactSearchMaxSort {
		p.fail("sort must contain no more than %d elements", contactSearchMaxSort)
		return nil
	}
	var out []Sort
	for i, el := range list {
		obj, ok := el.(map[string]any)
		if !ok {
			p.fail("sort[%d] must be an object with field and direction", i)
			continue
		}
		name, _ := obj["field"].(string)
		field, ok := ContactSearchField(name)
		typ, canonical := ContactFields[field]
		if !ok || !canonical || typ == FieldTags {
			p.fail("sort[%d].field %q is not a sortable contact field", i, name)
			continue
		}
		dir, _ := obj["direction"].(string)
		switch strings.ToLower(dir) {
		case "asc":
			out = append(out, Sort{Field: field})
		case "desc":
			out = append(out, Sort{Field: field, Desc: true})
		default:
			p.fail("sort[%d].direction must be one of asc, desc", i)
		}
	}
	return out
}

// filterList parses an array of filters found at path.
func (p *contactSearchParser) filterList(list []any, path string, depth int) []Filter {
	out := make([]Filter, 0, len(list))
	for i, el := range list {
		at := fmt.Sprintf("%s[%d]", path, i)
		if f, ok := p.filter(el, at, depth); ok {
			out = append(out, f)
		}
	}
	return out
}

// filter parses one filter: a group ({group, filters}) or a condition
// ({field, operator, value}).
func (p *contactSearchParser) filter(el any, at string, depth int) (Filter, bool) {
	obj, ok := el.(map[string]any)
	if !ok {
		p.fail("%s must be an object", at)
		return Filter{}, false
	}
	if g, isGroup := obj["group"]; isGroup {
		group, _ := g.(string)
		group = strings.ToUpper(group)
		if group != "AND" && group != "OR" {
			p.fail("%s.group must be one of AND, OR", at)
			return Filter{}, false
		}
		if depth >= contactSearchMaxDepth {
			p.fail("%s nests groups deeper than %d levels", at, contactSearchMaxDepth)
			return Filter{}, false
		}
		children, ok := obj["filters"].([]any)
		if !ok {
			p.fail("%s.filters must be an array", at)
			return Filter{}, false
		}
		return Filter{Group: group, Filters: p.filterList(children, at+".filters", depth+1)}, true
	}

	p.leaves++
	if p.leaves == contactSearchMaxFilters+1 {
		p.fail("filters must contain no more than %d conditions", contactSearchMaxFilters)
	}
	name, isString := obj["field"].(string)
	field, known := ContactSearchField(name)
	if !isString || !known {
		p.fail("%s.field %q is not a searchable contact field", at, name)
		return Filter{}, false
	}
	op, _ := obj["operator"].(string)
	if !slices.Contains(contactSearchOperators, op) {
		p.fail("%s.operator must be one of %s", at, strings.Join(contactSearchOperators, ", "))
		return Filter{}, false
	}
	f := Filter{Field: field, Operator: op}
	value, hasValue := obj["value"]
	if value == nil {
		hasValue = false
	}

	custom := strings.HasPrefix(field, CustomFieldPrefix)
	typ := ContactFields[field] // FieldText for custom fields
	if custom {
		typ = FieldText
	}
	switch op {
	case OpExists, OpNotExists:
		return f, true
	case OpContains, OpNotContains:
		if typ == FieldDate || typ == FieldBool {
			p.fail("%s.operator %s cannot be used with the field %s", at, op, name)
			return Filter{}, false
		}
		s, ok := contactSearchText(value)
		if !hasValue || !ok || s == "" {
			p.fail("%s.value must be a non-empty string", at)
			return Filter{}, false
		}
		f.Value = s
		return f, true
	case OpRange:
		if typ == FieldBool || typ == FieldTags {
			p.fail("%s.operator range cannot be used with the field %s", at, name)
			return Filter{}, false
		}
		r, ok := p.rangeValue(value, at, typ, custom)
		if !ok {
			return Filter{}, false
		}
		f.Value = r
		return f, true
	}
	// eq and not_eq: a value or a list of values (any of them).
	if !hasValue {
		p.fail("%s.value is required for operator %s", at, op)
		return Filter{}, false
	}
	if list, isList := value.([]any); isList {
		if len(list) > contactSearchMaxValues {
			p.fail("%s.value must contain no more than %d elements", at, contactSearchMaxValues)
			return Filter{}, false
		}
		vals := make([]any, 0, len(list))
		for i, el := range list {
			v, ok := p.eqValue(el, fmt.Sprintf("%s.value[%d]", at, i), typ)
			if !ok {
				return Filter{}, false
			}
			vals = append(vals, v)
		}
		f.Value = vals
		return f, true
	}
	v, ok := p.eqValue(value, at+".value", typ)
	if !ok {
		return Filter{}, false
	}
	f.Value = v
	return f, true
}

// eqValue converts one value compared for equality with a field of typ.
func (p *contactSearchParser) eqValue(v any, at string, typ ContactFieldType) (any, bool) {
	switch typ {
	case FieldDate:
		ms, ok := contactSearchMillis(v)
		if !ok {
			p.fail("%s must be a date (ISO 8601 string or epoch milliseconds)", at)
		}
		return ms, ok
	case FieldBool:
		switch b := v.(type) {
		case bool:
			return b, true
		case string:
			if pb, err := strconv.ParseBool(b); err == nil {
				return pb, true
			}
		}
		p.fail("%s must be a boolean", at)
		return nil, false
	case FieldTags:
		s, ok := contactSearchText(v)
		if !ok {
			p.fail("%s must be a string", at)
		}
		return s, ok
	}
	sv, ok := contactSearchScalar(v)
	if !ok {
		p.fail("%s must be a string, number or boolean", at)
	}
	return sv, ok
}

// rangeValue parses {gt, gte, lt, lte}.
func (p *contactSearchParser) rangeValue(v any, at string, typ ContactFieldType, custom bool) (*Range, bool) {
	obj, ok := v.(map[string]any)
	if !ok {
		p.fail("%s.value must be an object with gt, gte, lt or lte", at)
		return nil, false
	}
	r := &Range{}
	bounds := map[string]*any{"gt": &r.GT, "gte": &r.GTE, "lt": &r.LT, "lte": &r.LTE}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	n := 0
	for _, k := range keys {
		dst, known := bounds[k]
		if !known {
			p.fail("%s.value.%s is not a range bound: use gt, gte, lt or lte", at, k)
			return nil, false
		}
		bv := obj[k]
		if bv == nil {
			continue
		}
		switch {
		case typ == FieldDate:
			ms, ok := contactSearchMillis(bv)
			if !ok {
				p.fail("%s.value.%s must be a date (ISO 8601 string or epoch milliseconds)", at, k)
				return nil, false
			}
			*dst = ms
		case custom:
			// Custom values compare as numbers; dates as epoch milliseconds.
			switch x := bv.(type) {
			case json.Number:
				f, err := x.Float64()
				if err != nil || math.IsInf(f, 0) {
					p.fail("%s.value.%s must be a number or a date", at, k)
					return nil, false
				}
				*dst = f
			case string:
				if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
					*dst = f
				} else if tm, err := ParseTime(strings.TrimSpace(x)); err == nil {
					*dst = float64(tm.UnixMilli())
				} else {
					p.fail("%s.value.%s must be a number or a date", at, k)
					return nil, false
				}
			default:
				p.fail("%s.value.%s must be a number or a date", at, k)
				return nil, false
			}
		default:
			s, ok := contactSearchText(bv)
			if !ok {
				p.fail("%s.value.%s must be a string", at, k)
				return nil, false
			}
			*dst = s
		}
		n++
	}
	if n == 0 {
		p.fail("%s.value must have at least one of gt, gte, lt, lte", at)
		return nil, false
	}
	return r, true
}

// contactSearchScalar converts a decoded JSON scalar: strings and booleans
// as they are, numbers to int64 when integral (so epoch milliseconds and
// ids survive exactly) and float64 otherwise.
func contactSearchScalar(v any) (any, bool) {
	switch x := v.(type) {
	case string, bool:
		return x, true
	case json.Number:
		if n, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return n, true
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, false
		}
		return f, true
	}
	return nil, false
}

// contactSearchText accepts a string, or a number written as text.
func contactSearchText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

// contactSearchMillis converts an ISO 8601 string or epoch milliseconds.
func contactSearchMillis(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return n, true
		}
		f, err := x.Float64()
		if err != nil || math.IsNaN(f) || math.Abs(f) > 1<<53 {
			return 0, false
		}
		return int64(math.Round(f)), true
	case string:
		tm, err := ParseTime(strings.TrimSpace(x))
		if err != nil {
			return 0, false
		}
		return tm.UnixMilli(), true
	}
	return 0, false
}

// resolveContactSearchFields replaces custom field keys in a parsed filter
// tree with the ids of the location's definitions. A reference that is
// neither an id nor a key of a contact field of the location is a 422
// naming the filter ("filters[1].filters[0].field …").
func (s *Server) resolveContactSearchFields(ctx context.Context, tx Tx, locationID string, root *Filter) error {
	if root == nil {
		return nil
	}
	defs := contactFieldDefs{}
	var msgs []string
	var walk func(fs []Filter, path string) error
	walk = func(fs []Filter, path string) error {
		for i := range fs {
			f := &fs[i]
			at := fmt.Sprintf("%s[%d]", path, i)
			if f.Field == "" {
				if err := walk(f.Filters, at+".filters"); err != nil {
					return err
				}
				continue
			}
			ref, ok := strings.CutPrefix(f.Field, CustomFieldPrefix)
			if !ok {
				continue
			}
			def, err := defs.find(ctx, tx, locationID, ref, ref)
			if err != nil {
				return err
			}
			if def == nil {
				msgs = append(msgs, fmt.Sprintf("%s.field: no contact custom field %q in this location", at, ref))
				continue
			}
			f.Field = CustomFieldPrefix + def.ID
		}
		return nil
	}
	if err := walk(root.Filters, "filters"); err != nil {
		return err
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	return nil
}

// normalizeContactSearchPhones rewrites the values of the phone conditions
// of a parsed filter tree to the form stored phones have, so that a number
// finds its contact however it is written, as the duplicate search does:
// eq and not_eq values (and each value of their lists) in E.164, national
// numbers read in the location's country (else the US); contains and
// not_contains values without their spaces, dashes, dots, slashes and
// parentheses ("(415) 555" → "415555"), since stored phones have none. A
// value that is not a phone number is left as it is (it matches nothing).
func normalizeContactSearchPhones(ctx context.Context, tx Tx, locationID string, root *Filter) error {
	if root == nil || !filterHasField(root, "phone") {
		return nil
	}
	var loc *Location
	if l, _, err := loadLocation(ctx, tx, locationID); err == nil {
		loc = l
	} else if !IsNotFound(err) {
		return err
	}
	country := contactPhoneCountry("", loc)
	var walk func(f *Filter)
	walk = func(f *Filter) {
		for i := range f.Filters {
			walk(&f.Filters[i])
		}
		if f.Field != "phone" {
			return
		}
		switch f.Operator {
		case OpEq, OpNotEq:
			if list, ok := f.Value.([]any); ok {
				for i, v := range list {
					list[i] = searchPhoneValue(v, country)
				}
			} else {
				f.Value = searchPhoneValue(f.Value, country)
			}
		case OpContains, OpNotContains:
			v, ok := f.Value.(string)
			if !ok {
				return
			}
			frag := searchPhoneFragment(v)
			f.Value = frag
			// A national fragment with its trunk prefix ("020 7946" in
			// the UK) is also looked for in international form
			// ("+44207946"), since stored phones have no trunk prefix.
			if intl := internationalFragment(frag, country); intl != "" {
				group := "OR"
				if f.Operator == OpNotContains {
					group = "AND"
				}
				*f = Filter{Group: group, Filters: []Filter{
					{Field: "phone", Operator: f.Operator, Value: frag},
					{Field: "phone", Operator: f.Operator, Value: intl},
				}}
			}
		}
	}
	walk(root)
	return nil
}

// filterHasField reports whether a filter tree has a condition on field.
func filterHasField(f *Filter, field string) bool {
	if f.Field == field {
		return true
	}
	for i := range f.Filters {
		if filterHasField(&f.Filters[i], field) {
			return true
		}
	}
	return false
}

// searchPhoneValue returns v (a string or an integer) in E.164 when it is a
// phone number, else v unchanged.
func searchPhoneValue(v any, country string) any {
	var raw string
	switch x := v.(type) {
	case string:
		raw = x
	case int64:
		raw = strconv.FormatInt(x, 10)
	default:
		return v
	}
	if e164, err := NormalizePhone(raw, country); err == nil {
		return e164
	}
	return v
}

// searchPhoneFragment drops the punctuation people write phone numbers
// with from a contains value made of digits, such punctuation and an
// optional leading "+"; other values, and values that would become empty,
// are unchanged.
func searchPhoneFragment(v string) string {
	var b strings.Builder
	digits := 0
	for i, ch := range strings.TrimSpace(v) {
		switch {
		case ch >= '0' && ch <= '9':
			digits++
			b.WriteRune(ch)
		case ch == '+' && i == 0:
			b.WriteRune(ch)
		case ch == ' ' || ch == '-' || ch == '.' || ch == '(' || ch == ')' || ch == '/' || ch == '\t':
		default:
			return v
		}
	}
	if digits == 0 {
		return v
	}
	return b.String()
}

// internationalFragment returns a digits-only contains fragment that begins
// with country's trunk prefix in international form ("0207946" in GB →
// "+44207946"), or "" when it does not begin with one (or the trunk is the
// calling code itself, as in North America, where the fragment already
// matches).
func internationalFragment(frag, country string) string {
	plan, ok := phoneCountries[strings.ToUpper(country)]
	if !ok || plan.trunk == "" || plan.trunk == plan.code || strings.HasPrefix(frag, "+") {
		return ""
	}
	rest, ok := strings.CutPrefix(frag, plan.trunk)
	if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" {
		return ""
	}
	return "+" + plan.code + rest
}

// searchContacts serves POST /contacts/search: {contacts, total}, each
// contact with the searchAfter values that continue after it.
func (s *Server) searchContacts(w http.ResponseWriter, r *Request) error {
	q, err := ParseContactSearch(r.RawBody)
	if err != nil {
		return err
	}
	if err := r.CheckLocation(q.LocationID); err != nil {
		return err
	}
	// The page and its total may come from snapshots a commit apart, as
	// GHL's search index can be.
	var page *ContactPage
	err = s.readLoose(r.Context(), func(tx Tx) error {
		if err := s.resolveContactSearchFields(r.Context(), tx, q.LocationID, q.Filter); err != nil {
			return err
		}
		if err := normalizeContactSearchPhones(r.Context(), tx, q.LocationID, q.Filter); err != nil {
			return err
		}
		var err error
		q.JSON = true
		page, err = tx.SearchContacts(r.Context(), *q)
		return err
	})
	if err != nil {
		return err
	}
	b := getBuffer()
	defer putBuffer(b)
	if err := appendContactPage(b, page); err != nil {
		return err
	}
	writeRawJSON(w, http.StatusOK, b.Bytes())
	return nil
}

// appendContactPage writes a search answer, {contacts, total}, from a page
// of stored contact JSON: each contact as stored, with its searchAfter
// cursor added, so that no contact is decoded and encoded again.
func appendContactPage(b *bytes.Buffer, page *ContactPage) error {
	b.WriteString(`{"contacts":[`)
	for i, doc := range page.JSON {
		if i > 0 {
			b.WriteByte(',')
		}
		doc = bytes.TrimSpace(doc)
		if len(doc) < 2 || doc[0] != '{' || doc[len(doc)-1] != '}' {
			return fmt.Errorf("sandbox: stored contact is not a JSON object")
		}
		if i >= len(page.SortValues) {
			b.Write(doc)
			continue
		}
		b.Write(doc[:len(doc)-1])
		if len(doc) > 2 {
			b.WriteByte(',')
		}
		b.WriteString(`"searchAfter":`)
		sa, err := json.Marshal(page.SortValues[i])
		if err != nil {
			return err
		}
		b.Write(sa)
		b.WriteByte('}')
	}
	b.WriteString(`],"total":`)
	b.WriteString(strconv.Itoa(page.Total))
	b.WriteString("}\n")
	return nil
}
