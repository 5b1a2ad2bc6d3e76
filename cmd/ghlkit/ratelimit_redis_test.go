package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

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
