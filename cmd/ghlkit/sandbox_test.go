package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestShutdownFinishesInFlightRequests cancels a running server (what
// SIGINT does) while a request is half sent: the server waits for it, the
// client gets its 201, and only then does Run return 0.
func TestShutdownFinishesInFlightRequests(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "s.db")
	addr := freeAddr(t)
	s := startServer(t, "sandbox", "--db", db, "--listen", addr, "--seed", "demo", "--json", "--rate-limit", "off")

	body := fmt.Sprintf(`{"locationId":%q,"firstName":"Late","email":"late@example.com"}`, s.info.LocationID)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "POST /contacts/ HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + s.info.Token +
		"\r\nVersion: 2021-07-28\r\nContent-Type: application/json\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n"
	half := len(body) / 2
	if _, err := conn.Write([]byte(head + body[:half])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // the server is now reading the body

	s.cancel()
	select {
	case code := <-s.done:
		t.Fatalf("Run returned %d with a request in flight", code)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := conn.Write([]byte(body[half:])); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request cut off: %v", err)
	}
	var m map[string]map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil || res.StatusCode != 201 || m["contact"]["email"] != "late@example.com" {
		t.Errorf("in-flight request: %d %v %v", res.StatusCode, m, err)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d; stderr:\n%s", code, s.stderr)
	}

	// The contact was committed: a new server on the file finds it.
	again := startServer(t, "sandbox", "--db", db, "--listen", addr, "--seed", "demo", "--json")
	res2 := again.get(t, addr, "/contacts/"+m["contact"]["id"].(string), again.info.Token)
	if res2.StatusCode != 200 {
		t.Errorf("contact created during shutdown: GET %d", res2.StatusCode)
	}
}

// TestServeBeyondLoopback listens on every interface: the base URL still
// names an address clients can dial, and the demo credentials earn a
// warning.
func TestServeBeyondLoopback(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "w.db")
	s := startServer(t, "dev", "--db", db, "--listen", "0.0.0.0:0", "--json")
	if !strings.HasPrefix(s.info.BaseURL, "http://127.0.0.1:") || strings.HasSuffix(s.info.BaseURL, ":0") {
		t.Errorf("baseUrl = %q, want the bound port on 127.0.0.1", s.info.BaseURL)
	}
	res := s.get(t, strings.TrimPrefix(s.info.BaseURL, "http://"), "/locations/"+s.info.LocationID, s.info.Token)
	if res.StatusCode != 200 {
		t.Errorf("GET location through the reported base URL: %d", res.StatusCode)
	}
	s.stop(t)
	if !strings.Contains(s.stderr.String(), "level=WARN") || !strings.Contains(s.stderr.String(), "well-known development credentials") {
		t.Errorf("no warning about the demo credentials:\n%s", s.stderr)
	}

	// On loopback, no warning.
	quiet := startServer(t, "dev", "--db", db, "--listen", "127.0.0.1:0", "--json")
	quiet.stop(t)
	if strings.Contains(quiet.stderr.String(), "level=WARN") {
		t.Errorf("warning on loopback:\n%s", quiet.stderr)
	}
}

// TestAdminToken protects the admin API with --admin-token (here from its
// env var, as the help recommends).
func TestAdminToken(t *testing.T) {
	t.Setenv("GHLKIT_ADMIN_TOKEN", "admin-secret")
	db := "sqlite:" + filepath.Join(t.TempDir(), "a.db")
	addr := freeAddr(t)
	s := startServer(t, "sandbox", "--db", db, "--listen", addr, "--json")
	if res := s.get(t, addr, "/_ghlkit/locations", "wrong"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("admin API with a wrong token: %d, want 401", res.StatusCode)
	}
	if res := s.get(t, addr, "/_ghlkit/locations", "admin-secret"); res.StatusCode != http.StatusOK {
		t.Errorf("admin API with the admin token: %d, want 200", res.StatusCode)
	}
	s.stop(t)

	// Without it the admin API is open (a loopback dev server).
	t.Setenv("GHLKIT_ADMIN_TOKEN", "")
	open := startServer(t, "sandbox", "--db", db, "--listen", addr, "--json")
	if res := open.get(t, addr, "/_ghlkit/locations", ""); res.StatusCode != http.StatusOK {
		t.Errorf("admin API without a configured token: %d, want 200", res.StatusCode)
	}
}
