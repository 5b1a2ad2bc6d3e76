package sandboxtest_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/ghl"
	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/sandboxtest"
)

func TestNew(t *testing.T) {
	var ttl time.Duration
	sb := sandboxtest.New(t, sandboxtest.WithRateLimit(3, time.Minute, 0),
		sandboxtest.WithConfig(func(c *sandbox.Config) { c.TokenTTL = time.Hour; ttl = c.TokenTTL }))
	if ttl != time.Hour {
		t.Fatal("WithConfig not applied")
	}
	ctx := t.Context()
	noRetry := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.Token), ghl.WithRateLimiter(nil), ghl.WithRetryPolicy(ghl.RetryPolicy{MaxAttempts: 1}))
	for i := range 4 {
		_, err := noRetry.Locations.Get(ctx, sb.LocationID)
		if i < 3 && err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if i == 3 && !errors.Is(err, ghl.ErrRateLimited) {
			t.Fatalf("request 4 of a limit of 3: %v (WithRateLimit lost after WithConfig?)", err)
		}
	}
	got := sb.Requests(t, "locations/get-location")
	if got[http.StatusOK] != 3 || got[http.StatusTooManyRequests] != 1 {
		t.Fatalf("Requests(locations/get-location) = %v", got)
	}
	if all := sb.Requests(t, ""); all[http.StatusOK] != 3 {
		t.Fatalf("Requests(\"\") = %v", all)
	}

	// The agency token reaches both locations; a location token its own.
	agency := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.AgencyToken))
	for _, id := range []string{sb.LocationID, sb.OtherLocationID} {
		if _, err := agency.Locations.Get(ctx, id); err != nil {
			t.Fatalf("agency token, location %s: %v", id, err)
		}
	}
	other := sb.NewClient(t, ghl.WithPrivateIntegrationToken(sb.LocationToken(t, sb.OtherLocationID, "locations.readonly")))
	if _, err := other.Locations.Get(ctx, sb.OtherLocationID); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Locations.Get(ctx, sb.LocationID); !errors.Is(err, ghl.ErrForbidden) {
		t.Fatalf("LocationToken on another location: %v", err)
	}
}

func TestNewPostgres(t *testing.T) {
	sb := sandboxtest.New(t, sandboxtest.WithPostgres(sandboxtest.PostgresURL(t)))
	c, err := sb.Client.Contacts.Create(t.Context(), ghl.CreateContactParams{LocationID: sb.LocationID, Email: "pg@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := sb.Client.Contacts.Get(t.Context(), c.ID); err != nil || got.Email != "pg@example.com" {
		t.Fatalf("Get: %+v %v", got, err)
	}
}
