// Command sdkbudget measures how much of GHL's rate-limit budget the SDK uses
// on a backlog: it starts a sandbox in this process (SQLite in a temporary
// directory, the limiter on with GHL's limits, 100 requests / 10 s per token
// and location), then upserts a backlog of contacts for one location with
// Contacts.BulkUpsert and reports the elapsed time, the requests per
// interval as a share of the budget (goal: at least 95%) and how many
// requests the sandbox answered 429 (goal: none).
//
// It runs twice: once with one client and the SDK's in-process limiter, then
// with the backlog split over several OS processes (this binary re-executed
// as workers) that share one budget through the Redis limiter
// (ghl/redislimit). Each run prints one line of figures so runs compare.
//
//	go run ./bench/sdkbudget                       # 3,000 upserts, ~5 min a run
//	go run ./bench/sdkbudget -n 600 -interval 2s   # a quick check at 100 / 2 s
//	go run ./bench/sdkbudget -runs single          # no Redis
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/ghlkit/ghlkit/ghl"
	"github.com/ghlkit/ghlkit/ghl/redislimit"
	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		err = worker(os.Args[2:])
	} else {
		err = run(os.Args[1:])
	}
	if err != nil {
		slog.Error("sdkbudget", "err", err)
		os.Exit(1)
	}
}

type config struct {
	n           int
	burst       int
	interval    time.Duration
	procs       int
	concurrency int
	redisURL    string
	runs        string
}

func run(args []string) error {
	var c config
	fs := flag.NewFlagSet("sdkbudget", flag.ExitOnError)
	fs.IntVar(&c.n, "n", 3000, "contacts in the backlog")
	fs.IntVar(&c.burst, "burst", 100, "sandbox burst limit (requests per interval)")
	fs.DurationVar(&c.interval, "interval", 10*time.Second, "sandbox burst interval")
	fs.IntVar(&c.procs, "procs", 3, "worker processes of the Redis run")
	fs.IntVar(&c.concurrency, "concurrency", 4, "BulkUpsert concurrency per client")
	fs.StringVar(&c.redisURL, "redis", envOr("GHLKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis for the shared limiter")
	fs.StringVar(&c.runs, "runs", "single,redis", "runs to make: single, redis")
	_ = fs.Parse(args)

	fmt.Printf("# sdkbudget: %d upserts for one location, sandbox limit %d / %s; nproc=%d GOMAXPROCS=%d %s\n",
		c.n, c.burst, c.interval, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	ctx := context.Background()
	for _, r := range strings.Split(c.runs, ",") {
		var res result
		var err error
		switch strings.TrimSpace(r) {
		case "single":
			res, err = runSingle(ctx, c)
		case "redis":
			res, err = runRedis(ctx, c)
		default:
			return fmt.Errorf("unknown run %q", r)
		}
		if err != nil {
			return fmt.Errorf("%s run: %w", r, err)
		}
		res.print(c)
	}
	return nil
}

// result is what a run measured. Requests and 429s are counted by the
// sandbox; errors are upserts that failed at the client.
type result struct {
	name     string
	procs    int
	upserts  int
	elapsed  time.Duration
	requests int
	tooMany  int
	errors   int
}

func (r result) print(c config) {
	perInterval := float64(r.requests) / r.elapsed.Seconds() * c.interval.Seconds()
	fmt.Printf("run=%-6s procs=%d upserts=%d requests=%d elapsed=%.1fs rate=%.1f/%s budget=%.1f%% 429s=%d errors=%d\n",
		r.name, r.procs, r.upserts, r.requests, r.elapsed.Seconds(), perInterval, c.interval,
		perInterval/float64(c.burst)*100, r.tooMany, r.errors)
}

// sandboxEnv is a running sandbox with one location and its token.
type sandboxEnv struct {
	url, locationID, token string
	reg                    *prometheus.Registry
	close                  func()
}

// startSandbox starts a sandbox the way cmd/ghlkit does, on a new SQLite
// file, with the limiter on, listening on a loopback port.
func startSandbox(ctx context.Context, c config) (*sandboxEnv, error) {
	dir, err := os.MkdirTemp("", "sdkbudget")
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "sandbox.db"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	reg := prometheus.NewRegistry()
	srv, err := sandbox.NewServer(sandbox.Config{Store: st, Registry: reg,
		RateLimit: sandbox.RateLimitConfig{Enabled: true, Burst: c.burst, Interval: c.interval}})
	if err != nil {
		st.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	env := &sandboxEnv{locationID: sandbox.NewID(), reg: reg}
	company := sandbox.NewID()
	err = st.Write(ctx, func(tx sandbox.Tx) error {
		if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindCompany, ID: company, CompanyID: company},
			&sandbox.Company{ID: company, Name: "Bench Agency"}); err != nil {
			return err
		}
		loc := &sandbox.Location{ID: env.locationID, CompanyID: company, Name: "Bench Location", Timezone: "UTC", Country: "US"}
		if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindLocation, ID: loc.ID, LocationID: loc.ID, CompanyID: company}, loc); err != nil {
			return err
		}
		var err error
		env.token, err = sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenPIT, Name: "sdkbudget", UserType: sandbox.UserTypeLocation,
			CompanyID: company, LocationID: env.locationID, Scopes: sandbox.AllScopes()}, time.Now())
		return err
	})
	if err != nil {
		st.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	// ReadHeaderTimeout also bounds how long a new connection may stay
	// silent before its first request. At 10 s (cmd/ghlkit's value) it
	// matches the rate-limit interval: a connection the client dialed but
	// did not use yet can be closed just as the limiter lets a request go
	// on it, and a POST that dies so is not retried. Keep it clear of the
	// interval so that the figures measure the SDK, not that race.
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	go hs.Serve(ln)
	env.url = "http://" + ln.Addr().String()
	env.close = func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
		st.Close()
		os.RemoveAll(dir)
	}
	return env, nil
}

