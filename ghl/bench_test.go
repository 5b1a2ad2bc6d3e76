package ghl

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

const benchContact = `{"contact":{"id":"c1","locationId":"loc1","firstName":"Ann","lastName":"Lee","email":"ann@example.com",
"phone":"+14155550100","tags":["vip","webshop"],"dateAdded":"2024-01-02T03:04:05.000Z",
"customFields":[{"id":"f1","value":"x"},{"id":"f2","value":42}]}}`

// cannedTransport answers every request in memory, so that a benchmark
// measures the client and not the network.
type cannedTransport struct{ header http.Header }

func (t cannedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: t.header.Clone(), Body: io.NopCloser(strings.NewReader(benchContact)), Request: req}, nil
}

// BenchmarkClientOverhead compares GET /contacts/{id} through a Client with
// its full default stack (auth, retry, per-location limiter, JSON decoding
// into Contact) with the same call made with net/http and encoding/json.
// The difference of the two is the client's overhead per call.
func BenchmarkClientOverhead(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		// A budget the benchmark cannot exhaust, so that the limiter is
		// exercised without throttling.
		h.Set("X-RateLimit-Max", "100000000")
		h.Set("X-RateLimit-Remaining", "99999999")
		h.Set("X-RateLimit-Interval-Milliseconds", "10000")
		h.Set("X-RateLimit-Limit-Daily", "200000000")
		h.Set("X-RateLimit-Daily-Remaining", "199999999")
		io.WriteString(w, benchContact)
	}))
	defer srv.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: 16}
	defer transport.CloseIdleConnections()
	canned := cannedTransport{header: http.Header{}}
	for _, k := range []string{"X-RateLimit-Max", "X-RateLimit-Remaining", "X-RateLimit-Interval-Milliseconds", "X-RateLimit-Limit-Daily", "X-RateLimit-Daily-Remaining"} {
		canned.header.Set(k, "100000000")
	}

	b.Run("net-http", func(b *testing.B) { benchRaw(b, transport, srv.URL) })
	b.Run("ghl", func(b *testing.B) { benchClient(b, transport, srv.URL) })
	// The same without a network: the difference is the client's CPU cost.
	b.Run("inmem/net-http", func(b *testing.B) { benchRaw(b, canned, "http://ghl.test") })
	b.Run("inmem/ghl", func(b *testing.B) { benchClient(b, canned, "http://ghl.test") })
}

func benchRaw(b *testing.B, transport http.RoundTripper, base string) {
	{
		hc := &http.Client{Transport: transport}
		b.ReportAllocs()
		for b.Loop() {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, base+"/contacts/c1", nil)
			req.Header.Set("Authorization", "Bearer pit")
			req.Header.Set("Version", Version20210728)
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var out contactEnvelope
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
		}
	}
}

func benchClient(b *testing.B, transport http.RoundTripper, base string) {
	{
		c, err := NewClient(WithBaseURL(base), WithHTTPClient(&http.Client{Transport: transport}), WithPrivateIntegrationToken("pit"))
		if err != nil {
			b.Fatal(err)
		}
		ctx := WithLocation(context.Background(), "loc1")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Contacts.Get(ctx, "c1"); err != nil {
				b.Fatal(err)
			}
		}
	}
}
