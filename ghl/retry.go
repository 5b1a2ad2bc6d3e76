package ghl

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Backoff says how long to wait before retry number attempt (1 for the
// first retry).
type Backoff interface {
	NextDuration(attempt int) time.Duration
}

// ExponentialBackoff is exponential backoff with full jitter: a uniformly
// random wait in [0, min(Max, Base·2^(attempt-1))).
type ExponentialBackoff struct {
	Base time.Duration // default 500ms
	Max  time.Duration // default 30s
}

// NextDuration implements Backoff.
func (b ExponentialBackoff) NextDuration(attempt int) time.Duration {
	base, ceil := b.Base, b.Max
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if ceil <= 0 {
		ceil = 30 * time.Second
	}
	d := ceil
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 32 {
		if e := base << (attempt - 1); e > 0 && e < ceil {
			d = e
		}
	}
	return rand.N(d) + 1
}

// RetryPolicy decides which failed requests [RetryTransport] sends again.
//
// Retried for every method: 429 (unless GHL says the daily budget is spent)
// and connections that were refused (the request never reached GHL).
// Retried only for GET, HEAD, OPTIONS and DELETE, or requests whose context
// is marked with [WithIdempotent], or all when RetryNonIdempotent is set:
// 502, 503, 504, timeouts, reset connections and other network errors, after
// which GHL may have acted on the request.
type RetryPolicy struct {
	// MaxAttempts caps the attempts, the first one included; 1 disables
	// retries. Default 4.
	MaxAttempts int
	// MaxElapsed caps the time from the first attempt to the start of the
	// last; a retry whose wait would end later is not made. Default 2m.
	MaxElapsed time.Duration
	// Backoff computes waits for 5xx and network errors; default
	// ExponentialBackoff{}. A 429 waits for Retry-After, else
	// X-RateLimit-Interval-Milliseconds, else Backoff.
	Backoff Backoff
	// MaxRetryAfter caps a wait asked for by the server; a 429 asking for
	// more is returned to the caller. Default 1m.
	MaxRetryAfter time.Duration
	// RetryNonIdempotent also retries POST, PUT and PATCH after timeouts,
	// reset connections and 5xx answers.
	RetryNonIdempotent bool
}

// DefaultRetryPolicy returns the policy a [Client] uses unless told otherwise.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, MaxElapsed: 2 * time.Minute, Backoff: ExponentialBackoff{}, MaxRetryAfter: time.Minute}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = d.MaxElapsed
	}
	if p.Backoff == nil {
		p.Backoff = d.Backoff
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	return p
}

// RetryTransport sends a request again when Policy allows it. The request
// body must be replayable (http.NewRequest sets GetBody for in-memory bodies).
type RetryTransport struct {
	Policy RetryPolicy
	Base   http.RoundTripper // nil means http.DefaultTransport
	Logger *slog.Logger      // nil discards
	// sleep waits for d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// RoundTrip implements http.RoundTripper.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := t.Policy.withDefaults()
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	ctx := req.Context()
	start := time.Now()
	idempotent := p.RetryNonIdempotent || isMarkedIdempotent(ctx) || isIdempotentMethod(req.Method)
	cur := req
	for attempt := 1; ; attempt++ {
		resp, err := base.RoundTrip(cur)
		wait, retry := p.decide(resp, err, idempotent, attempt)
		if !retry || attempt >= p.MaxAttempts || ctx.Err() != nil {
			return resp, err
		}
		if time.Since(start)+wait > p.MaxElapsed {
			return resp, err
		}
		if dl, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(dl) {
			return resp, err
		}
		next, rerr := rewind(req)
		if rerr != nil {
			return resp, err
		}
		if resp != nil {
			drain(resp)
		}
		t.logger().DebugContext(ctx, "ghl: retrying", "method", req.Method, "path", req.URL.Path,
			"attempt", attempt, "wait", wait, "status", statusOf(resp), "err", err)
		if serr := t.wait(ctx, wait); serr != nil {
			closeBody(next)
			return nil, serr
		}
		cur = next
	}
}

func (t *RetryTransport) wait(ctx context.Context, d time.Duration) error {
	if t.sleep != nil {
		return t.sleep(ctx, d)
	}
	return sleepCtx(ctx, d)
}

func (t *RetryTransport) logger() *slog.Logger {
	if t.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Logger
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

func statusOf(resp *http.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// decide reports whether the outcome of attempt may be retried and after
// what wait. The caller checks the request's context: errors that merely
// match context.DeadlineExceeded (net/http's header timeout does) are
// timeouts, retried only when idempotent.
func (p RetryPolicy) decide(resp *http.Response, err error, idempotent bool, attempt int) (time.Duration, bool) {
	if err != nil {
		var rle *RateLimitError
		switch {
		case errors.As(err, &rle):
			return 0, false // the limiter refused: the daily budget is spent
		case isConnRefused(err):
			return p.Backoff.NextDuration(attempt), true
		case idempotent:
			return p.Backoff.NextDuration(attempt), true
		}
		return 0, false
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
		rl := ParseRateLimit(resp.Header)
		if rl.DailyExhausted() {
			return 0, false
		}
		var wait time.Duration
		switch {
		case rl.RetryAfter > 0:
			wait = rl.RetryAfter
		case rl.Interval > 0:
			wait = rl.Interval
		default:
			wait = p.Backoff.NextDuration(attempt)
		}
		if wait > p.MaxRetryAfter {
			return 0, false
		}
		// A little jitter so that clients throttled together don't all come
		// back at the same instant.
		return wait + rand.N(wait/10+1), true
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if !idempotent {
			return 0, false
		}
		if ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ra > 0 {
			if ra > p.MaxRetryAfter {
				return 0, false
			}
			return ra, true
		}
		return p.Backoff.NextDuration(attempt), true
	}
	return 0, false
}

func isIdempotentMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodDelete, "":
		return true
	}
	return false
}

// isConnRefused reports whether err says the connection was never
// established (refused, or any other dial failure), so the server cannot
// have seen the request.
func isConnRefused(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
