package storetest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
)

// searchFixture is a small location whose contacts differ in every way the
// search tests look at. Contacts are named by their lower-cased first name.
type searchFixture struct {
	loc, otherLoc string
	byName        map[string]*sandbox.Contact
	names         map[string]string // id -> name
}

func newSearchFixture(t *testing.T, s sandbox.Store) *searchFixture {
	f := &searchFixture{loc: sandbox.NewID(), otherLoc: sandbox.NewID(), byName: map[string]*sandbox.Contact{}, names: map[string]string{}}
	add := func(loc, first, last string, h float64, mod func(c *sandbox.Contact)) {
		c := newContact(loc, first, last, h)
		mod(c)
		name := strings.ToLower(first)
		f.byName[name] = c
		f.names[c.ID] = name
	}
	cf := func(id string, v any) sandbox.CustomFieldValue { return sandbox.CustomFieldValue{ID: id, Value: v} }
	add(f.loc, "Alice", "Anderson", 1, func(c *sandbox.Contact) {
		c.Email, c.Phone, c.CompanyName, c.City = "Alice@Example.com", "+15550000001", "Acme Corp", "Austin"
		c.Source, c.Type, c.Country, c.DateOfBirth = "web", "lead", "US", "1990-01-15"
		c.Tags = []string{"VIP", "newsletter"}
		c.LastActivity = at(10)
		c.CustomFields = []sandbox.CustomFieldValue{cf("f_num", 10.0), cf("f_text", "Gold")}
	})
	add(f.loc, "Bob", "Brown", 2, func(c *sandbox.Contact) {
		c.Email, c.Phone, c.CompanyName, c.City = "bob@example.org", "+15550000002", "Beta LLC", "Boston"
		c.Source, c.Type, c.Dnd = "import", "customer", true
		c.Tags = []string{"newsletter"}
		c.CustomFields = []sandbox.CustomFieldValue{cf("f_num", 25.5), cf("f_text", "silver"), cf("f_multi", []any{"red", "Blue"})}
	})
	add(f.loc, "Carol", "Clark", 3, func(c *sandbox.Contact) {
		c.Email, c.CompanyName, c.City = "carol@acme.io", "Acme Corp", "Austin"
		c.Source, c.Type = "web", "customer"
		c.LastActivity = at(5)
	})
	add(f.loc, "Dave", "", 4, func(c *sandbox.Contact) {
		c.Name = "Dave"
		c.Phone, c.City, c.Type, c.Dnd = "+15550000004", "Denver", "lead", true
		c.Tags = []string{"VIP", "x_under%score"}
		c.CustomFields = []sandbox.CustomFieldValue{cf("f_num", -3.0), cf("f_text", "gold plated")}
	})
	add(f.loc, "Erin", "Evans", 5, func(c *sandbox.Contact) {
		c.Email, c.Phone, c.CompanyName = "erin@example.com", "+15550000005", "100%_Pure"
		c.Source = "web"
		c.Tags = []string{"Newsletter-Weekly"}
		c.CustomFields = []sandbox.CustomFieldValue{cf("f_date", "2024-05-01")}
	})
	// Another location, with a contact that would match many filters.
	add(f.otherLoc, "Frank", "Anderson", 6, func(c *sandbox.Contact) {
		c.Email, c.City, c.CompanyName = "alice@example.com", "Austin", "Acme Corp"
		c.Tags = []string{"VIP"}
		c.CustomFields = []sandbox.CustomFieldValue{cf("f_num", 10.0)}
	})
	write(t, s, func(tx sandbox.Tx) error {
		for _, name := range []string{"alice", "bob", "carol", "dave", "erin", "frank"} {
			if err := tx.InsertContact(context.Background(), f.byName[name]); err != nil {
				return err
			}
		}
		return nil
	})
	return f
}

