package outbound_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/outbound"
	"github.com/ghlkit/ghlkit/sandbox/postgres"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
	"github.com/ghlkit/ghlkit/webhook"
)

// testScale compresses retry delays: GHL's ten minutes become 60 ms.
const testScale = 0.0001

// backends runs a test on SQLite and, when GHLKIT_TEST_POSTGRES_URL is set
// (or required by GHLKIT_REQUIRE_SERVICES=1), on Postgres.
func backends(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, sqliteBackend(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, postgresBackend(t)) })
}

// backend opens stores on one database and starts the delivery service on
// them, as cmd/ghlkit does.
type backend struct {
	name  string
	open  func(t *testing.T) sandbox.Store
	start func(t *testing.T, st sandbox.Store, cfg outbound.Config) *outbound.Service
}

func sqliteBackend(t *testing.T) backend {
	path := filepath.Join(t.TempDir(), "sandbox.db")
	return backend{
		name: "sqlite",
		open: func(t *testing.T) sandbox.Store {
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		start: func(t *testing.T, st sandbox.Store, cfg outbound.Config) *outbound.Service {
			cfg.Store, cfg.RescueOnStart = st, true
			svc, err := outbound.Start(context.Background(), cfg, riversqlite.New(st.(*sqlite.Store).WriteDB()))
			if err != nil {
				t.Fatal(err)
			}
			return svc
		},
	}
}

func postgresBackend(t *testing.T) backend {
	base := os.Getenv("GHLKIT_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("GHLKIT_REQUIRE_SERVICES") == "1" {
			t.Fatal("GHLKIT_TEST_POSTGRES_URL is not set but GHLKIT_REQUIRE_SERVICES=1")
		}
		t.Skip("GHLKIT_TEST_POSTGRES_URL is not set")
	}
	// Each test gets a schema of its own, dropped at the end.
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "ghlkit_wh_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dbURL := u.String()
	return backend{
		name: "postgres",
		open: func(t *testing.T) sandbox.Store {
			st, err := postgres.Open(context.Background(), dbURL)
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		start: func(t *testing.T, st sandbox.Store, cfg outbound.Config) *outbound.Service {
			pool, err := pgxpool.New(context.Background(), st.(*postgres.Store).URL())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			cfg.Store = st
			svc, err := outbound.Start(context.Background(), cfg, riverpgxv5.New(pool))
			if err != nil {
				t.Fatal(err)
			}
			return svc
		},
	}
}

// env is a running sandbox with its delivery service: company C1 with
// location L1 and a location token.
type env struct {
	t     *testing.T
	b     backend
	Store sandbox.Store
	Srv   *sandbox.Server
	HTTP  *httptest.Server
	Svc   *outbound.Service
	C1    string
	L1    string
	Tok   string
}

func newEnv(t *testing.T, b backend, opts ...func(*outbound.Config)) *env {
	t.Helper()
	ctx := context.Background()
	st := b.open(t)
	e := &env{t: t, b: b, Store: st, C1: sandbox.NewID(), L1: sandbox.NewID()}
	err := st.Write(ctx, func(tx sandbox.Tx) error {
		if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindCompany, ID: e.C1, CompanyID: e.C1}, &sandbox.Company{ID: e.C1, Name: "Company"}); err != nil {
			return err
		}
		if err := sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindLocation, ID: e.L1, LocationID: e.L1, CompanyID: e.C1},
			&sandbox.Location{ID: e.L1, CompanyID: e.C1, Name: "Location One"}); err != nil {
			return err
		}
		var err error
		e.Tok, err = sandbox.IssueToken(ctx, tx, &sandbox.Token{Type: sandbox.TokenPIT, UserType: sandbox.UserTypeLocation, CompanyID: e.C1, LocationID: e.L1, Scopes: sandbox.AllScopes()}, time.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	e.Srv, err = sandbox.NewServer(sandbox.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	e.HTTP = httptest.NewServer(e.Srv)
	cfg := outbound.Config{Server: e.Srv, TimeScale: testScale, Timeout: 2 * time.Second, PollInterval: 10 * time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	e.Svc = b.start(t, st, cfg)
	t.Cleanup(func() {
		e.HTTP.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.Svc.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
		st.Close()
	})
	return e
}

// call sends a request to the sandbox and decodes the JSON answer.
func (e *env) call(method, path string, body any, wantStatus int) map[string]any {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, e.HTTP.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Version", "2021-07-28")
	req.Header.Set("Authorization", "Bearer "+e.Tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != wantStatus {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, wantStatus, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		e.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return m
}

// subscribe creates a location webhook and returns its id.
func (e *env) subscribe(url, policy string, events ...string) string {
	e.t.Helper()
	m := e.call("POST", "/_ghlkit/webhooks", map[string]any{"locationId": e.L1, "url": url, "events": events, "retryPolicy": policy}, 201)
	return m["webhook"].(map[string]any)["id"].(string)
}

// createContact creates a contact through the API and returns its id.
func (e *env) createContact(email string) string {
	e.t.Helper()
	m := e.call("POST", "/contacts/", map[string]any{"locationId": e.L1, "firstName": "Ada", "email": email}, 201)
	return m["contact"].(map[string]any)["id"].(string)
}

// attempts waits until the delivery log has n entries matching q and
// returns them, oldest first.
func (e *env) attempts(q string, n int) []sandbox.WebhookAttempt {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var body struct {
			Deliveries []sandbox.WebhookAttempt `json:"deliveries"`
		}
		res, err := http.Get(e.HTTP.URL + "/_ghlkit/webhooks/deliveries?" + q)
		if err != nil {
			e.t.Fatal(err)
		}
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if len(body.Deliveries) >= n || time.Now().After(deadline) {
			if len(body.Deliveries) != n {
				e.t.Fatalf("delivery log for %s: %d entries, want %d: %+v", q, len(body.Deliveries), n, body.Deliveries)
			}
			out := make([]sandbox.WebhookAttempt, n)
			for i, a := range body.Deliveries {
				out[n-1-i] = a
			}
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receiver is a webhook receiver that records deliveries and answers with
// the statuses it is given, in turn (then 200).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []delivery
	statuses []int
	arrived  chan struct{}
}

type delivery struct {
	header http.Header
	body   []byte
	at     time.Time
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses, arrived: make(chan struct{}, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, delivery{header: req.Header.Clone(), body: body, at: time.Now()})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"answer":%d}`, status)
		r.arrived <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

// wait waits for n deliveries in all and returns them.
func (r *receiver) wait(t *testing.T, n int) []delivery {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		got := append([]delivery(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.arrived:
		case <-timeout:
			t.Fatalf("receiver got %d deliveries, want %d", len(got), n)
		}
	}
}

// count returns the deliveries so far.
func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func TestContactCreateDeliveredSigned(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		rcv := newReceiver(t)
		secret := "s3cret"
		m := e.call("POST", "/_ghlkit/webhooks", map[string]any{"locationId": e.L1, "url": rcv.URL + "/hook", "events": []string{"ContactCreate"}, "secret": secret}, 201)
		subID := m["webhook"].(map[string]any)["id"].(string)
		if _, shown := m["webhook"].(map[string]any)["secret"]; shown {
			t.Error("the admin API shows the webhook's secret")
		}
		contactID := e.createContact("ada@example.com")

		d := rcv.wait(t, 1)[0]
		var payload map[string]any
		if err := json.Unmarshal(d.body, &payload); err != nil {
			t.Fatal(err)
		}
		if payload["type"] != "ContactCreate" || payload["id"] != contactID || payload["locationId"] != e.L1 || payload["email"] != "ada@example.com" {
			t.Errorf("payload = %s", d.body)
		}
		if payload["webhookId"] == "" || payload["timestamp"] == "" {
			t.Errorf("payload lacks webhookId/timestamp: %s", d.body)
		}
		if ct, ua := d.header.Get("Content-Type"), d.header.Get("User-Agent"); ct != "application/json" || ua != outbound.UserAgent {
			t.Errorf("Content-Type %q, User-Agent %q", ct, ua)
		}

		// The published keys verify both signatures, with the webhook
		// package's verifier as a receiver would use it.
		keys := e.call("GET", "/_ghlkit/webhooks/keys", nil, 200)
		edPub, err := webhook.ParseEd25519PublicKeyPEM([]byte(keys["ed25519"].(string)))
		if err != nil {
			t.Fatal(err)
		}
		rsaPub, err := webhook.ParseRSAPublicKeyPEM([]byte(keys["rsa"].(string)))
		if err != nil {
			t.Fatal(err)
		}
		if err := webhook.VerifyEd25519(d.body, d.header.Get(webhook.HeaderGHLSignature), edPub); err != nil {
			t.Errorf("Ed25519: %v", err)
		}
		if err := webhook.VerifyRSA(d.body, d.header.Get(webhook.HeaderWHSignature), rsaPub); err != nil {
			t.Errorf("RSA: %v", err)
		}
		if err := webhook.VerifyHMAC(d.body, d.header.Get(outbound.HeaderHMAC), []byte(secret)); err != nil {
			t.Errorf("HMAC: %v", err)
		}
		for _, opts := range [][]webhook.VerifierOption{
			{webhook.WithPublicKeysPEM([]byte(keys["ed25519"].(string) + keys["rsa"].(string)))},
			{webhook.WithRSAPublicKeys(rsaPub)}, // RSA alone decides without an Ed25519 key
		} {
			v, err := webhook.NewVerifier(opts...)
			if err != nil {
				t.Fatal(err)
			}
			if ev, err := v.ConstructEvent(context.Background(), d.header, d.body); err != nil {
				t.Errorf("Verifier: %v", err)
			} else if cc, ok := ev.(*webhook.ContactCreate); !ok || cc.ID != contactID {
				t.Errorf("parsed %T %+v", ev, ev)
			}
		}
		tampered := bytes.Replace(d.body, []byte("ada@"), []byte("eve@"), 1)
		if err := webhook.VerifyEd25519(tampered, d.header.Get(webhook.HeaderGHLSignature), edPub); !errors.Is(err, webhook.ErrInvalidSignature) {
			t.Errorf("tampered body: %v", err)
		}

		// The delivery log has the attempt.
		log := e.attempts("subscriptionId="+subID, 1)
		a := log[0]
		if a.EventID != payload["webhookId"] || a.EventType != "ContactCreate" || a.StatusCode != 200 || a.Result != sandbox.AttemptDelivered ||
			a.Attempt != 1 || a.URL != rcv.URL+"/hook" || a.Response != `{"answer":200}` || a.LocationID != e.L1 || a.DeliveryID == "" {
			t.Errorf("log entry = %+v", a)
		}
		one := e.call("GET", "/_ghlkit/webhooks/deliveries/"+a.ID, nil, 200)
		if one["delivery"].(map[string]any)["eventId"] != a.EventID {
			t.Errorf("GET delivery = %v", one)
		}

		// Events of types the webhook does not subscribe to are not sent.
		e.call("PUT", "/contacts/"+contactID, map[string]any{"lastName": "Lovelace"}, 200)
		e.createContact("grace@example.com")
		rcv.wait(t, 2)
		time.Sleep(200 * time.Millisecond)
		if n := rcv.count(); n != 2 {
			t.Errorf("receiver got %d deliveries, want 2 (ContactUpdate is not subscribed)", n)
		}
	})
}

func TestGHLPolicyRetries429(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		rcv := newReceiver(t, 429, 429, 429)
		sub := e.subscribe(rcv.URL, sandbox.RetryGHL, "ContactCreate")
		e.createContact("ada@example.com")
		got := rcv.wait(t, 4)
		for i := 1; i < 4; i++ {
			if !bytes.Equal(got[i].body, got[0].body) || got[i].header.Get(webhook.HeaderGHLSignature) != got[0].header.Get(webhook.HeaderGHLSignature) {
				t.Errorf("attempt %d differs from the first", i+1)
			}
			// Ten minutes, compressed, with ±10% jitter: about 60 ms.
			if gap := got[i].at.Sub(got[i-1].at); gap < 50*time.Millisecond {
				t.Errorf("attempt %d came %s after the previous one", i+1, gap)
			}
		}
		log := e.attempts("subscriptionId="+sub, 4)
		for i, a := range log {
			want, result := 429, sandbox.AttemptRetrying
			if i == 3 {
				want, result = 200, sandbox.AttemptDelivered
			}
			if a.Attempt != i+1 || a.StatusCode != want || a.Result != result || a.DeliveryID != log[0].DeliveryID {
				t.Errorf("attempt %d: %+v", i+1, a)
			}
			if result == sandbox.AttemptRetrying && a.NextAttemptAt.IsZero() {
				t.Errorf("attempt %d: no nextAttemptAt", i+1)
			}
		}
	})
}

func TestGHLPolicyGivesUpAfterSixRetries(t *testing.T) {
	e := newEnv(t, sqliteBackend(t))
	rcv := newReceiver(t, 429, 429, 429, 429, 429, 429, 429, 429, 429)
	sub := e.subscribe(rcv.URL, "", "ContactCreate")
	e.createContact("ada@example.com")
	rcv.wait(t, 7)
	log := e.attempts("subscriptionId="+sub, 7)
	if last := log[6]; last.Attempt != 7 || last.Result != sandbox.AttemptFailed || last.StatusCode != 429 {
		t.Errorf("last attempt = %+v", last)
	}
	time.Sleep(300 * time.Millisecond)
	if n := rcv.count(); n != 7 {
		t.Errorf("receiver got %d attempts, want 7 (1 + 6 retries)", n)
	}
}

func TestServerErrorFinalUnderGHLRetriedUnderExponential(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		ghl := newReceiver(t, 500, 500)
		exp := newReceiver(t, 500, 503)
		ghlSub := e.subscribe(ghl.URL, sandbox.RetryGHL, "ContactCreate")
		expSub := e.subscribe(exp.URL, sandbox.RetryExponential, "ContactCreate")
		e.createContact("ada@example.com")

		exp.wait(t, 3)
		log := e.attempts("subscriptionId="+expSub, 3)
		if log[0].StatusCode != 500 || log[1].StatusCode != 503 || log[2].StatusCode != 200 || log[2].Result != sandbox.AttemptDelivered || log[2].Attempt != 3 {
			t.Errorf("exponential log = %+v", log)
		}
		glog := e.attempts("subscriptionId="+ghlSub, 1)
		if glog[0].StatusCode != 500 || glog[0].Result != sandbox.AttemptFailed || !glog[0].NextAttemptAt.IsZero() {
			t.Errorf("ghl log = %+v", glog)
		}
		time.Sleep(300 * time.Millisecond)
		if n := ghl.count(); n != 1 {
			t.Errorf("under ghl a 500 was tried %d times, want 1", n)
		}
	})
}

func TestExponentialRetriesConnectionErrors(t *testing.T) {
	e := newEnv(t, sqliteBackend(t))
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connections are refused from now on
	sub := e.subscribe(deadURL, sandbox.RetryExponential, "ContactCreate")
	e.createContact("ada@example.com")
	log := e.attempts("subscriptionId="+sub, 2)
	if log[0].StatusCode != 0 || log[0].Error == "" || log[0].Result != sandbox.AttemptRetrying {
		t.Errorf("first attempt = %+v", log[0])
	}
}

func TestGuardRefusesMetadataAddress(t *testing.T) {
	e := newEnv(t, sqliteBackend(t))
	sub := e.subscribe("http://169.254.169.254/latest/meta-data/", sandbox.RetryExponential, "ContactCreate")
	e.createContact("ada@example.com")
	a := e.attempts("subscriptionId="+sub, 1)[0]
	if a.Result != sandbox.AttemptFailed || a.StatusCode != 0 || !strings.Contains(a.Error, "refused") {
		t.Errorf("attempt = %+v", a)
	}
	time.Sleep(200 * time.Millisecond)
	e.attempts("subscriptionId="+sub, 1) // a refused destination is never retried
}

func TestGuardDenyList(t *testing.T) {
	rcv := newReceiver(t)
	e := newEnv(t, sqliteBackend(t), func(c *outbound.Config) {
		deny, _ := outbound.ParsePrefixes([]string{"127.0.0.0/8", "::1"})
		c.Guard.Deny = deny
	})
	sub := e.subscribe(rcv.URL, sandbox.RetryGHL, "ContactCreate")
	e.createContact("ada@example.com")
	a := e.attempts("subscriptionId="+sub, 1)[0]
	if a.Result != sandbox.AttemptFailed || !strings.Contains(a.Error, "deny list") {
		t.Errorf("attempt = %+v", a)
	}
	if rcv.count() != 0 {
		t.Error("a denied receiver got the delivery")
	}
}

func TestReplay(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		rcv := newReceiver(t, 400)
		sub := e.subscribe(rcv.URL, sandbox.RetryGHL, "ContactCreate")
		e.createContact("ada@example.com")
		first := e.attempts("subscriptionId="+sub, 1)[0]
		if first.Result != sandbox.AttemptFailed || first.StatusCode != 400 {
			t.Fatalf("first attempt = %+v", first)
		}
		m := e.call("POST", "/_ghlkit/webhooks/deliveries/"+first.ID+"/replay", nil, 202)
		newID, _ := m["deliveryId"].(string)
		if newID == "" || newID == first.DeliveryID {
			t.Fatalf("replay answer %v", m)
		}
		got := rcv.wait(t, 2)
		if !bytes.Equal(got[1].body, got[0].body) || got[1].header.Get(webhook.HeaderWHSignature) != got[0].header.Get(webhook.HeaderWHSignature) {
			t.Error("the replay is not the same delivery")
		}
		r := e.attempts("deliveryId="+newID, 1)[0]
		if r.Result != sandbox.AttemptDelivered || r.ReplayOf != first.DeliveryID || r.EventID != first.EventID || r.Attempt != 1 {
			t.Errorf("replay attempt = %+v", r)
		}
		// By delivery id too; an unknown id is a 404 in the sandbox's error shape.
		e.call("POST", "/_ghlkit/webhooks/deliveries/"+first.DeliveryID+"/replay", nil, 202)
		rcv.wait(t, 3)
		nf := e.call("POST", "/_ghlkit/webhooks/deliveries/nope/replay", nil, 404)
		if nf["message"] != "Delivery not found" || nf["statusCode"] != float64(404) {
			t.Errorf("unknown delivery: %v", nf)
		}
	})
}

func TestRolledBackEventNeverDelivered(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		e := newEnv(t, b)
		rcv := newReceiver(t)
		e.subscribe(rcv.URL, sandbox.RetryGHL)
		ctx := context.Background()
		errRollback := errors.New("roll back")
		err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
			if err := sandbox.EmitEvent(ctx, tx, time.Now(), "ContactCreate", e.L1, e.C1, map[string]any{"id": "rolledback"}); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		err = e.Store.Write(ctx, func(tx sandbox.Tx) error {
			return sandbox.EmitEvent(ctx, tx, time.Now(), "ContactCreate", e.L1, e.C1, map[string]any{"id": "committed"})
		})
		if err != nil {
			t.Fatal(err)
		}
		got := rcv.wait(t, 1)
		time.Sleep(200 * time.Millisecond)
		if n := rcv.count(); n != 1 || !bytes.Contains(got[0].body, []byte(`"id":"committed"`)) {
			t.Errorf("receiver got %d deliveries, first %s", n, got[0].body)
		}
	})
}

func TestOnlyEventsAfterSubscribing(t *testing.T) {
	e := newEnv(t, sqliteBackend(t))
	e.createContact("before@example.com")
	time.Sleep(100 * time.Millisecond) // the dispatcher passes the event by
	rcv := newReceiver(t)
	e.subscribe(rcv.URL, "", "*")
	e.createContact("after@example.com")
	got := rcv.wait(t, 1)
	time.Sleep(200 * time.Millisecond)
	if rcv.count() != 1 || !bytes.Contains(got[0].body, []byte("after@example.com")) {
		t.Errorf("got %d deliveries: %s", rcv.count(), got[0].body)
	}
}

// install records an app's install on a location as the OAuth consent
// flow does (sandbox/apps.go).
func (e *env) install(app *sandbox.App) {
	e.t.Helper()
	ctx := context.Background()
	inst := &sandbox.Install{ID: sandbox.NewID(), AppID: app.ID, ClientID: app.ClientID, Level: sandbox.InstallLocation, LocationID: e.L1, CompanyID: e.C1}
	err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
		return sandbox.PutRecordOf(ctx, tx, sandbox.Record{Kind: sandbox.KindInstall, ID: inst.ID, ParentID: app.ID, LocationID: e.L1, CompanyID: e.C1, Key: sandbox.InstallLocation}, inst)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) createApp(name, webhookURL string) *sandbox.App {
	e.t.Helper()
	app, _, err := sandbox.CreateApp(context.Background(), e.Store, sandbox.AppParams{Name: name, RedirectURIs: []string{"https://example.com/cb"}, WebhookURL: webhookURL})
	if err != nil {
		e.t.Fatal(err)
	}
	return app
}

func TestAppSubscription(t *testing.T) {
	e := newEnv(t, sqliteBackend(t))
	ctx := context.Background()
	rcv, otherRcv, implicitRcv := newReceiver(t), newReceiver(t), newReceiver(t)
	app := e.createApp("Subscribed", "")
	other := e.createApp("Not installed", "")
	implicit := e.createApp("Registered with a URL", implicitRcv.URL+"/app")
	e.install(app)
	e.install(implicit)

	e.call("PUT", "/_ghlkit/apps/"+app.ID+"/webhook", map[string]any{"url": rcv.URL, "events": []string{"ContactCreate", "AppInstall"}}, 201)
	e.call("PUT", "/_ghlkit/apps/"+other.ClientID+"/webhook", map[string]any{"url": otherRcv.URL}, 201) // by client id too
	got := e.call("GET", "/_ghlkit/apps/"+app.ID+"/webhook", nil, 200)
	if w := got["webhook"].(map[string]any); w["url"] != rcv.URL || w["retryPolicy"] != "ghl" || w["appId"] != app.ID {
		t.Errorf("app webhook = %v", w)
	}
	// An app registered with a webhook URL has a subscription to everything.
	imp := e.call("GET", "/_ghlkit/apps/"+implicit.ID+"/webhook", nil, 200)["webhook"].(map[string]any)
	if imp["url"] != implicitRcv.URL+"/app" || imp["id"] != "app:"+implicit.ID {
		t.Errorf("implicit webhook = %v", imp)
	}
	e.call("PUT", "/_ghlkit/apps/nope/webhook", map[string]any{"url": rcv.URL}, 404)

	contactID := e.createContact("ada@example.com")
	err := e.Store.Write(ctx, func(tx sandbox.Tx) error {
		return sandbox.EmitEvent(ctx, tx, time.Now(), "AppInstall", e.L1, e.C1, map[string]any{"type": "INSTALL", "appId": app.ID, "companyId": e.C1})
	})
	if err != nil {
		t.Fatal(err)
	}
	e.call("PUT", "/contacts/"+contactID, map[string]any{"lastName": "Lovelace"}, 200)

	// Deliveries run concurrently: their order is not guaranteed.
	got2 := rcv.wait(t, 2)
	bodies := string(got2[0].body) + "\n" + string(got2[1].body)
	if !strings.Contains(bodies, `"email":"ada@example.com"`) || !strings.Contains(bodies, `"type":"INSTALL"`) {
		t.Errorf("app deliveries: %s", bodies)
	}
	imps := implicitRcv.wait(t, 2) // ContactCreate and ContactUpdate, not the other app's INSTALL
	time.Sleep(200 * time.Millisecond)
	if otherRcv.count() != 0 {
		t.Error("an app that is not installed got the location's events")
	}
	if rcv.count() != 2 {
		t.Errorf("the subscribed app got %d deliveries, want 2 (ContactUpdate is not subscribed)", rcv.count())
	}
	if implicitRcv.count() != 2 || strings.Contains(string(imps[0].body)+string(imps[1].body), "INSTALL") {
		t.Errorf("the implicit subscription got %d deliveries", implicitRcv.count())
	}
	log := e.attempts("subscriptionId=app:"+implicit.ID, 2)
	if log[0].Result != sandbox.AttemptDelivered || log[0].URL != implicitRcv.URL+"/app" {
		t.Errorf("implicit log = %+v", log[0])
	}
}

func TestKeysStableAcrossRestartAndAgreeing(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		// Concurrent first starts on one database agree on one pair.
		const n = 4
		pems := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			st := b.open(t)
			defer st.Close()
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := outbound.EnsureKeys(ctx, st, 0)
				if err != nil {
					t.Error(err)
					return
				}
				pems[i] = k.Ed25519PEM + k.RSAPEM
			}()
		}
		wg.Wait()
		for i := 1; i < n; i++ {
			if pems[i] != pems[0] {
				t.Fatalf("start %d got other keys", i)
			}
		}
		// A restart (a new store on the same database) finds the same keys.
		st := b.open(t)
		k, err := outbound.LoadKeys(ctx, st)
		st.Close()
		if err != nil {
			t.Fatal(err)
		}
		if k.Ed25519PEM+k.RSAPEM != pems[0] || !strings.Contains(k.Ed25519PEM, "BEGIN PUBLIC KEY") || k.RSA.N.BitLen() != outbound.DefaultRSABits {
			t.Error("the keys changed across a restart")
		}
	})
}

func TestRestartResumesAfterCursor(t *testing.T) {
	b := sqliteBackend(t)
	rcv := newReceiver(t)
	e := newEnv(t, b)
	e.subscribe(rcv.URL, "", "ContactCreate")
	e.createContact("one@example.com")
	rcv.wait(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Svc.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	// While delivery is stopped, an event is emitted; the next start sends
	// it, and only it.
	e.createContact("two@example.com")
	svc := b.start(t, e.Store, outbound.Config{TimeScale: testScale, PollInterval: 10 * time.Millisecond})
	defer svc.Stop(context.Background())
	got := rcv.wait(t, 2)
	time.Sleep(200 * time.Millisecond)
	if rcv.count() != 2 || !bytes.Contains(got[1].body, []byte("two@example.com")) {
		for _, d := range rcv.wait(t, 0) {
			t.Logf("%s %s", d.at.Format(time.StampMicro), d.body)
		}
		t.Errorf("got %d deliveries; second %s", rcv.count(), got[1].body)
	}
}

// With NoRSASignature (ghlkit's --webhook-rsa off) deliveries carry the
// Ed25519 signature only.
func TestNoRSASignature(t *testing.T) {
	e := newEnv(t, sqliteBackend(t), func(c *outbound.Config) { c.NoRSASignature = true })
	rcv := newReceiver(t)
	e.call("POST", "/_ghlkit/webhooks", map[string]any{"locationId": e.L1, "url": rcv.URL + "/hook", "events": []string{"ContactCreate"}}, 201)
	e.createContact("rsa-off@example.com")
	d := rcv.wait(t, 1)[0]
	if got := d.header.Get(webhook.HeaderWHSignature); got != "" {
		t.Errorf("X-WH-Signature sent with RSA off: %q", got)
	}
	if d.header.Get(webhook.HeaderGHLSignature) == "" {
		t.Error("no Ed25519 signature")
	}
}
