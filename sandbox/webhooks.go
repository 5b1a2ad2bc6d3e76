package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ghlkit/ghlkit/webhook"
)

// Outbound webhooks: subscriptions, the delivery log, the signing keys and
// the admin JSON API under /_ghlkit/webhooks. Deliveries themselves are made
// by package sandbox/outbound, which reads the outbox and the subscriptions
// this file defines.

// KindWebhook records are webhook subscriptions (Webhook). A location's
// webhook has LocationID and CompanyID set; an app's subscription has
// ParentID set to the app id and is delivered for every location the app is
// installed on.
const KindWebhook Kind = "webhook"

// Webhook subscription types.
const (
	WebhookTypeLocation = "location" // Settings > Webhooks of one location
	WebhookTypeApp      = "app"      // a marketplace app's webhook URL
)

// Retry policies of a subscription (package outbound implements them).
const (
	// RetryGHL retries only on 429, up to 6 more times about 10 minutes
	// apart, as GHL does. The default.
	RetryGHL = "ghl"
	// RetryExponential also retries 5xx answers, timeouts and connection
	// errors, with capped exponential backoff and full jitter.
	RetryExponential = "exponential"
)

// AllEvents in a subscription's Events selects every event type.
const AllEvents = "*"

// Webhook is a subscription to events: where they are POSTed and how.
type Webhook struct {
	ID   string `json:"id"`
	Type string `json:"type"` // WebhookTypeLocation or WebhookTypeApp
	// LocationID and CompanyID are set on location webhooks.
	LocationID string `json:"locationId,omitempty"`
	CompanyID  string `json:"companyId,omitempty"`
	// AppID is set on app subscriptions.
	AppID string `json:"appId,omitempty"`
	Name  string `json:"name,omitempty"`
	URL   string `json:"url"`
	// Events are the event names delivered (ContactCreate, …); empty or
	// AllEvents means every event.
	Events []string `json:"events"`
	// Secret, when set on a location webhook, adds an HMAC-SHA256 signature
	// (see outbound.HeaderHMAC). It is never shown by the admin API.
	Secret      string `json:"secret,omitempty"`
	RetryPolicy string `json:"retryPolicy"`
	CreatedAt   Time   `json:"createdAt"`
	UpdatedAt   Time   `json:"updatedAt"`
}

// Wants reports whether the subscription receives events of the type.
func (w *Webhook) Wants(eventType string) bool {
	return len(w.Events) == 0 || slices.Contains(w.Events, AllEvents) || slices.Contains(w.Events, eventType)
}

// webhookView is a Webhook as the admin API shows it: without the secret.
type webhookView struct {
	*Webhook
	Secret    string `json:"secret,omitempty"`
	HasSecret bool   `json:"hasSecret"`
}

func viewWebhook(w *Webhook) webhookView { return webhookView{Webhook: w, HasSecret: w.Secret != ""} }

// WebhookRecord returns the record that stores w.
func WebhookRecord(w *Webhook) Record {
	return Record{Kind: KindWebhook, ID: w.ID, LocationID: w.LocationID, CompanyID: w.CompanyID, ParentID: w.AppID, Key: w.Type,
		CreatedAt: w.CreatedAt.Time, UpdatedAt: w.UpdatedAt.Time}
}

// Delivery results of a WebhookAttempt.
const (
	AttemptDelivered = "delivered" // a 2xx answer
	AttemptRetrying  = "retrying"  // failed; the policy scheduled another attempt
	AttemptFailed    = "failed"    // failed for good
)

// WebhookAttempt is one entry of the delivery log: one attempt to deliver an
// event to a subscription.
type WebhookAttempt struct {
	ID string `json:"id"`
	// DeliveryID groups the attempts of one delivery; a replay is a new
	// delivery of the same event to the same subscription.
	DeliveryID     string `json:"deliveryId"`
	EventID        string `json:"eventId"` // the payload's webhookId
	EventType      string `json:"eventType"`
	SubscriptionID string `json:"subscriptionId"`
	LocationID     string `json:"locationId,omitempty"`
	URL            string `json:"url"`
	Attempt        int    `json:"attempt"`
	// StatusCode is the receiver's answer; 0 when there was none (Error
	// says why: timeout, connection refused, destination refused, …).
	StatusCode int     `json:"statusCode"`
	Error      string  `json:"error,omitempty"`
	LatencyMs  float64 `json:"latencyMs"`
	// Response is the start of the receiver's answer (at most 1 KiB).
	Response      string `json:"response,omitempty"`
	Result        string `json:"result"`
	NextAttemptAt Time   `json:"nextAttemptAt,omitzero"`
	// ReplayOf is the delivery a replay repeats.
	ReplayOf  string `json:"replayOf,omitempty"`
	CreatedAt Time   `json:"createdAt"`
}

