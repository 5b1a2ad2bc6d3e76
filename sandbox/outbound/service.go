// Package outbound delivers the sandbox's events as signed webhooks, with
// GHL's delivery semantics.
//
// Every state change the sandbox makes appends its event to the outbox in
// the same transaction (sandbox.Server.Emit). A dispatcher reads the outbox
// in commit order behind a cursor, resolves the subscriptions of each event
// — the location's own webhooks (Settings > Webhooks) and the webhook URLs
// of the marketplace apps installed on the location — and enqueues one River
// job per event and subscription. On SQLite the jobs are inserted in the
// transaction that moves the cursor; on Postgres (where River has its own
// pgx pool) just before it commits; either way River's unique keys (event
// id + subscription id) make a second insert of the same delivery, after a
// crash, a no-op.
//
// A worker POSTs the payload bytes exactly as stored, signed with the
// sandbox's keys (Ed25519 in X-GHL-Signature, RSA in X-WH-Signature; see
// EnsureKeys), records the attempt in the delivery log, and leaves retries
// to the subscription's RetryPolicy: a retry is a River snooze, so River's
// own attempt limit does not apply, and a final failure cancels the job.
// Connections go through a Guard that refuses link-local and metadata
// addresses when dialling. Any logged delivery can be replayed as a new job.
//
// Package outbound picks no database: Start takes the River driver that
// cmd/ghlkit builds for the store in use (riversqlite on the store's write
// connection, riverpgxv5 on a pool of the store's URL).
package outbound

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/ghlkit/ghlkit/sandbox"
)

// Delivery defaults and limits.
const (
	// DefaultTimeout bounds one delivery: connecting, sending and reading
	// the answer.
	DefaultTimeout = 10 * time.Second
	// MaxResponseBytes is how much of a receiver's answer is read.
	MaxResponseBytes = 64 << 10
	// ResponseSnippetBytes is how much of it the delivery log keeps.
	ResponseSnippetBytes = 1 << 10
	// UserAgent is sent with every delivery.
	UserAgent = "ghlkit-sandbox"
	// HeaderHMAC carries "sha256=<hex HMAC-SHA256(secret, body)>" on
	// deliveries of a location webhook that has a secret. GHL's workflow
	// webhooks put that value in X-GHL-Signature; the sandbox keeps
	// X-GHL-Signature for the Ed25519 signature every delivery has (so the
	// official SDK verifies every delivery the same way) and puts the HMAC
	// in this header of its own. webhook.VerifyHMAC checks its value.
	HeaderHMAC = "X-GHLKit-Signature"
	// QueueName is the River queue of deliveries.
	QueueName = "ghlkit_webhooks"
	// DispatcherName is the outbox cursor of the dispatcher.
	DispatcherName = "webhooks"
)

// Outbox is what the dispatcher needs of the store: the SQL stores
// (sandbox/sqlstore) implement it.
type Outbox interface {
	sandbox.EventOutbox
	// ClaimEvents hands the events after consumer's cursor to fn in a
	// transaction and moves the cursor past them when fn succeeds; see
	// sqlstore.Store.ClaimEvents.
	ClaimEvents(ctx context.Context, consumer string, limit int, fn func(ctx context.Context, tx *sql.Tx, events []sandbox.OutboxEvent) error) (int, error)
}

// Config configures the delivery Service.
type Config struct {
	// Store is the sandbox's store. It must also implement Outbox and
	// sandbox.WebhookLog, as the SQL stores do.
	Store  sandbox.Store
	Logger *slog.Logger
	// Server, when set, gets the admin API's replay route
	// (sandbox.Server.ServeWebhookReplays).
	Server *sandbox.Server
	// Timeout bounds one delivery (default DefaultTimeout).
	Timeout time.Duration
	// Guard decides which addresses deliveries may reach.
	Guard Guard
	// TimeScale multiplies every retry delay the policies ask for (default
	// 1); tests run GHL's ten-minute retries with 0.0001.
	TimeScale float64
	// RSABits is the size of the RSA key generated on first start (default
	// DefaultRSABits).
	RSABits int
	// NoRSASignature leaves X-WH-Signature out. An RSA signature costs about
	// a millisecond of CPU per delivery, the bulk of a delivery's cost; GHL
	// itself retires X-WH-Signature in favour of Ed25519.
	NoRSASignature bool
	// Workers is how many deliveries run at once (default 100).
	Workers int
	// PollInterval is how often the dispatcher looks for new events and
	// River (when it cannot be notified, as on SQLite) for due jobs
	// (default 20 ms).
	PollInterval time.Duration
	// BatchSize is how many events the dispatcher claims at once (default
	// 500).
	BatchSize int
	// RescueAfter is how long a delivery may stay running before River
	// considers its process dead and runs it again (default Timeout + 20 s).
	RescueAfter time.Duration
	// RescueOnStart makes deliveries left running by a previous process
	// available again at start, rather than after RescueAfter. Set it only
	// when no other process works the same queue (a SQLite file).
	RescueOnStart bool
}

