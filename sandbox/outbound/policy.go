package outbound

import (
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// Outcome is the result of one delivery attempt, as a RetryPolicy sees it.
type Outcome struct {
	// StatusCode is the receiver's answer; 0 when there was none.
	StatusCode int
	// Err is why there was no answer (connection refused, reset, …).
	Err error
	// Timeout reports that the receiver did not answer in time.
	Timeout bool
	// Refused reports that the destination guard refused the address; such
	// a delivery is never retried.
	Refused bool
}

// Delivered reports whether the receiver accepted the delivery (2xx).
func (o Outcome) Delivered() bool { return o.StatusCode >= 200 && o.StatusCode < 300 }

// RetryPolicy decides whether a failed delivery is tried again, and when.
// attempt is the number of the attempt that just failed (1 for the first).
// Delays are nominal: the Service scales them by Config.TimeScale, so tests
// run GHL's ten-minute retries in milliseconds.
type RetryPolicy interface {
	NextDelay(attempt int, o Outcome) (delay time.Duration, retry bool)
}

// GHLPolicy retries as GHL does: only a 429 answer is retried, up to
// Retries more times, Interval apart with up to ±Jitter of it.
type GHLPolicy struct {
	Retries  int           // default 6
	Interval time.Duration // default 10 minutes
	Jitter   float64       // fraction of Interval; default 0.1
}

// NextDelay implements RetryPolicy.
func (p GHLPolicy) NextDelay(attempt int, o Outcome) (time.Duration, bool) {
	retries := p.Retries
	if retries == 0 {
		retries = 6
	}
	interval := p.Interval
	if interval == 0 {
		interval = 10 * time.Minute
	}
	jitter := p.Jitter
	if jitter == 0 {
		jitter = 0.1
	}
	if o.StatusCode != http.StatusTooManyRequests || attempt > retries {
		return 0, false
	}
	return time.Duration(float64(interval) * (1 + jitter*(2*rand.Float64()-1))), true
}

// ExponentialPolicy retries what may succeed later — 429 and 5xx answers,
// 408, timeouts and connection errors — after a random delay between 0 and
// min(Max, Base·2^(attempt-1)) ("full jitter"), up to MaxAttempts attempts
// in all. Other 4xx answers and refused destinations are final.
type ExponentialPolicy struct {
	Base        time.Duration // default 30 s
	Max         time.Duration // default 1 hour
	MaxAttempts int           // default 10
}

// NextDelay implements RetryPolicy.
func (p ExponentialPolicy) NextDelay(attempt int, o Outcome) (time.Duration, bool) {
	base, maxDelay, maxAttempts := p.Base, p.Max, p.MaxAttempts
	if base == 0 {
		base = 30 * time.Second
	}
	if maxDelay == 0 {
		maxDelay = time.Hour
	}
	if maxAttempts == 0 {
		maxAttempts = 10
	}
	retryable := o.StatusCode == http.StatusTooManyRequests || o.StatusCode == http.StatusRequestTimeout ||
		o.StatusCode >= 500 || (o.StatusCode == 0 && !o.Refused)
	if !retryable || attempt >= maxAttempts {
		return 0, false
	}
	ceiling := maxDelay
	if shift := attempt - 1; shift < 32 && base<<shift > 0 && base<<shift < maxDelay {
		ceiling = base << shift
	}
	return rand.N(ceiling) + 1, true
}

// PolicyFor returns the policy a subscription names (sandbox.RetryGHL when
// empty or unknown).
func PolicyFor(name string) RetryPolicy {
	if name == sandbox.RetryExponential {
		return ExponentialPolicy{}
	}
	return GHLPolicy{}
}
