package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ghlkit/ghlkit/internal/gctune"
	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/redislimit"
)

// shutdownTimeout caps how long in-flight requests may run after a signal.
const shutdownTimeout = 10 * time.Second

// serveOptions are the flags of `ghlkit sandbox` and `ghlkit dev`.
type serveOptions struct {
	mode      string // "sandbox" or "dev", for messages
	listen    string
	db        string
	seed      *choiceValue
	rateLimit *choiceValue
	webhooks  *choiceValue
	rsa       *choiceValue
	burst     int
	interval  time.Duration
	daily     int
	tokenTTL  time.Duration
	baseURL   string
	adminTok  string
	json      bool
	log       *logOptions

	// rateLimitRedis is --rate-limit-redis; redis its parsed options (nil:
	// the budgets stay in memory). redisIgnored is set when the value came
	// from the environment or the config file with --rate-limit off.
	rateLimitRedis string
	redis          *redis.Options
	redisIgnored   bool

	// flags are the command's flags, to tell the command line from the
	// environment and the config file.
	flags *pflag.FlagSet
}

// addServeFlags registers the server flags with the mode's defaults.
func addServeFlags(cmd *cobra.Command, o *serveOptions, defaultSeed string) {
	fs := cmd.Flags()
	o.flags = fs
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	addDBFlag(fs, &o.db)
	o.seed = newChoice(defaultSeed, "demo", "none")
	fs.Var(o.seed, "seed", "data to load at start: demo (idempotent) or none")
	o.rateLimit = newOnOff("on")
	fs.Var(o.rateLimit, "rate-limit", "enforce GHL's per-location rate limits: on or off")
	o.webhooks = newOnOff("on")
	fs.Var(o.webhooks, "webhooks", "deliver events as signed webhooks to the subscribed URLs: on or off")
	o.rsa = newOnOff("on")
	fs.Var(o.rsa, "webhook-rsa", "also sign deliveries with RSA in X-WH-Signature (GHL's legacy header): on or off; off is about 3x faster")
	fs.IntVar(&o.burst, "rate-limit-burst", 100, "requests allowed per interval, per token or app and location")
	fs.DurationVar(&o.interval, "rate-limit-interval", 10*time.Second, "burst interval")
	fs.IntVar(&o.daily, "rate-limit-daily", 200_000, "requests allowed per UTC day, per token or app and location")
	fs.StringVar(&o.rateLimitRedis, "rate-limit-redis", "", "share the rate-limit budgets of sandbox processes through this Redis (with --rate-limit on): redis://[user:password@]host:port/db, or rediss:// for TLS (default: in memory, per process; prefer the env var GHLKIT_RATE_LIMIT_REDIS for a password)")
	fs.DurationVar(&o.tokenTTL, "token-ttl", 24*time.Hour, "lifetime of OAuth access tokens")
	fs.StringVar(&o.baseURL, "base-url", "", "externally visible URL of the server (default: http:// and the bound address)")
	fs.StringVar(&o.adminTok, "admin-token", "", "require this bearer token on the admin API under /_ghlkit/ (prefer the env var GHLKIT_ADMIN_TOKEN: flags show in ps)")
	fs.BoolVar(&o.json, "json", false, "print the start-up details as one JSON line on stdout instead of the banner")
	o.log = addLogFlags(fs, "text")
	configurable(fs, "listen", "seed", "rate-limit", "webhooks", "webhook-rsa", "rate-limit-burst", "rate-limit-interval", "rate-limit-daily",
		"rate-limit-redis", "token-ttl", "base-url", "admin-token", "json")
}

func newSandboxCmd(c *cli) *cobra.Command {
	o := &serveOptions{mode: "sandbox"}
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run the GHL-compatible sandbox server",
		Long: `Run the GHL-compatible sandbox server on a SQLite file or PostgreSQL.

Unlike dev, it loads no data unless --seed demo is given: create locations and
tokens with the admin API or ghlkit token create. It stops gracefully on
SIGINT or SIGTERM, letting in-flight requests finish (for up to 10 s).`,
		Example: `  ghlkit sandbox --listen :8080 --db postgres://ghlkit@db/ghlkit --log-format json
  ghlkit sandbox --db sqlite:/var/lib/ghlkit/ghlkit.db --rate-limit-burst 20`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return serve(cmd.Context(), c, o) },
	}
	addServeFlags(cmd, o, "none")
	return cmd
}

