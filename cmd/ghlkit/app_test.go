package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
)

// storedApp reads an app back from the database.
func storedApp(t *testing.T, path, clientID string) *sandbox.App {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var app *sandbox.App
	err = st.Read(context.Background(), func(tx sandbox.Tx) error {
		var err error
		app, err = sandbox.GetApp(context.Background(), tx, clientID)
		return err
	})
	if err != nil {
		t.Fatalf("app %s not stored: %v", clientID, err)
	}
	return app
}

func TestAppCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	db := "sqlite:" + path

	code, stdout, stderr := runCmd(t, "app", "create", "--db", db, "--name", "My App",
		"--redirect-uri", "http://localhost:3000/oauth/callback", "--redirect-uri", "https://app.example/cb",
		"--scopes", "contacts.readonly contacts.write", "--base-url", "http://127.0.0.1:9999/")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		k, v, _ := strings.Cut(line, " ")
		fields[k] = strings.TrimSpace(v)
	}
	app := storedApp(t, path, fields["client_id"])
	if app.Name != "My App" || len(app.RedirectURIs) != 2 || strings.Join(app.Scopes, " ") != "contacts.readonly contacts.write" ||
		app.ID != fields["app_id"] || app.DistributionType != sandbox.DistributionSubAccount {
		t.Errorf("stored app = %+v", app)
	}
	if fields["client_secret"] == "" || app.ClientSecretHash != sandbox.HashSecret(fields["client_secret"]) {
		t.Errorf("printed secret %q does not match the stored hash", fields["client_secret"])
	}
	if strings.Contains(stdout, app.ClientSecretHash) {
		t.Error("the secret's hash is printed")
	}
	consent, err := url.Parse(fields["consent_url"])
	if err != nil {
		t.Fatal(err)
	}
	q := consent.Query()
	if consent.Scheme+"://"+consent.Host+consent.Path != "http://127.0.0.1:9999/oauth/chooselocation" || q.Get("response_type") != "code" ||
		q.Get("client_id") != app.ClientID || q.Get("redirect_uri") != "http://localhost:3000/oauth/callback" ||
		q.Get("scope") != "contacts.readonly contacts.write" {
		t.Errorf("consent_url = %s", consent)
	}

	// JSON, agency distribution, fixed credentials, default scopes.
	code, stdout, stderr = runCmd(t, "app", "create", "--db", db, "--name", "Agency App", "--redirect-uri", "https://agency.example/cb",
		"--distribution", "both", "--client-id", "66f2b0c1d4e5f6a7b8c9d0e1-devapp01", "--client-secret", "dev-secret", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var out struct {
		AppID        string   `json:"app_id"`
		ClientID     string   `json:"client_id"`
		ClientSecret string   `json:"client_secret"`
		RedirectURIs []string `json:"redirect_uris"`
		Scope        string   `json:"scope"`
		Distribution string   `json:"distribution_type"`
		ConsentURL   string   `json:"consent_url"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	if out.ClientID != "66f2b0c1d4e5f6a7b8c9d0e1-devapp01" || out.AppID != "66f2b0c1d4e5f6a7b8c9d0e1" || out.ClientSecret != "dev-secret" ||
		out.Distribution != sandbox.DistributionBoth || len(strings.Fields(out.Scope)) != len(sandbox.AllScopes()) ||
		!strings.HasPrefix(out.ConsentURL, "http://127.0.0.1:8080/oauth/chooselocation?") {
		t.Errorf("app = %+v", out)
	}
	if got := storedApp(t, path, out.ClientID); got.ClientSecretHash != sandbox.HashSecret("dev-secret") {
		t.Errorf("fixed secret not stored: %+v", got)
	}
	if u, err := url.Parse(out.ConsentURL); err != nil || u.Query().Has("scope") {
		t.Errorf("consent_url without --scopes names scopes: %s", out.ConsentURL)
	}

	// The consent URL opens the sandbox's consent page for the app.
	addr := freeAddr(t)
	code, stdout, stderr = runCmd(t, "app", "create", "--db", db, "--name", "Consent Check", "--redirect-uri", "http://localhost:3000/cb",
		"--scopes", "contacts.readonly", "--base-url", "http://"+addr, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "sandbox", "--db", db, "--listen", addr, "--json")
	res, err := http.Get(out.ConsentURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "Consent Check") {
		t.Errorf("GET consent_url: %d\n%s", res.StatusCode, page)
	}
	s.stop(t)

	for _, tt := range []struct {
		args []string
		want int
		msg  string
	}{
		{[]string{"--redirect-uri", "https://x.example/cb"}, 2, "--name is required"},
		{[]string{"--name", "X"}, 2, "--redirect-uri is required"},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--distribution", "everyone"}, 2, "must be one of sub-account, agency, both"},
		{[]string{"--name", "X", "--redirect-uri", "/relative/cb"}, 1, "must be an absolute URI"},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--scopes", "contacts.readonly,contacts.all"}, 1, `unknown scope "contacts.all"`},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--client-id", out.ClientID}, 1, "exists already"},
	} {
		code, _, stderr := runCmd(t, append([]string{"app", "create", "--db", db}, tt.args...)...)
		if code != tt.want || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, code, tt.want, stderr, tt.msg)
		}
		if strings.Contains(stderr, "sandbox error:") {
			t.Errorf("%v: debugging form of the error shown: %q", tt.args, stderr)
		}
	}
}
