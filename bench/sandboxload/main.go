// Command sandboxload measures the sandbox under load: it seeds a location
// with N contacts straight into the store, starts the sandbox as a child
// process (this same binary, "serve" mode) with the rate limiter off, drives
// it with C concurrent keep-alive connections per scenario, and prints
// throughput, latency percentiles and the child's resident memory.
//
//	go run ./bench/sandboxload -db sqlite:/tmp/bench.db -contacts 100000
//	go run ./bench/sandboxload -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable' -contacts 100000
//
// Scenarios: get (GET /contacts/{id}), create (POST /contacts/), search-email
// and search-tag (POST /contacts/search). Figures are printed one line per
// scenario so runs can be compared.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ghlkit/ghlkit/internal/gctune"
	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/postgres"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := serve(os.Args[2:]); err != nil {
			slog.Error("serve", "err", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		slog.Error("sandboxload", "err", err)
		os.Exit(1)
	}
}

func openStore(ctx context.Context, db string) (sandbox.Store, error) {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return postgres.Open(ctx, db)
	}
	return sqlite.Open(ctx, strings.TrimPrefix(db, "sqlite:"))
}

// serve runs the sandbox on the given store with the limiter off.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	db := fs.String("db", "", "store")
	addr := fs.String("listen", "127.0.0.1:0", "address")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the server to this file")
	_ = fs.Parse(args)
	gctune.Apply() // as ghlkit sandbox and ghlkit dev do
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := sandbox.NewServer(sandbox.Config{Store: st})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	hs := &http.Server{Handler: srv}
	go func() { <-ctx.Done(); _ = hs.Shutdown(context.Background()) }()
	if err := hs.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

type fixture struct {
	LocationID string
	Token      string
	IDs        []string
	Emails     []string
	Tags       []string
}

var benchTags = []string{"lead", "customer", "vip", "newsletter", "webinar", "trial", "churned", "partner", "event-2026", "referral"}