// counts returns the requests the sandbox answered and how many were 429.
func (e *sandboxEnv) counts() (total, tooMany int, err error) {
	families, err := e.reg.Gather()
	if err != nil {
		return 0, 0, err
	}
	for _, f := range families {
		if f.GetName() != "ghlkit_sandbox_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			n := int(m.GetCounter().GetValue())
			total += n
			for _, l := range m.GetLabel() {
				if l.GetName() == "code" && l.GetValue() == "429" {
					tooMany += n
				}
			}
		}
	}
	return total, tooMany, nil
}

// backlog is contacts [from, from+n) of the run.
func backlog(runID, locationID string, from, n int) []ghl.UpsertContactParams {
	out := make([]ghl.UpsertContactParams, n)
	for i := range out {
		k := from + i
		out[i] = ghl.UpsertContactParams{CreateContactParams: ghl.CreateContactParams{
			LocationID: locationID, FirstName: "Backlog", LastName: strconv.Itoa(k),
			Email: fmt.Sprintf("%s-%05d@example.com", runID, k), Tags: []string{"backlog"}}}
	}
	return out
}

// upsertAll upserts the backlog through c and returns the failed upserts.
func upsertAll(ctx context.Context, c *ghl.Client, in []ghl.UpsertContactParams, concurrency int) (int, error) {
	res, err := c.Contacts.BulkUpsert(ctx, in, &ghl.BulkUpsertOptions{Concurrency: concurrency})
	failed := 0
	var first error
	for _, r := range res {
		if r.Err != nil {
			failed++
			if first == nil {
				first = r.Err
			}
		}
	}
	if first != nil {
		slog.Warn("upserts failed", "failed", failed, "first", first)
	}
	return failed, err
}

func runSingle(ctx context.Context, c config) (result, error) {
	env, err := startSandbox(ctx, c)
	if err != nil {
		return result{}, err
	}
	defer env.close()
	client, err := ghl.NewClient(ghl.WithBaseURL(env.url), ghl.WithPrivateIntegrationToken(env.token),
		ghl.WithHTTPClient(&http.Client{Timeout: time.Minute}))
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	failed, err := upsertAll(ctx, client, backlog("single", env.locationID, 0, c.n), c.concurrency)
	elapsed := time.Since(start)
	if err != nil {
		return result{}, err
	}
	total, tooMany, err := env.counts()
	return result{name: "single", procs: 1, upserts: c.n, elapsed: elapsed, requests: total, tooMany: tooMany, errors: failed}, err
}

