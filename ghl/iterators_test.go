package ghl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// collect runs seq to the end and returns the ids it yielded.
func collect[T any](seq iter.Seq2[*T, error], id func(*T) string) ([]string, error) {
	var ids []string
	for v, err := range seq {
		if err != nil {
			return ids, err
		}
		ids = append(ids, id(v))
	}
	return ids, nil
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "id" + strconv.Itoa(i)
	}
	return out
}

// skipLimitCase is one skip/limit iterator against a fake list of n items.
type skipLimitCase struct {
	name, method, path string
	itemsField         string
	idField            string
	inBody             bool   // skip/limit in the JSON body
	totalField         string // the answer carries the total under this name
	iterate            func(ctx context.Context, c *Client, limit int) ([]string, error)
}

func TestSkipLimitIterators(t *testing.T) {
	cases := []skipLimitCase{
		{name: "Contacts.ListByBusinessIter", method: "GET", path: "/contacts/business/b1", itemsField: "contacts", idField: "id",
			iterate: func(ctx context.Context, c *Client, limit int) ([]string, error) {
				return collect(c.Contacts.ListByBusinessIter(ctx, ListContactsByBusinessParams{BusinessID: "b1", LocationID: "loc1", Limit: limit}), func(v *Contact) string { return v.ID })
			}},
		{name: "Locations.SearchIter", method: "GET", path: "/locations/search", itemsField: "locations", idField: "id",
			iterate: func(ctx context.Context, c *Client, limit int) ([]string, error) {
				return collect(c.Locations.SearchIter(ctx, SearchLocationsParams{CompanyID: "comp1", Limit: limit}), func(v *Location) string { return v.ID })
			}},
		{name: "Locations.SearchTasksIter", method: "POST", path: "/locations/loc1/tasks/search", itemsField: "tasks", idField: "id", inBody: true,
			iterate: func(ctx context.Context, c *Client, limit int) ([]string, error) {
				return collect(c.Locations.SearchTasksIter(ctx, SearchTasksParams{LocationID: "loc1", Limit: limit}), func(v *LocationTask) string { return v.ID })
			}},
		{name: "Locations.ListTemplatesIter", method: "GET", path: "/locations/loc1/templates", itemsField: "templates", idField: "id", totalField: "totalCount",
			iterate: func(ctx context.Context, c *Client, limit int) ([]string, error) {
				return collect(c.Locations.ListTemplatesIter(ctx, ListTemplatesParams{LocationID: "loc1", Limit: limit}), func(v *Template) string { return v.ID })
			}},
		{name: "Users.SearchIter", method: "GET", path: "/users/search", itemsField: "users", idField: "id",
			iterate: func(ctx context.Context, c *Client, limit int) ([]string, error) {
				return collect(c.Users.SearchIter(ctx, SearchUsersParams{CompanyID: "comp1", Limit: limit}), func(v *User) string { return v.ID })
			}},
		{name: "Users.FilterByEmailIter", method: "POST", path: "/users/search/filter-by-email", itemsField: "users", idField: "id", inBody: true,
			iterate: func(ctx context.Context, c *Client, limit int) ([]string, error) {
				return collect(c.Users.FilterByEmailIter(ctx, FilterUsersByEmailParams{CompanyID: "comp1", Emails: []string{"a@b.co"}, Limit: limit}), func(v *User) string { return v.ID })
			}},
		{name: "OAuth.InstalledLocationsIter", method: "GET", path: "/oauth/installedLocations", itemsField: "locations", idField: "_id",
			iterate: func(ctx context.Context, c *Client, limit int) ([]string, error) {
				return collect(c.OAuth.InstalledLocationsIter(ctx, InstalledLocationsParams{CompanyID: "comp1", AppID: "app", Limit: limit}), func(v *InstalledLocation) string { return v.ID })
			}},
	}
	for _, tc := range cases {
		for _, n := range []int{7, 6, 0} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, n), func(t *testing.T) {
				c, mux, _ := setup(t)
				all := ids(n)
				var requests []string
				mux.HandleFunc(tc.method+" "+tc.path, func(w http.ResponseWriter, r *http.Request) {
					var skip, limit int
					if tc.inBody {
						// GHL declares skip/limit as strings in some bodies and as
						// numbers in others; FlexInt reads both.
						var b struct{ Skip, Limit FlexInt }
						json.NewDecoder(r.Body).Decode(&b)
						skip, limit = int(b.Skip), int(b.Limit)
					} else {
						skip, _ = strconv.Atoi(r.URL.Query().Get("skip"))
						limit, _ = strconv.Atoi(r.URL.Query().Get("limit"))
					}
					requests = append(requests, fmt.Sprintf("%d/%d", skip, limit))
					page := all[min(skip, n):min(skip+limit, n)]
					items := make([]string, len(page))
					for i, id := range page {
						items[i] = fmt.Sprintf(`{%q:%q}`, tc.idField, id)
					}
					total := ""
					if tc.totalField != "" {
						total = fmt.Sprintf(`,%q:%d`, tc.totalField, n)
					}
					fmt.Fprintf(w, `{%q:[%s]%s}`, tc.itemsField, strings.Join(items, ","), total)
				})
				got, err := tc.iterate(t.Context(), c, 3)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(all, got, cmpEmpty); diff != "" {
					t.Errorf("items (-want +got):\n%s", diff)
				}
				var want []string
				switch {
				case n == 7:
					want = []string{"0/3", "3/3", "6/3"}
				case n == 6 && tc.totalField != "":
					want = []string{"0/3", "3/3"} // the total says we're done
				case n == 6:
					want = []string{"0/3", "3/3", "6/3"} // a full page: ask again
				default:
					want = []string{"0/3"}
				}
				if diff := cmp.Diff(want, requests); diff != "" {
					t.Errorf("pages requested (-want +got):\n%s", diff)
				}
			})
		}
	}
}