// seed ensures a bench location with n contacts and returns the fixture.
func seed(ctx context.Context, st sandbox.Store, n int) (*fixture, error) {
	const companyID, locationID = "BenchCompany00000001", "BenchLocation0000001"
	fx := &fixture{LocationID: locationID}
	var existing int
	err := st.Read(ctx, func(tx sandbox.Tx) error {
		page, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: locationID, Limit: 1})
		if err != nil {
			return err
		}
		existing = page.Total
		return nil
	})
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if existing == 0 {
		err = st.Write(ctx, func(tx sandbox.Tx) error {
			if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindCompany, ID: companyID, CompanyID: companyID}, &sandbox.Company{ID: companyID, Name: "Bench Agency"}); err != nil {
				return err
			}
			return sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindLocation, ID: locationID, LocationID: locationID, CompanyID: companyID},
				&sandbox.Location{ID: locationID, CompanyID: companyID, Name: "Bench Location", Settings: sandbox.LocationSettings{AllowDuplicateContact: true}})
		})
		if err != nil {
			return nil, err
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 5000
	for i := existing; i < n; i += batch {
		end := min(i+batch, n)
		err := st.Write(ctx, func(tx sandbox.Tx) error {
			for j := i; j < end; j++ {
				c := benchContact(rng, j, locationID, base)
				if err := tx.InsertContact(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "\rseeding contacts: %d/%d", end, n)
	}
	if n > existing {
		fmt.Fprintf(os.Stderr, "\rseeded %d contacts in %s\n", n-existing, time.Since(start).Round(time.Millisecond))
	}
	err = st.Write(ctx, func(tx sandbox.Tx) error {
		tok, err := sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenPIT, UserType: sandbox.UserTypeLocation, CompanyID: companyID, LocationID: locationID, Scopes: sandbox.AllScopes(), Name: "bench"}, time.Now())
		fx.Token = tok
		return err
	})
	if err != nil {
		return nil, err
	}
	// Sample ids and emails to request.
	err = st.Read(ctx, func(tx sandbox.Tx) error {
		page, err := tx.SearchContacts(ctx, sandbox.ContactQuery{LocationID: locationID, Limit: 2000, NoTotal: true})
		if err != nil {
			return err
		}
		for _, c := range page.Contacts {
			fx.IDs = append(fx.IDs, c.ID)
			fx.Emails = append(fx.Emails, c.Email)
		}
		return nil
	})
	fx.Tags = benchTags
	return fx, err
}

var firstNames = []string{"Ava", "Liam", "Noah", "Emma", "Olivia", "Mia", "Lucas", "Amelia", "Ethan", "Sofia", "Mateo", "Isla", "Leo", "Zoe", "Omar", "Priya"}
var lastNames = []string{"Smith", "Garcia", "Chen", "Patel", "Okafor", "Müller", "Rossi", "Kim", "Nguyen", "Silva", "Cohen", "Haddad", "Novak", "Larsen"}

func benchContact(rng *rand.Rand, i int, loc string, base time.Time) *sandbox.Contact {
	fn, ln := firstNames[rng.IntN(len(firstNames))], lastNames[rng.IntN(len(lastNames))]
	added := base.Add(time.Duration(i) * time.Minute)
	tags := []string{benchTags[rng.IntN(len(benchTags))]}
	if rng.IntN(3) == 0 {
		tags = append(tags, benchTags[rng.IntN(len(benchTags))])
		if tags[0] == tags[1] {
			tags = tags[:1]
		}
	}
	return &sandbox.Contact{
		ID: fmt.Sprintf("bench%015d", i), LocationID: loc,
		FirstName: fn, LastName: ln, Name: fn + " " + ln,
		Email: strings.ToLower(fmt.Sprintf("%s.%s.%d@example.com", fn, ln, i)),
		Phone: fmt.Sprintf("+1415%07d", i), Source: "bench", Type: "lead",
		Tags: tags, CustomFields: []sandbox.CustomFieldValue{},
		DateAdded: sandbox.Time{Time: added}, DateUpdated: sandbox.Time{Time: added},
	}
}

type result struct {
	name    string
	n       int64
	errs    int64
	dur     time.Duration
	lat     []time.Duration
	firstEr string
}

func (r *result) String() string {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	pct := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
	}
	s := fmt.Sprintf("%-13s %9.0f req/s  p50 %7s  p99 %7s  max %7s  requests %d  errors %d",
		r.name, float64(r.n)/r.dur.Seconds(), pct(.50).Round(10*time.Microsecond), pct(.99).Round(10*time.Microsecond), pct(1).Round(10*time.Microsecond), r.n, r.errs)
	if r.firstEr != "" {
		s += "  first error: " + r.firstEr
	}
	return s
}

// load runs fn from c workers for d and gathers latencies.
func load(name string, c int, d time.Duration, fn func(w int, i int) (*http.Request, int)) *result {
	tr := &http.Transport{MaxIdleConnsPerHost: c, MaxConnsPerHost: c, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	res := &result{name: name}
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			var n, errs int64
			var firstErr string
			for i := 0; time.Now().Before(deadline); i++ {
				req, want := fn(w, i)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				lat = append(lat, time.Since(t0))
				n++
				if err != nil || resp.StatusCode != want {
					errs++
					if firstErr == "" {
						if err != nil {
							firstErr = err.Error()
						} else {
							firstErr = resp.Status
						}
					}
				}
			}
			mu.Lock()
			res.n += n
			res.errs += errs
			res.lat = append(res.lat, lat...)
			if res.firstEr == "" {
				res.firstEr = firstErr
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	res.dur = time.Since(start)
	tr.CloseIdleConnections()
	return res
}

func rssKiB(pid int) int {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.Atoi(f[1])
				return v
			}
		}
	}
	return 0
}

