package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a goroutine-safe buffer for a running command's stderr.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runCmd runs a command that returns by itself and captures its output.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// server is a `ghlkit sandbox|dev --json` running in-process.
type server struct {
	info   startup
	stderr *lockedBuffer
	cancel context.CancelFunc
	done   chan int
}

// startServer runs a server command in-process and waits for its JSON line.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &server{stderr: &lockedBuffer{}, cancel: cancel, done: make(chan int, 1)}
	go func() {
		code := Run(ctx, args, strings.NewReader(""), pw, s.stderr)
		pw.Close()
		s.done <- code
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case line, ok := <-lines:
		if !ok {
			cancel()
			t.Fatalf("server exited with %d before reporting; stderr:\n%s", <-s.done, s.stderr)
		}
		if err := json.Unmarshal([]byte(line), &s.info); err != nil {
			cancel()
			t.Fatalf("first stdout line is not JSON: %q", line)
		}
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatalf("no JSON line after 10 s; stderr:\n%s", s.stderr)
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop cancels the server (as SIGINT does) and returns its exit code.
func (s *server) stop(t *testing.T) int {
	t.Helper()
	s.cancel()
	select {
	case code, ok := <-s.done:
		if !ok {
			return 0
		}
		close(s.done)
		return code
	case <-time.After(15 * time.Second):
		t.Fatal("server did not stop within 15 s")
		return -1
	}
}

// get sends a GET with the Node SDK's headers to the server's real address
// (the base URL may name another host when --base-url is set).
func (s *server) get(t *testing.T, addr, path, token string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Version", "2021-07-28")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// freeAddr reserves a loopback port for a server that must know its address
// in advance (when --base-url hides the bound one).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestConfigPrecedence checks flag > env > file > default on two settings
// whose effect is observable from outside: the base URL the server reports
// and the burst limit it announces in X-RateLimit-Max.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "p.db")
	file := writeFile(t, filepath.Join(dir, "ghlkit.yaml"), `
# every key is a flag name
rate_limit_burst: 7
base-url: http://file.example:7000
seed: demo
json: true
`)
	tests := []struct {
		name      string
		env       map[string]string
		args      []string
		wantBurst string
		wantBase  string // "" means the bound address
	}{
		{name: "defaults", wantBurst: "100"},
		{name: "file via GHLKIT_CONFIG", env: map[string]string{"GHLKIT_CONFIG": file}, wantBurst: "7", wantBase: "http://file.example:7000"},
		{name: "env over file", env: map[string]string{"GHLKIT_RATE_LIMIT_BURST": "8", "GHLKIT_BASE_URL": "http://env.example:8000"},
			args: []string{"--config", file}, wantBurst: "8", wantBase: "http://env.example:8000"},
		{name: "flag over env", env: map[string]string{"GHLKIT_RATE_LIMIT_BURST": "8", "GHLKIT_BASE_URL": "http://env.example:8000"},
			args: []string{"--config", file, "--rate-limit-burst", "9", "--base-url", "http://flag.example:9000"}, wantBurst: "9", wantBase: "http://flag.example:9000"},
		{name: "empty env is unset", env: map[string]string{"GHLKIT_RATE_LIMIT_BURST": ""}, args: []string{"--config", file}, wantBurst: "7", wantBase: "http://file.example:7000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			addr := freeAddr(t)
			// sandbox defaults to --seed none and no JSON: the file turns
			// both on in the file cases, so the defaults case sets them.
			args := append([]string{"sandbox", "--listen", addr, "--db", db, "--seed", "demo", "--json"}, tt.args...)
			s := startServer(t, args...)
			wantBase := tt.wantBase
			if wantBase == "" {
				wantBase = "http://" + addr
			}
			if s.info.BaseURL != wantBase {
				t.Errorf("baseUrl = %q, want %q", s.info.BaseURL, wantBase)
			}
			res := s.get(t, addr, "/contacts/?locationId="+s.info.LocationID+"&limit=1", s.info.Token)
			if res.StatusCode != 200 {
				t.Fatalf("GET contacts: %d", res.StatusCode)
			}
			if got := res.Header.Get("X-RateLimit-Max"); got != tt.wantBurst {
				t.Errorf("X-RateLimit-Max = %q, want %s", got, tt.wantBurst)
			}
			if code := s.stop(t); code != 0 {
				t.Errorf("exit %d; stderr:\n%s", code, s.stderr)
			}
		})
	}
}

