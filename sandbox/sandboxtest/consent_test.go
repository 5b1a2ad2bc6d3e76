package sandboxtest

import (
	"net/url"
	"testing"
)

func TestParseForm(t *testing.T) {
	cases := []struct {
		name, page string
		want       url.Values
		action     string
		method     string
	}{
		{
			name: "radios",
			page: `<html><body><h1>Choose</h1><form method="post" action="/oauth/chooselocation?x=1">
				<input type="hidden" name="client_id" value="app&amp;1">
				<input type=hidden name='state' value='s1'>
				<label><input type="radio" name="locationId" value="L1" checked> One</label>
				<label><input type="radio" name="locationId" value="L2"> Two</label>
				<input type="checkbox" name="remember" value="yes" checked>
				<button type="submit" name="decision" value="deny">Deny</button>
				<button type="submit" name="decision" value="allow">Allow</button>
			</form></body></html>`,
			want:   url.Values{"client_id": {"app&1"}, "state": {"s1"}, "locationId": {"L2"}, "remember": {"yes"}, "decision": {"allow"}},
			action: "/oauth/chooselocation?x=1", method: "POST",
		},
		{
			name: "select and checkboxes",
			page: `<form method=POST><select name="location_id"><option value="">--</option><option value="L1">One</option><option value="L2">Two</option></select>
				<input type="checkbox" name="scope" value="contacts.readonly" checked><input type="checkbox" name="scope" value="contacts.write" checked>
				<input type="text" name="note"><input type="submit" value="Approve"></form>`,
			want:   url.Values{"location_id": {"L2"}, "scope": {"contacts.readonly", "contacts.write"}, "note": {""}},
			action: "", method: "POST",
		},
		{
			name: "prefixed values",
			page: `<form method="post"><input type="radio" name="target" value="company:C1"><input type="radio" name="target" value="location:L1">
				<input type="radio" name="target" value="location:L2"><button type="submit" name="action" value="approve">Allow</button>
				<button type="submit" name="action" value="deny">Deny</button></form>`,
			want: url.Values{"target": {"location:L2"}, "action": {"approve"}}, method: "POST",
		},
		{
			name: "typed id",
			page: `<form action="/approve"><input name="locationId"><input type="submit" name="ok" value="1"></form>`,
			want: url.Values{"locationId": {"L2"}, "ok": {"1"}}, action: "/approve", method: "GET",
		},
	}
	for _, tc := range cases {
		f, err := parseForm(tc.page, "L2")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if f.values.Encode() != tc.want.Encode() || f.action != tc.action || f.method != tc.method {
			t.Errorf("%s: %s %q %v, want %s %q %v", tc.name, f.method, f.action, f.values, tc.method, tc.action, tc.want)
		}
	}
}
