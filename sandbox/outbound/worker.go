package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/riverqueue/river"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/webhook"
)

// deliveryWorker is the River worker of DeliveryArgs jobs.
type deliveryWorker struct {
	river.WorkerDefaults[DeliveryArgs]
	s *Service
}

// Timeout leaves the delivery's own timeout room to end the attempt cleanly.
func (w *deliveryWorker) Timeout(*river.Job[DeliveryArgs]) time.Duration {
	return w.s.cfg.Timeout + 5*time.Second
}

// Work makes one attempt. The attempt number counts River's attempts (a
// rescued run counts) plus its snoozes, which are this package's retries.
func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[DeliveryArgs]) error {
	var meta struct {
		Snoozes int `json:"snoozes"`
	}
	_ = json.Unmarshal(job.Metadata, &meta)
	return w.s.work(ctx, job.Args, job.Attempt+meta.Snoozes)
}

func (s *Service) work(ctx context.Context, a DeliveryArgs, attempt int) error {
	ev, err := s.outbox.GetEvent(ctx, a.EventID)
	if sandbox.IsNotFound(err) {
		return river.JobCancel(fmt.Errorf("event %s is gone", a.EventID))
	} else if err != nil {
		return err
	}
	entry := &sandbox.WebhookAttempt{
		ID: sandbox.NewID(), DeliveryID: a.DeliveryID, EventID: ev.ID, EventType: ev.Type, SubscriptionID: a.SubscriptionID,
		LocationID: ev.LocationID, Attempt: attempt, ReplayOf: a.ReplayOf,
	}
	sub, err := s.subs.get(ctx, s.store, a.SubscriptionID)
	if sandbox.IsNotFound(err) {
		entry.Error, entry.Result = "the subscription was deleted", sandbox.AttemptFailed
		s.record(entry)
		return river.JobCancel(errors.New(entry.Error))
	} else if err != nil {
		return err
	}
	entry.URL = sub.URL

	start := time.Now()
	out, snippet := s.post(ctx, sub, ev)
	entry.LatencyMs = float64(time.Since(start).Microseconds()) / 1000
	entry.StatusCode, entry.Response = out.StatusCode, snippet
	if out.Err != nil {
		entry.Error = errorText(out)
	}
	switch {
	case out.Delivered():
		entry.Result = sandbox.AttemptDelivered
		s.record(entry)
		return nil
	case ctx.Err() != nil && out.StatusCode == 0:
		// The sandbox is stopping (the delivery's own timeout is shorter
		// than the job's): try again at the next start.
		entry.Result, entry.Error = sandbox.AttemptRetrying, "interrupted: the sandbox stopped"
		s.record(entry)
		return river.JobSnooze(0)
	}
	if delay, retry := PolicyFor(sub.RetryPolicy).NextDelay(attempt, out); retry {
		delay = time.Duration(float64(delay) * s.cfg.TimeScale)
		entry.Result = sandbox.AttemptRetrying
		entry.NextAttemptAt = sandbox.Time{Time: time.Now().Add(delay).UTC().Truncate(time.Millisecond)}
		s.record(entry)
		return river.JobSnooze(delay)
	}
	entry.Result = sandbox.AttemptFailed
	s.record(entry)
	if out.StatusCode != 0 {
		return river.JobCancel(fmt.Errorf("receiver answered %d", out.StatusCode))
	}
	return river.JobCancel(errors.New(entry.Error))
}

// record adds an attempt to the delivery log.
func (s *Service) record(a *sandbox.WebhookAttempt) {
	a.CreatedAt = sandbox.Time{Time: time.Now().UTC().Truncate(time.Microsecond)}
	s.writer.add(a)
}

// errorText says why an attempt got no answer, briefly.
func errorText(o Outcome) string {
	switch {
	case o.Refused:
		var msg string
		for err := o.Err; err != nil; err = errors.Unwrap(err) {
			msg = err.Error()
			if strings.HasPrefix(msg, ErrDestinationRefused.Error()) {
				break
			}
		}
		return msg
	case o.Timeout:
		return "timeout: the receiver did not answer in time"
	}
	var op *net.OpError
	if errors.As(o.Err, &op) {
		return op.Error()
	}
	return o.Err.Error()
}

// post sends one delivery and reads the start of the answer.
func (s *Service) post(ctx context.Context, sub *sandbox.Webhook, ev *sandbox.OutboxEvent) (Outcome, string) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(ev.Payload))
	if err != nil {
		return Outcome{Err: err, Refused: true}, ""
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	for k, v := range s.sigs.get(ev, s.keys.Signers(!s.cfg.NoRSASignature)) {
		req.Header[k] = v
	}
	if sub.Secret != "" && sub.Type == sandbox.WebhookTypeLocation {
		req.Header.Set(HeaderHMAC, webhook.ComputeHMAC([]byte(sub.Secret), ev.Payload))
	}
	res, err := s.http.Do(req)
	if err != nil {
		o := Outcome{Err: err, Refused: errors.Is(err, ErrDestinationRefused)}
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			o.Timeout = true
		}
		return o, ""
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, MaxResponseBytes))
	if len(body) > ResponseSnippetBytes {
		body = body[:ResponseSnippetBytes]
		for len(body) > 0 && !utf8.Valid(body) {
			body = body[:len(body)-1] // do not cut a character in two
		}
	}
	return Outcome{StatusCode: res.StatusCode}, strings.ToValidUTF8(string(body), "\uFFFD")
}