func (c *Config) defaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.TimeScale <= 0 {
		c.TimeScale = 1
	}
	if c.Workers <= 0 {
		c.Workers = 100
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 20 * time.Millisecond
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 500
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = c.Timeout + 20*time.Second
	}
}

// Service runs the dispatcher and the River client that delivers. Create it
// with Start; stop it with Stop.
type Service struct {
	cfg      Config
	log      *slog.Logger
	store    sandbox.Store
	outbox   Outbox
	attempts sandbox.WebhookLog
	keys     *Keys
	http     *http.Client
	queue    queue
	writer   *attemptWriter
	sigs     *signatureCache
	subs     *subscriptionCache

	cancel       context.CancelFunc // stops the dispatcher
	cancelRiver  context.CancelFunc
	dispatchDone chan struct{}
	stopOnce     sync.Once
	stopErr      error
}

// queue is the River client, without its transaction type parameter.
type queue interface {
	insert(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) error
	stop(ctx context.Context) error
}

type riverQueue[TTx any] struct{ client *river.Client[TTx] }

// insert enqueues jobs: in tx when the driver's transactions are
// database/sql ones (riversqlite), otherwise on River's own pool.
func (q *riverQueue[TTx]) insert(ctx context.Context, tx *sql.Tx, params []river.InsertManyParams) error {
	if tx != nil {
		if t, ok := any(tx).(TTx); ok {
			_, err := q.client.InsertManyTx(ctx, t, params)
			return err
		}
	}
	_, err := q.client.InsertMany(ctx, params)
	return err
}

func (q *riverQueue[TTx]) stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		// Deliveries still running when the deadline passed are cancelled;
		// they snooze and run again on the next start.
		return q.client.StopAndCancel(context.WithoutCancel(ctx))
	}
	return err
}

// Start migrates River's tables, loads (or generates) the signing keys,
// and starts the dispatcher and River's workers. It returns once they run.
func Start[TTx any](ctx context.Context, cfg Config, driver riverdriver.Driver[TTx]) (*Service, error) {
	cfg.defaults()
	if cfg.Store == nil || driver == nil {
		return nil, errors.New("outbound: Config.Store and a River driver are required")
	}
	outbox, ok := cfg.Store.(Outbox)
	if !ok {
		return nil, fmt.Errorf("outbound: the store (%T) cannot be read as an event outbox", cfg.Store)
	}
	attempts, ok := cfg.Store.(sandbox.WebhookLog)
	if !ok {
		return nil, fmt.Errorf("outbound: the store (%T) keeps no delivery log", cfg.Store)
	}
	keys, err := EnsureKeys(ctx, cfg.Store, cfg.RSABits)
	if err != nil {
		return nil, err
	}
	if err := migrateRiver(ctx, driver); err != nil {
		return nil, err
	}
	if cfg.RescueOnStart {
		if err := driver.GetExecutor().Exec(ctx, rescueSQL(driver.DatabaseName()), DeliveryArgs{}.Kind()); err != nil {
			return nil, fmt.Errorf("outbound: rescue deliveries: %w", err)
		}
	}

	s := &Service{
		cfg:      cfg,
		log:      cfg.Logger,
		store:    cfg.Store,
		outbox:   outbox,
		attempts: attempts,
		keys:     keys,
		http:     newHTTPClient(&cfg.Guard, cfg.Timeout, cfg.Workers),
		sigs:     newSignatureCache(4096),
		subs:     &subscriptionCache{ttl: time.Second, m: map[string]subscriptionEntry{}},
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliveryWorker{s: s}); err != nil {
		return nil, err
	}
	client, err := river.NewClient(driver, &river.Config{
		Logger:                      slog.New(minLevel{cfg.Logger.Handler(), slog.LevelWarn}),
		Queues:                      map[string]river.QueueConfig{QueueName: {MaxWorkers: cfg.Workers}},
		Workers:                     workers,
		FetchCooldown:               min(5*time.Millisecond, cfg.PollInterval),
		FetchPollInterval:           cfg.PollInterval,
		JobTimeout:                  cfg.Timeout + 5*time.Second,
		RescueStuckJobsAfter:        max(cfg.RescueAfter, cfg.Timeout+10*time.Second),
		CompletedJobRetentionPeriod: time.Hour,
		MaxAttempts:                 25,
		RetryPolicy:                 storeRetryPolicy{},
	})
	if err != nil {
		return nil, fmt.Errorf("outbound: river: %w", err)
	}
	// River's context must outlive Stop's first step: cancelling it
	// cancels running deliveries, which Stop lets finish.
	riverCtx, cancelRiver := context.WithCancel(context.WithoutCancel(ctx))
	if err := client.Start(riverCtx); err != nil {
		cancelRiver()
		return nil, fmt.Errorf("outbound: river: %w", err)
	}
	dispatchCtx, cancelDispatch := context.WithCancel(context.WithoutCancel(ctx))
	s.queue = &riverQueue[TTx]{client: client}
	s.cancel, s.cancelRiver = cancelDispatch, cancelRiver
	s.writer = newAttemptWriter(attempts, cfg.Logger)
	s.dispatchDone = make(chan struct{})
	go s.dispatchLoop(dispatchCtx)
	if cfg.Server != nil {
		cfg.Server.ServeWebhookReplays(s)
	}
	return s, nil
}

