package sandbox_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

func TestParseContactSearch(t *testing.T) {
	q, err := sandbox.ParseContactSearch([]byte(`{"locationId":"L1","page":3,"pageLimit":10,"query":" ann ",
		"sort":[{"field":"firstNameLowerCase","direction":"DESC"}],
		"filters":[{"field":"dateAdded","operator":"range","value":{"gte":"2024-01-01T00:00:00Z","lt":1704153600000}},
			{"group":"or","filters":[{"field":"dnd","operator":"eq","value":"true"},{"field":"tags","operator":"eq","value":["a","b"]}]},
			{"field":"customField.abc","operator":"exists"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if q.LocationID != "L1" || q.Offset != 20 || q.Limit != 10 || q.Query != "ann" {
		t.Errorf("query %+v", q)
	}
	if !slices.Equal(q.Sort, []sandbox.Sort{{Field: "firstName", Desc: true}}) {
		t.Errorf("sort %+v", q.Sort)
	}
	root := q.Filter
	if root == nil || root.Group != "AND" || len(root.Filters) != 3 {
		t.Fatalf("root %+v", root)
	}
	r, ok := root.Filters[0].Value.(*sandbox.Range)
	if !ok || r.GTE != int64(1704067200000) || r.LT != int64(1704153600000) || r.GT != nil || r.LTE != nil {
		t.Errorf("date range %#v", root.Filters[0].Value)
	}
	or := root.Filters[1]
	if or.Group != "OR" || or.Filters[0].Value != true || fmt.Sprint(or.Filters[1].Value) != "[a b]" {
		t.Errorf("or group %+v", or)
	}
	if root.Filters[2].Field != "customFields.abc" || root.Filters[2].Operator != sandbox.OpExists {
		t.Errorf("custom field filter %+v", root.Filters[2])
	}

	// Defaults: page 1, 20 per page, no filter.
	q, err = sandbox.ParseContactSearch([]byte(`{"locationId":"L1"}`))
	if err != nil || q.Offset != 0 || q.Limit != sandbox.ContactSearchDefaultPageLimit || q.Filter != nil {
		t.Errorf("defaults %+v %v", q, err)
	}
	// searchAfter continues from a cursor: sort values, then the id.
	q, err = sandbox.ParseContactSearch([]byte(`{"locationId":"L1","pageLimit":5,"searchAfter":[1704067200000,"abc"]}`))
	if err != nil || len(q.SearchAfter) != 2 || q.SearchAfter[0] != int64(1704067200000) || q.SearchAfter[1] != "abc" {
		t.Errorf("searchAfter %+v %v", q, err)
	}

	for _, tc := range []struct {
		body, code, msg string
	}{
		{`{"locationId":`, sandbox.EINVALID, "Unexpected token"},
		{`[1,2]`, sandbox.EINVALID, "must be a JSON object"},
		{`{"locationId":"L1"} {}`, sandbox.EINVALID, "Unexpected token"},
		{`{}`, sandbox.EUNPROCESSABLE, "locationId should not be empty"},
		{`{"locationId":5}`, sandbox.EUNPROCESSABLE, "locationId must be a string"},
		{`{"locationId":"L1","pageLimit":501}`, sandbox.EUNPROCESSABLE, "pageLimit must not be greater than 500"},
		{`{"locationId":"L1","pageLimit":0}`, sandbox.EUNPROCESSABLE, "pageLimit must not be less than 1"},
		{`{"locationId":"L1","page":1.5}`, sandbox.EUNPROCESSABLE, "page must be an integer number"},
		{`{"locationId":"L1","page":21,"pageLimit":500}`, sandbox.EUNPROCESSABLE, "must not exceed 10000"},
		{`{"locationId":"L1","page":2,"searchAfter":[1,"a"]}`, sandbox.EUNPROCESSABLE, "searchAfter cannot be combined with page greater than 1"},
		{`{"locationId":"L1","searchAfter":[1]}`, sandbox.EUNPROCESSABLE, "searchAfter must have 2 values"},
		{`{"locationId":"L1","searchAfter":[{},"a"]}`, sandbox.EUNPROCESSABLE, "searchAfter[0] must be a string, number or boolean"},
		{`{"locationId":"L1","query":"` + strings.Repeat("x", 76) + `"}`, sandbox.EUNPROCESSABLE, "query must be shorter than or equal to 75 characters"},
		{`{"locationId":"L1","sort":[{"field":"tags","direction":"asc"}]}`, sandbox.EUNPROCESSABLE, `sort[0].field "tags" is not a sortable contact field`},
		{`{"locationId":"L1","sort":[{"field":"email","direction":"up"}]}`, sandbox.EUNPROCESSABLE, "sort[0].direction must be one of asc, desc"},
		{`{"locationId":"L1","filters":{"field":"email"}}`, sandbox.EUNPROCESSABLE, "filters must be an array"},
		{`{"locationId":"L1","filters":[{"field":"email","operator":"exists"},{"field":"email","operator":"like","value":"a"}]}`, sandbox.EUNPROCESSABLE, "filters[1].operator must be one of eq, not_eq, contains, not_contains, exists, not_exists, range"},
		{`{"locationId":"L1","filters":[{"group":"AND","filters":[{"field":"email","operator":"exists"},{"field":"shoeSize","operator":"eq","value":"9"}]}]}`, sandbox.EUNPROCESSABLE, `filters[0].filters[1].field "shoeSize" is not a searchable contact field`},
		{`{"locationId":"L1","filters":[{"group":"XOR","filters":[]}]}`, sandbox.EUNPROCESSABLE, "filters[0].group must be one of AND, OR"},
		{`{"locationId":"L1","filters":[{"field":"email","operator":"eq"}]}`, sandbox.EUNPROCESSABLE, "filters[0].value is required for operator eq"},
		{`{"locationId":"L1","filters":[{"field":"dateAdded","operator":"eq","value":"yesterday"}]}`, sandbox.EUNPROCESSABLE, "filters[0].value must be a date"},
		{`{"locationId":"L1","filters":[{"field":"dateAdded","operator":"contains","value":"2024"}]}`, sandbox.EUNPROCESSABLE, "filters[0].operator contains cannot be used with the field dateAdded"},
		{`{"locationId":"L1","filters":[{"field":"dnd","operator":"eq","value":"maybe"}]}`, sandbox.EUNPROCESSABLE, "filters[0].value must be a boolean"},
		{`{"locationId":"L1","filters":[{"field":"tags","operator":"range","value":{"gt":"a"}}]}`, sandbox.EUNPROCESSABLE, "filters[0].operator range cannot be used with the field tags"},
		{`{"locationId":"L1","filters":[{"field":"dateAdded","operator":"range","value":{}}]}`, sandbox.EUNPROCESSABLE, "filters[0].value must have at least one of gt, gte, lt, lte"},
		{`{"locationId":"L1","filters":[{"field":"dateAdded","operator":"range","value":{"after":1}}]}`, sandbox.EUNPROCESSABLE, "filters[0].value.after is not a range bound"},
		{`{"locationId":"L1","filters":[{"field":"email","operator":"contains","value":""}]}`, sandbox.EUNPROCESSABLE, "filters[0].value must be a non-empty string"},
		{`{"locationId":"L1","filters":[{"group":"AND","filters":[{"group":"AND","filters":[{"group":"AND","filters":[{"group":"AND","filters":[{"group":"AND","filters":[]}]}]}]}]}]}`, sandbox.EUNPROCESSABLE, "nests groups deeper than 5 levels"},
	} {
		_, err := sandbox.ParseContactSearch([]byte(tc.body))
		if sandbox.ErrorCode(err) != tc.code {
			t.Errorf("%s: code %q (%v), want %q", tc.body, sandbox.ErrorCode(err), err, tc.code)
			continue
		}
		var se *sandbox.Error
		if !errors.As(err, &se) {
			t.Fatalf("%T is not *sandbox.Error", err)
		}
		text := se.Message + "|" + strings.Join(se.Details, "|")
		if !strings.Contains(text, tc.msg) {
			t.Errorf("%s: message %q, want %q", tc.body, text, tc.msg)
		}
	}
}

// searchFixture is five contacts of L1 (Ann … Eve, one second apart) with
// tags, custom fields and DND, and one contact of L2.
type searchFixture struct {
	e              *testEnv
	ids            map[string]string // first name → id
	budget, size   string            // custom field ids
	added          map[string]string // first name → dateAdded
	names          map[string]string // id → first name
	searchResponse map[string]any
}

func newSearchFixture(t *testing.T) *searchFixture {
	e := newTestEnv(t, withContactClock)
	f := &searchFixture{e: e, ids: map[string]string{}, added: map[string]string{}, names: map[string]string{}}
	f.budget = putContactRecord(t, e, sandbox.KindCustomField, e.L1, "contact.budget", &sandbox.CustomField{Name: "Budget", FieldKey: "contact.budget", DataType: "NUMERICAL", Model: "contact"})
	f.size = putContactRecord(t, e, sandbox.KindCustomField, e.L1, "contact.size", &sandbox.CustomField{Name: "Size", FieldKey: "contact.size", DataType: "SINGLE_OPTIONS", Model: "contact", PicklistOptions: []string{"Small", "Large"}})
	for _, c := range []map[string]any{
		{"firstName": "Ann", "email": "ann@acme.com", "phone": "+14155550001", "tags": []string{"vip", "lead"}, "city": "Austin", "companyName": "Acme",
			"customFields": []map[string]any{{"id": f.budget, "field_value": 500}, {"id": f.size, "field_value": "Large"}}},
		{"firstName": "Bob", "email": "bob@beta.io", "tags": []string{"lead"}, "city": "Boston", "dnd": true,
			"customFields": []map[string]any{{"id": f.budget, "field_value": "50"}}},
		{"firstName": "Cara", "phone": "+44 20 7946 0958", "city": "Austin", "companyName": "Acme Labs"},
		{"firstName": "Dan", "email": "dan@acme.com", "tags": []string{"customer"},
			"customFields": []map[string]any{{"key": "size", "field_value": "Small"}}},
		{"firstName": "Eve", "email": "eve@x.org", "tags": []string{"vip"}, "source": "web"},
	} {
		c["locationId"] = e.L1
		got := createContactT(t, e, e.TokL1, c)
		name := c["firstName"].(string)
		f.ids[name] = got["id"].(string)
		f.names[got["id"].(string)] = name
		f.added[name] = got["dateAdded"].(string)
	}
	createContactT(t, e, e.TokL2, map[string]any{"locationId": e.L2, "firstName": "Ann", "email": "ann@acme.com"})
	return f
}

// search runs POST /contacts/search and returns the first names found, in
// order; the full answer is kept in f.searchResponse.
func (f *searchFixture) search(t *testing.T, body map[string]any) []string {
	t.Helper()
	if _, ok := body["locationId"]; !ok {
		body["locationId"] = f.e.L1
	}
	m := f.e.do("POST", "/contacts/search", f.e.TokL1, body).mustStatus(t, 200).JSON(t)
	f.searchResponse = m
	var out []string
	for _, c := range m["contacts"].([]any) {
		out = append(out, f.names[c.(map[string]any)["id"].(string)])
	}
	return out
}

func TestSearchContactsFilters(t *testing.T) {
	f := newSearchFixture(t)
	leaf := func(field, op string, value any) map[string]any {
		m := map[string]any{"field": field, "operator": op}
		if value != nil {
			m["value"] = value
		}
		return m
	}
	asc := []map[string]any{{"field": "dateAdded", "direction": "asc"}}
	addedMS := func(name string) int64 {
		tm, err := time.Parse(sandbox.TimeLayout, f.added[name])
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	for _, tc := range []struct {
		name    string
		filters []map[string]any
		query   string
		want    []string
	}{
		{"eq is case-insensitive", []map[string]any{leaf("firstName", "eq", "ann")}, "", []string{"Ann"}},
		{"GHL's lower-case field name", []map[string]any{leaf("firstNameLowerCase", "eq", "ANN")}, "", []string{"Ann"}},
		{"eq any of", []map[string]any{leaf("city", "eq", []string{"Boston", "austin"})}, "", []string{"Ann", "Bob", "Cara"}},
		{"not_eq includes contacts without the field", []map[string]any{leaf("city", "not_eq", "Austin")}, "", []string{"Bob", "Dan", "Eve"}},
		{"contains", []map[string]any{leaf("email", "contains", "ACME")}, "", []string{"Ann", "Dan"}},
		{"not_contains", []map[string]any{leaf("email", "not_contains", "acme")}, "", []string{"Bob", "Cara", "Eve"}},
		{"exists", []map[string]any{leaf("email", "exists", nil)}, "", []string{"Ann", "Bob", "Dan", "Eve"}},
		{"not_exists", []map[string]any{leaf("email", "not_exists", nil)}, "", []string{"Cara"}},
		{"phone in E.164", []map[string]any{leaf("phone", "eq", "+442079460958")}, "", []string{"Cara"}},
		{"businessName alias", []map[string]any{leaf("businessName", "contains", "labs")}, "", []string{"Cara"}},
		{"dnd", []map[string]any{leaf("dnd", "eq", true)}, "", []string{"Bob"}},
		{"date range, ISO and epoch ms", []map[string]any{leaf("dateAdded", "range", map[string]any{"gte": f.added["Cara"], "lte": addedMS("Dan")})}, "", []string{"Cara", "Dan"}},
		{"tags eq", []map[string]any{leaf("tags", "eq", "VIP")}, "", []string{"Ann", "Eve"}},
		{"tags any of", []map[string]any{leaf("tags", "eq", []string{"customer", "vip"})}, "", []string{"Ann", "Dan", "Eve"}},
		{"tags not_eq", []map[string]any{leaf("tags", "not_eq", "vip")}, "", []string{"Bob", "Cara", "Dan"}},
		{"tags exists", []map[string]any{leaf("tags", "exists", nil)}, "", []string{"Ann", "Bob", "Dan", "Eve"}},
		{"tags not_exists", []map[string]any{leaf("tags", "not_exists", nil)}, "", []string{"Cara"}},
		{"top level is AND", []map[string]any{leaf("tags", "eq", "lead"), leaf("city", "eq", "Austin")}, "", []string{"Ann"}},
		{"OR group", []map[string]any{{"group": "OR", "filters": []map[string]any{leaf("city", "eq", "Boston"), leaf("tags", "eq", "customer")}}}, "", []string{"Bob", "Dan"}},
		{"AND with a nested OR", []map[string]any{leaf("companyName", "contains", "acme"), {"group": "OR", "filters": []map[string]any{leaf("city", "eq", "Austin"), leaf("email", "exists", nil)}}}, "", []string{"Ann", "Cara"}},
		{"custom field by id, range", []map[string]any{leaf("customFields."+f.budget, "range", map[string]any{"gte": 100})}, "", []string{"Ann"}},
		{"custom field by key", []map[string]any{leaf("customFields.budget", "eq", 50)}, "", []string{"Bob"}},
		{"customField.<id> form", []map[string]any{leaf("customField."+f.size, "eq", "small")}, "", []string{"Dan"}},
		{"custom field exists", []map[string]any{leaf("customFields.contact.budget", "exists", nil)}, "", []string{"Ann", "Bob"}},
		{"query", nil, "acme", []string{"Ann", "Cara", "Dan"}},
		{"query and filter", []map[string]any{leaf("tags", "exists", nil)}, "acme", []string{"Ann", "Dan"}},
	} {
		body := map[string]any{"pageLimit": 100, "sort": asc}
		if tc.filters != nil {
			body["filters"] = tc.filters
		}
		if tc.query != "" {
			body["query"] = tc.query
		}
		got := f.search(t, body)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		if f.searchResponse["total"] != float64(len(tc.want)) {
			t.Errorf("%s: total %v", tc.name, f.searchResponse["total"])
		}
	}

	// Sorting, and the default order (newest first).
	if got := f.search(t, map[string]any{"sort": []map[string]any{{"field": "firstName", "direction": "desc"}}}); !slices.Equal(got, []string{"Eve", "Dan", "Cara", "Bob", "Ann"}) {
		t.Errorf("sort by firstName desc: %v", got)
	}
	if got := f.search(t, map[string]any{}); !slices.Equal(got, []string{"Eve", "Dan", "Cara", "Bob", "Ann"}) {
		t.Errorf("default order: %v", got)
	}
	// Each contact carries its cursor; answers keep the contact's shape.
	c := f.searchResponse["contacts"].([]any)[0].(map[string]any)
	if sa, _ := c["searchAfter"].([]any); len(sa) != 2 || sa[1] != f.ids["Eve"] || c["email"] != "eve@x.org" {
		t.Errorf("search contact %v", c)
	}
	// Search answers each contact as GET does, plus the cursor.
	got := f.e.do("GET", "/contacts/"+f.ids["Eve"], f.e.TokL1, nil).mustStatus(t, 200).JSON(t)["contact"].(map[string]any)
	delete(c, "searchAfter")
	if !reflect.DeepEqual(c, got) {
		t.Errorf("search answered\n %v\nGET answered\n %v", c, got)
	}
	if c["emailLowerCase"] != "eve@x.org" || c["firstNameLowerCase"] != "eve" {
		t.Errorf("search contact lacks GHL's lower-cased copies: %v", c)
	}
}

func TestSearchContactsErrors(t *testing.T) {
	f := newSearchFixture(t)
	e := f.e
	post := func(tok string, body any) *response { return e.do("POST", "/contacts/search", tok, body) }
	wantError(t, post(e.TokL1, map[string]any{"locationId": e.L1, "filters": []map[string]any{{"field": "email", "operator": "exists"}, {"field": "email", "operator": "between", "value": 1}}}), 422, "filters[1].operator must be one of eq, not_eq")
	wantError(t, post(e.TokL1, map[string]any{"locationId": e.L1, "filters": []map[string]any{{"field": "customFields.shoe_size", "operator": "exists"}}}), 422, `filters[0].field: no contact custom field "shoe_size"`)
	wantError(t, post(e.TokL1, map[string]any{"locationId": e.L1, "pageLimit": 1000}), 422, "pageLimit must not be greater than 500")
	wantError(t, post(e.TokL1, map[string]any{"locationId": e.L1, "page": 2, "searchAfter": []any{1, "x"}}), 422, "searchAfter cannot be combined")
	wantError(t, post(e.TokL1, map[string]any{}), 422, "locationId should not be empty")
	wantError(t, post(e.TokL1, `{"locationId": "`+e.L1+`", `), 400, "Unexpected token")
	wantError(t, post(e.TokL2, map[string]any{"locationId": e.L1}), 403, sandbox.MsgLocation)
	// The read-only token may search; it only reads.
	post(e.TokL1Read, map[string]any{"locationId": e.L1}).mustStatus(t, 200)
	// Each location sees its own contacts only.
	m := post(e.TokL2, map[string]any{"locationId": e.L2}).mustStatus(t, 200).JSON(t)
	if m["total"] != float64(1) {
		t.Errorf("L2 total %v", m["total"])
	}
}

// TestSearchContactsPaging pages through every contact with page numbers
// and with searchAfter cursors, over a sort with many ties.
func TestSearchContactsPaging(t *testing.T) {
	e := newTestEnv(t)
	want := map[string]bool{}
	for i := range 23 {
		id := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "firstName": fmt.Sprintf("P%02d", i), "city": []string{"Austin", "Boston", "Chicago"}[i%3]})["id"].(string)
		want[id] = true
	}
	for _, sort := range [][]map[string]any{
		nil, // dateAdded desc (contacts created in one millisecond tie)
		{{"field": "city", "direction": "asc"}},
		{{"field": "city", "direction": "desc"}, {"field": "firstName", "direction": "asc"}},
	} {
		label := fmt.Sprint(sort)
		// searchAfter: each page starts after the last contact's cursor.
		seen := map[string]bool{}
		var cursor []any
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("%s: searchAfter does not end", label)
			}
			body := map[string]any{"locationId": e.L1, "pageLimit": 5}
			if sort != nil {
				body["sort"] = sort
			}
			if cursor != nil {
				body["searchAfter"] = cursor
			}
			m := e.do("POST", "/contacts/search", e.TokL1, body).mustStatus(t, 200).JSON(t)
			if m["total"] != float64(23) {
				t.Errorf("%s: total %v", label, m["total"])
			}
			cs := m["contacts"].([]any)
			if len(cs) == 0 {
				break
			}
			for _, c := range cs {
				id := c.(map[string]any)["id"].(string)
				if seen[id] {
					t.Errorf("%s: %s twice", label, id)
				}
				seen[id] = true
			}
			cursor = cs[len(cs)-1].(map[string]any)["searchAfter"].([]any)
		}
		if len(seen) != len(want) {
			t.Errorf("%s: searchAfter saw %d of %d contacts", label, len(seen), len(want))
		}
		// page/pageLimit give the same sequence.
		byPage := map[string]bool{}
		for page := 1; page <= 5; page++ {
			body := map[string]any{"locationId": e.L1, "pageLimit": 5, "page": page}
			if sort != nil {
				body["sort"] = sort
			}
			for _, c := range e.do("POST", "/contacts/search", e.TokL1, body).mustStatus(t, 200).JSON(t)["contacts"].([]any) {
				byPage[c.(map[string]any)["id"].(string)] = true
			}
		}
		if len(byPage) != len(want) {
			t.Errorf("%s: pages saw %d of %d contacts", label, len(byPage), len(want))
		}
	}
}

func FuzzParseContactSearch(f *testing.F) {
	for _, seed := range []string{
		`{"locationId":"L1","page":1,"pageLimit":20}`,
		`{"locationId":"L1","filters":[{"field":"email","operator":"contains","value":"a"}],"sort":[{"field":"dateAdded","direction":"desc"}]}`,
		`{"locationId":"L1","filters":[{"group":"OR","filters":[{"field":"tags","operator":"eq","value":["a","b"]},{"field":"dnd","operator":"eq","value":true}]}]}`,
		`{"locationId":"L1","filters":[{"field":"dateAdded","operator":"range","value":{"gte":"2024-01-01","lt":1704153600000}}]}`,
		`{"locationId":"L1","searchAfter":[1704067200000,"abc"],"pageLimit":500}`,
		`{"locationId":"L1","filters":[{"field":"customFields.x","operator":"range","value":{"gt":"5"}}],"query":"ann"}`,
		`{"locationId":1,"page":-1,"filters":{},"sort":"x"}`,
		`[]`, `null`, `{`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := sandbox.ParseContactSearch(body)
		if err != nil {
			if code := sandbox.ErrorCode(err); code != sandbox.EINVALID && code != sandbox.EUNPROCESSABLE {
				t.Fatalf("error code %q: %v", code, err)
			}
			if q != nil {
				t.Fatal("a query with an error")
			}
			return
		}
		if q.LocationID == "" || q.Limit < 1 || q.Limit > sandbox.ContactSearchMaxPageLimit || q.Offset < 0 || q.Offset+q.Limit > sandbox.ContactSearchMaxWindow {
			t.Fatalf("out of bounds: %+v", q)
		}
		if len(q.SearchAfter) > 0 && (q.Offset != 0 || len(q.SearchAfter) != max(len(q.Sort), 1)+1) {
			t.Fatalf("searchAfter %v with offset %d and %d sorts", q.SearchAfter, q.Offset, len(q.Sort))
		}
		for _, s := range q.Sort {
			if typ, ok := sandbox.ContactFields[s.Field]; !ok || typ == sandbox.FieldTags {
				t.Fatalf("unsortable %q", s.Field)
			}
		}
		var walk func(f *sandbox.Filter, depth int)
		walk = func(f *sandbox.Filter, depth int) {
			if depth > 6 {
				t.Fatalf("depth %d", depth)
			}
			if f.Field == "" {
				if f.Group != "AND" && f.Group != "OR" {
					t.Fatalf("group %q", f.Group)
				}
				for i := range f.Filters {
					walk(&f.Filters[i], depth+1)
				}
				return
			}
			if _, ok := sandbox.ContactFields[f.Field]; !ok && !strings.HasPrefix(f.Field, sandbox.CustomFieldPrefix) {
				t.Fatalf("field %q", f.Field)
			}
			switch f.Operator {
			case sandbox.OpRange:
				if _, ok := f.Value.(*sandbox.Range); !ok {
					t.Fatalf("range value %T", f.Value)
				}
			case sandbox.OpEq, sandbox.OpNotEq, sandbox.OpContains, sandbox.OpNotContains:
				if f.Value == nil {
					t.Fatalf("%s without value", f.Operator)
				}
			case sandbox.OpExists, sandbox.OpNotExists:
			default:
				t.Fatalf("operator %q", f.Operator)
			}
		}
		if q.Filter != nil {
			walk(q.Filter, 0)
		}
	})
}

// newContactFuzzServer is a fuzzServer with contact custom fields of
// several types.
func newContactFuzzServer(f *testing.F) *fuzzServer {
	return newFuzzServer(f, func(loc string) []*sandbox.CustomField {
		var defs []*sandbox.CustomField
		for i, typ := range []string{"TEXT", "NUMERICAL", "SINGLE_OPTIONS", "MULTIPLE_OPTIONS", "DATE", "EMAIL", "FILE_UPLOAD"} {
			defs = append(defs, &sandbox.CustomField{ID: fmt.Sprintf("field%015d", i), Name: typ, FieldKey: fmt.Sprintf("contact.f%d", i), DataType: typ, Model: "contact", LocationID: loc, PicklistOptions: []string{"A", "B"}})
		}
		return defs
	})
}

// FuzzCreateContactBody sends arbitrary bodies to POST /contacts/ (as they
// are, and with the location's id put in): the answer is never a 5xx and
// always JSON; errors carry GHL's statusCode.
func FuzzCreateContactBody(f *testing.F) {
	for _, seed := range []string{
		`{"firstName":"Rosan","lastName":"Deo","email":"rosan@deos.com","phone":"+1 888-888-8888","tags":["a","A"]}`,
		`{"name":"Jane Doe","dateOfBirth":"09/25/1990","dnd":true,"dndSettings":{"SMS":{"status":"inactive"}}}`,
		`{"customFields":[{"id":"field000000000000001","field_value":"12.5"},{"key":"f2","value":"A"},{"key":"contact.f3","field_value":["A","C"]}]}`,
		`{"customFields":[{"id":"field000000000000004","field_value":1700000000000},{"key":"f6","field_value":{"x":{"url":"u"}}}]}`,
		`{"phone":"0044 20 7946 0958","country":"gb","inboundDndSettings":{"all":{"status":"active"}}}`,
		`{"email":null,"phone":null,"tags":null,"customFields":null,"dateOfBirth":null}`,
		`{"firstName":1}`, `[]`, `{"`, `null`,
	} {
		f.Add([]byte(seed))
	}
	fs := newContactFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		check := func(rec *httptest.ResponseRecorder) {
			if rec.Code >= 500 {
				t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
			}
			var m map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
				t.Fatalf("status %d, body not a JSON object: %q", rec.Code, rec.Body)
			}
			if rec.Code >= 400 && m["statusCode"] != float64(rec.Code) {
				t.Fatalf("error body %v for status %d", m, rec.Code)
			}
			if rec.Code == 201 {
				if c, _ := m["contact"].(map[string]any); c["locationId"] != fs.loc || len(fmt.Sprint(c["id"])) != 20 {
					t.Fatalf("created %v", m)
				}
			}
		}
		check(fs.send(http.MethodPost, "/contacts/", "application/json", body))
		var obj map[string]any
		if json.Unmarshal(body, &obj) == nil && obj != nil {
			obj["locationId"] = fs.loc
			withLoc, err := json.Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			check(fs.send(http.MethodPost, "/contacts/", "application/json", withLoc))
		}
	})
}

// TestSearchContactsPhoneForms finds a contact by its phone written the
// ways people write it, as the duplicate search does: eq, not_eq and lists
// compare in E.164 (national numbers in the location's country), contains
// ignores the punctuation.
func TestSearchContactsPhoneForms(t *testing.T) {
	e := newTestEnv(t, withContactClock)
	us := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "firstName": "Sam", "phone": "+14155550199"})["id"].(string)
	other := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "firstName": "Pat", "phone": "+14155550100"})["id"].(string)
	none := createContactT(t, e, e.TokL1, map[string]any{"locationId": e.L1, "firstName": "Nil"})["id"].(string)
	// A British location reads national numbers in its own plan.
	e.do("PUT", "/locations/"+e.L2, e.TokC1, map[string]any{"country": "GB"}).mustStatus(t, 200)
	gb := createContactT(t, e, e.TokL2, map[string]any{"locationId": e.L2, "firstName": "Liz", "phone": "020 7946 0958"})
	if gb["phone"] != "+442079460958" {
		t.Fatalf("GB contact phone %v", gb["phone"])
	}

	search := func(tok, loc string, filters ...map[string]any) []string {
		t.Helper()
		m := e.do("POST", "/contacts/search", tok, map[string]any{"locationId": loc, "filters": filters, "pageLimit": 100,
			"sort": []map[string]any{{"field": "dateAdded", "direction": "asc"}}}).mustStatus(t, 200).JSON(t)
		var ids []string
		for _, c := range m["contacts"].([]any) {
			ids = append(ids, c.(map[string]any)["id"].(string))
		}
		if m["total"] != float64(len(ids)) {
			t.Errorf("total %v for %d contacts", m["total"], len(ids))
		}
		return ids
	}
	phone := func(op string, v any) map[string]any {
		return map[string]any{"field": "phone", "operator": op, "value": v}
	}
	for _, tc := range []struct {
		name   string
		filter map[string]any
		want   []string
	}{
		{"E.164", phone("eq", "+14155550199"), []string{us}},
		{"national digits", phone("eq", "4155550199"), []string{us}},
		{"national, punctuated", phone("eq", "(415) 555-0199"), []string{us}},
		{"international, spaced", phone("eq", "+1 415 555 0199"), []string{us}},
		{"with the trunk 1", phone("eq", "1-415-555-0199"), []string{us}},
		{"a JSON number", phone("eq", json.Number("4155550199")), []string{us}},
		{"any of", phone("eq", []any{"not a phone", "415.555.0100", "(415) 555-0199"}), []string{us, other}},
		{"not_eq", phone("not_eq", "(415) 555-0199"), []string{other, none}},
		{"not_eq any of", phone("not_eq", []any{"415 555 0199", "+1 (415) 555-0100"}), []string{none}},
		{"in an OR group", map[string]any{"group": "OR", "filters": []map[string]any{phone("eq", "415-555-0100"), {"field": "firstName", "operator": "eq", "value": "Nil"}}}, []string{other, none}},
		{"unparseable: matches nothing", phone("eq", "call me"), nil},
		{"too short: matches nothing", phone("eq", "555-0199"), nil},
		{"unparseable not_eq: matches all", phone("not_eq", "call me"), []string{us, other, none}},
		{"contains digits", phone("contains", "5550199"), []string{us}},
		{"contains, punctuated", phone("contains", "(415) 555-01"), []string{us, other}},
		{"contains with the plus", phone("contains", "+1 415"), []string{us, other}},
		{"not_contains, punctuated", phone("not_contains", "555-0199"), []string{other, none}},
		{"contains punctuation only is kept", phone("contains", "-"), nil},
		{"contains text is kept", phone("contains", "x"), nil},
	} {
		if got := search(e.TokL1, e.L1, tc.filter); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	// The British location's national form; the American one finds
	// nothing there, and the British number nothing in L1.
	if got := search(e.TokL2, e.L2, phone("eq", "020 7946 0958")); !slices.Equal(got, []string{gb["id"].(string)}) {
		t.Errorf("GB national form: %v", got)
	}
	if got := search(e.TokL2, e.L2, phone("eq", "+44 20 7946 0958")); !slices.Equal(got, []string{gb["id"].(string)}) {
		t.Errorf("GB international form: %v", got)
	}
	if got := search(e.TokL1, e.L1, phone("eq", "020 7946 0958")); len(got) != 0 {
		t.Errorf("GB number in L1: %v", got)
	}
	// contains: a national fragment with the trunk 0 is also looked for in
	// international form; one that only contains a 0 still matches as is.
	for _, frag := range []string{"020-7946-0958", "020 7946", "0958", "+44 20 79", "7946"} {
		if got := search(e.TokL2, e.L2, phone("contains", frag)); !slices.Equal(got, []string{gb["id"].(string)}) {
			t.Errorf("GB contains %q: %v", frag, got)
		}
		if got := search(e.TokL2, e.L2, phone("not_contains", frag)); slices.Contains(got, gb["id"].(string)) {
			t.Errorf("GB not_contains %q: %v has the contact", frag, got)
		}
	}
	if got := search(e.TokL2, e.L2, phone("not_contains", "030")); !slices.Contains(got, gb["id"].(string)) {
		t.Errorf("GB not_contains 030: %v lacks the contact", got)
	}
	// The duplicate search agrees.
	dup := e.do("GET", "/contacts/search/duplicate?locationId="+e.L1+"&number="+url.QueryEscape("(415) 555-0199"), e.TokL1, nil).mustStatus(t, 200).JSON(t)
	if c, _ := dup["contact"].(map[string]any); c == nil || c["id"] != us {
		t.Errorf("duplicate search = %v", dup)
	}
}