// signatureCache keeps the signature headers of recent events: an event
// delivered to several subscriptions, or retried, is signed once (an RSA
// signature costs about a millisecond).
type signatureCache struct {
	mu  sync.Mutex
	max int
	m   map[string]http.Header
}

func newSignatureCache(n int) *signatureCache {
	return &signatureCache{max: n, m: make(map[string]http.Header, n)}
}

func (c *signatureCache) get(ev *sandbox.OutboxEvent, signers []webhook.Signer) http.Header {
	c.mu.Lock()
	h, ok := c.m[ev.ID]
	c.mu.Unlock()
	if ok {
		return h
	}
	h, err := webhook.Sign(ev.Payload, signers...)
	if err != nil {
		return http.Header{}
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m) // cheaper than tracking recency; most entries are done with
	}
	c.m[ev.ID] = h
	c.mu.Unlock()
	return h
}

// subscriptionCache keeps subscriptions for a moment: every delivery reads
// its subscription (to use the current URL and policy), and a busy one is
// read hundreds of times a second.
type subscriptionCache struct {
	mu  sync.Mutex
	ttl time.Duration
	m   map[string]subscriptionEntry
}

type subscriptionEntry struct {
	hook    *sandbox.Webhook
	expires time.Time
}

func (c *subscriptionCache) get(ctx context.Context, st sandbox.Store, id string) (*sandbox.Webhook, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.hook, nil
	}
	var h *sandbox.Webhook
	err := st.Read(ctx, func(tx sandbox.Tx) error {
		var err error
		h, err = sandbox.LoadWebhook(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) > 10_000 {
		clear(c.m)
	}
	c.m[id] = subscriptionEntry{hook: h, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return h, nil
}

// ReplayDelivery implements sandbox.WebhookReplayer: it enqueues a new
// delivery of the event and subscription of a logged attempt (or of a
// delivery, by its ID), with the payload and signatures as first sent.
func (s *Service) ReplayDelivery(ctx context.Context, id string) (string, error) {
	a, err := s.attempts.GetWebhookAttempt(ctx, id)
	if sandbox.IsNotFound(err) {
		list, lerr := s.attempts.ListWebhookAttempts(ctx, sandbox.WebhookAttemptQuery{DeliveryID: id, Limit: 1})
		if lerr != nil {
			return "", lerr
		}
		if len(list) == 0 {
			return "", sandbox.Errorf(sandbox.ENOTFOUND, "Delivery not found")
		}
		a, err = list[0], nil
	}
	if err != nil {
		return "", err
	}
	if _, err := s.outbox.GetEvent(ctx, a.EventID); err != nil {
		return "", err
	}
	err = s.store.Read(ctx, func(tx sandbox.Tx) error {
		_, err := sandbox.LoadWebhook(ctx, tx, a.SubscriptionID)
		if sandbox.IsNotFound(err) {
			return sandbox.Errorf(sandbox.ENOTFOUND, "Webhook not found: the subscription was deleted")
		}
		return err
	})
	if err != nil {
		return "", err
	}
	newID := sandbox.NewID()
	args := DeliveryArgs{EventID: a.EventID, SubscriptionID: a.SubscriptionID, Replay: newID, DeliveryID: newID, ReplayOf: a.DeliveryID}
	if err := s.queue.insert(ctx, nil, []river.InsertManyParams{{Args: args}}); err != nil {
		return "", err
	}
	return newID, nil
}

// attemptWriter writes delivery log entries in batches, off the delivery
// path: one transaction per batch rather than per attempt.
type attemptWriter struct {
	log    sandbox.WebhookLog
	logger *slog.Logger
	ch     chan *sandbox.WebhookAttempt
	done   chan struct{}
}

const (
	attemptBatch = 500
	attemptFlush = 25 * time.Millisecond
)

func newAttemptWriter(l sandbox.WebhookLog, logger *slog.Logger) *attemptWriter {
	w := &attemptWriter{log: l, logger: logger, ch: make(chan *sandbox.WebhookAttempt, 8192), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *attemptWriter) add(a *sandbox.WebhookAttempt) { w.ch <- a }

// close writes what is pending and stops the writer.
func (w *attemptWriter) close() {
	close(w.ch)
	<-w.done
}

func (w *attemptWriter) run() {
	defer close(w.done)
	batch := make([]*sandbox.WebhookAttempt, 0, attemptBatch)
	timer := time.NewTimer(attemptFlush)
	defer timer.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := w.log.AppendWebhookAttempts(ctx, batch)
		cancel()
		if err != nil {
			w.logger.Error("webhook delivery log: writing attempts failed", "attempts", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case a, ok := <-w.ch:
			if !ok {
				flush()
				return
			}
			batch = append(batch, a)
			if len(batch) >= attemptBatch {
				flush()
			}
		case <-timer.C:
			flush()
			timer.Reset(attemptFlush)
		}
	}
}