// WebhookAttemptQuery selects delivery log entries; empty fields do not
// filter. Results are newest first.
type WebhookAttemptQuery struct {
	EventID        string
	SubscriptionID string
	DeliveryID     string
	Limit          int // 0: 100
}

// WebhookLog is a Store that keeps the delivery log (the SQL stores do). It
// is an optional capability, tested for with a type assertion.
type WebhookLog interface {
	// AppendWebhookAttempts stores log entries (IDs already set).
	AppendWebhookAttempts(ctx context.Context, attempts []*WebhookAttempt) error
	// ListWebhookAttempts returns the entries q selects, newest first.
	ListWebhookAttempts(ctx context.Context, q WebhookAttemptQuery) ([]*WebhookAttempt, error)
	// GetWebhookAttempt returns one entry, or ENOTFOUND.
	GetWebhookAttempt(ctx context.Context, id string) (*WebhookAttempt, error)
}

// OutboxEvent is an outbox event and its position: Seq orders events in
// commit order.
type OutboxEvent struct {
	Seq int64
	Event
}

// EventOutbox is a Store whose event outbox can be read in order (the SQL
// stores can). It is an optional capability, tested for with a type
// assertion.
type EventOutbox interface {
	// EventsAfter returns up to limit events with Seq > after, in order.
	EventsAfter(ctx context.Context, after int64, limit int) ([]OutboxEvent, error)
	// LastEventSeq returns the Seq of the newest event (0 when none).
	LastEventSeq(ctx context.Context) (int64, error)
	// GetEvent returns the event with the ID (webhookId), or ENOTFOUND.
	GetEvent(ctx context.Context, id string) (*OutboxEvent, error)
}

// SigningKeysSetting is the ID and Key of the KindSetting record holding the
// sandbox's webhook signing keys.
const SigningKeysSetting = "signing-keys"

// SigningKeys are the sandbox's webhook signing keys as stored: PKCS #8 PEM.
// Package outbound generates them on first start.
type SigningKeys struct {
	Ed25519   string `json:"ed25519"`
	RSA       string `json:"rsa"`
	CreatedAt Time   `json:"createdAt"`
}

// LoadSigningKeys reads the stored signing keys; ENOTFOUND when none have
// been generated yet.
func LoadSigningKeys(ctx context.Context, tx Tx) (*SigningKeys, error) {
	var k SigningKeys
	if err := GetRecordAs(ctx, tx, KindSetting, SigningKeysSetting, &k); err != nil {
		if IsNotFound(err) {
			return nil, Errorf(ENOTFOUND, "no webhook signing keys yet: they are generated when outbound delivery first starts")
		}
		return nil, err
	}
	return &k, nil
}

// Signers returns the Ed25519 (X-GHL-Signature) and RSA (X-WH-Signature)
// signers of the keys.
func (k *SigningKeys) Signers() ([]webhook.Signer, error) {
	ed, err := webhook.ParseEd25519PrivateKeyPEM([]byte(k.Ed25519))
	if err != nil {
		return nil, fmt.Errorf("signing keys: ed25519: %w", err)
	}
	rsaKey, err := webhook.ParseRSAPrivateKeyPEM([]byte(k.RSA))
	if err != nil {
		return nil, fmt.Errorf("signing keys: rsa: %w", err)
	}
	return []webhook.Signer{webhook.Ed25519Signer{Key: ed}, webhook.RSASigner{Key: rsaKey}}, nil
}