func run() error {
	db := flag.String("db", "sqlite:/tmp/ghlkit-bench/bench.db", "store: sqlite:PATH or postgres://…")
	n := flag.Int("contacts", 100_000, "contacts in the bench location")
	conc := flag.Int("c", 50, "concurrent connections")
	dur := flag.Duration("d", 10*time.Second, "duration per scenario")
	prof := flag.String("cpuprofile", "", "write the server's CPU profile to this file")
	scen := flag.String("scenarios", "get,create,search-email,search-tag", "comma-separated scenarios")
	flag.Parse()
	ctx := context.Background()

	if p, ok := strings.CutPrefix(*db, "sqlite:"); ok {
		_ = os.MkdirAll(p[:max(strings.LastIndex(p, "/"), 0)+1], 0o755)
	}
	st, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	fx, err := seed(ctx, st, *n)
	st.Close()
	if err != nil {
		return err
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "serve", "-db", *db, "-cpuprofile", *prof)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() }()
	line := make([]byte, 128)
	k, err := out.Read(line)
	if err != nil {
		return err
	}
	base := "http://" + strings.TrimSpace(string(line[:k]))
	fmt.Printf("sandboxload: db=%s contacts=%d concurrency=%d duration=%s cpus=%d GOMAXPROCS=%d %s\n",
		redact(*db), *n, *conc, *dur, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Printf("server RSS after start: %d MiB\n", rssKiB(cmd.Process.Pid)/1024)

	newReq := func(method, path string, body []byte) *http.Request {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Authorization", "Bearer "+fx.Token)
		req.Header.Set("Version", "2021-07-28")
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	// Request bodies are built once, so the load generator, which shares
	// the two cores with the server, spends its time sending.
	searchBody := func(field, value string) []byte {
		b, _ := json.Marshal(map[string]any{"locationId": fx.LocationID, "pageLimit": 20,
			"filters": []any{map[string]any{"field": field, "operator": "eq", "value": value}}})
		return b
	}
	var emailBodies, tagBodies [][]byte
	for _, e := range fx.Emails {
		emailBodies = append(emailBodies, searchBody("email", e))
	}
	for _, t := range fx.Tags {
		tagBodies = append(tagBodies, searchBody("tags", t))
	}
	var created atomic.Int64
	scenarios := map[string]func(w, i int) (*http.Request, int){
		"get": func(w, i int) (*http.Request, int) {
			return newReq("GET", "/contacts/"+fx.IDs[(w*7919+i)%len(fx.IDs)], nil), 200
		},
		"create": func(w, i int) (*http.Request, int) {
			k := created.Add(1)
			b, _ := json.Marshal(map[string]any{"locationId": fx.LocationID, "firstName": "Load", "lastName": strconv.FormatInt(k, 10),
				"email": fmt.Sprintf("load.%d.%d@example.org", time.Now().UnixNano(), k), "tags": []string{"load"}})
			return newReq("POST", "/contacts/", b), 201
		},
		"search-email": func(w, i int) (*http.Request, int) {
			return newReq("POST", "/contacts/search", emailBodies[(w*31+i)%len(emailBodies)]), 200
		},
		"search-tag": func(w, i int) (*http.Request, int) {
			return newReq("POST", "/contacts/search", tagBodies[(w+i)%len(tagBodies)]), 200
		},
	}
	for _, name := range strings.Split(*scen, ",") {
		fn, ok := scenarios[name]
		if !ok {
			return fmt.Errorf("unknown scenario %q", name)
		}
		// Warm up connections and caches briefly.
		load(name, *conc, time.Second, fn)
		fmt.Println(load(name, *conc, *dur, fn))
	}
	fmt.Printf("server RSS after load: %d MiB\n", rssKiB(cmd.Process.Pid)/1024)
	return nil
}

func redact(db string) string {
	if i := strings.Index(db, "@"); i > 0 && strings.Contains(db, "://") {
		return db[:strings.Index(db, "://")+3] + "…" + db[i:]
	}
	return db
}
