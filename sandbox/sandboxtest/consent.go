package sandboxtest

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Consent plays the user on the sandbox's consent page: it opens authURL (an
// oauth.Config.AuthCodeURL or any GET /oauth/chooselocation URL), fills the
// page's form choosing the location (or, for an agency-level install, the
// company) choiceID, approves, and returns the URL the sandbox redirects
// the browser to: the app's redirect URI with ?code= and &state=, or with
// ?error= when the sandbox refused. The redirect is not followed.
//
// It reads the form as a browser would: hidden and text inputs as they are,
// the radio button, checkbox or select option whose value is choiceID or
// ends with ":"+choiceID (the sandbox's "location:<id>" and
// "company:<id>"), the checked or first one of any other group, and the
// submit button that approves rather than denies.
func (sb *Sandbox) Consent(t testing.TB, authURL, choiceID string) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{
		Transport:     sb.HTTP.Client().Transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	page, err := url.Parse(authURL)
	if err != nil {
		t.Fatalf("sandboxtest: consent URL: %v", err)
	}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatalf("sandboxtest: GET consent page: %v", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if loc := redirectOf(t, resp, page); loc != nil {
		return loc // approved before (or refused at once)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sandboxtest: GET consent page: %d %s", resp.StatusCode, body)
	}
	f, err := parseForm(string(body), choiceID)
	if err != nil {
		t.Fatalf("sandboxtest: consent page: %v\n%s", err, body)
	}
	action, err := page.Parse(f.action)
	if err != nil {
		t.Fatalf("sandboxtest: form action %q: %v", f.action, err)
	}
	var req *http.Request
	if f.method == http.MethodGet {
		action.RawQuery = f.values.Encode()
		req, err = http.NewRequestWithContext(t.Context(), http.MethodGet, action.String(), nil)
	} else {
		req, err = http.NewRequestWithContext(t.Context(), http.MethodPost, action.String(), strings.NewReader(f.values.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err = client.Do(req)
	if err != nil {
		t.Fatalf("sandboxtest: submit consent: %v", err)
	}
	body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	loc := redirectOf(t, resp, action)
	if loc == nil {
		t.Fatalf("sandboxtest: consent answered %d, not a redirect: %s", resp.StatusCode, body)
	}
	return loc
}

func redirectOf(t testing.TB, resp *http.Response, base *url.URL) *url.URL {
	t.Helper()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		return nil
	}
	loc, err := base.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("sandboxtest: redirect %q: %v", resp.Header.Get("Location"), err)
	}
	return loc
}

// Code returns the authorization code of a Consent redirect, failing the
// test when the sandbox redirected with an error or a state other than
// wantState.
func Code(t testing.TB, redirect *url.URL, wantState string) string {
	t.Helper()
	q := redirect.Query()
	if e := q.Get("error"); e != "" {
		t.Fatalf("sandboxtest: consent refused: %s %s", e, q.Get("error_description"))
	}
	if q.Get("state") != wantState {
		t.Fatalf("sandboxtest: consent redirect state %q, want %q", q.Get("state"), wantState)
	}
	code := q.Get("code")
	if code == "" {
		t.Fatalf("sandboxtest: consent redirect without code: %s", redirect)
	}
	return code
}

var (
	formTag  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	fieldTag = regexp.MustCompile(`(?is)<(input|button|select|option|textarea)\b([^>]*)>|</select>`)
	attrRe   = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?`)
)

type form struct {
	action, method string
	values         url.Values
}

func attrs(s string) map[string]string {
	out := map[string]string{}
	for _, m := range attrRe.FindAllStringSubmatch(s, -1) {
		v := m[2] + m[3] + m[4]
		out[strings.ToLower(m[1])] = html.UnescapeString(v)
	}
	return out
}

// approving tells an approve button from a deny button by its name, value
// or id.
func approving(a map[string]string) bool {
	s := strings.ToLower(a["name"] + " " + a["value"] + " " + a["id"])
	for _, no := range []string{"deny", "cancel", "reject", "decline"} {
		if strings.Contains(s, no) {
			return false
		}
	}
	return true
}

// parseForm reads the first form that offers choiceID (or the first form)
// and fills it in.
func parseForm(page, choiceID string) (*form, error) {
	forms := formTag.FindAllStringSubmatch(page, -1)
	if len(forms) == 0 {
		return nil, fmt.Errorf("no <form>")
	}
	chosen := forms[0]
	for _, f := range forms {
		if strings.Contains(f[2], choiceID) {
			chosen = f
			break
		}
	}
	fa := attrs(chosen[1])
	f := &form{action: fa["action"], method: strings.ToUpper(fa["method"]), values: url.Values{}}
	if f.method == "" {
		f.method = http.MethodGet
	}
	type group struct {
		values  []string
		checked []string
		multi   bool
	}
	groups := map[string]*group{} // radio, checkbox and select groups by name
	var order []string
	groupOf := func(name string) *group {
		g := groups[name]
		if g == nil {
			g = &group{}
			groups[name] = g
			order = append(order, name)
		}
		return g
	}
	submitted := false
	var select_ string
	for _, m := range fieldTag.FindAllStringSubmatch(chosen[2], -1) {
		if m[0][1] == '/' {
			select_ = ""
			continue
		}
		tag, a := strings.ToLower(m[1]), attrs(m[2])
		_, disabled := a["disabled"]
		_, checked := a["checked"]
		_, selected := a["selected"]
		name := a["name"]
		switch tag {
		case "select":
			select_ = name
			_, multi := a["multiple"]
			groupOf(name).multi = multi
			continue
		case "option":
			if select_ == "" || disabled {
				continue
			}
			v, ok := a["value"]
			if !ok {
				continue
			}
			g := groupOf(select_)
			g.values = append(g.values, v)
			if selected {
				g.checked = append(g.checked, v)
			}
			continue
		}
		if name == "" || disabled {
			continue
		}
		typ := strings.ToLower(a["type"])
		if tag == "button" && typ == "" {
			typ = "submit"
		}
		switch typ {
		case "radio", "checkbox":
			g := groupOf(name)
			g.multi = typ == "checkbox"
			v := a["value"]
			if v == "" {
				v = "on"
			}
			g.values = append(g.values, v)
			if checked {
				g.checked = append(g.checked, v)
			}
		case "submit", "image":
			if !submitted && approving(a) {
				f.values.Add(name, a["value"])
				submitted = true
			}
		case "reset", "file":
		default:
			v := a["value"]
			if n := strings.ToLower(name); v == "" && (strings.Contains(n, "location") || strings.Contains(n, "company")) {
				v = choiceID // a field to type the id in
			}
			f.values.Add(name, v)
		}
	}
	for _, name := range order {
		g := groups[name]
		if v, ok := matchChoice(g.values, choiceID); ok {
			f.values.Add(name, v)
			continue
		}
		switch {
		case len(g.checked) > 0:
			if g.multi {
				f.values[name] = append(f.values[name], g.checked...)
			} else {
				f.values.Add(name, g.checked[0])
			}
		case !g.multi && len(g.values) > 0:
			f.values.Add(name, g.values[0])
		}
	}
	return f, nil
}

// matchChoice finds the value that names id: id itself, or a value such as
// "location:<id>" that ends with ":" and id.
func matchChoice(values []string, id string) (string, bool) {
	for _, v := range values {
		if v == id {
			return v, true
		}
	}
	for _, v := range values {
		if strings.HasSuffix(v, ":"+id) {
			return v, true
		}
	}
	return "", false
}
