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

	"github.com/ghlkit/ghlkit/sandbox"
)

// maxFilterDepth bounds the nesting of filter groups.
const maxFilterDepth = 32

// maxArenaPresize bounds the buffer a JSON search page reserves up front.
const maxArenaPresize = 256 << 10

// SearchContacts implements sandbox.Tx. The filter tree compiles to one SQL
// WHERE clause with bound arguments; tags and custom fields are matched with
// subqueries on their side tables. Rules beyond those of sandbox.ContactQuery:
//
//   - Text fields compare case-insensitively except id and phone, which
//     compare exactly; contains is a substring match (LIKE with its
//     wildcards escaped).
//   - exists means non-empty (dates: set; tags: at least one; custom fields:
//     a non-empty value; dnd: always); not_eq, not_contains and not_exists
//     match contacts without the field; range never does.
//   - An empty group matches every contact.
//   - Query matches each of its words (as substrings) against names, email,
//     phone and company name.
//   - Limit 0 means no limit.
func (t *tx) SearchContacts(ctx context.Context, q sandbox.ContactQuery) (*sandbox.ContactPage, error) {
	loc := clean(q.LocationID)
	sorts, err := contactSorts(q.Sort)
	if err != nil {
		return nil, err
	}

	// from and where select the matches; countFrom with where counts them
	// (a tag-driven count with nothing else to check needs no join).
	from := `contacts c`
	var where sqlBuilder
	where.write(`1 = 1`)
	filter := q.Filter
	tag, rest, driving := drivingTag(q, loc, sorts)
	if driving {
		from = `contact_tags t JOIN contacts c ON c.id = t.contact_id`
		where.write(` AND t.location_id = `).arg(loc).write(` AND t.tag = `).arg(tag)
		sorts[0].expr, sorts[1].expr = `t.date_added`, `t.contact_id`
		filter = rest
	} else if loc != "" {
		where.write(` AND c.location_id = `).arg(loc)
	}
	if filter != nil {
		where.write(` AND `)
		if err := where.filter(filter, loc, 0); err != nil {
			return nil, err
		}
	}
	words := strings.Fields(strings.ToLower(clean(q.Query)))
	for _, word := range words {
		where.write(` AND c.search_text LIKE `).arg(likeContains(word)).write(` ESCAPE '\'`)
	}
	countFrom := from
	if driving && filter == nil && len(words) == 0 {
		countFrom = `contact_tags t`
	}

	var sel sqlBuilder
	sel.write(`SELECT c.data`)
	for _, s := range sorts {
		sel.write(`, ` + s.expr)
	}
	sel.write(` FROM ` + from + ` WHERE `).write(where.sb.String())
	sel.args = append(sel.args, where.args...)
	if len(q.SearchAfter) > 0 {
		sel.write(` AND `)
		if err := sel.after(sorts, q.SearchAfter); err != nil {
			return nil, err
		}
	}
	sel.write(` ORDER BY `)
	for i, s := range sorts {
		if i > 0 {
			sel.write(`, `)
		}
		sel.write(s.expr)
		if s.desc {
			sel.write(` DESC`)
		}
	}
	switch {
	case q.Limit > 0:
		sel.write(` LIMIT `).arg(q.Limit).write(` OFFSET `).arg(max(q.Offset, 0))
	case q.Offset > 0:
		sel.write(` LIMIT `).arg(noLimit).write(` OFFSET `).arg(q.Offset)
	}

	page := &sandbox.ContactPage{Total: -1}
	var arena []byte // JSON documents, back to back, ending at ends
	var ends []int
	rows, err := t.query(ctx, sel.sb.String(), sel.args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: search contacts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		vals := make([]any, len(sorts))
		ptrs := make([]any, len(sorts))
		for i, s := range sorts {
			if s.col.typ == sandbox.FieldText {
				ptrs[i] = new(string)
			} else {
				ptrs[i] = new(int64)
			}
		}
		if q.JSON {
			// The documents share one buffer (sliced below): a page is a
			// few allocations, not one per contact.
			var doc sql.RawBytes
			if err := rows.Scan(append([]any{&doc}, ptrs...)...); err != nil {
				return nil, fmt.Errorf("sqlstore: read contact: %w", err)
			}
			if arena == nil {
				// Room for a full page of documents the size of the
				// first, so that the buffer rarely grows; capped, so that
				// one huge first contact does not reserve a page of them.
				n := 16
				if q.Limit > 0 {
					n = min(q.Limit, 100)
				}
				arena = make([]byte, 0, min(len(doc)*n+len(doc)/2*n, maxArenaPresize))
			}
			arena = append(arena, doc...)
			ends = append(ends, len(arena))
		} else {
			c, err := scanContact(rows, ptrs...)
			if err != nil {
				return nil, err
			}
			page.Contacts = append(page.Contacts, c)
		}
		for i, p := range ptrs {
			switch p := p.(type) {
			case *string:
				vals[i] = *p
			case *int64:
				vals[i] = *p
			}
		}
		page.SortValues = append(page.SortValues, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: search contacts: %w", err)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("sqlstore: search contacts: %w", err)
	}
	if q.JSON {
		page.JSON = make([]json.RawMessage, len(ends))
		start := 0
		for i, end := range ends {
			page.JSON[i] = arena[start:end:end]
			start = end
		}
	}

	if q.NoTotal {
		return page, nil
	}
	// A short first page (or a short page after an offset) ends the result,
	// so its length tells the total without counting.
	if n := len(page.SortValues); len(q.SearchAfter) == 0 && q.Limit > 0 && n > 0 && n < q.Limit {
		page.Total = max(q.Offset, 0) + n
		return page, nil
	}
	if countFrom == `contact_tags t` {
		// One tag and nothing else: the trigger-kept counter has the total.
		err := t.get(ctx, `SELECT n FROM tag_counts WHERE location_id = ? AND tag = ?`, []any{loc, tag}, &page.Total)
		if errors.Is(err, sql.ErrNoRows) {
			page.Total, err = 0, nil
		}
		if err != nil {
			return nil, fmt.Errorf("sqlstore: count contacts: %w", err)
		}
		return page, nil
	}
	if err := t.get(ctx, `SELECT COUNT(*) FROM `+countFrom+` WHERE `+where.sb.String(), where.args, &page.Total); err != nil {
		return nil, fmt.Errorf("sqlstore: count contacts: %w", err)
	}
	return page, nil
}

// drivingTag reports whether the search can be driven from the tag index:
// in a location, sorted by dateAdded alone, filtered by one tag (a single
// value, eq) at the top of the filter tree (the filter, or a child of its
// AND group). Each contact has a tag at most once, so joining from that
// tag's entries neither loses nor repeats contacts, and the entries are in
// (date_added, contact_id) order already. It returns the tag and the rest of
// the filter (nil when nothing is left).
func drivingTag(q sandbox.ContactQuery, loc string, sorts []contactSort) (string, *sandbox.Filter, bool) {
	f := q.Filter
	if f == nil || loc == "" || len(sorts) != 2 || sorts[0].col.name != "date_added" {
		return "", nil, false
	}
	single := func(f *sandbox.Filter) (string, bool) {
		if f.Field != "tags" || f.Operator != sandbox.OpEq || f.Group != "" || len(f.Filters) > 0 {
			return "", false
		}
		v := f.Value
		if list, ok := v.([]any); ok && len(list) == 1 {
			v = list[0]
		}
		s, ok := v.(string)
		return fold(s), ok
	}
	if tag, ok := single(f); ok {
		return tag, nil, true
	}
	if f.Field != "" || (f.Group != "" && !strings.EqualFold(f.Group, "AND")) {
		return "", nil, false
	}
	for i := range f.Filters {
		if tag, ok := single(&f.Filters[i]); ok {
			rest := &sandbox.Filter{Group: "AND"}
			rest.Filters = append(rest.Filters, f.Filters[:i]...)
			rest.Filters = append(rest.Filters, f.Filters[i+1:]...)
			if len(rest.Filters) == 0 {
				rest = nil
			}
			return tag, rest, true
		}
	}
	return "", nil, false
}

// contactSort is one resolved sort key.
type contactSort struct {
	col  contactColumn
	expr string // the SQL the query sorts by
	desc bool
}

// contactSorts resolves q.Sort (default dateAdded descending) and appends
// the id tie-breaker, in the direction of the last sort field.
func contactSorts(in []sandbox.Sort) ([]contactSort, error) {
	if len(in) == 0 {
		in = []sandbox.Sort{{Field: "dateAdded", Desc: true}}
	}
	out := make([]contactSort, 0, len(in)+1)
	for _, s := range in {
		col, ok := contactColumns[s.Field]
		if !ok {
			return nil, sandbox.Errorf(sandbox.EUNPROCESSABLE, "cannot sort contacts by %q", s.Field)
		}
		out = append(out, contactSort{col: col, expr: `c.` + col.name, desc: s.Desc})
	}
	return append(out, contactSort{col: contactColumns["id"], expr: `c.id`, desc: in[len(in)-1].Desc}), nil
}

// sqlBuilder accumulates SQL with ? placeholders and their arguments.
type sqlBuilder struct {
	sb   strings.Builder
	args []any
}

func (b *sqlBuilder) write(s string) *sqlBuilder {
	b.sb.WriteString(s)
	return b
}

func (b *sqlBuilder) arg(v any) *sqlBuilder {
	b.sb.WriteByte('?')
	b.args = append(b.args, v)
	return b
}

// argList writes a parenthesised list of placeholders for vs.
func (b *sqlBuilder) argList(vs []any) *sqlBuilder {
	b.write(`(`)
	for i, v := range vs {
		if i > 0 {
			b.write(`, `)
		}
		b.arg(v)
	}
	return b.write(`)`)
}

// after writes the keyset condition that starts a page after the contact
// whose sort values (then id) are vals.
func (b *sqlBuilder) after(sorts []contactSort, vals []any) error {
	if len(vals) != len(sorts) {
		return sandbox.Errorf(sandbox.EUNPROCESSABLE, "searchAfter needs %d values (the sort fields, then the id), got %d", len(sorts), len(vals))
	}
	keys := make([]any, len(sorts))
	for i, s := range sorts {
		v, err := columnValue(s.col, vals[i], "searchAfter")
		if err != nil {
			return err
		}
		keys[i] = v
	}
	uniform := true
	for _, s := range sorts {
		uniform = uniform && s.desc == sorts[0].desc
	}
	if uniform {
		// A row-value comparison, which both databases answer from an index
		// on the sort columns.
		op := ` > `
		if sorts[0].desc {
			op = ` < `
		}
		b.write(`(`)
		for i, s := range sorts {
			if i > 0 {
				b.write(`, `)
			}
			b.write(s.expr)
		}
		b.write(`)` + op).argList(keys)
		return nil
	}
	// Mixed directions: (a > ?) OR (a = ? AND b < ?) OR …
	b.write(`(`)
	for i := range sorts {
		if i > 0 {
			b.write(` OR `)
		}
		b.write(`(`)
		for j := 0; j < i; j++ {
			b.write(sorts[j].expr + ` = `).arg(keys[j]).write(` AND `)
		}
		op := ` > `
		if sorts[i].desc {
			op = ` < `
		}
		b.write(sorts[i].expr + op).arg(keys[i]).write(`)`)
	}
	b.write(`)`)
	return nil
}

// filter compiles one node of the filter tree.
func (b *sqlBuilder) filter(f *sandbox.Filter, loc string, depth int) error {
	if depth > maxFilterDepth {
		return sandbox.Errorf(sandbox.EUNPROCESSABLE, "filters nest deeper than %d groups", maxFilterDepth)
	}
	if f.Field == "" {
		join := ` AND `
		switch strings.ToUpper(f.Group) {
		case "", "AND":
		case "OR":
			join = ` OR `
		default:
			return sandbox.Errorf(sandbox.EUNPROCESSABLE, "unknown filter group %q", f.Group)
		}
		if len(f.Filters) == 0 {
			b.write(`1 = 1`)
			return nil
		}
		b.write(`(`)
		for i := range f.Filters {
			if i > 0 {
				b.write(join)
			}
			if err := b.filter(&f.Filters[i], loc, depth+1); err != nil {
				return err
			}
		}
		b.write(`)`)
		return nil
	}
	if f.Group != "" || len(f.Filters) > 0 {
		return sandbox.Errorf(sandbox.EUNPROCESSABLE, "filter on %q cannot also be a group", f.Field)
	}
	if list, ok := f.Value.([]string); ok {
		// Accept a []string for "any of" as the []any JSON decodes to.
		vals := make([]any, len(list))
		for i, v := range list {
			vals[i] = v
		}
		leaf := *f
		leaf.Value = vals
		f = &leaf
	}
	switch {
	case f.Field == "tags":
		return b.tagFilter(f, loc)
	case strings.HasPrefix(f.Field, sandbox.CustomFieldPrefix):
		return b.customFieldFilter(f, loc)
	}
	col, ok := contactColumns[f.Field]
	if !ok {
		return sandbox.Errorf(sandbox.EUNPROCESSABLE, "unknown filter field %q", f.Field)
	}
	return b.columnFilter(f, col)
}

// columnFilter compiles a condition on a contacts column.
func (b *sqlBuilder) columnFilter(f *sandbox.Filter, col contactColumn) error {
	c := `c.` + col.name
	switch f.Operator {
	case sandbox.OpEq, sandbox.OpNotEq:
		not := f.Operator == sandbox.OpNotEq
		if list, ok := f.Value.([]any); ok {
			vals, err := columnValues(col, list, f.Field)
			if err != nil {
				return err
			}
			if len(vals) == 0 {
				b.write(either(not, `1 = 1`, `1 = 0`))
				return nil
			}
			b.write(c + either(not, ` NOT IN `, ` IN `)).argList(vals)
			return nil
		}
		v, err := columnValue(col, f.Value, f.Field)
		if err != nil {
			return err
		}
		b.write(c + either(not, ` <> `, ` = `)).arg(v)
		return nil
	case sandbox.OpContains, sandbox.OpNotContains:
		if col.typ != sandbox.FieldText {
			return badOperator(f)
		}
		s, err := textOf(f.Value, f.Field)
		if err != nil {
			return err
		}
		if !col.exact {
			s = strings.ToLower(s)
		}
		op := ` LIKE `
		if f.Operator == sandbox.OpNotContains {
			op = ` NOT LIKE `
		}
		b.write(c + op).arg(likeContains(clean(s))).write(` ESCAPE '\'`)
		return nil
	case sandbox.OpExists, sandbox.OpNotExists:
		not := f.Operator == sandbox.OpNotExists
		switch col.typ {
		case sandbox.FieldBool: // always set
			b.write(either(not, `1 = 0`, `1 = 1`))
		case sandbox.FieldDate:
			b.write(c + either(not, ` = 0`, ` <> 0`))
		default:
			b.write(c + either(not, ` = ''`, ` <> ''`))
		}
		return nil
	case sandbox.OpRange:
		if col.typ == sandbox.FieldBool {
			return badOperator(f)
		}
		bounds, err := rangeBounds(f)
		if err != nil {
			return err
		}
		b.write(`(` + c)
		if col.typ == sandbox.FieldDate {
			b.write(` <> 0`)
		} else {
			b.write(` <> ''`)
		}
		for _, bd := range bounds {
			v, err := columnValue(col, bd.value, f.Field)
			if err != nil {
				return err
			}
			b.write(` AND ` + c + bd.op).arg(v)
		}
		b.write(`)`)
		return nil
	}
	return badOperator(f)
}

// tagFilter compiles a condition on the contact's tags.
func (b *sqlBuilder) tagFilter(f *sandbox.Filter, loc string) error {
	// in opens "c.id [NOT] IN (SELECT contact_id FROM contact_tags WHERE"
	// so that the database can drive the search from the tag index.
	in := func(not bool) {
		b.write(`c.id`)
		if not {
			b.write(` NOT`)
		}
		b.write(` IN (SELECT contact_id FROM contact_tags WHERE `)
		if loc != "" {
			b.write(`location_id = `).arg(loc).write(` AND `)
		}
	}
	switch f.Operator {
	case sandbox.OpEq, sandbox.OpNotEq:
		var tags []any
		if list, ok := f.Value.([]any); ok {
			for _, v := range list {
				s, err := textOf(v, f.Field)
				if err != nil {
					return err
				}
				tags = append(tags, fold(s))
			}
		} else {
			s, err := textOf(f.Value, f.Field)
			if err != nil {
				return err
			}
			tags = append(tags, fold(s))
		}
		not := f.Operator == sandbox.OpNotEq
		if len(tags) == 0 {
			b.write(either(not, `1 = 1`, `1 = 0`))
			return nil
		}
		in(not)
		if len(tags) == 1 {
			b.write(`tag = `).arg(tags[0])
		} else {
			b.write(`tag IN `).argList(tags)
		}
		b.write(`)`)
		return nil
	case sandbox.OpContains, sandbox.OpNotContains:
		s, err := textOf(f.Value, f.Field)
		if err != nil {
			return err
		}
		in(f.Operator == sandbox.OpNotContains)
		b.write(`tag LIKE `).arg(likeContains(strings.ToLower(clean(s)))).write(` ESCAPE '\')`)
		return nil
	case sandbox.OpExists, sandbox.OpNotExists:
		// Correlated: a probe of the (contact_id, tag) key per contact
		// beats listing every tagged contact of the location.
		if f.Operator == sandbox.OpNotExists {
			b.write(`NOT `)
		}
		b.write(`EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = c.id)`)
		return nil
	}
	return badOperator(f)
}

// customFieldFilter compiles a condition on a custom field value.
func (b *sqlBuilder) customFieldFilter(f *sandbox.Filter, loc string) error {
	fieldID := clean(strings.TrimPrefix(f.Field, sandbox.CustomFieldPrefix))
	if fieldID == "" {
		return sandbox.Errorf(sandbox.EUNPROCESSABLE, "unknown filter field %q", f.Field)
	}
	in := func(not bool) {
		b.write(`c.id`)
		if not {
			b.write(` NOT`)
		}
		b.write(` IN (SELECT contact_id FROM contact_custom_values WHERE `)
		if loc != "" {
			b.write(`location_id = `).arg(loc).write(` AND `)
		}
		b.write(`field_id = `).arg(fieldID)
	}
	switch f.Operator {
	case sandbox.OpEq, sandbox.OpNotEq:
		var vals []any
		list, isList := f.Value.([]any)
		if !isList {
			list = []any{f.Value}
		}
		for _, v := range list {
			text, _, ok := customValue(v)
			if !ok {
				return sandbox.Errorf(sandbox.EUNPROCESSABLE, "invalid value for %s", f.Field)
			}
			vals = append(vals, text)
		}
		not := f.Operator == sandbox.OpNotEq
		if len(vals) == 0 {
			b.write(either(not, `1 = 1`, `1 = 0`))
			return nil
		}
		in(not)
		if len(vals) == 1 {
			b.write(` AND value_text = `).arg(vals[0])
		} else {
			b.write(` AND value_text IN `).argList(vals)
		}
		b.write(`)`)
		return nil
	case sandbox.OpContains, sandbox.OpNotContains:
		s, err := textOf(f.Value, f.Field)
		if err != nil {
			return err
		}
		in(f.Operator == sandbox.OpNotContains)
		b.write(` AND value_text LIKE `).arg(likeContains(strings.ToLower(clean(s)))).write(` ESCAPE '\')`)
		return nil
	case sandbox.OpExists, sandbox.OpNotExists:
		in(f.Operator == sandbox.OpNotExists)
		b.write(`)`)
		return nil
	case sandbox.OpRange:
		bounds, err := rangeBounds(f)
		if err != nil {
			return err
		}
		in(false)
		for _, bd := range bounds {
			n, ok := numberOf(bd.value)
			if !ok {
				return sandbox.Errorf(sandbox.EUNPROCESSABLE, "range on %s needs numbers or dates", f.Field)
			}
			b.write(` AND value_num` + bd.op).arg(n)
		}
		b.write(`)`)
		return nil
	}
	return badOperator(f)
}

// either returns yes when cond holds, else no.
func either(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

func badOperator(f *sandbox.Filter) error {
	if f.Operator == "" {
		return sandbox.Errorf(sandbox.EUNPROCESSABLE, "filter on %q has no operator", f.Field)
	}
	return sandbox.Errorf(sandbox.EUNPROCESSABLE, "operator %q is not supported on filter field %q", f.Operator, f.Field)
}

// bound is one side of a range.
type bound struct {
	op    string // " > ", " >= ", " < ", " <= "
	value any
}

// rangeBounds returns the bounds of a range filter, whose Value is a
// *sandbox.Range (or a sandbox.Range, or a map with gt/gte/lt/lte keys).
func rangeBounds(f *sandbox.Filter) ([]bound, error) {
	var r sandbox.Range
	switch v := f.Value.(type) {
	case *sandbox.Range:
		if v != nil {
			r = *v
		}
	case sandbox.Range:
		r = v
	case map[string]any:
		r = sandbox.Range{GT: v["gt"], GTE: v["gte"], LT: v["lt"], LTE: v["lte"]}
	default:
		return nil, sandbox.Errorf(sandbox.EUNPROCESSABLE, "range on %s needs gt, gte, lt or lte bounds", f.Field)
	}
	var out []bound
	for _, bd := range []bound{{` > `, r.GT}, {` >= `, r.GTE}, {` < `, r.LT}, {` <= `, r.LTE}} {
		if bd.value != nil {
			out = append(out, bd)
		}
	}
	if len(out) == 0 {
		return nil, sandbox.Errorf(sandbox.EUNPROCESSABLE, "range on %s needs gt, gte, lt or lte bounds", f.Field)
	}
	return out, nil
}

// columnValues converts each of vs with columnValue.
func columnValues(col contactColumn, vs []any, what string) ([]any, error) {
	out := make([]any, 0, len(vs))
	for _, v := range vs {
		cv, err := columnValue(col, v, what)
		if err != nil {
			return nil, err
		}
		out = append(out, cv)
	}
	return out, nil
}

// columnValue converts a filter or searchAfter value to the stored form of
// col: folded or exact text, epoch milliseconds, or 0/1.
func columnValue(col contactColumn, v any, what string) (any, error) {
	switch col.typ {
	case sandbox.FieldDate:
		ms, ok := millisOf(v)
		if !ok {
			return nil, sandbox.Errorf(sandbox.EUNPROCESSABLE, "invalid date value %v for %s", v, what)
		}
		return ms, nil
	case sandbox.FieldBool:
		bv, ok := boolOf(v)
		if !ok {
			return nil, sandbox.Errorf(sandbox.EUNPROCESSABLE, "invalid boolean value %v for %s", v, what)
		}
		return boolInt(bv), nil
	}
	s, err := textOf(v, what)
	if err != nil {
		return nil, err
	}
	if col.exact {
		return exactText(s), nil
	}
	return fold(s), nil
}

// textOf accepts a string, or a number or boolean written as text.
func textOf(v any, what string) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case float64:
		return formatNumber(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case bool:
		return strconv.FormatBool(v), nil
	}
	return "", sandbox.Errorf(sandbox.EUNPROCESSABLE, "invalid value %v for %s", v, what)
}

// millisOf accepts epoch milliseconds (as any number type, json.Number or a
// numeric string), a date string, or a time.
func millisOf(v any) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1<<62 {
			return 0, false
		}
		return int64(math.Round(v)), true
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n, true
		}
		f, err := v.Float64()
		if err != nil {
			return 0, false
		}
		return millisOf(f)
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, true
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return millisOf(f)
		}
		tm, err := sandbox.ParseTime(v)
		if err != nil {
			return 0, false
		}
		return tm.UnixMilli(), true
	case time.Time:
		return v.UnixMilli(), true
	case sandbox.Time:
		return dateMillis(v), true
	case *sandbox.Time:
		if v == nil {
			return 0, false
		}
		return dateMillis(*v), true
	}
	return 0, false
}

// numberOf accepts a number, json.Number, or a string that is a number or
// a date (as epoch milliseconds), for custom field ranges.
func numberOf(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		return numberOrDate(v)
	case time.Time:
		return float64(v.UnixMilli()), true
	case sandbox.Time:
		return float64(dateMillis(v)), true
	}
	return 0, false
}

// boolOf accepts a boolean, "true"/"false", or 1/0.
func boolOf(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		b, err := strconv.ParseBool(v)
		return b, err == nil
	case float64:
		return v != 0, v == 0 || v == 1
	case int:
		return v != 0, v == 0 || v == 1
	case int64:
		return v != 0, v == 0 || v == 1
	case json.Number:
		n, err := v.Int64()
		return n != 0, err == nil && (n == 0 || n == 1)
	}
	return false, false
}

// likeContains returns the LIKE pattern matching s as a substring, with
// LIKE's wildcards and the escape character escaped (used with ESCAPE '\').
func likeContains(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 4)
	b.WriteByte('%')
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '%', '_', '\\':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('%')
	return b.String()
}
