package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/webhook"
)

type listenOptions struct {
	forwardTo  string
	events     string
	sandbox    string
	location   string
	port       int
	host       string
	publicKeys []string
	secret     string
	skipVerify bool
	timeout    time.Duration
}

func newListenCmd(c *cli) *cobra.Command {
	o := &listenOptions{}
	cmd := &cobra.Command{
		Use:   "listen --forward-to URL",
		Short: "Forward webhook events to a local URL, like stripe listen",
		Long: `Forward webhook events to a URL, printing one line per event with the
receiver's answer.

Without --port, listen subscribes to a running sandbox's event stream and
forwards every event as the sandbox delivers it: the same body and the same
signature headers (X-GHL-Signature, X-WH-Signature), so your handler verifies
it with the sandbox's keys (ghlkit keys). Nothing has to be configured in the
sandbox; --events and --location narrow what is forwarded.

With --port, listen is instead a local receiver for GHL itself (behind a tunnel
such as ngrok): it verifies each delivery with the webhook package — GHL's
published RSA key, the keys of --public-key files or the
WEBHOOK_SIGNATURE_PUBLIC_KEY / WEBHOOK_PUBLIC_KEY variables, or --secret for
HMAC-signed workflow webhooks — rejects replays, forwards what passes with
its original headers, and answers GHL with your handler's status.`,
		Example: `  ghlkit listen --forward-to http://localhost:3000/webhooks
  ghlkit listen --forward-to http://localhost:3000/webhooks --events ContactCreate,ContactTagUpdate
  ghlkit listen --port 4000 --forward-to http://localhost:3000/webhooks`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.forwardTo == "" {
				return usageErrorf("give --forward-to URL, where events are sent")
			}
			if u, err := url.Parse(o.forwardTo); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usageErrorf("--forward-to must be an http:// or https:// URL, got %q", o.forwardTo)
			}
			if cmd.Flags().Changed("port") {
				if o.port < 0 || o.port > 65535 {
					return usageErrorf("--port must be from 0 to 65535, got %d", o.port)
				}
				return listenAsReceiver(cmd.Context(), c, o)
			}
			return listenToSandbox(cmd.Context(), c, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.forwardTo, "forward-to", "", "URL to forward each event to")
	fs.StringVar(&o.events, "events", "", "only these event names, separated by commas (sandbox mode)")
	addSandboxFlag(fs, &o.sandbox)
	fs.StringVar(&o.location, "location", "", "only this location's events (sandbox mode)")
	fs.IntVar(&o.port, "port", 0, "receive deliveries from GHL on this port instead of following a sandbox (0 picks a free one)")
	fs.StringVar(&o.host, "host", "127.0.0.1", "address to receive on, with --port")
	fs.StringArrayVar(&o.publicKeys, "public-key", nil, "PEM file of public keys that verify deliveries, with --port; repeatable")
	fs.StringVar(&o.secret, "secret", "", "HMAC secret of workflow webhooks (X-GHL-Signature: sha256=…), with --port")
	fs.BoolVar(&o.skipVerify, "skip-verify", false, "forward deliveries without verifying them, with --port")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "how long to wait for the forward-to URL")
	return cmd
}

// forwarder posts events to the --forward-to URL and prints a line each.
type forwarder struct {
	url    string
	client *http.Client
	out    io.Writer
	mu     sync.Mutex // one line at a time
}

// forwardResult is the forward-to URL's answer.
type forwardResult struct {
	status  int
	body    []byte
	header  http.Header
	latency time.Duration
	err     error
}

func (f *forwarder) forward(ctx context.Context, header http.Header, body []byte) forwardResult {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(body))
	if err != nil {
		return forwardResult{err: err}
	}
	req.Header = header
	res, err := f.client.Do(req)
	if err != nil {
		return forwardResult{err: err, latency: time.Since(start)}
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return forwardResult{status: res.StatusCode, body: answer, header: res.Header, latency: time.Since(start)}
}

// line prints one event: time, type, webhookId and what happened.
func (f *forwarder) line(eventType, webhookID, outcome string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(f.out, "%s  %-28s webhookId=%-20s  %s\n", time.Now().Format("2006-01-02 15:04:05"), eventType, webhookID, outcome)
}

func (r forwardResult) String() string {
	if r.err != nil {
		return "-> error: " + r.err.Error()
	}
	return fmt.Sprintf("-> %d %s (%s)", r.status, http.StatusText(r.status), r.latency.Round(time.Millisecond/10))
}

// listenToSandbox follows the sandbox's event stream and forwards every
// event, reconnecting (from the last event seen) when the stream drops.
func listenToSandbox(ctx context.Context, c *cli, o *listenOptions) error {
	ac, err := newAdminClient(o.sandbox)
	if err != nil {
		return err
	}
	q := url.Values{}
	if o.events != "" {
		names := splitScopes(o.events)
		for i, n := range names {
			if names[i], err = eventName(n); err != nil {
				return err
			}
		}
		q.Set("types", strings.Join(names, ","))
	}
	if o.location != "" {
		q.Set("locationId", o.location)
	}
	f := &forwarder{url: o.forwardTo, client: &http.Client{Timeout: o.timeout}, out: c.stdout}
	stream := &http.Client{} // no timeout: the stream is long-lived
	lastID := ""
	wait := time.Second
	for {
		connected, err := followStream(ctx, stream, ac.base+"/_ghlkit/events/stream?"+q.Encode(), &lastID, f, func() {
			fmt.Fprintf(c.stderr, "Ready! Forwarding the sandbox's events from %s to %s (Ctrl-C to stop).\n", ac.base, o.forwardTo)
		})
		if ctx.Err() != nil {
			return nil
		}
		if connected {
			wait = time.Second
		}
		var se *streamError
		if errors.As(err, &se) && se.status == http.StatusNotFound {
			return fmt.Errorf("the sandbox at %s has no event stream (%w)", ac.base, err)
		}
		fmt.Fprintf(c.stderr, "Lost the sandbox's event stream (%v); reconnecting in %s.\n", err, wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, 10*time.Second)
	}
}