// validate checks the values no flag type can, as usage errors.
func (o *serveOptions) validate() (dbTarget, error) {
	if err := checkListen(o.listen); err != nil {
		return dbTarget{}, &usageError{err}
	}
	db, err := parseDB(o.db)
	if err != nil {
		return dbTarget{}, &usageError{err}
	}
	switch {
	case o.burst <= 0:
		return db, usageErrorf("--rate-limit-burst must be positive, got %d", o.burst)
	case o.interval <= 0:
		return db, usageErrorf("--rate-limit-interval must be positive, got %s", o.interval)
	case o.daily <= 0:
		return db, usageErrorf("--rate-limit-daily must be positive, got %d", o.daily)
	case o.tokenTTL <= 0:
		return db, usageErrorf("--token-ttl must be positive, got %s", o.tokenTTL)
	}
	if o.baseURL != "" && !strings.HasPrefix(o.baseURL, "http://") && !strings.HasPrefix(o.baseURL, "https://") {
		return db, usageErrorf("--base-url must start with http:// or https://, got %q", o.baseURL)
	}
	if o.redis, err = parseRedisURL(o.rateLimitRedis); err != nil {
		return db, &usageError{err}
	}
	// With the limit off there are no budgets to share. Given on the
	// command line, Redis is a mistake worth stopping for; from
	// GHLKIT_RATE_LIMIT_REDIS or the config file it is standing
	// configuration that a run with --rate-limit off need not unset: it is
	// ignored, with a warning (serve).
	if o.redis != nil && o.rateLimit.value == "off" {
		if o.flags != nil && o.flags.Changed("rate-limit-redis") {
			return db, usageErrorf("--rate-limit-redis needs --rate-limit on: with the rate limit off there are no budgets to share")
		}
		o.redis, o.redisIgnored = nil, true
	}
	return db, nil
}

// redisOpenTimeout bounds connecting to --rate-limit-redis at start.
const redisOpenTimeout = 10 * time.Second

// parseRedisURL reads --rate-limit-redis: nil options when empty.
func parseRedisURL(v string) (*redis.Options, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	opt, err := redis.ParseURL(v)
	if err != nil {
		var ue *url.Error // its text repeats the URL, password included
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("--rate-limit-redis: invalid Redis URL: %v (want redis://[user:password@]host:port/db or rediss://…)", err)
	}
	return opt, nil
}

// redactRedisURL is a --rate-limit-redis value for messages, without its
// password.
func redactRedisURL(v string) string {
	if u, err := url.Parse(strings.TrimSpace(v)); err == nil {
		return u.Redacted()
	}
	return "redis://…"
}

// openRateLimiter connects to --rate-limit-redis and returns its limiter
// and a function closing the connection, or nil when the budgets stay in
// memory. The client fails fast (redislimit.FailFast): with Redis down a
// request waits for one refused dial, not for redislimit.DefaultTimeout.
func (o *serveOptions) openRateLimiter(ctx context.Context, cfg sandbox.RateLimitConfig, log *slog.Logger) (sandbox.Limiter, func(), error) {
	if o.redis == nil {
		return nil, func() {}, nil
	}
	redis.SetLogger(redisLogger{log})
	rdb := redis.NewClient(redislimit.FailFast(o.redis))
	lim := redislimit.New(rdb, cfg, redislimit.Options{})
	cctx, cancel := context.WithTimeout(ctx, redisOpenTimeout)
	defer cancel()
	if err := lim.Check(cctx); err != nil {
		_ = rdb.Close()
		if redis.IsReadOnlyError(err) {
			return nil, nil, fmt.Errorf("cannot use Redis at %s (--rate-limit-redis): %w", redactRedisURL(o.rateLimitRedis), err)
		}
		return nil, nil, fmt.Errorf("cannot reach Redis at %s (--rate-limit-redis): %w", redactRedisURL(o.rateLimitRedis), err)
	}
	return lim, func() { _ = rdb.Close() }, nil
}

// redisLogger passes go-redis's own messages ("failed to dial", …) to the
// server's log at debug level. go-redis would print them on stderr as
// plain text, whatever --log-format, once per request while Redis is down;
// the limiter's warning (at most every 10 s) reports that already.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	if l.log.Enabled(ctx, slog.LevelDebug) {
		l.log.DebugContext(ctx, strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "), "component", "go-redis")
	}
}

// checkListen accepts host:port with a numeric port (host may be empty).
func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: want host:port, e.g. 127.0.0.1:8080 or :0", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--listen %q: the port must be a number from 0 to 65535", addr)
	}
	return nil
}

// startup is what a started server reports: the first line of --json
// output. The ids and token are empty when no demo data was loaded.
type startup struct {
	BaseURL    string `json:"baseUrl"`
	CompanyID  string `json:"companyId"`
	LocationID string `json:"locationId"`
	Token      string `json:"token"`
}