// PublicKeysPEM returns the public halves as "PUBLIC KEY" PEM blocks, in the
// form GHL publishes its key and its SDK reads WEBHOOK_SIGNATURE_PUBLIC_KEY
// (Ed25519) and WEBHOOK_PUBLIC_KEY (RSA).
func (k *SigningKeys) PublicKeysPEM() (ed25519PEM, rsaPEM string, err error) {
	ed, err := webhook.ParseEd25519PrivateKeyPEM([]byte(k.Ed25519))
	if err != nil {
		return "", "", fmt.Errorf("signing keys: ed25519: %w", err)
	}
	rsaKey, err := webhook.ParseRSAPrivateKeyPEM([]byte(k.RSA))
	if err != nil {
		return "", "", fmt.Errorf("signing keys: rsa: %w", err)
	}
	edPEM, err := webhook.MarshalPublicKeyPEM(ed.Public())
	if err != nil {
		return "", "", err
	}
	rPEM, err := webhook.MarshalPublicKeyPEM(&rsaKey.PublicKey)
	if err != nil {
		return "", "", err
	}
	return string(edPEM), string(rPEM), nil
}

// WebhookReplayer enqueues a new delivery repeating a logged one; package
// outbound implements it.
type WebhookReplayer interface {
	// ReplayDelivery takes the ID of a log entry or of a delivery and
	// returns the new delivery's ID. ENOTFOUND when neither exists.
	ReplayDelivery(ctx context.Context, id string) (deliveryID string, err error)
}

// ServeWebhookReplays adds POST /_ghlkit/webhooks/deliveries/{id}/replay to
// the admin API, served by r. The route exists only once the delivery
// service runs (it is what enqueues the new delivery), hence registered then
// rather than in NewServer. Call it at most once per Server.
func (s *Server) ServeWebhookReplays(r WebhookReplayer) {
	s.mux.Handle("POST /_ghlkit/webhooks/deliveries/{id}/replay", s.adminJSON(func(w http.ResponseWriter, req *http.Request) error {
		id := req.PathValue("id")
		newID, err := r.ReplayDelivery(req.Context(), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusAccepted, map[string]any{"deliveryId": newID, "replayOf": id})
		return nil
	}))
}

func (s *Server) registerWebhooks() {
	s.mux.Handle("GET /_ghlkit/webhooks", s.adminJSON(s.listWebhooks))
	s.mux.Handle("POST /_ghlkit/webhooks", s.adminJSON(s.createWebhook))
	s.mux.Handle("GET /_ghlkit/webhooks/{id}", s.adminJSON(s.getWebhook))
	s.mux.Handle("DELETE /_ghlkit/webhooks/{id}", s.adminJSON(s.deleteWebhook))
	s.mux.Handle("GET /_ghlkit/webhooks/keys", s.adminJSON(s.getSigningKeys))
	s.mux.Handle("GET /_ghlkit/webhooks/deliveries", s.adminJSON(s.listWebhookAttempts))
	s.mux.Handle("GET /_ghlkit/webhooks/deliveries/{id}", s.adminJSON(s.getWebhookAttempt))
	s.mux.Handle("GET /_ghlkit/apps/{id}/webhook", s.adminJSON(s.getAppWebhook))
	s.mux.Handle("PUT /_ghlkit/apps/{id}/webhook", s.adminJSON(s.putAppWebhook))
	s.mux.Handle("DELETE /_ghlkit/apps/{id}/webhook", s.adminJSON(s.deleteAppWebhook))
	s.mux.Handle("GET /_ghlkit/events/stream", s.adminJSON(s.streamEvents))
}

// webhookInput is the body of POST /_ghlkit/webhooks and PUT
// /_ghlkit/apps/{id}/webhook.
type webhookInput struct {
	LocationID  string   `json:"locationId"`
	Name        string   `json:"name"`
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Secret      string   `json:"secret"`
	RetryPolicy string   `json:"retryPolicy"`
}

