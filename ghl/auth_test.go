package ghl

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// refreshingSource hands out "tok-N" and moves to the next token on Refresh.
type refreshingSource struct {
	mu        sync.Mutex
	n         int
	refreshes []string // rejected tokens passed to Refresh
	err       error
}

func (s *refreshingSource) Token(_ context.Context, userType, id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "tok-" + string(rune('0'+s.n)), nil
}

func (s *refreshingSource) Refresh(_ context.Context, userType, id, rejected string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshes = append(s.refreshes, userType+":"+id+":"+rejected)
	if s.err != nil {
		return "", s.err
	}
	s.n++
	return "tok-" + string(rune('0'+s.n)), nil
}

func TestAuthRefreshOnceOn401(t *testing.T) {
	src := &refreshingSource{}
	c, mux, _ := setup(t, WithTokenSource(src))
	var seen []string
	mux.HandleFunc("POST /contacts/upsert", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = append(seen, r.Header.Get("Authorization")+" "+string(b))
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			w.WriteHeader(401)
			io.WriteString(w, `{"statusCode":401,"message":"Invalid JWT","error":"Unauthorized"}`)
			return
		}
		io.WriteString(w, `{"new":true,"contact":{"id":"c1"}}`)
	})
	res, err := c.Contacts.Upsert(t.Context(), UpsertContactParams{CreateContactParams: CreateContactParams{LocationID: "loc1", Email: "a@b.co"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Contact.ID != "c1" {
		t.Errorf("result %+v", res)
	}
	body := `{"locationId":"loc1","email":"a@b.co"}`
	if len(seen) != 2 || seen[0] != "Bearer tok-0 "+body || seen[1] != "Bearer tok-1 "+body {
		t.Errorf("requests = %q", seen)
	}
	if len(src.refreshes) != 1 || src.refreshes[0] != "Location:loc1:tok-0" {
		t.Errorf("refreshes = %q", src.refreshes)
	}
}

func TestAuthGivesUpAfterOneRefresh(t *testing.T) {
	src := &refreshingSource{}
	c, mux, _ := setup(t, WithTokenSource(src))
	hits := 0
	mux.HandleFunc("GET /contacts/c1", func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.WriteHeader(401)
		io.WriteString(w, `{"statusCode":401,"message":"Invalid JWT","error":"Unauthorized"}`)
	})
	_, err := c.Contacts.Get(WithLocation(t.Context(), "loc1"), "c1")
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v", err)
	}
	if hits != 2 || len(src.refreshes) != 1 {
		t.Errorf("hits %d refreshes %d; want 2 and 1", hits, len(src.refreshes))
	}
}

// A scope or auth-class refusal is not cured by a new token: no refresh,
// which would spend the single-use refresh token, and the body still
// reaches the caller's error.
func TestAuthDoesNotRefreshOnScopeError(t *testing.T) {
	for _, msg := range []string{"The token is not authorized for this scope.",
		"This authClass type is not allowed to access this scope. Please reach out to the Platform team to get it added."} {
		src := &refreshingSource{}
		c, mux, _ := setup(t, WithTokenSource(src))
		hits := 0
		mux.HandleFunc("GET /contacts/c1", func(w http.ResponseWriter, r *http.Request) {
			hits++
			w.WriteHeader(401)
			io.WriteString(w, `{"statusCode":401,"message":"`+msg+`","error":"Unauthorized"}`)
		})
		_, err := c.Contacts.Get(WithLocation(t.Context(), "loc1"), "c1")
		var ge *Error
		if !errors.Is(err, ErrUnauthorized) || !errors.As(err, &ge) || ge.Message != msg {
			t.Fatalf("err = %v", err)
		}
		if hits != 1 || len(src.refreshes) != 0 {
			t.Errorf("%q: hits %d refreshes %d; want 1 and 0", msg, hits, len(src.refreshes))
		}
	}
}

func TestAuthRefreshError(t *testing.T) {
	boom := errors.New("refresh token revoked")
	src := &refreshingSource{err: boom}
	c, mux, _ := setup(t, WithTokenSource(src))
	mux.HandleFunc("GET /contacts/c1", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) })
	_, err := c.Contacts.Get(WithLocation(t.Context(), "loc1"), "c1")
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the refresh error", err)
	}
}

func TestAuthStaticTokenNoRefresh(t *testing.T) {
	c, mux, _ := setup(t, WithPrivateIntegrationToken("pit-123"))
	hits := 0
	mux.HandleFunc("GET /contacts/c1", func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.Header.Get("Authorization") != "Bearer pit-123" {
			t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
		}
		w.WriteHeader(401)
	})
	if _, err := c.Contacts.Get(t.Context(), "c1"); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("err = %v", err)
	}
	if hits != 1 {
		t.Errorf("hits = %d", hits)
	}
}

type failingSource struct{}

func (failingSource) Token(context.Context, string, string) (string, error) {
	return "", errors.New("no token stored")
}

func TestAuthTokenError(t *testing.T) {
	c, mux, _ := setup(t, WithTokenSource(failingSource{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { t.Error("request sent without a token") })
	_, err := c.Contacts.Get(t.Context(), "c1")
	if err == nil || !strings.Contains(err.Error(), "no token stored") || !strings.Contains(err.Error(), "ghl.WithLocation") {
		t.Fatalf("err = %v", err)
	}
}

func TestFromOAuth2(t *testing.T) {
	c, mux, _ := setup(t, WithTokenSource(FromOAuth2(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "o2"}))))
	mux.HandleFunc("GET /contacts/c1", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer o2" {
			t.Errorf("Authorization = %q", r.Header.Get("Authorization"))
		}
		io.WriteString(w, `{"contact":{"id":"c1"}}`)
	})
	if _, err := c.Contacts.Get(t.Context(), "c1"); err != nil {
		t.Fatal(err)
	}
}
