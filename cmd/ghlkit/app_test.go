package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
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

// newSandboxDB creates the database a sandbox started on path would, as
// the commands that work on a sandbox's data need one.
func newSandboxDB(t *testing.T, path string) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestAppCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	db := "sqlite:" + path
	newSandboxDB(t, path)

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
		{[]string{"--name", "X", "--redirect-uri", "/relative/cb"}, 2, "must be an absolute URI"},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--scopes", "contacts.readonly,contacts.all"}, 1, `unknown scope "contacts.all"`},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--scopes", ""}, 2, "--scopes is empty"},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--scopes", " , "}, 2, "--scopes is empty"},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--base-url", "ftp://x"}, 2, "--base-url must start with http"},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--webhook-url", "ftp://x"}, 2, "webhookUrl must be an absolute http(s) URL"},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--client-id", "a b"}, 2, "clientId must be an app id"},
		// Only absolute http(s) redirect URIs without a fragment.
		{[]string{"--name", "X", "--redirect-uri", "javascript:alert(1)"}, 2, `"javascript:alert(1)" must be an http or https URL`},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--redirect-uri", "data:text/html,hi"}, 2, `"data:text/html,hi" must be an http or https URL`},
		{[]string{"--name", "X", "--redirect-uri", "myapp://oauth"}, 2, "must be an http or https URL"},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb#top"}, 2, "must not contain a fragment"},
		{[]string{"--name", "X", "--redirect-uri", "https:///cb"}, 2, "has no host"},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--company", "nope"}, 1, "company nope does not exist"},
		// A taken client id, or a new one with a taken app id, names the clash.
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--client-id", out.ClientID}, 1,
			"An app with client id " + out.ClientID + " exists already"},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--client-id", out.AppID + "-other"}, 1,
			"An app with app id " + out.AppID + " exists already (client id " + out.ClientID + ")"},
		{[]string{"--name", "X", "--redirect-uri", "https://x.example/cb", "--client-id", out.AppID}, 1,
			"An app with app id " + out.AppID + " exists already"},
	} {
		code, _, stderr := runCmd(t, append([]string{"app", "create", "--db", db}, tt.args...)...)
		if code != tt.want || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tt.args, code, tt.want, stderr, tt.msg)
		}
		if strings.Contains(stderr, "sandbox error:") {
			t.Errorf("%v: debugging form of the error shown: %q", tt.args, stderr)
		}
	}
	// None of them registered an app.
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	err = st.Read(context.Background(), func(tx sandbox.Tx) error {
		apps, err := sandbox.ListApps(context.Background(), tx)
		if len(apps) != 3 {
			t.Errorf("%d apps after the refused creations, want 3", len(apps))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAppCreateNeedsDatabase: app create works on an existing sandbox's
// database and creates none, neither at a --db that does not exist nor at
// the default path when run from another directory.
func TestAppCreateNeedsDatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nonexist", "dir", "x.db")
	args := []string{"app", "create", "--name", "X", "--redirect-uri", "https://x.example/cb"}
	code, stdout, stderr := runCmd(t, append(args, "--db", "sqlite:"+missing)...)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "no sandbox database at "+missing) || !strings.Contains(stderr, "ghlkit dev") {
		t.Errorf("missing --db: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "nonexist")); !os.IsNotExist(err) {
		t.Errorf("app create made %s: %v", filepath.Join(dir, "nonexist"), err)
	}
	// A bare path, and a directory.
	if code, _, stderr := runCmd(t, append(args, "--db", filepath.Join(dir, "bare.db"))...); code != 1 || !strings.Contains(stderr, "no sandbox database at") {
		t.Errorf("missing bare path: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, append(args, "--db", dir)...); code != 1 || !strings.Contains(stderr, "is a directory") {
		t.Errorf("directory: exit %d, stderr %q", code, stderr)
	}
	if code, _, stderr := runCmd(t, append(args, "--db", "sqlite::memory:")...); code != 1 || !strings.Contains(stderr, "new, empty database") {
		t.Errorf(":memory: exit %d, stderr %q", code, stderr)
	}

	// A file that is not a sandbox's database (not SQLite at all, or SQLite
	// without the sandbox's tables) is refused and left as it was.
	notDB := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notDB, []byte("just some text, not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	otherDB := filepath.Join(t.TempDir(), "other.db")
	func() {
		db, err := sql.Open("sqlite", otherDB)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TABLE notes (body TEXT)`); err != nil {
			t.Fatal(err)
		}
	}()
	for _, path := range []string{notDB, otherDB} {
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := runCmd(t, append(args, "--db", "sqlite:"+path)...); code != 1 || !strings.Contains(stderr, "no sandbox database at "+path) {
			t.Errorf("%s: exit %d, stderr %q", filepath.Base(path), code, stderr)
		}
		if after, _ := os.ReadFile(path); string(after) != string(before) {
			t.Errorf("%s changed by a refused app create", filepath.Base(path))
		}
	}

	// The default ./ghlkit-data/ghlkit.db, from a directory without one.
	wantNoDefaultDB(t, dir, args...)
}

// wantNoDefaultDB runs a command that needs an existing sandbox in dir,
// which has none: it must fail naming the default database and leave dir
// as it was (empty).
func wantNoDefaultDB(t *testing.T, dir string, args ...string) {
	t.Helper()
	t.Chdir(dir)
	code, _, stderr := runCmd(t, args...)
	if code != 1 || !strings.Contains(stderr, "no sandbox database at ./ghlkit-data/ghlkit.db ("+filepath.Join(dir, "ghlkit-data", "ghlkit.db")+")") {
		t.Errorf("%s with the default --db: exit %d, stderr %q", strings.Join(args[:2], " "), code, stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s left %v in %s", strings.Join(args[:2], " "), entries, dir)
	}
}
