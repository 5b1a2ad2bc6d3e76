package outbound_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/outbound"
)

func TestGHLPolicy(t *testing.T) {
	p := outbound.PolicyFor(sandbox.RetryGHL)
	for attempt := 1; attempt <= 6; attempt++ {
		d, ok := p.NextDelay(attempt, outbound.Outcome{StatusCode: 429})
		if !ok || d < 9*time.Minute || d > 11*time.Minute {
			t.Errorf("429 at attempt %d: %s, %v; want about 10 minutes", attempt, d, ok)
		}
	}
	if _, ok := p.NextDelay(7, outbound.Outcome{StatusCode: 429}); ok {
		t.Error("a 7th failed attempt (6 retries) is retried")
	}
	for _, o := range []outbound.Outcome{{StatusCode: 500}, {StatusCode: 503}, {StatusCode: 404}, {Err: errors.New("refused")}, {Timeout: true, Err: errors.New("t")}} {
		if _, ok := p.NextDelay(1, o); ok {
			t.Errorf("ghl retries %+v", o)
		}
	}
	if _, ok := outbound.PolicyFor("").(outbound.GHLPolicy); !ok {
		t.Error("the default policy is not ghl")
	}
}

func TestExponentialPolicy(t *testing.T) {
	p := outbound.ExponentialPolicy{Base: time.Second, Max: 10 * time.Second, MaxAttempts: 5}
	for _, o := range []outbound.Outcome{{StatusCode: 429}, {StatusCode: 500}, {StatusCode: 502}, {StatusCode: 408}, {Timeout: true, Err: errors.New("t")}, {Err: errors.New("connection refused")}} {
		for attempt := 1; attempt < 5; attempt++ {
			ceiling := min(10*time.Second, time.Second<<(attempt-1))
			for range 50 {
				d, ok := p.NextDelay(attempt, o)
				if !ok || d <= 0 || d > ceiling {
					t.Fatalf("%+v attempt %d: %s, %v; want (0, %s]", o, attempt, d, ok, ceiling)
				}
			}
		}
		if _, ok := p.NextDelay(5, o); ok {
			t.Errorf("%+v retried after MaxAttempts", o)
		}
	}
	for _, o := range []outbound.Outcome{{StatusCode: 400}, {StatusCode: 404}, {StatusCode: 410}, {Refused: true, Err: outbound.ErrDestinationRefused}} {
		if _, ok := p.NextDelay(1, o); ok {
			t.Errorf("exponential retries %+v", o)
		}
	}
	// Large attempt numbers stay capped rather than overflowing.
	if d, ok := (outbound.ExponentialPolicy{MaxAttempts: 100}).NextDelay(80, outbound.Outcome{StatusCode: 500}); !ok || d <= 0 || d > time.Hour {
		t.Errorf("attempt 80: %s %v", d, ok)
	}
}