// validate checks the fields every subscription has.
func (in *webhookInput) validate() error {
	var msgs []string
	if in.URL == "" {
		msgs = append(msgs, "url should not be empty")
	} else if u, err := url.Parse(in.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		msgs = append(msgs, "url must be an http or https URL")
	}
	known := webhook.EventNames()
	for i, e := range in.Events {
		if e != AllEvents && !slices.Contains(known, e) {
			msgs = append(msgs, fmt.Sprintf("events[%d] must be a GHL event name (%q is not)", i, e))
		}
	}
	switch in.RetryPolicy {
	case "":
		in.RetryPolicy = RetryGHL
	case RetryGHL, RetryExponential:
	default:
		msgs = append(msgs, "retryPolicy must be one of the following values: ghl, exponential")
	}
	if len(msgs) > 0 {
		return Invalid(msgs...)
	}
	if in.Events == nil {
		in.Events = []string{}
	}
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	q := RecordQuery{Kind: KindWebhook, LocationID: r.URL.Query().Get("locationId")}
	if app := r.URL.Query().Get("appId"); app != "" {
		q.ParentID = app
	}
	var hooks []*Webhook
	err := s.read(r.Context(), func(tx Tx) error {
		var err error
		hooks, err = ListRecordsAs[Webhook](r.Context(), tx, q)
		return err
	})
	if err != nil {
		return err
	}
	out := make([]webhookView, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, viewWebhook(h))
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": out})
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var in webhookInput
	if err := s.adminDecode(w, r, &in); err != nil {
		return err
	}
	if in.LocationID == "" {
		return Invalid("locationId should not be empty")
	}
	if err := in.validate(); err != nil {
		return err
	}
	now := Time{s.now().UTC().Truncate(time.Millisecond)}
	hook := &Webhook{ID: NewID(), Type: WebhookTypeLocation, LocationID: in.LocationID, Name: in.Name, URL: in.URL,
		Events: in.Events, Secret: in.Secret, RetryPolicy: in.RetryPolicy, CreatedAt: now, UpdatedAt: now}
	err := s.write(r.Context(), func(tx Tx) error {
		rec, err := tx.GetRecord(r.Context(), KindLocation, in.LocationID)
		if err != nil {
			if IsNotFound(err) {
				return Errorf(ENOTFOUND, "Location not found")
			}
			return err
		}
		hook.CompanyID = rec.CompanyID
		return PutRecordOf(r.Context(), tx, WebhookRecord(hook), hook)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"webhook": viewWebhook(hook)})
	return nil
}

