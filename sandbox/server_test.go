package sandbox_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
)

func TestVersionHeader(t *testing.T) {
	e := newTestEnv(t)
	path := "/locations/" + e.L1
	res := e.doH("GET", path, e.TokL1, nil, map[string]string{"Version": ""}).mustStatus(t, 400).JSON(t)
	if res["statusCode"] != float64(400) || res["message"] != sandbox.MsgVersionHeader {
		t.Errorf("missing Version: %v", res)
	}
	e.doH("GET", path, e.TokL1, nil, map[string]string{"Version": "1999-01-01"}).mustStatus(t, 400)
	for _, v := range []string{"2021-07-28", "2021-04-15", "2023-02-21"} {
		if got := e.doH("GET", path, e.TokL1, nil, map[string]string{"Version": v}); got.Status == 400 {
			t.Errorf("Version %s refused: %s", v, got.Body)
		}
	}
}

// TestVersionHeaderMessage pins the list of accepted values: the spec's,
// then the extra ones, each named once.
func TestVersionHeaderMessage(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct{ path, want string }{
		{"/locations/" + e.L1, "2021-07-28, 2021-04-15, 2023-02-21"},
		{"/calendars/?locationId=" + e.L1, "2021-04-15, 2021-07-28, 2023-02-21"},
	} {
		m := e.doH("GET", tc.path, e.TokL1, nil, map[string]string{"Version": "garbage"}).mustStatus(t, 400).JSON(t)
		want := `Version header "garbage" is not supported for this route; use one of ` + tc.want
		if m["message"] != want {
			t.Errorf("GET %s: message %q, want %q", tc.path, m["message"], want)
		}
	}
}

func TestUnknownRouteIsJSON404(t *testing.T) {
	e := newTestEnv(t)
	res := e.do("GET", "/no/such/route", e.TokL1, nil).mustStatus(t, 404)
	m := res.JSON(t)
	if m["statusCode"] != float64(404) || !strings.Contains(m["message"].(string), "Cannot GET /no/such/route") {
		t.Errorf("body = %v", m)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q", ct)
	}
	e.do("PATCH", "/contacts/abc", e.TokL1, nil).mustStatus(t, 404)
}

func TestAuthErrors(t *testing.T) {
	e := newTestEnv(t)
	path := "/locations/" + e.L1
	for _, tok := range []string{"", "nonsense", "pit-00000000-0000-0000-0000-000000000000"} {
		m := e.do("GET", path, tok, nil).mustStatus(t, 401).JSON(t)
		if m["statusCode"] != float64(401) || m["error"] != "Unauthorized" || m["message"] == "" {
			t.Errorf("token %q: %v", tok, m)
		}
	}
	// Basic auth is not Bearer.
	e.doH("GET", path, "", nil, map[string]string{"Version": "2021-07-28", "Authorization": "Basic Zm9vOmJhcg=="}).mustStatus(t, 401)
	// A token without the scope: contacts.readonly only, reading a location.
	m := e.do("GET", path, e.TokL1Read, nil).mustStatus(t, 401).JSON(t)
	if m["message"] != sandbox.MsgScope {
		t.Errorf("scope error: %v", m)
	}
	// Another location's id in the path.
	m = e.do("GET", "/locations/"+e.L1, e.TokL2, nil).mustStatus(t, 403).JSON(t)
	if m["message"] != sandbox.MsgLocation {
		t.Errorf("location error: %v", m)
	}
	// Location id in the query and in the body are checked too.
	e.do("GET", "/contacts/?locationId="+e.L1, e.TokL2, nil).mustStatus(t, 403)
	e.do("POST", "/contacts/", e.TokL2, map[string]any{"locationId": e.L1, "firstName": "X"}).mustStatus(t, 403)
}

func TestBodyLimitAndMalformedJSON(t *testing.T) {
	e := newTestEnv(t)
	big := `{"locationId":"` + e.L1 + `","firstName":"` + strings.Repeat("a", sandbox.MaxBodyBytes) + `"}`
	m := e.do("POST", "/contacts/", e.TokL1, big).mustStatus(t, 413).JSON(t)
	if m["statusCode"] != float64(413) {
		t.Errorf("413 body: %v", m)
	}
	m = e.do("POST", "/contacts/", e.TokL1, `{"locationId": "`+e.L1+`",`).mustStatus(t, 400).JSON(t)
	if m["statusCode"] != float64(400) {
		t.Errorf("400 body: %v", m)
	}
}

func TestNotImplementedOperationAnswers501(t *testing.T) {
	e := newTestEnv(t)
	// Blogs are not stateful yet: auth and scope still run first.
	e.do("GET", "/blogs/authors?locationId="+e.L1+"&limit=5&offset=0", "bad", nil).mustStatus(t, 401)
	m := e.do("GET", "/blogs/authors?locationId="+e.L1+"&limit=5&offset=0", e.TokL1, nil).mustStatus(t, 501).JSON(t)
	if !strings.Contains(m["message"].(string), "not implemented") {
		t.Errorf("501 body: %v", m)
	}
}

func TestPanicIsRecoveredAs500(t *testing.T) {
	e := newTestEnv(t)
	e.Server.SetHandlerForTest("GET", "/blogs/authors", func(w http.ResponseWriter, r *sandbox.Request) error {
		panic("boom")
	})
	res := e.do("GET", "/blogs/authors?locationId="+e.L1, e.TokL1, nil).mustStatus(t, 500)
	m := res.JSON(t)
	if m["statusCode"] != float64(500) || m["message"] != "Internal Server Error" || m["traceId"] == "" {
		t.Errorf("500 body: %v", m)
	}
	if res.Header.Get("X-Request-Id") != m["traceId"] {
		t.Errorf("trace id header %q vs body %v", res.Header.Get("X-Request-Id"), m["traceId"])
	}
	// The server keeps serving.
	e.do("GET", "/no/route", e.TokL1, nil).mustStatus(t, 404)
}

