package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ghlkit/ghlkit/sandbox/sandboxtest"
)

// TestRateLimitRedisErrors: a bad --rate-limit-redis, from the flag, the
// environment or the config file, is a usage error (exit 2); an
// unreachable Redis fails the start (exit 1). Neither message shows the
// password.
func TestRateLimitRedisErrors(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "r.db")
	badYAML := writeFile(t, filepath.Join(dir, "redis.yaml"), "rate-limit-redis: memcached://127.0.0.1:11211\n")
	runExitCases(t, []exitCase{
		{"bad scheme", nil, []string{"sandbox", "--db", db, "--rate-limit-redis", "http://127.0.0.1:6379"}, 2, "--rate-limit-redis: invalid Redis URL"},
		{"bad database", nil, []string{"dev", "--db", db, "--rate-limit-redis", "redis://127.0.0.1:6379/zero"}, 2, "--rate-limit-redis: invalid Redis URL"},
		{"bad port, password hidden", nil, []string{"sandbox", "--db", db, "--rate-limit-redis", "redis://:s3cret@127.0.0.1:port/0"}, 2, "--rate-limit-redis: invalid Redis URL"},
		{"bad env", map[string]string{"GHLKIT_RATE_LIMIT_REDIS": "127.0.0.1:6379"}, []string{"sandbox", "--db", db}, 2, "invalid Redis URL"},
		{"bad config file", nil, []string{"sandbox", "--db", db, "--config", badYAML}, 2, "invalid Redis URL"},
		{"unreachable", nil, []string{"sandbox", "--db", db, "--listen", "127.0.0.1:0", "--rate-limit-redis", "redis://:s3cret@127.0.0.1:1/0"}, 1,
			"cannot reach Redis at redis://:xxxxx@127.0.0.1:1/0 (--rate-limit-redis)"},
	})
}

// TestRateLimitRedisShared runs two `ghlkit sandbox` servers on one
// database and one Redis (given once by flag, once by env var): a token's
// budget of 2 is spent across both, and the third request, wherever it
// lands, is refused.
func TestRateLimitRedisShared(t *testing.T) {
	redisURL := sandboxtest.RedisURL(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "shared.db")
	addrA, addrB := freeAddr(t), freeAddr(t)
	a := startServer(t, "sandbox", "--db", db, "--listen", addrA, "--seed", "demo", "--json", "--rate-limit-burst", "2", "--rate-limit-redis", redisURL)
	t.Setenv("GHLKIT_RATE_LIMIT_REDIS", redisURL)
	b := startServer(t, "sandbox", "--db", db, "--listen", addrB, "--json", "--rate-limit-burst", "2")

	// A token of its own, so that parallel runs on one Redis do not meet.
	code, stdout, stderr := runCmd(t, "token", "create", "--db", db, "--location", a.info.LocationID, "--json")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	var tok struct{ Token, ID string }
	if err := json.Unmarshal([]byte(stdout), &tok); err != nil {
		t.Fatal(err)
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	key := "ghlkit:sandbox:ratelimit:token:" + tok.ID + "|" + a.info.LocationID
	t.Cleanup(func() {
		rdb.Del(context.Background(), key)
		rdb.Close()
	})

	path := "/locations/" + a.info.LocationID
	if res := a.get(t, addrA, path, tok.Token); res.StatusCode != 200 || res.Header.Get("X-RateLimit-Remaining") != "1" {
		t.Fatalf("1st request, on A: %d, remaining %q", res.StatusCode, res.Header.Get("X-RateLimit-Remaining"))
	}
	if res := b.get(t, addrB, path, tok.Token); res.StatusCode != 200 || res.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("2nd request, on B: %d, remaining %q", res.StatusCode, res.Header.Get("X-RateLimit-Remaining"))
	}
	for _, s := range []struct {
		srv  *server
		addr string
	}{{a, addrA}, {b, addrB}} {
		res := s.srv.get(t, s.addr, path, tok.Token)
		if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || res.Header.Get("X-RateLimit-Remaining") != "0" {
			t.Errorf("3rd request on %s: %d, Retry-After %q, remaining %q", s.addr, res.StatusCode, res.Header.Get("Retry-After"), res.Header.Get("X-RateLimit-Remaining"))
		}
	}
	if c, err := rdb.HGet(t.Context(), key, "c").Int(); err != nil || c != 2 {
		t.Errorf("count in Redis under %s: %d %v, want 2", key, c, err)
	}
	for _, s := range []*server{a, b} {
		if code := s.stop(t); code != 0 {
			t.Errorf("exit %d; stderr:\n%s", code, s.stderr)
		}
		if !strings.Contains(s.stderr.String(), "rateLimitStore=redis://") {
			t.Errorf("the start-up log does not name the Redis:\n%s", s.stderr)
		}
	}
}

