package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests run the real binary, as a user does: built once per
// test run, started as a process, driven over HTTP, stopped by a signal.

var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// ghlkitBinary builds ./cmd/ghlkit once and returns the executable's path.
func ghlkitBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binary")
	}
	binary.once.Do(func() {
		binary.dir, binary.err = os.MkdirTemp("", "ghlkit-e2e-*")
		if binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "ghlkit")
		out, err := exec.Command("go", "build", "-o", binary.path, ".").CombinedOutput()
		if err != nil {
			binary.err = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// process is a running ghlkit.
type process struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	info   startup
	// ready is how long the process took to print its JSON line.
	ready time.Duration
}

// startDev starts `ghlkit dev --json` on a database file in dir.
func startDev(t *testing.T, dir, db string) *process {
	t.Helper()
	cmd := exec.Command(ghlkitBinary(t), "dev", "--json", "--listen", "127.0.0.1:0", "--db", "sqlite:"+db)
	cmd.Dir = dir // the default ./ghlkit-data must not land in the source tree
	cmd.Env = append(os.Environ(), "GHLKIT_CONFIG=", "GHLKIT_LISTEN=", "GHLKIT_DB=")
	p := &process{cmd: cmd, stderr: &lockedBuffer{}}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, err := r.ReadString('\n')
		if err == nil {
			lines <- line
		}
		close(lines)
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("ghlkit dev exited without a JSON line (%v); stderr:\n%s", cmd.ProcessState, p.stderr)
		}
		p.ready = time.Since(start)
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p.info); err != nil {
			t.Fatalf("first stdout line %q: %v", line, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("no JSON line after 20 s; stderr:\n%s", p.stderr)
	}
	return p
}

// signal stops the process with sig and returns its exit code.
func (p *process) signal(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatalf("ghlkit did not exit within 15 s of %v; stderr:\n%s", sig, p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

// call sends an API request as the Node SDK does and decodes the JSON answer.
func (p *process) call(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, p.info.BaseURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Version", "2021-07-28")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: %d, body is not a JSON object: %s", method, path, res.StatusCode, raw)
	}
	return res.StatusCode, m
}

func TestDevEndToEnd(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	p := startDev(t, dir, db)
	t.Logf("ghlkit dev printed its JSON line after %v", p.ready)
	if p.ready > 3*time.Second {
		t.Errorf("ghlkit dev took %v to start, want < 3 s", p.ready)
	}
	if !strings.HasPrefix(p.info.BaseURL, "http://127.0.0.1:") || strings.HasSuffix(p.info.BaseURL, ":0") {
		t.Errorf("baseUrl %q does not name the bound port", p.info.BaseURL)
	}
	if p.info.CompanyID == "" || p.info.LocationID == "" || !strings.HasPrefix(p.info.Token, "pit-") {
		t.Fatalf("startup = %+v", p.info)
	}
	tok, loc := p.info.Token, p.info.LocationID

	// Create a contact, read it back, find it by search.
	status, m := p.call(t, "POST", "/contacts/", tok, map[string]any{
		"locationId": loc, "firstName": "Grace", "lastName": "Hopper", "email": "Grace.Hopper@Example.com", "phone": "+1 415 555 0192", "tags": []string{"vip"},
	})
	if status != 201 {
		t.Fatalf("create contact: %d %v", status, m)
	}
	id, _ := m["contact"].(map[string]any)["id"].(string)
	status, m = p.call(t, "GET", "/contacts/"+id, tok, nil)
	if c, _ := m["contact"].(map[string]any); status != 200 || c["email"] != "grace.hopper@example.com" || c["phone"] != "+14155550192" {
		t.Errorf("get contact: %d %v", status, m)
	}
	status, m = p.call(t, "POST", "/contacts/search", tok, map[string]any{"locationId": loc, "query": "hopper", "pageLimit": 10})
	found, _ := m["contacts"].([]any)
	if status != 200 || len(found) != 1 || found[0].(map[string]any)["id"] != id {
		t.Errorf("search: %d %v", status, m)
	}
	// The demo data is there: 50 seeded contacts plus ours.
	status, m = p.call(t, "POST", "/contacts/search", tok, map[string]any{"locationId": loc, "pageLimit": 1})
	if status != 200 || m["total"] != float64(51) {
		t.Errorf("search all: %d total %v, want 51", status, m["total"])
	}

	// Errors in GHL's shape: a bad token, an unknown route.
	status, m = p.call(t, "GET", "/contacts/"+id, "pit-not-a-real-token", nil)
	if status != 401 || m["statusCode"] != float64(401) || m["message"] != "Invalid JWT" {
		t.Errorf("bad token: %d %v", status, m)
	}
	status, m = p.call(t, "GET", "/no/such/route", tok, nil)
	if status != 404 || m["statusCode"] != float64(404) || m["error"] != "Not Found" {
		t.Errorf("unknown route: %d %v", status, m)
	}

	// A token minted by the CLI on the same file works on the running server.
	out, err := exec.Command(ghlkitBinary(t), "token", "create", "--db", "sqlite:"+db, "--location", loc, "--scopes", "contacts.readonly").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	minted := strings.TrimSpace(string(out))
	if status, m = p.call(t, "GET", "/contacts/"+id, minted, nil); status != 200 {
		t.Errorf("minted token: %d %v", status, m)
	}
	if status, m = p.call(t, "POST", "/contacts/", minted, map[string]any{"locationId": loc, "firstName": "Nope"}); status != 401 {
		t.Errorf("read-only minted token created a contact: %d %v", status, m)
	}

	if code := p.signal(t, syscall.SIGINT); code != 0 {
		t.Fatalf("exit %d after SIGINT; stderr:\n%s", code, p.stderr)
	}
	if strings.Contains(p.stderr.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", p.stderr)
	}

	// Restart on the same file: same ids and token, the contact is kept.
	q := startDev(t, dir, db)
	// The port differs; everything else must not.
	before, after := p.info, q.info
	before.BaseURL, after.BaseURL = "", ""
	if after != before {
		t.Errorf("restart reports %+v, first run %+v", q.info, p.info)
	}
	status, m = q.call(t, "GET", "/contacts/"+id, tok, nil)
	if c, _ := m["contact"].(map[string]any); status != 200 || c["email"] != "grace.hopper@example.com" {
		t.Errorf("after restart: %d %v", status, m)
	}
	if code := q.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, q.stderr)
	}
}

// TestDevBanner checks the human start-up output a new user copies from.
func TestDevBanner(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(ghlkitBinary(t), "dev", "--listen", "127.0.0.1:0", "--db", "sqlite:"+filepath.Join(dir, "b.db"))
	cmd.Dir = dir
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var banner strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		banner.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "Stop with Ctrl-C") {
			break
		}
	}
	text := banner.String()
	for _, want := range []string{"Base URL      http://127.0.0.1:", "Token         pit-", "Location      ", "Company       ",
		"curl -s", "Authorization: Bearer $GHL_TOKEN", "new HighLevel({ privateIntegrationToken:", "ghl.WithPrivateIntegrationToken(", "well-known"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGINT: %v; stderr:\n%s", err, stderr.String())
	}
}