// serve runs the sandbox until ctx is cancelled: open the store, seed,
// listen, report, serve, then shut down gracefully.
func serve(ctx context.Context, c *cli, o *serveOptions) (err error) {
	db, err := o.validate()
	if err != nil {
		return err
	}
	log := o.log.logger(c.stderr)
	log.Debug("garbage collector", "gogc", gctune.Apply())
	if o.redisIgnored {
		log.Warn("ignoring the Redis of GHLKIT_RATE_LIMIT_REDIS or the config file's rate-limit-redis: the rate limit is off", "redis", redactRedisURL(o.rateLimitRedis))
	}
	started := time.Now()
	defer func() {
		// A signal during start-up (opening, migrating, seeding) is a
		// request to stop, not a failure.
		if err != nil && ctx.Err() != nil {
			log.Info("interrupted while starting", "err", err)
			err = nil
		}
	}()

	// Listen first: a busy port fails the start before the database is
	// touched.
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", o.listen, err)
	}
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr)
	baseURL := strings.TrimRight(o.baseURL, "/")
	if baseURL == "" {
		baseURL = "http://" + reachableAddr(addr)
	}

	// Redis before the database: an unreachable one fails the start
	// before a new database is created.
	rateLimit := sandbox.RateLimitConfig{Enabled: o.rateLimit.value == "on", Burst: o.burst, Interval: o.interval, Daily: o.daily}
	limiter, closeLimiter, err := o.openRateLimiter(ctx, rateLimit, log)
	if err != nil {
		return err
	}
	defer closeLimiter()

	st, err := db.open(ctx, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the database", "err", err)
		}
	}()

	var seed *sandbox.SeedResult
	if o.seed.value == "demo" {
		seed, err = sandbox.Seed(ctx, st, sandbox.SeedOptions{})
		if err != nil {
			return err
		}
		if seed.Created {
			log.Info("loaded the demo data", "companyId", seed.CompanyID, "locationId", seed.LocationID, "contacts", len(seed.ContactIDs))
		}
	}

	srv, err := sandbox.NewServer(sandbox.Config{
		Store:      st,
		Logger:     log,
		RateLimit:  rateLimit,
		Limiter:    limiter,
		TokenTTL:   o.tokenTTL,
		BaseURL:    baseURL,
		AdminToken: o.adminTok,
	})
	if err != nil {
		return err
	}
	if o.webhooks.value == "on" {
		stopDeliveries, err := startDeliveries(ctx, st, srv, log, o.rsa.value == "off")
		if err != nil {
			return err
		}
		// Deferred after the store's Close, so it runs before it: the
		// deliveries stop (and flush their log) while the store is open.
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
			defer cancel()
			if err := stopDeliveries(sctx); err != nil {
				log.Warn("stopping webhook deliveries", "err", err)
			}
		}()
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	if !addr.IP.IsLoopback() && seed != nil {
		log.Warn("listening beyond this machine with the demo data: its tokens are well-known development credentials, so anyone who can reach " +
			addr.String() + " can use them; listen on 127.0.0.1 or run without --seed demo")
	} else if !addr.IP.IsLoopback() && o.adminTok == "" {
		log.Warn("listening beyond this machine without --admin-token: anyone who can reach it can use the admin API (/_ghlkit/), which mints tokens",
			"addr", addr.String())
	}
	info := startup{BaseURL: baseURL}
	if seed != nil {
		info.CompanyID, info.LocationID, info.Token = seed.CompanyID, seed.LocationID, seed.Token
	}
	if o.json {
		line, _ := json.Marshal(info)
		fmt.Fprintf(c.stdout, "%s\n", line)
	} else {
		printBanner(c.stdout, o.mode, info, seed, db)
	}
	log.Info("sandbox listening", "baseUrl", baseURL, "addr", addr.String(), "db", db.String(),
		"rateLimit", o.rateLimit.value, "rateLimitStore", o.rateLimitStore(), "startup", time.Since(started).Round(time.Millisecond).String())

	select {
	case err := <-serveErr:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		// In-flight requests outlived the cap: cut them off. The store
		// closes next either way, and a transaction that did not commit
		// rolls back.
		log.Warn("in-flight requests did not finish in time", "err", err)
		_ = hs.Close()
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	log.Info("stopped serving")
	return nil
}

// rateLimitStore names where the budgets are kept, for the start-up log.
func (o *serveOptions) rateLimitStore() string {
	if o.redis == nil {
		return "memory"
	}
	return redactRedisURL(o.rateLimitRedis)
}

// reachableAddr is the bound address as a client on this machine dials it:
// a wildcard address (":8080", "0.0.0.0", "::") becomes 127.0.0.1.
func reachableAddr(a *net.TCPAddr) string {
	host := a.IP.String()
	if a.IP == nil || a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(a.Port))
}
