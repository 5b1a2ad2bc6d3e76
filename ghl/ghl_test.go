package ghl

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// baseURLPath is where setup mounts the API, so that a request built from an
// absolute path ("/contacts/…") instead of one relative to the base URL
// misses the handlers and fails the test.
const baseURLPath = "/api-v2"

// resourceTokens issues "<userType>:<id>" as the token of each resource, so
// that a handler can tell from the Authorization header which location or
// company the client attributed the request to.
type resourceTokens struct{}

func (resourceTokens) Token(_ context.Context, userType, id string) (string, error) {
	if id == "" {
		return "none", nil
	}
	return userType + ":" + id, nil
}

// setup returns a client talking to a test server whose handlers are
// registered on mux (paths as GHL's, e.g. "GET /contacts/{id}"). Retries
// and client-side rate limiting are off unless opts turn them on.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux, string) {
	t.Helper()
	mux := http.NewServeMux()
	api := http.NewServeMux()
	api.Handle(baseURLPath+"/", http.StripPrefix(baseURLPath, mux))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL)
		http.Error(w, "outside base path", http.StatusBadGateway)
	})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	all := append([]Option{
		WithBaseURL(srv.URL + baseURLPath),
		WithTokenSource(resourceTokens{}),
		WithRateLimiter(nil),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 1}),
	}, opts...)
	c, err := NewClient(all...)
	if err != nil {
		t.Fatal(err)
	}
	return c, mux, srv.URL
}

// jsonEqual reports the difference between two JSON documents, compared as
// values; "" if they are equal.
func jsonDiff(t *testing.T, want, got string) string {
	t.Helper()
	var w, g any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON %q: %v", want, err)
	}
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		return "body is not JSON: " + got
	}
	return cmp.Diff(w, g)
}

func TestNewClientDefaults(t *testing.T) {
	c, err := NewClient()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.BaseURL().String(); got != DefaultBaseURL+"/" {
		t.Errorf("BaseURL = %q", got)
	}
	if _, err := NewClient(WithBaseURL("not a url")); err == nil {
		t.Error("relative base URL accepted")
	}
	if _, err := NewClient(WithAccessToken("")); err == nil {
		t.Error("empty token accepted")
	}
}

func TestNewRequestRejectsAbsolutePath(t *testing.T) {
	c, _, _ := setup(t)
	if _, err := c.NewRequest(t.Context(), http.MethodGet, "/contacts/", nil); err == nil {
		t.Fatal("absolute path accepted")
	}
}

func TestVersionHeader(t *testing.T) {
	for path, want := range map[string]string{
		"contacts/abc":           Version20210728,
		"locations/x/tags":       Version20210728,
		"custom-fields/":         Version20210728,
		"oauth/token":            Version20210728,
		"calendars/events":       Version20210415,
		"/conversations/search":  Version20210415,
		"conversations?x=1":      Version20210415,
		"users/search?companyId": Version20210728,
	} {
		if got := VersionFor(path); got != want {
			t.Errorf("VersionFor(%q) = %q, want %q", path, got, want)
		}
	}

	c, mux, _ := setup(t, WithVersion("2023-02-21"), WithUserAgent("ua-test"))
	mux.HandleFunc("GET /contacts/c1", func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("Version"); v != "2023-02-21" {
			t.Errorf("Version = %q", v)
		}
		if ua := r.Header.Get("User-Agent"); ua != "ua-test" {
			t.Errorf("User-Agent = %q", ua)
		}
		io.WriteString(w, `{"contact":{"id":"c1"}}`)
	})
	if _, err := c.Contacts.Get(t.Context(), "c1"); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultLocation(t *testing.T) {
	c, mux, _ := setup(t, WithDefaultLocation("loc9"))
	mux.HandleFunc("GET /contacts/c1", func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer Location:loc9" {
			t.Errorf("Authorization = %q", got)
		}
		io.WriteString(w, `{"contact":{"id":"c1"}}`)
	})
	if _, err := c.Contacts.Get(t.Context(), "c1"); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyIDRefused(t *testing.T) {
	c, _, _ := setup(t)
	if _, err := c.Contacts.Get(t.Context(), ""); err != ErrEmptyID {
		t.Errorf("Get(\"\") err = %v", err)
	}
	if _, err := c.Locations.DeleteTag(t.Context(), "loc", ""); err != ErrEmptyID {
		t.Errorf("DeleteTag err = %v", err)
	}
}

func TestPathEscaping(t *testing.T) {
	c, mux, _ := setup(t)
	mux.HandleFunc("GET /contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		if got := r.PathValue("id"); got != "a/b?c" {
			t.Errorf("id = %q", got)
		}
		io.WriteString(w, `{"contact":{"id":"x"}}`)
	})
	if _, err := c.Contacts.Get(t.Context(), "a/b?c"); err != nil {
		t.Fatal(err)
	}
}

// apiCase is one service method call and what the server must see.
type apiCase struct {
	name    string
	method  string
	path    string     // as GHL sees it, without the base path
	query   url.Values // exact query expected (nil: none)
	body    string     // JSON body expected ("" : none)
	auth    string     // expected resource of the token, "none" if none
	status  int        // default 200
	respond string
	call    func(ctx context.Context, c *Client) (any, error)
	want    any
}

func runAPICases(t *testing.T, cases []apiCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, mux, _ := setup(t)
			hits := 0
			mux.HandleFunc(tc.method+" "+tc.path, func(w http.ResponseWriter, r *http.Request) {
				hits++
				if r.URL.Path != tc.path {
					t.Errorf("path = %q, want %q", r.URL.Path, tc.path)
				}
				q := r.URL.Query()
				if len(q) == 0 {
					q = nil
				}
				if diff := cmp.Diff(tc.query, q); diff != "" {
					t.Errorf("query (-want +got):\n%s", diff)
				}
				if v := r.Header.Get("Version"); v != VersionFor(tc.path) {
					t.Errorf("Version = %q", v)
				}
				b, _ := io.ReadAll(r.Body)
				if tc.body == "" {
					if len(b) != 0 {
						t.Errorf("unexpected body %s", b)
					}
				} else if diff := jsonDiff(t, tc.body, string(b)); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
				if tc.body != "" && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
					t.Errorf("Content-Type = %q", r.Header.Get("Content-Type"))
				}
				wantAuth := "Bearer " + tc.auth
				if tc.auth == "" {
					wantAuth = "Bearer none"
				}
				if got := r.Header.Get("Authorization"); got != wantAuth {
					t.Errorf("Authorization = %q, want %q", got, wantAuth)
				}
				w.Header().Set("Content-Type", "application/json")
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				io.WriteString(w, tc.respond)
			})
			got, err := tc.call(t.Context(), c)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if hits != 1 {
				t.Fatalf("server hit %d times", hits)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}

// drop discards the *Response of the methods that return one.
func drop[T any](v T, _ *Response, err error) (any, error) { return v, err }

func one[T any](v T, err error) (any, error) { return v, err }

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func locCtx(ctx context.Context) context.Context { return WithLocation(ctx, "loc1") }
