package sandbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
)

// testEnv is a running sandbox on a fresh SQLite file with two companies:
// company C1 owns locations L1 and L2, company C2 owns L3.
type testEnv struct {
	t      *testing.T
	Server *sandbox.Server
	Store  sandbox.Store
	HTTP   *httptest.Server
	C1, C2 string
	L1, L2 string
	L3     string
	// Tokens: every scope unless named otherwise.
	TokL1, TokL2, TokL3, TokC1, TokC2 string
	// TokL1Read carries only contacts.readonly.
	TokL1Read string
	now       time.Time
}

type envOption func(*sandbox.Config)

func newTestEnv(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &testEnv{t: t, Store: st, now: time.Now()}
	cfg := sandbox.Config{Store: st}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := sandbox.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.Server = srv
	e.HTTP = httptest.NewServer(srv)
	t.Cleanup(e.HTTP.Close)

	e.C1, e.C2 = sandbox.NewID(), sandbox.NewID()
	e.L1, e.L2, e.L3 = sandbox.NewID(), sandbox.NewID(), sandbox.NewID()
	all := sandbox.AllScopes()
	err = st.Write(ctx, func(tx sandbox.Tx) error {
		for _, c := range []string{e.C1, e.C2} {
			if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindCompany, ID: c, CompanyID: c}, &sandbox.Company{ID: c, Name: "Company " + c[:4]}); err != nil {
				return err
			}
		}
		for _, l := range []struct{ id, company, name string }{{e.L1, e.C1, "Location One"}, {e.L2, e.C1, "Location Two"}, {e.L3, e.C2, "Location Three"}} {
			loc := &sandbox.Location{ID: l.id, CompanyID: l.company, Name: l.name, Timezone: "America/New_York"}
			if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindLocation, ID: l.id, LocationID: l.id, CompanyID: l.company}, loc); err != nil {
				return err
			}
		}
		issue := func(userType, company, loc string, scopes []string) string {
			s, err := sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenPIT, UserType: userType, CompanyID: company, LocationID: loc, Scopes: scopes}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		e.TokL1 = issue(sandbox.UserTypeLocation, e.C1, e.L1, all)
		e.TokL2 = issue(sandbox.UserTypeLocation, e.C1, e.L2, all)
		e.TokL3 = issue(sandbox.UserTypeLocation, e.C2, e.L3, all)
		e.TokC1 = issue(sandbox.UserTypeCompany, e.C1, "", all)
		e.TokC2 = issue(sandbox.UserTypeCompany, e.C2, "", all)
		e.TokL1Read = issue(sandbox.UserTypeLocation, e.C1, e.L1, []string{"contacts.readonly"})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// response is a decoded API answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map (fails the test if it is not an object).
func (r *response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// do sends a request with the Version header GHL's Node SDK sends. body may
// be nil, a string (sent as is) or a value encoded as JSON.
func (e *testEnv) do(method, path, token string, body any) *response {
	e.t.Helper()
	return e.doH(method, path, token, body, map[string]string{"Version": "2021-07-28"})
}

func (e *testEnv) doH(method, path, token string, body any, headers map[string]string) *response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.HTTP.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return &response{Status: res.StatusCode, Header: res.Header, Body: raw}
}

// mustStatus fails the test unless the response has the status.
func (r *response) mustStatus(t *testing.T, want int) *response {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body: %s", r.Status, want, r.Body)
	}
	return r
}