// search runs q in the fixture's location and returns the names found and
// the total.
func (f *searchFixture) search(t *testing.T, s sandbox.Store, q sandbox.ContactQuery) ([]string, int) {
	t.Helper()
	if q.LocationID == "" {
		q.LocationID = f.loc
	}
	var names []string
	var total int
	read(t, s, func(tx sandbox.Tx) error {
		p, err := tx.SearchContacts(context.Background(), q)
		if err != nil {
			return err
		}
		if len(p.SortValues) != len(p.Contacts) {
			t.Errorf("%d SortValues for %d contacts", len(p.SortValues), len(p.Contacts))
		}
		for _, c := range p.Contacts {
			names = append(names, f.names[c.ID])
		}
		total = p.Total
		return nil
	})
	return names, total
}

// leaf returns a filter condition.
func leaf(field, op string, v any) *sandbox.Filter {
	return &sandbox.Filter{Field: field, Operator: op, Value: v}
}

// group returns a filter group.
func group(g string, fs ...*sandbox.Filter) *sandbox.Filter {
	out := &sandbox.Filter{Group: g}
	for _, f := range fs {
		out.Filters = append(out.Filters, *f)
	}
	return out
}

func testSearch(t *testing.T, s sandbox.Store) {
	f := newSearchFixture(t, s)
	byDate := []string{"erin", "dave", "carol", "bob", "alice"} // the default order
	// sorted returns names in the default order (dateAdded descending).
	sorted := func(names ...string) []string {
		var out []string
		for _, n := range byDate {
			if slices.Contains(names, n) {
				out = append(out, n)
			}
		}
		return out
	}
	const (
		eq, neq, has, hasnt = sandbox.OpEq, sandbox.OpNotEq, sandbox.OpContains, sandbox.OpNotContains
		ex, nex, rng        = sandbox.OpExists, sandbox.OpNotExists, sandbox.OpRange
	)
	for _, tc := range []struct {
		name   string
		filter *sandbox.Filter
		want   []string // in the default order
	}{
		{"all", nil, byDate},
		{"empty group", group("AND"), byDate},

		// Text: case-insensitive equality, substrings, presence.
		{"email eq any case", leaf("email", eq, "ALICE@example.com"), sorted("alice")},
		{"email eq any of", leaf("email", eq, []any{"bob@example.org", "Erin@Example.com"}), sorted("bob", "erin")},
		{"email eq none of empty list", leaf("email", eq, []any{}), nil},
		{"email not_eq", leaf("email", neq, "alice@example.com"), sorted("bob", "carol", "dave", "erin")},
		{"email not_eq any of", leaf("email", neq, []any{"alice@example.com", "bob@example.org"}), sorted("carol", "dave", "erin")},
		{"email contains", leaf("email", has, "EXAMPLE"), sorted("alice", "bob", "erin")},
		{"email not_contains", leaf("email", hasnt, "example"), sorted("carol", "dave")},
		{"email exists", leaf("email", ex, nil), sorted("alice", "bob", "carol", "erin")},
		{"email not_exists", leaf("email", nex, nil), sorted("dave")},
		{"email eq empty", leaf("email", eq, ""), sorted("dave")},
		{"phone eq", leaf("phone", eq, "+15550000002"), sorted("bob")},
		{"phone contains", leaf("phone", has, "0000"), sorted("alice", "bob", "dave", "erin")},
		{"phone not_exists", leaf("phone", nex, nil), sorted("carol")},
		{"id eq", leaf("id", eq, f.byName["carol"].ID), sorted("carol")},
		{"id eq other case", leaf("id", eq, strings.ToLower(f.byName["carol"].ID)), sortedIfLower(f.byName["carol"].ID, sorted("carol"))},
		{"firstName contains", leaf("firstName", has, "A"), sorted("alice", "carol", "dave")},
		{"lastName not_exists", leaf("lastName", nex, nil), sorted("dave")},
		{"name eq", leaf("name", eq, "bob brown"), sorted("bob")},
		{"companyName eq", leaf("companyName", eq, "acme corp"), sorted("alice", "carol")},
		{"companyName contains %", leaf("companyName", has, "%"), sorted("erin")},
		{"companyName contains _", leaf("companyName", has, "_"), sorted("erin")},
		{"companyName contains backslash", leaf("companyName", has, `\`), nil},
		{"city eq", leaf("city", eq, "AUSTIN"), sorted("alice", "carol")},
		{"city not_eq", leaf("city", neq, "austin"), sorted("bob", "dave", "erin")},
		{"source eq", leaf("source", eq, "web"), sorted("alice", "carol", "erin")},
		{"type eq", leaf("type", eq, "customer"), sorted("bob", "carol")},
		{"country eq", leaf("country", eq, "us"), sorted("alice")},
		{"dateOfBirth eq", leaf("dateOfBirth", eq, "1990-01-15"), sorted("alice")},
		{"dateOfBirth range", leaf("dateOfBirth", rng, &sandbox.Range{GTE: "1980-01-01", LT: "2000-01-01"}), sorted("alice")},
		{"website not_exists", leaf("website", nex, nil), byDate},

		// Booleans.
		{"dnd eq true", leaf("dnd", eq, true), sorted("bob", "dave")},
		{"dnd eq false", leaf("dnd", eq, false), sorted("alice", "carol", "erin")},
		{"dnd eq \"true\"", leaf("dnd", eq, "true"), sorted("bob", "dave")},
		{"dnd not_eq true", leaf("dnd", neq, true), sorted("alice", "carol", "erin")},
		{"dnd exists", leaf("dnd", ex, nil), byDate},

		// Dates, as int64 ms, float64 ms (JSON), json.Number and strings.
		{"dateAdded range", leaf("dateAdded", rng, &sandbox.Range{GTE: ms(2), LT: ms(4)}), sorted("bob", "carol")},
		{"dateAdded range float", leaf("dateAdded", rng, &sandbox.Range{GT: float64(ms(2)), LTE: float64(ms(4))}), sorted("carol", "dave")},
		{"dateAdded range json.Number", leaf("dateAdded", rng, &sandbox.Range{GT: json.Number(fmt.Sprint(ms(4)))}), sorted("erin")},
		{"dateAdded range RFC 3339", leaf("dateAdded", rng, &sandbox.Range{LT: at(2).Format(sandbox.TimeLayout)}), sorted("alice")},
		{"dateAdded eq", leaf("dateAdded", eq, ms(3)), sorted("carol")},
		{"dateAdded not_eq", leaf("dateAdded", neq, ms(3)), sorted("alice", "bob", "dave", "erin")},
		{"lastActivity exists", leaf("lastActivity", ex, nil), sorted("alice", "carol")},
		{"lastActivity not_exists", leaf("lastActivity", nex, nil), sorted("bob", "dave", "erin")},
		{"lastActivity range skips unset", leaf("lastActivity", rng, &sandbox.Range{LTE: ms(6)}), sorted("carol")},
		{"dateUpdated range", leaf("dateUpdated", rng, &sandbox.Range{GTE: ms(5)}), sorted("erin")},

		// Tags.
		{"tags eq any case", leaf("tags", eq, "vip"), sorted("alice", "dave")},
		{"tags eq any of", leaf("tags", eq, []any{"VIP", "newsletter"}), sorted("alice", "bob", "dave")},
		{"tags not_eq", leaf("tags", neq, "vip"), sorted("bob", "carol", "erin")},
		{"tags contains", leaf("tags", has, "NEWS"), sorted("alice", "bob", "erin")},
		{"tags contains wildcard", leaf("tags", has, "_under%"), sorted("dave")},
		{"tags contains literal _", leaf("tags", has, "x_"), sorted("dave")},
		{"tags not_contains", leaf("tags", hasnt, "news"), sorted("carol", "dave")},
		{"tags exists", leaf("tags", ex, nil), sorted("alice", "bob", "dave", "erin")},
		{"tags not_exists", leaf("tags", nex, nil), sorted("carol")},

		// Custom fields.
		{"custom eq text", leaf("customFields.f_text", eq, "GOLD"), sorted("alice")},
		{"custom eq number", leaf("customFields.f_num", eq, 25.5), sorted("bob")},
		{"custom eq number as text", leaf("customFields.f_num", eq, "10"), sorted("alice")},
		{"custom eq list element", leaf("customFields.f_multi", eq, "blue"), sorted("bob")},
		{"custom eq any of", leaf("customFields.f_text", eq, []any{"gold", "silver"}), sorted("alice", "bob")},
		{"custom not_eq", leaf("customFields.f_text", neq, "gold"), sorted("bob", "carol", "dave", "erin")},
		{"custom contains", leaf("customFields.f_text", has, "Gold"), sorted("alice", "dave")},
		{"custom not_contains", leaf("customFields.f_text", hasnt, "gold"), sorted("bob", "carol", "erin")},
		{"custom exists", leaf("customFields.f_text", ex, nil), sorted("alice", "bob", "dave")},
		{"custom not_exists", leaf("customFields.f_text", nex, nil), sorted("carol", "erin")},
		{"custom range gt", leaf("customFields.f_num", rng, &sandbox.Range{GT: 0.0}), sorted("alice", "bob")},
		{"custom range closed", leaf("customFields.f_num", rng, &sandbox.Range{GTE: -3, LTE: json.Number("10")}), sorted("alice", "dave")},
		{"custom range date", leaf("customFields.f_date", rng, &sandbox.Range{GTE: "2024-04-01", LT: float64(ms(24 * 365))}), sorted("erin")},
		{"custom unknown field", leaf("customFields.nope", ex, nil), nil},

		// Groups.
		{"AND", group("AND", leaf("city", eq, "austin"), leaf("tags", eq, "vip")), sorted("alice")},
		{"OR", group("OR", leaf("city", eq, "denver"), leaf("tags", eq, "newsletter")), sorted("alice", "bob", "dave")},
		{"lower-case group", group("or", leaf("city", eq, "denver"), leaf("city", eq, "boston")), sorted("bob", "dave")},
		{"nested", group("OR",
			group("AND", leaf("city", eq, "austin"), leaf("dnd", eq, false), leaf("tags", ex, nil)),
			group("AND", leaf("dnd", eq, true), leaf("tags", eq, "vip")),
		), sorted("alice", "dave")},
		{"nested three deep", group("AND",
			leaf("source", eq, "web"),
			group("OR",
				leaf("customFields.f_date", ex, nil),
				group("AND", leaf("type", eq, "customer"), leaf("lastActivity", ex, nil)),
			),
		), sorted("carol", "erin")},
		{"NOT via not_eq in OR", group("OR", leaf("tags", neq, "vip"), leaf("dnd", eq, true)), sorted("bob", "carol", "dave", "erin")},
	} {
		got, total := f.search(t, s, sandbox.ContactQuery{Filter: tc.filter})
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		if total != len(tc.want) {
			t.Errorf("%s: total %d, want %d", tc.name, total, len(tc.want))
		}
	}

	// Free-text query.
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"acme", sorted("alice", "carol")},
		{"ANDERSON", sorted("alice")},
		{"555000000", sorted("alice", "bob", "dave", "erin")},
		{"alice anderson", sorted("alice")},
		{"bob acme", nil},
		{"100%", sorted("erin")},
		{"example.org", sorted("bob")},
	} {
		got, _ := f.search(t, s, sandbox.ContactQuery{Query: tc.query})
		if !slices.Equal(got, tc.want) {
			t.Errorf("query %q: got %v, want %v", tc.query, got, tc.want)
		}
	}
	got, _ := f.search(t, s, sandbox.ContactQuery{Query: "acme", Filter: leaf("tags", eq, "vip")})
	if !slices.Equal(got, []string{"alice"}) {
		t.Errorf("query and filter: got %v", got)
	}

	// Sorting.
	for _, tc := range []struct {
		name string
		sort []sandbox.Sort
		want []string
	}{
		{"firstName asc", []sandbox.Sort{{Field: "firstName"}}, []string{"alice", "bob", "carol", "dave", "erin"}},
		{"firstName desc", []sandbox.Sort{{Field: "firstName", Desc: true}}, []string{"erin", "dave", "carol", "bob", "alice"}},
		{"dateAdded asc", []sandbox.Sort{{Field: "dateAdded"}}, []string{"alice", "bob", "carol", "dave", "erin"}},
		{"lastName asc (empty first)", []sandbox.Sort{{Field: "lastName"}}, []string{"dave", "alice", "bob", "carol", "erin"}},
		{"city asc, firstName desc", []sandbox.Sort{{Field: "city"}, {Field: "firstName", Desc: true}}, []string{"erin", "carol", "alice", "bob", "dave"}},
		{"dnd desc, dateAdded asc", []sandbox.Sort{{Field: "dnd", Desc: true}, {Field: "dateAdded"}}, []string{"bob", "dave", "alice", "carol", "erin"}},
		{"email asc", []sandbox.Sort{{Field: "email"}}, []string{"dave", "alice", "bob", "carol", "erin"}},
	} {
		got, _ := f.search(t, s, sandbox.ContactQuery{Sort: tc.sort})
		if !slices.Equal(got, tc.want) {
			t.Errorf("sort %s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	// Offset and limit; the total counts every match.
	for _, tc := range []struct {
		offset, limit int
		want          []string
	}{
		{0, 2, []string{"erin", "dave"}},
		{1, 2, []string{"dave", "carol"}},
		{4, 2, []string{"alice"}},
		{5, 2, nil},
		{3, 0, []string{"bob", "alice"}},
		{0, 10, byDate},
	} {
		got, total := f.search(t, s, sandbox.ContactQuery{Offset: tc.offset, Limit: tc.limit})
		if !slices.Equal(got, tc.want) || total != 5 {
			t.Errorf("offset %d limit %d: got %v total %d, want %v total 5", tc.offset, tc.limit, got, total, tc.want)
		}
	}
	if _, total := f.search(t, s, sandbox.ContactQuery{Limit: 2, NoTotal: true}); total != -1 {
		t.Errorf("NoTotal: total %d, want -1", total)
	}

	// Locations are separate.
	got, total := f.search(t, s, sandbox.ContactQuery{LocationID: f.otherLoc})
	if !slices.Equal(got, []string{"frank"}) || total != 1 {
		t.Errorf("other location: %v total %d", got, total)
	}
	got, _ = f.search(t, s, sandbox.ContactQuery{LocationID: sandbox.NewID()})
	if len(got) != 0 {
		t.Errorf("empty location: %v", got)
	}
}

// sortedIfLower returns want when id is all lower-case (then the lower-cased
// id is the id), else nil: ids compare exactly.
func sortedIfLower(id string, want []string) []string {
	if strings.ToLower(id) == id {
		return want
	}
	return nil
}

func testSearchErrors(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		q    sandbox.ContactQuery
		word string // the error message names it
	}{
		{"unknown field", sandbox.ContactQuery{Filter: leaf("favouriteColour", sandbox.OpEq, "red")}, "favouriteColour"},
		{"unknown operator", sandbox.ContactQuery{Filter: leaf("email", "like", "x")}, "like"},
		{"unknown operator on tags", sandbox.ContactQuery{Filter: leaf("tags", "starts_with", "x")}, "starts_with"},
		{"unknown operator on custom field", sandbox.ContactQuery{Filter: leaf("customFields.x", "near", "x")}, "near"},
		{"nested unknown field", sandbox.ContactQuery{Filter: group("OR", leaf("email", sandbox.OpExists, nil), group("AND", leaf("bogus", sandbox.OpExists, nil)))}, "bogus"},
		{"unknown group", sandbox.ContactQuery{Filter: group("XOR", leaf("email", sandbox.OpExists, nil))}, "XOR"},
		{"range on tags", sandbox.ContactQuery{Filter: leaf("tags", sandbox.OpRange, &sandbox.Range{GT: "a"})}, "tags"},
		{"range on dnd", sandbox.ContactQuery{Filter: leaf("dnd", sandbox.OpRange, &sandbox.Range{GT: 0})}, "dnd"},
		{"contains on a date", sandbox.ContactQuery{Filter: leaf("dateAdded", sandbox.OpContains, "2024")}, "dateAdded"},
		{"range without bounds", sandbox.ContactQuery{Filter: leaf("dateAdded", sandbox.OpRange, &sandbox.Range{})}, "dateAdded"},
		{"bad date", sandbox.ContactQuery{Filter: leaf("dateAdded", sandbox.OpEq, "yesterday")}, "dateAdded"},
		{"bad custom range", sandbox.ContactQuery{Filter: leaf("customFields.x", sandbox.OpRange, &sandbox.Range{GT: "abc"})}, "customFields.x"},
		{"sort by tags", sandbox.ContactQuery{Sort: []sandbox.Sort{{Field: "tags"}}}, "tags"},
		{"sort by unknown", sandbox.ContactQuery{Sort: []sandbox.Sort{{Field: "shoeSize"}}}, "shoeSize"},
		{"searchAfter too short", sandbox.ContactQuery{SearchAfter: []any{1.0}}, "searchAfter"},
		{"searchAfter bad date", sandbox.ContactQuery{SearchAfter: []any{"soon", "id"}}, "searchAfter"},
	} {
		err := s.Read(ctx, func(tx sandbox.Tx) error {
			tc.q.LocationID = "loc"
			_, err := tx.SearchContacts(ctx, tc.q)
			return err
		})
		if sandbox.ErrorCode(err) != sandbox.EUNPROCESSABLE {
			t.Errorf("%s: err = %v, want code %s", tc.name, err, sandbox.EUNPROCESSABLE)
			continue
		}
		if !strings.Contains(sandbox.ErrorMessage(err), tc.word) {
			t.Errorf("%s: message %q does not name %q", tc.name, sandbox.ErrorMessage(err), tc.word)
		}
	}
}

// pagingContact is what testSearchPaging knows of a contact, to check the
// order the store returns against its own.
type pagingContact struct {
	id, first, last, city string
	dnd                   bool
	added                 int64
}

func testSearchPaging(t *testing.T, s sandbox.Store) {
	ctx := context.Background()
	loc := sandbox.NewID()
	const n = 61
	firsts := []string{"Ann", "ben", "Cat", "ann"}
	cities := []string{"", "Austin", "boston", "Austin", "Zurich"}
	var all []pagingContact
	write(t, s, func(tx sandbox.Tx) error {
		for i := range n {
			// Few distinct values, so that ties abound and only the id
			// tie-breaker orders many contacts.
			c := newContact(loc, firsts[i%len(firsts)], fmt.Sprintf("L%02d", i%9), float64(i%6))
			c.City = cities[i%len(cities)]
			c.Dnd = i%3 == 0
			if i%2 == 0 {
				c.Tags = []string{"even"}
			}
			if err := tx.InsertContact(ctx, c); err != nil {
				return err
			}
			all = append(all, pagingContact{id: c.ID, first: strings.ToLower(c.FirstName), last: strings.ToLower(c.LastName),
				city: strings.ToLower(c.City), dnd: c.Dnd, added: c.DateAdded.UnixMilli()})
		}
		return nil
	})
	field := func(c pagingContact, name string) (string, int64) {
		switch name {
		case "firstName":
			return c.first, 0
		case "lastName":
			return c.last, 0
		case "city":
			return c.city, 0
		case "dnd":
			if c.dnd {
				return "", 1
			}
			return "", 0
		case "dateAdded":
			return "", c.added
		}
		panic(name)
	}
	for _, tc := range []struct {
		name   string
		sort   []sandbox.Sort
		filter *sandbox.Filter
	}{
		{"default", nil, nil},
		{"firstName asc", []sandbox.Sort{{Field: "firstName"}}, nil},
		{"firstName desc", []sandbox.Sort{{Field: "firstName", Desc: true}}, nil},
		{"dnd desc, dateAdded asc", []sandbox.Sort{{Field: "dnd", Desc: true}, {Field: "dateAdded"}}, nil},
		{"city asc, lastName desc", []sandbox.Sort{{Field: "city"}, {Field: "lastName", Desc: true}}, nil},
		{"tag filter, dateAdded asc", []sandbox.Sort{{Field: "dateAdded"}}, leaf("tags", sandbox.OpEq, "even")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The order the store must produce.
			sorts := tc.sort
			if len(sorts) == 0 {
				sorts = []sandbox.Sort{{Field: "dateAdded", Desc: true}}
			}
			var want []string
			var matches []pagingContact
			for i, c := range all {
				if tc.filter == nil || i%2 == 0 {
					matches = append(matches, c)
				}
			}
			slices.SortFunc(matches, func(a, b pagingContact) int {
				for _, s := range sorts {
					as, an := field(a, s.Field)
					bs, bn := field(b, s.Field)
					r := cmp.Or(strings.Compare(as, bs), cmp.Compare(an, bn))
					if s.Desc {
						r = -r
					}
					if r != 0 {
						return r
					}
				}
				r := strings.Compare(a.id, b.id)
				if sorts[len(sorts)-1].Desc {
					r = -r
				}
				return r
			})
			for _, c := range matches {
				want = append(want, c.id)
			}

			page := func(q sandbox.ContactQuery) *sandbox.ContactPage {
				t.Helper()
				q.LocationID, q.Sort, q.Filter = loc, tc.sort, tc.filter
				var p *sandbox.ContactPage
				read(t, s, func(tx sandbox.Tx) error {
					var err error
					p, err = tx.SearchContacts(ctx, q)
					return err
				})
				return p
			}
			ids := func(p *sandbox.ContactPage) []string {
				var out []string
				for _, c := range p.Contacts {
					out = append(out, c.ID)
				}
				return out
			}
			if got := ids(page(sandbox.ContactQuery{})); !slices.Equal(got, want) {
				t.Fatalf("unpaged order:\n got %v\nwant %v", got, want)
			}

			// SearchAfter, with the sort values round-tripped through JSON
			// as float64 and as json.Number.
			for _, useNumber := range []bool{false, true} {
				var got []string
				var after []any
				for range len(want) + 2 {
					p := page(sandbox.ContactQuery{Limit: 7, SearchAfter: after})
					if p.Total != len(want) {
						t.Fatalf("page total %d, want %d", p.Total, len(want))
					}
					if len(p.Contacts) == 0 {
						break
					}
					got = append(got, ids(p)...)
					b, err := json.Marshal(p.SortValues[len(p.SortValues)-1])
					if err != nil {
						t.Fatal(err)
					}
					dec := json.NewDecoder(bytes.NewReader(b))
					if useNumber {
						dec.UseNumber()
					}
					after = nil
					if err := dec.Decode(&after); err != nil {
						t.Fatal(err)
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("SearchAfter pages (json.Number %v) visit:\n got %v\nwant %v", useNumber, got, want)
				}
			}

			// Offset paging.
			var got []string
			for off := 0; off < len(want)+7; off += 7 {
				got = append(got, ids(page(sandbox.ContactQuery{Offset: off, Limit: 7}))...)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("offset pages visit:\n got %v\nwant %v", got, want)
			}
		})
	}
}
