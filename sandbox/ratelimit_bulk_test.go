package sandbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// TestRateLimitUnsecuredBulk: the contacts bulk operations, which GHL's
// spec leaves without a security block but which take a bearer token,
// spend the token's budget like every other call.
func TestRateLimitUnsecuredBulk(t *testing.T) {
	clock := newTestClock()
	e := newTestEnv(t, func(c *sandbox.Config) {
		c.Now = clock.Now
		c.RateLimit = sandbox.RateLimitConfig{Enabled: true, Burst: 5, Interval: time.Second, Daily: 8}
	})
	pit, _, err := sandbox.CreatePrivateToken(context.Background(), e.Store, sandbox.PITParams{LocationID: e.L1})
	if err != nil {
		t.Fatal(err)
	}
	// An empty contact list is a 422; a request counts whatever its fate.
	body := map[string]any{"locationId": e.L1, "contacts": []string{}, "tags": []string{"x"}}
	for i := range 5 {
		wantRateHeaders(t, e.do("POST", "/contacts/bulk/tags/update/add", pit, body).mustStatus(t, 422), 4-i, 7-i)
	}
	wantError(t, e.do("POST", "/contacts/bulk/tags/update/add", pit, body), 429, sandbox.MsgRateLimited)
	// A bad token is still the handler's 401, not a rate-limit answer.
	wantError(t, e.do("POST", "/contacts/bulk/tags/update/add", "pit-nonsense", body), 401, "")
}