// loadWebhook reads a subscription by id; ENOTFOUND as "Webhook not found".
func loadWebhook(ctx context.Context, tx Tx, id string) (*Webhook, error) {
	var h Webhook
	if err := GetRecordAs(ctx, tx, KindWebhook, id, &h); err != nil {
		if IsNotFound(err) {
			return nil, Errorf(ENOTFOUND, "Webhook not found")
		}
		return nil, err
	}
	return &h, nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	var hook *Webhook
	err := s.read(r.Context(), func(tx Tx) error {
		var err error
		hook, err = loadWebhook(r.Context(), tx, r.PathValue("id"))
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhook": viewWebhook(hook)})
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	err := s.write(r.Context(), func(tx Tx) error {
		if _, err := loadWebhook(r.Context(), tx, id); err != nil {
			return err
		}
		return tx.DeleteRecord(r.Context(), KindWebhook, id)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": true, "id": id})
	return nil
}

// appWebhookRecord returns the subscription record of an app, or
// ENOTFOUND.
func appWebhookRecord(ctx context.Context, tx Tx, appID string) (*Webhook, error) {
	hooks, err := ListRecordsAs[Webhook](ctx, tx, RecordQuery{Kind: KindWebhook, ParentID: appID, Key: WebhookTypeApp, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(hooks) == 0 {
		return nil, Errorf(ENOTFOUND, "The app has no webhook")
	}
	return hooks[0], nil
}

// appWebhookPrefix starts the subscription id of an app that has a webhook
// URL (App.WebhookURL, set when it was registered) but no subscription
// record: it receives every event, under the ghl policy.
const appWebhookPrefix = "app:"

// AppWebhook returns the subscription of an app: its record (set through
// PUT /_ghlkit/apps/{id}/webhook), or else one made of the app's webhook
// URL. ENOTFOUND when the app has neither.
func AppWebhook(ctx context.Context, tx Tx, app *App) (*Webhook, error) {
	h, err := appWebhookRecord(ctx, tx, app.ID)
	if err == nil || !IsNotFound(err) {
		return h, err
	}
	if app.WebhookURL == "" {
		return nil, err
	}
	return &Webhook{ID: appWebhookPrefix + app.ID, Type: WebhookTypeApp, AppID: app.ID, URL: app.WebhookURL, Events: []string{},
		RetryPolicy: RetryGHL, CreatedAt: app.CreatedAt, UpdatedAt: app.CreatedAt}, nil
}

// LoadWebhook returns a subscription by the id deliveries carry; ENOTFOUND
// as "Webhook not found".
func LoadWebhook(ctx context.Context, tx Tx, id string) (*Webhook, error) {
	if appID, ok := strings.CutPrefix(id, appWebhookPrefix); ok {
		app, err := GetApp(ctx, tx, appID)
		if err == nil {
			var h *Webhook
			if h, err = AppWebhook(ctx, tx, app); err == nil && h.ID == id {
				return h, nil
			}
		}
		if err != nil && !IsNotFound(err) {
			return nil, err
		}
		return nil, Errorf(ENOTFOUND, "Webhook not found")
	}
	return loadWebhook(ctx, tx, id)
}

func (s *Server) getAppWebhook(w http.ResponseWriter, r *http.Request) error {
	var hook *Webhook
	err := s.read(r.Context(), func(tx Tx) error {
		app, err := GetApp(r.Context(), tx, r.PathValue("id"))
		if err != nil {
			return err
		}
		hook, err = AppWebhook(r.Context(), tx, app)
		if IsNotFound(err) {
			return Errorf(ENOTFOUND, "The app has no webhook")
		}
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhook": viewWebhook(hook)})
	return nil
}

// putAppWebhook sets an app's webhook URL, events and retry policy, as a
// marketplace app's settings do. The app's deliveries go to this URL for
// every location it is installed on; the record takes precedence over the
// webhook URL the app was registered with (App.WebhookURL). Secrets are for
// location webhooks: app deliveries are signed with the sandbox's keys.
func (s *Server) putAppWebhook(w http.ResponseWriter, r *http.Request) error {
	var in webhookInput
	if err := s.adminDecode(w, r, &in); err != nil {
		return err
	}
	if in.Secret != "" {
		return Invalid("secret is only for location webhooks: app deliveries are signed with the sandbox's keys")
	}
	if err := in.validate(); err != nil {
		return err
	}
	now := Time{s.now().UTC().Truncate(time.Millisecond)}
	var hook *Webhook
	status := http.StatusOK
	err := s.write(r.Context(), func(tx Tx) error {
		app, err := GetApp(r.Context(), tx, r.PathValue("id"))
		if err != nil {
			return err
		}
		old, err := appWebhookRecord(r.Context(), tx, app.ID)
		switch {
		case IsNotFound(err):
			hook = &Webhook{ID: NewID(), Type: WebhookTypeApp, AppID: app.ID, CreatedAt: now}
			status = http.StatusCreated
		case err != nil:
			return err
		default:
			hook = old
		}
		hook.Name, hook.URL, hook.Events, hook.RetryPolicy, hook.UpdatedAt = in.Name, in.URL, in.Events, in.RetryPolicy, now
		return PutRecordOf(r.Context(), tx, WebhookRecord(hook), hook)
	})
	if err != nil {
		return err
	}
	writeJSON(w, status, map[string]any{"webhook": viewWebhook(hook)})
	return nil
}

func (s *Server) deleteAppWebhook(w http.ResponseWriter, r *http.Request) error {
	var id string
	err := s.write(r.Context(), func(tx Tx) error {
		app, err := GetApp(r.Context(), tx, r.PathValue("id"))
		if err != nil {
			return err
		}
		hook, err := appWebhookRecord(r.Context(), tx, app.ID)
		if err != nil {
			return err
		}
		id = hook.ID
		return tx.DeleteRecord(r.Context(), KindWebhook, hook.ID)
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": true, "id": id})
	return nil
}

func (s *Server) getSigningKeys(w http.ResponseWriter, r *http.Request) error {
	var keys *SigningKeys
	if err := s.read(r.Context(), func(tx Tx) error {
		var err error
		keys, err = LoadSigningKeys(r.Context(), tx)
		return err
	}); err != nil {
		return err
	}
	ed, rsaPEM, err := keys.PublicKeysPEM()
	if err != nil {
		return err
	}
	if r.URL.Query().Get("format") == "pem" {
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, err := w.Write([]byte(ed + rsaPEM))
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"ed25519": ed, "rsa": rsaPEM, "createdAt": keys.CreatedAt})
	return nil
}

// webhookLog returns the store's delivery log, or ENOTIMPL.
func (s *Server) webhookLog() (WebhookLog, error) {
	l, ok := s.store.(WebhookLog)
	if !ok {
		return nil, Errorf(ENOTIMPL, "this store keeps no webhook delivery log")
	}
	return l, nil
}

func (s *Server) listWebhookAttempts(w http.ResponseWriter, r *http.Request) error {
	l, err := s.webhookLog()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	wq := WebhookAttemptQuery{EventID: q.Get("eventId"), SubscriptionID: q.Get("subscriptionId"), DeliveryID: q.Get("deliveryId")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return Invalid("limit must be a number from 1 to 1000")
		}
		wq.Limit = n
	}
	attempts, err := l.ListWebhookAttempts(r.Context(), wq)
	if err != nil {
		return err
	}
	if attempts == nil {
		attempts = []*WebhookAttempt{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": attempts})
	return nil
}

func (s *Server) getWebhookAttempt(w http.ResponseWriter, r *http.Request) error {
	l, err := s.webhookLog()
	if err != nil {
		return err
	}
	a, err := l.GetWebhookAttempt(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"delivery": a})
	return nil
}

// StreamMessage is the data of one Server-Sent Event of GET
// /_ghlkit/events/stream: an outbox event with the signature headers its
// deliveries carry, so that `ghlkit listen` can forward it as the sandbox
// would deliver it. Body is the payload exactly as delivered (a JSON string
// here, so no re-encoding can change a byte).
type StreamMessage struct {
	Seq        int64             `json:"seq"`
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	LocationID string            `json:"locationId,omitempty"`
	CompanyID  string            `json:"companyId,omitempty"`
	CreatedAt  Time              `json:"createdAt"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

// streamPollInterval is how often an event stream looks for new events.
const streamPollInterval = 50 * time.Millisecond

// streamEvents serves the outbox as Server-Sent Events: "id" is the event's
// Seq (a reconnecting client sends it back in Last-Event-ID to resume),
// "event" its type, "data" a StreamMessage. Query: types (comma-separated
// event names), locationId, after (a Seq; default: only new events).
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) error {
	outbox, ok := s.store.(EventOutbox)
	if !ok {
		return Errorf(ENOTIMPL, "this store cannot stream its events")
	}
	ctx := r.Context()
	q := r.URL.Query()
	var types []string
	for _, t := range strings.Split(q.Get("types"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			types = append(types, t)
		}
	}
	location := q.Get("locationId")
	after := int64(-1)
	for _, v := range []string{r.Header.Get("Last-Event-ID"), q.Get("after")} {
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return Invalid("after must be an event sequence number")
		}
		after = n
		break
	}
	if after < 0 {
		last, err := outbox.LastEventSeq(ctx)
		if err != nil {
			return err
		}
		after = last
	}

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives any server write timeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, ": ghlkit event stream after %d\n\n", after); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}

	var signers []webhook.Signer
	loadSigners := func() {
		if signers != nil {
			return
		}
		_ = s.read(ctx, func(tx Tx) error {
			keys, err := LoadSigningKeys(ctx, tx)
			if err == nil {
				signers, err = keys.Signers()
			}
			return err
		})
	}
	ticker := time.NewTicker(streamPollInterval)
	defer ticker.Stop()
	lastWrite := time.Now()
	for {
		events, err := outbox.EventsAfter(ctx, after, 500)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Error("event stream", "err", err)
			return nil
		}
		for _, e := range events {
			after = e.Seq
			if (len(types) > 0 && !slices.Contains(types, e.Type)) || (location != "" && e.LocationID != location) {
				continue
			}
			loadSigners()
			msg := StreamMessage{Seq: e.Seq, ID: e.ID, Type: e.Type, LocationID: e.LocationID, CompanyID: e.CompanyID,
				CreatedAt: Time{e.CreatedAt}, Headers: map[string]string{}, Body: string(e.Payload)}
			for _, sg := range signers {
				// Header names as GHL spells them (X-GHL-Signature), not
				// canonicalised: listeners set them as they are.
				if sig, err := sg.Signature(e.Payload); err == nil {
					msg.Headers[sg.HeaderName()] = sig
				}
			}
			data, err := json.Marshal(msg)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, data); err != nil {
				return nil
			}
			lastWrite = time.Now()
		}
		if len(events) > 0 {
			if err := rc.Flush(); err != nil {
				return nil
			}
		} else if time.Since(lastWrite) > 15*time.Second {
			// A comment line keeps proxies and idle timeouts from closing a
			// quiet stream, and notices a client that went away.
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
			lastWrite = time.Now()
		}
		if len(events) == 500 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}