// TestConfigFileSetsEverything starts from a file alone: listen, db, seed,
// json and the rate limiter switch (off: nothing counted).
func TestConfigFileSetsEverything(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	file := writeFile(t, filepath.Join(dir, "c.yaml"), "listen: "+addr+"\ndb: sqlite:"+filepath.Join(dir, "f.db")+
		"\nseed: demo\njson: true\nrate-limit: false\nlog-format: json\nlog-level: warn\n")
	s := startServer(t, "sandbox", "--config", file)
	if s.info.BaseURL != "http://"+addr || s.info.Token == "" {
		t.Fatalf("startup = %+v", s.info)
	}
	for range 2 {
		// The limiter off counts nothing: the budget stays whole.
		res := s.get(t, addr, "/contacts/?locationId="+s.info.LocationID, s.info.Token)
		if res.StatusCode != 200 || res.Header.Get("X-RateLimit-Remaining") != "100" || res.Header.Get("X-RateLimit-Max") != "100" {
			t.Errorf("status %d, X-RateLimit-Remaining %q: want 200 and no limiter", res.StatusCode, res.Header.Get("X-RateLimit-Remaining"))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "f.db")); err != nil {
		t.Errorf("db from the file not used: %v", err)
	}
	s.stop(t)
	// log-level warn in JSON: no info lines, and what is there is JSON.
	for _, line := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["level"] == "INFO" {
			t.Errorf("stderr line %q: want JSON at warn or above", line)
		}
	}
}

// exitCase is a command that fails: its exit code and a part of its stderr.
type exitCase struct {
	name    string
	env     map[string]string
	args    []string
	want    int
	message string
}

