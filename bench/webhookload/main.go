// Command webhookload measures and checks the sandbox's outbound webhook
// deliveries. It starts the sandbox (with its delivery service) as a child
// process — this same binary in "serve" mode — and receives the deliveries
// itself, on a local HTTP receiver that verifies every Ed25519 signature.
//
//	go run ./bench/webhookload -db sqlite:/tmp/wh.db
//	go run ./bench/webhookload -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//	go run ./bench/webhookload -mode crash -events 10000
//
// Mode bench (the default) prints two figures:
//
//   - throughput: N events are written to the outbox before the sandbox
//     starts; the time from its first delivery to the N-th gives signed
//     deliveries per second (dispatcher, River, signing, HTTP, delivery log);
//   - latency: contacts are then created through the API at a steady rate;
//     event→delivery latency is the receiver's clock minus the payload's
//     timestamp (set when the event was emitted), as p50/p99.
//
// Mode crash emits N events, kills the sandbox with SIGKILL in the middle of
// delivering them, restarts it, and checks that the receiver got every event
// at least once, and that any event received twice had the same webhookId
// and bytes (it exits 1 otherwise).
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/outbound"
	"github.com/ghlkit/ghlkit/sandbox/postgres"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
	"github.com/ghlkit/ghlkit/webhook"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := serve(os.Args[2:]); err != nil {
			slog.Error("serve", "err", err)
			os.Exit(1)
		}
		return
	}
	fs := flag.NewFlagSet("webhookload", flag.ExitOnError)
	var o options
	fs.StringVar(&o.db, "db", "", "database: sqlite:PATH or postgres://… (default: a new SQLite file)")
	fs.StringVar(&o.mode, "mode", "bench", "bench or crash")
	fs.IntVar(&o.events, "events", 20000, "events to deliver (bench: throughput phase; crash: in all)")
	fs.BoolVar(&o.rsa, "rsa", true, "sign with RSA (X-WH-Signature) as well as Ed25519")
	fs.IntVar(&o.workers, "workers", 100, "deliveries in flight")
	fs.IntVar(&o.rate, "rate", 100, "events per second in the latency phase")
	fs.DurationVar(&o.latencyFor, "latency-for", 10*time.Second, "length of the latency phase")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the sandbox process to this file")
	_ = fs.Parse(os.Args[1:])
	if *cpuprofile != "" {
		o.childArgs = append(o.childArgs, "-cpuprofile", *cpuprofile)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	defer func() {
		if o.tempDir != "" {
			_ = os.RemoveAll(o.tempDir)
		}
	}()
	switch o.mode {
	case "bench":
		err = runBench(ctx, &o)
	case "crash":
		err = runCrash(ctx, &o)
	default:
		err = fmt.Errorf("unknown -mode %q", o.mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhookload:", err)
		os.Exit(1)
	}
}

type options struct {
	db, mode           string
	events             int
	rsa                bool
	workers            int
	rate               int
	latencyFor         time.Duration
	childArgs          []string // extra serve flags (tests)
	child              func(args ...string) *exec.Cmd
	out                io.Writer
	crashAfterFraction float64
	tempDir            string // removed at the end
}

func (o *options) defaults() error {
	if o.out == nil {
		o.out = os.Stdout
	}
	if o.child == nil {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		o.child = func(args ...string) *exec.Cmd { return exec.Command(self, append([]string{"serve"}, args...)...) }
	}
	if o.db == "" {
		dir, err := os.MkdirTemp("", "webhookload-*")
		if err != nil {
			return err
		}
		o.db = "sqlite:" + dir + "/sandbox.db"
		o.tempDir = dir
	}
	if o.crashAfterFraction == 0 {
		o.crashAfterFraction = 0.3
	}
	return nil
}

func openStore(ctx context.Context, db string) (sandbox.Store, error) {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return postgres.Open(ctx, db)
	}
	return sqlite.Open(ctx, strings.TrimPrefix(db, "sqlite:"))
}

// fixture is what the driver writes before the sandbox starts: a location,
// a token and a webhook to the receiver.
type fixture struct {
	company, location, token string
	keys                     *outbound.Keys
}