// Keys returns the signing keys deliveries are signed with.
func (s *Service) Keys() *Keys { return s.keys }

// Stop stops dispatching, lets running deliveries finish (until ctx is
// done, then cancels them: they run again on the next start) and flushes
// the delivery log.
func (s *Service) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.cancel()
		<-s.dispatchDone
		err := s.queue.stop(ctx)
		s.cancelRiver()
		s.writer.close()
		s.http.CloseIdleConnections()
		s.stopErr = err
	})
	return s.stopErr
}

// migrateRiver applies River's migrations. River's migrator takes no lock,
// and some of its Postgres migrations cannot share a transaction (a new
// enum value is used after it is added), so on Postgres a transaction on
// another connection holds an advisory lock while the migrator runs: two
// sandboxes starting at once on one database migrate one after the other.
func migrateRiver[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return fmt.Errorf("outbound: river migrations: %w", err)
	}
	if driver.DatabaseName() == riverdriver.DatabaseNamePostgres {
		lockTx, err := driver.GetExecutor().Begin(ctx)
		if err != nil {
			return fmt.Errorf("outbound: river migrations: %w", err)
		}
		defer func() { _ = lockTx.Rollback(context.WithoutCancel(ctx)) }()
		if err := lockTx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('ghlkit/river-migrations'))`); err != nil {
			return fmt.Errorf("outbound: river migrations: %w", err)
		}
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("outbound: river migrations: %w", err)
	}
	return nil
}

// rescueSQL makes the deliveries a dead process left running available.
func rescueSQL(database string) string {
	if database == riverdriver.DatabaseNamePostgres {
		return `UPDATE river_job SET state = 'available' WHERE state = 'running' AND kind = $1`
	}
	return `UPDATE river_job SET state = 'available' WHERE state = 'running' AND kind = ?`
}

// storeRetryPolicy schedules the retries River makes itself: after a worker
// error (the store was unreachable) or a rescue. Delivery failures never get
// here; the subscription's RetryPolicy handles them with snoozes.
type storeRetryPolicy struct{}

func (storeRetryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(time.Duration(min(job.Attempt, 10)) * time.Second)
}

// minLevel drops records below a level: River logs every job at Info.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(a), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}

// newHTTPClient returns the client deliveries are made with: the guard runs
// on every connection, proxies from the environment are ignored (the guard
// would see the proxy's address, not the receiver's) and redirects are not
// followed (a 3xx is the receiver's answer).
func newHTTPClient(g *Guard, timeout time.Duration, conns int) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: g.Control}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			MaxIdleConns:          conns * 2,
			MaxIdleConnsPerHost:   conns,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			ForceAttemptHTTP2:     true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