var cmpEmpty = cmp.Comparer(func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") })

func TestContactsSearchIter(t *testing.T) {
	for _, withCursor := range []bool{true, false} {
		t.Run(fmt.Sprintf("cursor=%v", withCursor), func(t *testing.T) {
			c, mux, _ := setup(t)
			all := ids(5)
			var bodies []string
			mux.HandleFunc("POST /contacts/search", func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				bodies = append(bodies, string(b))
				var p struct {
					Page        int
					PageLimit   int
					SearchAfter []any
				}
				json.Unmarshal(b, &p)
				start := (p.Page - 1) * p.PageLimit
				if len(p.SearchAfter) > 0 {
					start = int(p.SearchAfter[0].(float64)) + 1
				}
				page := all[min(start, 5):min(start+p.PageLimit, 5)]
				var items []string
				for i, id := range page {
					cursor := ""
					if withCursor {
						cursor = fmt.Sprintf(`,"searchAfter":[%d,%q]`, start+i, id)
					}
					items = append(items, fmt.Sprintf(`{"id":%q%s}`, id, cursor))
				}
				fmt.Fprintf(w, `{"contacts":[%s],"total":5}`, strings.Join(items, ","))
			})
			got, err := collect(c.Contacts.SearchIter(t.Context(), SearchContactsParams{LocationID: "loc1", PageLimit: 2, Query: "q"}), func(v *Contact) string { return v.ID })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(all, got); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			want := []string{
				`{"locationId":"loc1","page":1,"pageLimit":2,"query":"q"}`,
				`{"locationId":"loc1","pageLimit":2,"searchAfter":[1,"id1"],"query":"q"}`,
				`{"locationId":"loc1","pageLimit":2,"searchAfter":[3,"id3"],"query":"q"}`,
			}
			if !withCursor {
				want = []string{
					`{"locationId":"loc1","page":1,"pageLimit":2,"query":"q"}`,
					`{"locationId":"loc1","page":2,"pageLimit":2,"query":"q"}`,
					`{"locationId":"loc1","page":3,"pageLimit":2,"query":"q"}`,
				}
			}
			if diff := cmp.Diff(want, bodies); diff != "" {
				t.Errorf("bodies (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIterStopsEarlyAndOnStuckCursor(t *testing.T) {
	c, mux, _ := setup(t)
	hits := 0
	mux.HandleFunc("POST /contacts/search", func(w http.ResponseWriter, r *http.Request) {
		hits++
		// A server that ignores the cursor.
		io.WriteString(w, `{"contacts":[{"id":"a","searchAfter":[1]},{"id":"b","searchAfter":[2]}],"total":100}`)
	})
	for range c.Contacts.SearchIter(t.Context(), SearchContactsParams{LocationID: "loc1", PageLimit: 2}) {
		break
	}
	if hits != 1 {
		t.Errorf("break after the first item: %d requests", hits)
	}
	_, err := collect(c.Contacts.SearchIter(t.Context(), SearchContactsParams{LocationID: "loc1", PageLimit: 2}), func(v *Contact) string { return v.ID })
	if !errors.Is(err, ErrPagingStuck) {
		t.Errorf("err = %v, want ErrPagingStuck", err)
	}
}

func TestIterYieldsErrors(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /users/search", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("skip") != "" {
			w.WriteHeader(500)
			return
		}
		io.WriteString(w, `{"users":[{"id":"u1"},{"id":"u2"}],"count":9}`)
	})
	got, err := collect(c.Users.SearchIter(t.Context(), SearchUsersParams{CompanyID: "comp1", Limit: 2}), func(v *User) string { return v.ID })
	if !errors.Is(err, ErrServer) || len(got) != 2 {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestContactsListIter(t *testing.T) {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, withMeta := range []bool{true, false} {
		t.Run(fmt.Sprintf("meta=%v", withMeta), func(t *testing.T) {
			c, mux, _ := setup(t)
			all := ids(5)
			var queries []string
			mux.HandleFunc("GET /contacts/", func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				queries = append(queries, q.Get("startAfterId")+"@"+q.Get("startAfter"))
				start := 0
				if id := q.Get("startAfterId"); id != "" {
					start, _ = strconv.Atoi(strings.TrimPrefix(id, "id"))
					start++
				}
				limit, _ := strconv.Atoi(q.Get("limit"))
				page := all[min(start, 5):min(start+limit, 5)]
				var items []string
				for i, id := range page {
					items = append(items, fmt.Sprintf(`{"id":%q,"dateAdded":%q}`, id, base.Add(time.Duration(start+i)*time.Second).Format(time.RFC3339)))
				}
				meta := ""
				if withMeta && len(page) > 0 {
					last := start + len(page) - 1
					meta = fmt.Sprintf(`,"meta":{"startAfterId":"id%d","startAfter":%d,"total":5}`, last, base.Add(time.Duration(last)*time.Second).UnixMilli())
				}
				fmt.Fprintf(w, `{"contacts":[%s],"count":5%s}`, strings.Join(items, ","), meta)
			})
			got, err := collect(c.Contacts.ListIter(t.Context(), ListContactsParams{LocationID: "loc1", Limit: 2}), func(v *Contact) string { return v.ID })
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(all, got); diff != "" {
				t.Errorf("items (-want +got):\n%s", diff)
			}
			ms := func(i int) string { return strconv.FormatInt(base.Add(time.Duration(i)*time.Second).UnixMilli(), 10) }
			want := []string{"@", "id1@" + ms(1), "id3@" + ms(3)}
			if diff := cmp.Diff(want, queries); diff != "" {
				t.Errorf("cursors (-want +got):\n%s", diff)
			}
		})
	}
}