// prepare seeds the store, subscribes the receiver and writes n events to
// the outbox, in transactions of 500.
func prepare(ctx context.Context, db, receiverURL string, n int) (*fixture, error) {
	st, err := openStore(ctx, db)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	f := &fixture{company: sandbox.NewID(), location: sandbox.NewID()}
	if f.keys, err = outbound.EnsureKeys(ctx, st, 0); err != nil {
		return nil, err
	}
	created := time.Now().Add(-time.Minute)
	err = st.Write(ctx, func(tx sandbox.Tx) error {
		if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindCompany, ID: f.company, CompanyID: f.company}, &sandbox.Company{ID: f.company, Name: "Load"}); err != nil {
			return err
		}
		if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindLocation, ID: f.location, LocationID: f.location, CompanyID: f.company},
			&sandbox.Location{ID: f.location, CompanyID: f.company, Name: "Load"}); err != nil {
			return err
		}
		tok, err := sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenPIT, UserType: sandbox.UserTypeLocation, CompanyID: f.company, LocationID: f.location, Scopes: sandbox.AllScopes()}, time.Now())
		if err != nil {
			return err
		}
		f.token = tok
		hook := &sandbox.Webhook{ID: sandbox.NewID(), Type: sandbox.WebhookTypeLocation, LocationID: f.location, CompanyID: f.company, URL: receiverURL,
			Events: []string{}, RetryPolicy: sandbox.RetryExponential, CreatedAt: sandbox.Time{Time: created}, UpdatedAt: sandbox.Time{Time: created}}
		return sandbox.PutRecordOf(ctx, tx, sandbox.WebhookRecord(hook), hook)
	})
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i += 500 {
		err := st.Write(ctx, func(tx sandbox.Tx) error {
			for j := i; j < min(n, i+500); j++ {
				fields := map[string]any{"id": fmt.Sprintf("contact%07d", j), "email": fmt.Sprintf("load%d@example.com", j), "tags": []string{"load"}}
				if err := sandbox.EmitEvent(ctx, tx, time.Now(), "ContactCreate", f.location, f.company, fields); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

// receiver counts deliveries by webhookId and verifies their signatures.
type receiver struct {
	key      atomic.Pointer[ed25519.PublicKey] // set once the keys exist
	mu       sync.Mutex
	bodies   map[string][]byte // first body per webhookId
	total    int
	dupes    int
	mismatch int // a webhookId received again with other bytes
	badSig   atomic.Int64
	first    time.Time
	last     time.Time
	lat      []time.Duration // latency-phase samples
	measure  atomic.Bool
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	now := time.Now()
	if key := r.key.Load(); key == nil || webhook.VerifyEd25519(body, req.Header.Get(webhook.HeaderGHLSignature), *key) != nil {
		r.badSig.Add(1)
	}
	var meta struct {
		WebhookID string `json:"webhookId"`
		Timestamp string `json:"timestamp"`
	}
	_ = json.Unmarshal(body, &meta)
	r.mu.Lock()
	if r.total == 0 {
		r.first = now
	}
	r.total++
	r.last = now
	if prev, ok := r.bodies[meta.WebhookID]; ok {
		r.dupes++
		if !bytes.Equal(prev, body) {
			r.mismatch++
		}
	} else {
		r.bodies[meta.WebhookID] = body
	}
	if r.measure.Load() {
		if ts, err := time.Parse(time.RFC3339Nano, meta.Timestamp); err == nil {
			r.lat = append(r.lat, now.Sub(ts))
		}
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

// startReceiver serves r on a loopback port and returns its URL.
func startReceiver(r *receiver) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: r}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/hooks", func() { _ = srv.Close() }, nil
}

// child is a running sandbox process.
type child struct {
	cmd     *exec.Cmd
	baseURL string
}

func startChild(o *options, extra ...string) (*child, error) {
	args := append([]string{"-db", o.db, "-workers", fmt.Sprint(o.workers), fmt.Sprintf("-rsa=%v", o.rsa)}, o.childArgs...)
	cmd := o.child(append(args, extra...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("sandbox did not start: %w", err)
	}
	var info struct {
		BaseURL string `json:"baseUrl"`
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("sandbox said %q", line)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return &child{cmd: cmd, baseURL: info.BaseURL}, nil
}

// stop ends the child gracefully (SIGTERM) and waits for it.
func (c *child) stop() error {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	return c.cmd.Wait()
}

// kill ends the child at once, as a crash would.
func (c *child) kill() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func dbName(db string) string {
	if strings.HasPrefix(db, "postgres") {
		return "postgres"
	}
	return "sqlite"
}

func runBench(ctx context.Context, o *options) error {
	if err := o.defaults(); err != nil {
		return err
	}
	r := &receiver{bodies: map[string][]byte{}}
	url, closeRcv, err := startReceiver(r)
	if err != nil {
		return err
	}
	defer closeRcv()
	f, err := prepare(ctx, o.db, url, o.events)
	if err != nil {
		return err
	}
	pub := f.keys.Ed25519.Public().(ed25519.PublicKey)
	r.key.Store(&pub)
	c, err := startChild(o)
	if err != nil {
		return err
	}
	defer c.stop()

	if err := waitFor(ctx, 10*time.Minute, func() bool { return r.distinct() >= o.events }); err != nil {
		return fmt.Errorf("throughput phase: %d of %d delivered: %w", r.distinct(), o.events, err)
	}
	r.mu.Lock()
	elapsed := r.last.Sub(r.first)
	r.mu.Unlock()
	fmt.Fprintf(o.out, "webhookload db=%s rsa=%v workers=%d: %d signed deliveries in %s = %.0f deliveries/s\n",
		dbName(o.db), o.rsa, o.workers, o.events, elapsed.Round(time.Millisecond), float64(o.events-1)/elapsed.Seconds())

	// Latency: contacts created through the API at a steady rate.
	r.measure.Store(true)
	client := &http.Client{Timeout: 10 * time.Second}
	n := int(o.latencyFor.Seconds() * float64(o.rate))
	tick := time.NewTicker(time.Second / time.Duration(o.rate))
	defer tick.Stop()
	before := r.distinct()
	for i := range n {
		<-tick.C
		body := fmt.Sprintf(`{"locationId":%q,"email":"lat%d@example.com"}`, f.location, i)
		req, _ := http.NewRequestWithContext(ctx, "POST", c.baseURL+"/contacts/", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+f.token)
		req.Header.Set("Version", "2021-07-28")
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 201 {
			return fmt.Errorf("create contact: %s", res.Status)
		}
	}
	if err := waitFor(ctx, time.Minute, func() bool { return r.distinct() >= before+n }); err != nil {
		return fmt.Errorf("latency phase: %w", err)
	}
	r.mu.Lock()
	lat := slices.Clone(r.lat)
	r.mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(math.Ceil(p*float64(len(lat))))-1] }
	fmt.Fprintf(o.out, "webhookload db=%s rsa=%v: event->delivery latency p50=%s p99=%s max=%s (n=%d at %d/s)\n",
		dbName(o.db), o.rsa, pct(0.50).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond), lat[len(lat)-1].Round(100*time.Microsecond), len(lat), o.rate)
	if bad := r.badSig.Load(); bad > 0 {
		return fmt.Errorf("%d deliveries failed Ed25519 verification", bad)
	}
	return nil
}

func runCrash(ctx context.Context, o *options) error {
	if err := o.defaults(); err != nil {
		return err
	}
	r := &receiver{bodies: map[string][]byte{}}
	url, closeRcv, err := startReceiver(r)
	if err != nil {
		return err
	}
	defer closeRcv()
	f, err := prepare(ctx, o.db, url, o.events)
	if err != nil {
		return err
	}
	pub := f.keys.Ed25519.Public().(ed25519.PublicKey)
	r.key.Store(&pub)

	c, err := startChild(o)
	if err != nil {
		return err
	}
	killAt := int(float64(o.events) * o.crashAfterFraction)
	if err := waitFor(ctx, 5*time.Minute, func() bool { return r.distinct() >= killAt }); err != nil {
		c.kill()
		return fmt.Errorf("before the crash: %d delivered: %w", r.distinct(), err)
	}
	c.kill()
	atKill := r.distinct()
	fmt.Fprintf(o.out, "webhookload crash db=%s: killed the sandbox (SIGKILL) after %d of %d events\n", dbName(o.db), atKill, o.events)

	c, err = startChild(o)
	if err != nil {
		return err
	}
	defer c.stop()
	if err := waitFor(ctx, 5*time.Minute, func() bool { return r.distinct() >= o.events }); err != nil {
		return fmt.Errorf("after the restart: %d of %d events delivered: %w", r.distinct(), o.events, err)
	}
	time.Sleep(500 * time.Millisecond) // let stragglers (redeliveries) arrive
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(o.out, "webhookload crash db=%s: %d events, %d deliveries received, %d distinct webhookIds, %d duplicates (%d with other bytes), %d bad signatures\n",
		dbName(o.db), o.events, r.total, len(r.bodies), r.dupes, r.mismatch, r.badSig.Load())
	if len(r.bodies) != o.events || r.mismatch > 0 || r.badSig.Load() > 0 {
		return errors.New("crash check failed")
	}
	return nil
}

// serve runs the sandbox and its delivery service until SIGTERM (or death).
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	db := fs.String("db", "", "database")
	rsa := fs.Bool("rsa", true, "sign with RSA too")
	workers := fs.Int("workers", 100, "deliveries in flight")
	timeout := fs.Duration("timeout", outbound.DefaultTimeout, "delivery timeout")
	poll := fs.Duration("poll", 10*time.Millisecond, "dispatcher and River poll interval")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the sandbox to this file")
	_ = fs.Parse(args)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := sandbox.NewServer(sandbox.Config{Store: st, Logger: log, RateLimit: sandbox.RateLimitConfig{Enabled: false}})
	if err != nil {
		return err
	}
	cfg := outbound.Config{Store: st, Server: srv, Logger: log, NoRSASignature: !*rsa, Workers: *workers, PollInterval: *poll, Timeout: *timeout}
	var svc *outbound.Service
	switch s := st.(type) {
	case *sqlite.Store:
		cfg.RescueOnStart = true
		svc, err = outbound.Start(ctx, cfg, riversqlite.New(s.WriteDB()))
	case *postgres.Store:
		pool, perr := pgxpool.New(ctx, s.URL())
		if perr != nil {
			return perr
		}
		defer pool.Close()
		svc, err = outbound.Start(ctx, cfg, riverpgxv5.New(pool))
	}
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv}
	go func() { _ = hs.Serve(ln) }()
	fmt.Printf(`{"baseUrl":"http://%s"}`+"\n", ln.Addr())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	return svc.Stop(sctx)
}