// runExitCases runs each case as a subtest with its environment set: the
// exit code must be want, stderr must mention message and must never show
// the password s3cret that cases put in URLs.
func runExitCases(t *testing.T, tests []exitCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.want {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.want, stderr)
			}
			if !strings.Contains(stderr, tt.message) {
				t.Errorf("stderr does not mention %q:\n%s", tt.message, stderr)
			}
			if strings.Contains(stderr, "s3cret") {
				t.Errorf("stderr shows the password:\n%s", stderr)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "e.db")
	newSandboxDB(t, filepath.Join(dir, "e.db"))
	badYAML := writeFile(t, filepath.Join(dir, "bad.yaml"), "listen: [oops\n")
	unknownKey := writeFile(t, filepath.Join(dir, "unknown.yaml"), "lissten: 127.0.0.1:0\n")
	badValue := writeFile(t, filepath.Join(dir, "value.yaml"), "seed: everything\n")
	nested := writeFile(t, filepath.Join(dir, "nested.yaml"), "rate-limit:\n  burst: 5\n")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()

	runExitCases(t, []exitCase{
		{"unknown command", nil, []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown command suggestion", nil, []string{"sandbx"}, 2, "did you mean sandbox"},
		{"unknown subcommand", nil, []string{"token", "frob"}, 2, `unknown command "frob" for "ghlkit token"`},
		{"missing subcommand", nil, []string{"token"}, 2, "needs a subcommand"},
		{"no command", nil, []string{}, 2, "needs a subcommand"},
		{"unknown flag", nil, []string{"sandbox", "--frob"}, 2, "unknown flag: --frob"},
		{"stray argument", nil, []string{"dev", "now"}, 2, "takes no arguments"},
		{"bad on/off", nil, []string{"sandbox", "--rate-limit", "maybe"}, 2, "must be one of on, off"},
		{"bad seed", nil, []string{"dev", "--seed", "all"}, 2, "must be one of demo, none"},
		{"bad log format", nil, []string{"dev", "--log-format", "xml"}, 2, "must be one of text, json"},
		{"bad log level", nil, []string{"dev", "--log-level", "loud"}, 2, "must be one of debug"},
		{"bad listen", nil, []string{"sandbox", "--listen", "8080"}, 2, "want host:port"},
		{"bad port", nil, []string{"sandbox", "--listen", "127.0.0.1:99999"}, 2, "port must be a number"},
		{"zero burst", nil, []string{"sandbox", "--rate-limit-burst", "0"}, 2, "--rate-limit-burst must be positive"},
		{"bad interval", nil, []string{"sandbox", "--rate-limit-interval", "soon"}, 2, "rate-limit-interval"},
		{"negative ttl", nil, []string{"sandbox", "--token-ttl", "-1h"}, 2, "--token-ttl must be positive"},
		{"bad base url", nil, []string{"sandbox", "--base-url", "ftp://x"}, 2, "--base-url must start with http"},
		{"unsupported db", nil, []string{"sandbox", "--db", "mysql://root@localhost/x"}, 2, `unsupported database "mysql"`},
		{"bad env", map[string]string{"GHLKIT_RATE_LIMIT_BURST": "lots"}, []string{"sandbox"}, 2, "GHLKIT_RATE_LIMIT_BURST"},
		{"bad env choice", map[string]string{"GHLKIT_SEED": "all"}, []string{"dev"}, 2, "GHLKIT_SEED"},
		{"missing config file", nil, []string{"sandbox", "--config", filepath.Join(dir, "none.yaml")}, 2, "config file"},
		{"config file via env missing", map[string]string{"GHLKIT_CONFIG": filepath.Join(dir, "none.yaml")}, []string{"sandbox"}, 2, "config file"},
		{"malformed config file", nil, []string{"sandbox", "--config", badYAML}, 2, "bad.yaml"},
		{"unknown config key", nil, []string{"sandbox", "--config", unknownKey}, 2, "unknown key(s) lissten"},
		{"bad config value", nil, []string{"dev", "--config", badValue}, 2, `invalid value "everything" for "seed"`},
		{"nested config value", nil, []string{"dev", "--config", nested}, 2, "must be a single value"},
		{"token without target", nil, []string{"token", "create", "--db", db}, 2, "give --location"},
		{"token bad db", nil, []string{"token", "create", "--location", "x", "--db", "redis://x"}, 2, "unsupported database"},
		{"unreachable postgres", nil, []string{"sandbox", "--listen", "127.0.0.1:0", "--db", "postgres://ghlkit@127.0.0.1:1/none?connect_timeout=5"}, 1, "cannot open database postgres://ghlkit@127.0.0.1:1/none"},
		{"postgres password hidden", nil, []string{"sandbox", "--listen", "127.0.0.1:0", "--db", "postgres://ghlkit:s3cret@127.0.0.1:1/none"}, 1, "ghlkit:xxxxx@"},
		{"port in use", nil, []string{"sandbox", "--db", db, "--listen", busy.Addr().String()}, 1, "cannot listen on " + busy.Addr().String()},
		{"unknown location", nil, []string{"token", "create", "--location", "nope", "--db", db}, 1, "location nope does not exist"},
		{"unknown company", nil, []string{"token", "create", "--company", "nope", "--db", db}, 1, "company nope does not exist"},
		{"token missing db", nil, []string{"token", "create", "--company", "nope", "--db", filepath.Join(dir, "none", "x.db")}, 1, "no sandbox database at " + filepath.Join(dir, "none", "x.db")},
		{"token unreachable postgres", nil, []string{"token", "create", "--company", "x", "--db", "postgres://ghlkit:s3cret@127.0.0.1:1/none?connect_timeout=5"}, 1, "cannot open database postgres://ghlkit:xxxxx@127.0.0.1:1/none"},
		{"app unreachable postgres", nil, []string{"app", "create", "--name", "X", "--redirect-uri", "https://x.example/cb", "--db", "postgres://ghlkit:s3cret@127.0.0.1:1/none"}, 1, "cannot open database postgres://ghlkit:xxxxx@127.0.0.1:1/none"},
		{"token empty scopes", nil, []string{"token", "create", "--company", "x", "--db", db, "--scopes", ""}, 2, "--scopes is empty"},
		{"app javascript redirect", nil, []string{"app", "create", "--name", "X", "--redirect-uri", "javascript:alert(1)", "--db", db}, 2, "must be an http or https URL"},
	})
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"dev", "--help"}, {"sandbox", "-h"}, {"token", "create", "--help"}, {"app", "create", "--help"}, {"help", "dev"}} {
		code, stdout, stderr := runCmd(t, args...)
		if code != 0 || !strings.Contains(stdout, "Usage:") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	code, stdout, _ := runCmd(t, "dev", "--help")
	for _, flag := range []string{"--listen", "--db", "--seed", "--rate-limit", "--rate-limit-burst", "--rate-limit-interval",
		"--rate-limit-daily", "--token-ttl", "--base-url", "--json", "--log-format", "--log-level", "--config"} {
		if code != 0 || !strings.Contains(stdout, flag+" ") {
			t.Errorf("dev --help does not document %s", flag)
		}
	}
	code, stdout, _ = runCmd(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "ghlkit ") || !strings.Contains(stdout, "go1.") {
		t.Errorf("version: %d %q", code, stdout)
	}
	code, stdout, _ = runCmd(t, "version", "--json")
	var v versionInfo
	if code != 0 || json.Unmarshal([]byte(stdout), &v) != nil || v.Version == "" || v.Go == "" {
		t.Errorf("version --json: %d %q", code, stdout)
	}
}