// TestRateLimitRedisBeforeDB: Redis is checked before the database is
// opened, so an unreachable one leaves no new database behind.
func TestRateLimitRedisBeforeDB(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new")
	start := time.Now()
	code, _, stderr := runCmd(t, "sandbox", "--db", "sqlite:"+filepath.Join(dir, "n.db"), "--listen", "127.0.0.1:0",
		"--rate-limit-redis", "redis://"+closedAddr(t)+"/0")
	if code != 1 || !strings.Contains(stderr, "cannot reach Redis at redis://127.0.0.1:") {
		t.Errorf("exit %d, want 1 naming Redis; stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the database's directory was created (%v)", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("failing on a closed port took %s", d)
	}
}

// TestRateLimitRedisReadOnly: a read-only replica, which would refuse
// every request's count (so limit nothing), fails the start.
func TestRateLimitRedisReadOnly(t *testing.T) {
	addr := startReplica(t)
	code, _, stderr := runCmd(t, "sandbox", "--db", "sqlite:"+filepath.Join(t.TempDir(), "ro.db"), "--listen", "127.0.0.1:0",
		"--rate-limit-redis", "redis://"+addr+"/0")
	if code != 1 || !strings.Contains(stderr, "cannot use Redis at redis://"+addr+"/0 (--rate-limit-redis)") || !strings.Contains(stderr, "read-only replica") {
		t.Errorf("exit %d, want 1 saying the Redis is a read-only replica; stderr:\n%s", code, stderr)
	}
}

// TestRateLimitRedisWithLimitOff: with --rate-limit off there are no
// budgets to share. --rate-limit-redis on the command line is then a usage
// error; from the environment (standing configuration) it is ignored with
// a warning, and Redis is not dialled.
func TestRateLimitRedisWithLimitOff(t *testing.T) {
	dead := "redis://" + closedAddr(t) + "/0"
	code, _, stderr := runCmd(t, "sandbox", "--db", "sqlite:"+filepath.Join(t.TempDir(), "off.db"), "--listen", "127.0.0.1:0",
		"--rate-limit", "off", "--rate-limit-redis", dead)
	if code != 2 || !strings.Contains(stderr, "--rate-limit-redis needs --rate-limit on") {
		t.Errorf("on the command line: exit %d, want 2; stderr:\n%s", code, stderr)
	}

	t.Setenv("GHLKIT_RATE_LIMIT_REDIS", dead)
	s := startServer(t, "sandbox", "--db", "sqlite:"+filepath.Join(t.TempDir(), "off.db"), "--listen", "127.0.0.1:0", "--json", "--rate-limit", "off")
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d; stderr:\n%s", code, s.stderr)
	}
	if out := s.stderr.String(); !strings.Contains(out, "ignoring the Redis") || !strings.Contains(out, "rateLimitStore=memory") {
		t.Errorf("no warning, or the budgets are said to be in Redis:\n%s", out)
	}
}

