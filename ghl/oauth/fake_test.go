package oauth_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGHL is a GHL stand-in with single-use refresh tokens: using one
// voids it and issues a new pair, and using a void one fails with 400
// invalid_grant, as GHL does. API calls need a live access token.
type fakeGHL struct {
	t   *testing.T
	srv *httptest.Server
	// latency is added to every token call, to widen race windows.
	latency time.Duration

	mu        sync.Mutex
	n         int
	refresh   map[string]string // live refresh token → user type
	access    map[string]bool   // live access tokens
	agency    map[string]bool   // live agency access tokens
	refreshes int               // refresh_token grants received
	exchanges int
	mints     int
	apiCalls  int
	forms     []string
}

func newFakeGHL(t *testing.T) *fakeGHL {
	f := &fakeGHL{t: t, refresh: map[string]string{}, access: map[string]bool{}, agency: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("POST /oauth/locationToken", f.locationToken)
	mux.HandleFunc("GET /oauth/installedLocations", func(w http.ResponseWriter, r *http.Request) {
		if !f.isAgency(r) {
			w.WriteHeader(401)
			return
		}
		io.WriteString(w, `{"locations":[{"_id":"loc1","name":"A","address":"x","isInstalled":true}],"count":1,"installToFutureLocations":false}`)
	})
	mux.HandleFunc("GET /contacts/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.apiCalls++
		ok := f.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(401)
			io.WriteString(w, `{"statusCode":401,"message":"Invalid JWT","error":"Unauthorized"}`)
			return
		}
		fmt.Fprintf(w, `{"contact":{"id":%q}}`, r.PathValue("id"))
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGHL) isAgency(r *http.Request) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.agency[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
}

// issue creates live tokens for a user type and returns access, refresh.
func (f *fakeGHL) issue(userType string) (string, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	a, r := fmt.Sprintf("access-%d", f.n), fmt.Sprintf("refresh-%d", f.n)
	f.access[a] = true
	if userType == "Company" {
		f.agency[a] = true
	}
	f.refresh[r] = userType
	return a, r
}

func (f *fakeGHL) token(w http.ResponseWriter, r *http.Request) {
	time.Sleep(f.latency)
	r.ParseForm()
	f.mu.Lock()
	f.forms = append(f.forms, r.PostForm.Encode())
	f.mu.Unlock()
	if r.PostForm.Get("client_id") != "cid" || r.PostForm.Get("client_secret") != "secret" {
		w.WriteHeader(401)
		io.WriteString(w, `{"error":"invalid_client"}`)
		return
	}
	userType := r.PostForm.Get("user_type")
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		f.mu.Lock()
		f.exchanges++
		f.mu.Unlock()
		if r.PostForm.Get("code") != "good-code" {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"bad code"}`)
			return
		}
	case "refresh_token":
		f.mu.Lock()
		f.refreshes++
		ut, ok := f.refresh[r.PostForm.Get("refresh_token")]
		delete(f.refresh, r.PostForm.Get("refresh_token"))
		f.mu.Unlock()
		if !ok {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid refresh token"}`)
			return
		}
		userType = ut
	default:
		w.WriteHeader(400)
		return
	}
	a, rt := f.issue(userType)
	ids := `"locationId":"loc1","companyId":"comp1"`
	if userType == "Company" {
		ids = `"companyId":"comp1","approvedLocations":["loc1","loc2"]`
	}
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":86399,"refresh_token":%q,"scope":"contacts.readonly","userType":%q,%s,"userId":"u1"}`,
		a, rt, userType, ids)
}

func (f *fakeGHL) locationToken(w http.ResponseWriter, r *http.Request) {
	time.Sleep(f.latency)
	if !f.isAgency(r) || r.Header.Get("Version") != "2021-07-28" {
		w.WriteHeader(401)
		io.WriteString(w, `{"statusCode":401,"message":"agency token required"}`)
		return
	}
	r.ParseForm()
	f.mu.Lock()
	f.mints++
	f.n++
	a := fmt.Sprintf("loc-access-%d", f.n)
	f.access[a] = true
	f.mu.Unlock()
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":86399,"scope":"contacts.readonly","locationId":%q,"userId":"u1"}`,
		a, r.PostForm.Get("locationId"))
}

func (f *fakeGHL) counts() (refreshes, mints, exchanges int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refreshes, f.mints, f.exchanges
}