// workerReport is what a worker prints, as one JSON line.
type workerReport struct {
	Start, End int64 // unix nanoseconds
	Failed     int
	Err        string
}

func runRedis(ctx context.Context, c config) (result, error) {
	opt, err := redis.ParseURL(c.redisURL)
	if err != nil {
		return result{}, err
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		return result{}, fmt.Errorf("redis at %s: %w (start it, or pass -runs single)", c.redisURL, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "ghlkit-sdkbudget:" + hex.EncodeToString(b)
	defer func() {
		for it := rdb.Scan(ctx, 0, "{"+prefix+":*", 100).Iterator(); it.Next(ctx); {
			rdb.Del(ctx, it.Val())
		}
	}()

	env, err := startSandbox(ctx, c)
	if err != nil {
		return result{}, err
	}
	defer env.close()
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	reports := make([]workerReport, c.procs)
	errs := make([]error, c.procs)
	var wg sync.WaitGroup
	for p := range c.procs {
		from, to := c.n*p/c.procs, c.n*(p+1)/c.procs
		cmd := exec.CommandContext(ctx, self, "worker", "-url", env.url, "-token", env.token, "-location", env.locationID,
			"-redis", c.redisURL, "-prefix", prefix, "-from", strconv.Itoa(from), "-count", strconv.Itoa(to-from),
			"-concurrency", strconv.Itoa(c.concurrency), "-burst", strconv.Itoa(c.burst), "-interval", c.interval.String())
		cmd.Stderr = os.Stderr
		wg.Go(func() {
			out, err := cmd.Output()
			if err != nil {
				errs[p] = fmt.Errorf("worker %d: %w", p, err)
				return
			}
			if err := json.Unmarshal(bytes.TrimSpace(out), &reports[p]); err != nil {
				errs[p] = fmt.Errorf("worker %d: report %q: %w", p, out, err)
			} else if reports[p].Err != "" {
				errs[p] = fmt.Errorf("worker %d: %s", p, reports[p].Err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return result{}, err
	}
	// From the first worker's first request to the last worker's last
	// answer: process start-up is not the SDK's doing.
	var start, end int64
	failed := 0
	for i, r := range reports {
		if i == 0 || r.Start < start {
			start = r.Start
		}
		end = max(end, r.End)
		failed += r.Failed
	}
	total, tooMany, err := env.counts()
	return result{name: "redis", procs: c.procs, upserts: c.n, elapsed: time.Duration(end - start), requests: total, tooMany: tooMany, errors: failed}, err
}

// worker is one process of the Redis run: it upserts its share of the
// backlog through a client whose limiter is the shared Redis one.
func worker(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	url := fs.String("url", "", "sandbox URL")
	token := fs.String("token", "", "token")
	loc := fs.String("location", "", "location id")
	redisURL := fs.String("redis", "", "Redis URL")
	prefix := fs.String("prefix", "", "Redis key prefix")
	from := fs.Int("from", 0, "first contact")
	count := fs.Int("count", 0, "contacts")
	concurrency := fs.Int("concurrency", 4, "BulkUpsert concurrency")
	burst := fs.Int("burst", ghl.DefaultBurstMax, "limit per interval")
	interval := fs.Duration("interval", ghl.DefaultBurstInterval, "limit interval")
	_ = fs.Parse(args)

	ctx := context.Background()
	opt, err := redis.ParseURL(*redisURL)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	client, err := ghl.NewClient(ghl.WithBaseURL(*url), ghl.WithPrivateIntegrationToken(*token),
		ghl.WithHTTPClient(&http.Client{Timeout: time.Minute}),
		ghl.WithRateLimiter(redislimit.New(rdb, redislimit.Options{Prefix: *prefix, Max: *burst, Interval: *interval})))
	if err != nil {
		return err
	}
	in := backlog("redis", *loc, *from, *count)
	rep := workerReport{Start: time.Now().UnixNano()}
	failed, err := upsertAll(ctx, client, in, *concurrency)
	rep.End, rep.Failed = time.Now().UnixNano(), failed
	if err != nil {
		rep.Err = err.Error()
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