// TestRateLimitRedisDown: when Redis goes away under a running sandbox,
// requests are let through at once, not after the limiter's 500 ms
// timeout (one refused dial, then a pause without asking), and go-redis's
// own messages go to the server's log, as JSON at debug level, not to
// stderr as text.
func TestRateLimitRedisDown(t *testing.T) {
	opt, err := redis.ParseURL(sandboxtest.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, opt.Addr)
	u := "redis://" + proxy.addr() + "/" + strconv.Itoa(opt.DB)
	if opt.Password != "" {
		u = "redis://" + url.UserPassword(opt.Username, opt.Password).String() + "@" + proxy.addr() + "/" + strconv.Itoa(opt.DB)
	}
	addr := freeAddr(t)
	db := "sqlite:" + filepath.Join(t.TempDir(), "down.db")
	s := startServer(t, "sandbox", "--db", db, "--listen", addr, "--seed", "demo", "--json",
		"--rate-limit-redis", u, "--log-format", "json", "--log-level", "debug")
	// A token of its own, so that parallel runs on one Redis do not meet.
	code, stdout, stderr := runCmd(t, "token", "create", "--db", db, "--location", s.info.LocationID, "--json")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	var tok struct{ Token, ID string }
	if err := json.Unmarshal([]byte(stdout), &tok); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rdb := redis.NewClient(opt)
		defer rdb.Close()
		rdb.Del(context.Background(), "ghlkit:sandbox:ratelimit:token:"+tok.ID+"|"+s.info.LocationID)
	})
	path := "/locations/" + s.info.LocationID
	if res := s.get(t, addr, path, tok.Token); res.StatusCode != 200 || res.Header.Get("X-RateLimit-Remaining") != "99" {
		t.Fatalf("with Redis up: %d, remaining %q", res.StatusCode, res.Header.Get("X-RateLimit-Remaining"))
	}
	proxy.close()
	check := func(what string) {
		t.Helper()
		start := time.Now()
		res := s.get(t, addr, path, tok.Token)
		if d := time.Since(start); d > 250*time.Millisecond {
			t.Errorf("%s: answered after %s, want at once", what, d)
		}
		if res.StatusCode != 200 || res.Header.Get("X-RateLimit-Remaining") != "100" {
			t.Errorf("%s: %d, remaining %q; want 200 with an untouched budget", what, res.StatusCode, res.Header.Get("X-RateLimit-Remaining"))
		}
	}
	for i := range 5 {
		check("request " + strconv.Itoa(i+1) + " with Redis down")
	}
	time.Sleep(1100 * time.Millisecond) // the pause ends: the next request dials again
	check("the request after the pause")
	// Unredirected, go-redis prints on the process's stderr, not the
	// command's: its messages must be in the log.
	if code := s.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	out := s.stderr.String()
	var dials int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("stderr line is not JSON: %q", line)
			continue
		}
		if rec["component"] == "go-redis" {
			dials++
			if rec["level"] != "DEBUG" {
				t.Errorf("go-redis message at %v, want DEBUG: %q", rec["level"], line)
			}
		}
	}
	if dials == 0 {
		t.Errorf("no go-redis message in the log: it went elsewhere (stderr, as text):\n%s", out)
	}
	if n := strings.Count(out, "fail open"); n != 1 {
		t.Errorf("%d fail-open warnings, want 1:\n%s", n, out)
	}
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// tcpProxy forwards connections to a target until closed; then its port
// refuses connections, as a Redis that went away.
type tcpProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln}
	t.Cleanup(p.close)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// startReplica starts a throwaway redis-server, a replica of a master that
// does not exist (so read-only, and touching no other Redis), on a port of
// 18350-18359, and returns its address. It skips the test when
// redis-server is not installed.
func startReplica(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	for port := 18350; port <= 18359; port++ {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--replicaof", "127.0.0.1", "1",
			"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--logfile", "")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		if replicaUp(t, addr, cmd.Process.Pid, exited) {
			t.Cleanup(stop)
			return addr
		}
		stop()
	}
	t.Skip("no free port in 18350-18359 for a redis-server replica")
	return ""
}

// replicaUp waits for the redis-server of process pid to answer on addr:
// false when it exits first (another holds the port) or takes over 5 s.
func replicaUp(t *testing.T, addr string, pid int, exited <-chan struct{}) bool {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1})
	defer rdb.Close()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			return false
		default:
		}
		if info, err := rdb.Info(t.Context(), "server").Result(); err == nil && strings.Contains(info, "process_id:"+strconv.Itoa(pid)+"\r\n") {
			return true
		}
	}
	return false
}