type streamError struct{ status int }

func (e *streamError) Error() string { return "the sandbox answered " + strconv.Itoa(e.status) }

// followStream reads one connection of the event stream. It reports whether
// it connected, and why it ended.
func followStream(ctx context.Context, client *http.Client, streamURL string, lastID *string, f *forwarder, ready func()) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, streamURL, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if *lastID != "" {
		req.Header.Set("Last-Event-ID", *lastID)
	}
	res, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return false, &streamError{status: res.StatusCode}
	}
	ready()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	var id, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		case line == "" && data != "":
			var msg sandbox.StreamMessage
			if err := json.Unmarshal([]byte(data), &msg); err == nil {
				header := http.Header{}
				for k, v := range msg.Headers {
					header[k] = []string{v} // as the sandbox spells them
				}
				header.Set("Content-Type", "application/json")
				header.Set("User-Agent", "ghlkit-listen")
				res := f.forward(ctx, header, []byte(msg.Body))
				f.line(msg.Type, msg.ID, res.String())
			}
			*lastID, data = id, ""
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	return true, io.ErrUnexpectedEOF
}

// listenAsReceiver receives GHL's deliveries on --port, verifies them and
// forwards what passes.
func listenAsReceiver(ctx context.Context, c *cli, o *listenOptions) error {
	var v *webhook.Verifier
	if !o.skipVerify {
		var opts []webhook.VerifierOption
		for _, path := range o.publicKeys {
			data, err := os.ReadFile(path)
			if err != nil {
				return usageErrorf("--public-key: %v", err)
			}
			opts = append(opts, webhook.WithPublicKeysPEM(data))
		}
		for _, env := range []string{"WEBHOOK_SIGNATURE_PUBLIC_KEY", "WEBHOOK_PUBLIC_KEY"} {
			if pem, ok := c.lookupEnv(env); ok && strings.TrimSpace(pem) != "" {
				opts = append(opts, webhook.WithPublicKeysPEM([]byte(pem)))
			}
		}
		if o.secret != "" {
			opts = append(opts, webhook.WithHMACSecrets([]byte(o.secret)))
		}
		var err error
		if v, err = webhook.NewVerifier(opts...); err != nil {
			return usageErrorf("verification keys: %v", err)
		}
	}
	f := &forwarder{url: o.forwardTo, client: &http.Client{Timeout: o.timeout}, out: c.stdout}
	ln, err := net.Listen("tcp", net.JoinHostPort(o.host, strconv.Itoa(o.port)))
	if err != nil {
		return fmt.Errorf("cannot listen: %w", err)
	}
	srv := &http.Server{Handler: receiverHandler(v, f), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	mode := "verifying signatures"
	if v == nil {
		mode = "WITHOUT verifying signatures"
	}
	fmt.Fprintf(c.stderr, "Ready! Receiving webhooks on http://%s, %s, forwarding to %s (Ctrl-C to stop).\n", ln.Addr(), mode, o.forwardTo)
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return nil
}

// receiverHandler verifies a delivery (unless v is nil), forwards it with
// its headers, and answers with the forward-to URL's status and body.
func receiverHandler(v *webhook.Verifier, f *forwarder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST webhooks here", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, webhook.DefaultMaxBodyBytes))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		var meta struct {
			Type      string `json:"type"`
			WebhookID string `json:"webhookId"`
		}
		_ = json.Unmarshal(body, &meta)
		if v != nil {
			if err := v.Verify(r.Context(), r.Header, body); err != nil {
				status := http.StatusUnauthorized
				switch {
				case errors.Is(err, webhook.ErrDuplicate):
					// Already forwarded: acknowledge, as webhook.Handler does.
					f.line(meta.Type, meta.WebhookID, "duplicate, not forwarded")
					w.WriteHeader(http.StatusOK)
					return
				case errors.Is(err, webhook.ErrTooOld), errors.Is(err, webhook.ErrInvalidPayload):
					status = http.StatusBadRequest
				}
				f.line(meta.Type, meta.WebhookID, "rejected: "+err.Error())
				http.Error(w, err.Error(), status)
				return
			}
		}
		header := http.Header{}
		for k, vs := range r.Header {
			switch http.CanonicalHeaderKey(k) {
			case "Connection", "Keep-Alive", "Transfer-Encoding", "Te", "Upgrade", "Proxy-Authorization", "Host", "Content-Length", "Accept-Encoding":
				continue
			}
			header[k] = vs
		}
		res := f.forward(r.Context(), header, body)
		f.line(meta.Type, meta.WebhookID, res.String())
		if res.err != nil {
			if v != nil {
				_ = v.Forget(r.Context(), meta.WebhookID) // let GHL's retry through
			}
			http.Error(w, "forwarding failed: "+res.err.Error(), http.StatusBadGateway)
			return
		}
		if ct := res.header.Get("Content-Type"); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(res.status)
		_, _ = w.Write(res.body)
	})
}