func TestHealthAndMetrics(t *testing.T) {
	e := newTestEnv(t)
	e.do("GET", "/healthz", "", nil).mustStatus(t, 200)
	e.do("GET", "/no/route", "", nil)
	res := e.do("GET", "/metrics", "", nil).mustStatus(t, 200)
	if !strings.Contains(string(res.Body), "ghlkit_sandbox_requests_total") {
		t.Errorf("metrics lack the request counter:\n%.500s", res.Body)
	}
}

func TestAdminToken(t *testing.T) {
	e := newTestEnv(t, func(c *sandbox.Config) { c.AdminToken = "s3cret-admin" })
	m := e.do("GET", "/_ghlkit/locations", "", nil).mustStatus(t, 401).JSON(t)
	if m["statusCode"] != float64(401) {
		t.Errorf("body %v", m)
	}
	e.do("GET", "/_ghlkit/locations", "wrong", nil).mustStatus(t, 401)
	e.do("GET", "/_ghlkit/locations", "s3cret-admin", nil).mustStatus(t, 200)
	// Health, metrics and the GHL API are not behind the admin token.
	e.do("GET", "/healthz", "", nil).mustStatus(t, 200)
	e.do("GET", "/locations/"+e.L1, e.TokL1, nil).mustStatus(t, 200)

	open := newTestEnv(t)
	open.do("GET", "/_ghlkit/locations", "", nil).mustStatus(t, 200)
}

func TestConsentPageUnderV2Path(t *testing.T) {
	e := newTestEnv(t)
	// Unknown client: the consent page answers its own 400 page on both paths.
	a := e.do("GET", "/oauth/chooselocation?response_type=code&client_id=nope&redirect_uri=http://x", "", nil)
	b := e.do("GET", "/v2/oauth/chooselocation?response_type=code&client_id=nope&redirect_uri=http://x", "", nil)
	if a.Status != 400 || b.Status != a.Status || !strings.Contains(string(b.Body), "<html") {
		t.Errorf("v1 %d, v2 %d %.200s", a.Status, b.Status, b.Body)
	}
}

// TestUnknownAdminRouteIsJSON404: a path under /_ghlkit/ (or another
// non-API path) that no route serves, or serves with other methods only,
// answers GHL's JSON error as unknown API routes do.
func TestUnknownAdminRouteIsJSON404(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct{ method, path, msg string }{
		{"GET", "/_ghlkit/nope", "Cannot GET /_ghlkit/nope"},
		{"GET", "/_ghlkit/", "Cannot GET /_ghlkit/"},
		{"POST", "/_ghlkit/apps/x/y/z", "Cannot POST /_ghlkit/apps/x/y/z"},
		{"PATCH", "/_ghlkit/locations", "Cannot PATCH /_ghlkit/locations (the path exists with another method)"},
		{"PUT", "/_ghlkit/tokens/abc", "Cannot PUT /_ghlkit/tokens/abc (the path exists with another method)"},
		{"POST", "/healthz", "Cannot POST /healthz (the path exists with another method)"},
		{"GET", "/_ghlkit/files/nope", "Cannot GET /_ghlkit/files/nope"},
	} {
		res := e.do(tc.method, tc.path, "", nil)
		if res.Status != 404 {
			t.Errorf("%s %s: status %d, want 404; %s", tc.method, tc.path, res.Status, res.Body)
			continue
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: content type %q", tc.method, tc.path, ct)
		}
		m := res.JSON(t)
		if m["statusCode"] != float64(404) || m["message"] != tc.msg || m["error"] != "Not Found" || m["traceId"] == "" || m["traceId"] != res.Header.Get("X-Request-Id") {
			t.Errorf("%s %s: body %v", tc.method, tc.path, m)
		}
	}
	// Known routes are served as before.
	e.do("GET", "/_ghlkit/locations", "", nil).mustStatus(t, 200)
	e.do("GET", "/healthz", "", nil).mustStatus(t, 200)

	// With an admin token, the token is checked first; uploaded files stay
	// public, their unknown paths answering the JSON 404.
	a := newTestEnv(t, func(c *sandbox.Config) { c.AdminToken = "s3cret-admin" })
	a.do("GET", "/_ghlkit/nope", "", nil).mustStatus(t, 401)
	a.do("PATCH", "/_ghlkit/locations", "wrong", nil).mustStatus(t, 401)
	if m := a.do("GET", "/_ghlkit/nope", "s3cret-admin", nil).mustStatus(t, 404).JSON(t); m["message"] != "Cannot GET /_ghlkit/nope" {
		t.Errorf("admin 404 %v", m)
	}
	if m := a.do("GET", "/_ghlkit/files/nope", "", nil).mustStatus(t, 404).JSON(t); m["message"] != "Cannot GET /_ghlkit/files/nope" {
		t.Errorf("files 404 %v", m)
	}
	if m := a.do("POST", "/_ghlkit/files/abc/a.txt", "", nil).mustStatus(t, 404).JSON(t); m["message"] != "Cannot POST /_ghlkit/files/abc/a.txt (the path exists with another method)" {
		t.Errorf("files 404 %v", m)
	}
}
