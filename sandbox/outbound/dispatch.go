package outbound

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ghlkit/ghlkit/sandbox"
)

// DeliveryArgs are the arguments of a delivery job. River's unique key is
// EventID, SubscriptionID and Replay: the dispatcher inserting a delivery
// twice (after a crash between the insert and the cursor's move) inserts
// one job.
type DeliveryArgs struct {
	EventID        string `json:"eventId" river:"unique"`
	SubscriptionID string `json:"subscriptionId" river:"unique"`
	// Replay is empty for an event's delivery and the new delivery's ID for
	// a replay, so that a replay is never a duplicate.
	Replay     string `json:"replay,omitempty" river:"unique"`
	DeliveryID string `json:"deliveryId"`
	ReplayOf   string `json:"replayOf,omitempty"`
}

// Kind implements river.JobArgs.
func (DeliveryArgs) Kind() string { return "ghlkit_webhook_delivery" }

// uniqueStates are every job state: a delivery that already completed or
// was cancelled (failed for good) is not enqueued again either.
var uniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted, rivertype.JobStateDiscarded,
	rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DeliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueName, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: uniqueStates}}
}

// dispatchLoop claims new outbox events and enqueues their deliveries
// until ctx is cancelled.
func (s *Service) dispatchLoop(ctx context.Context) {
	defer close(s.dispatchDone)
	ticker := time.NewTicker(s.cfg.PollInterval)
	defer ticker.Stop()
	failures := 0
	for {
		n, err := s.outbox.ClaimEvents(ctx, DispatcherName, s.cfg.BatchSize, s.enqueue)
		if err != nil && ctx.Err() == nil {
			failures++
			s.log.Error("webhook dispatcher: claiming events failed", "err", err)
			// Back off while the database is in trouble.
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(min(failures, 20)) * 250 * time.Millisecond):
			}
			continue
		}
		failures = 0
		if n == s.cfg.BatchSize {
			continue // more are waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// enqueue inserts the deliveries of events, in the claim's transaction.
func (s *Service) enqueue(ctx context.Context, tx *sql.Tx, events []sandbox.OutboxEvent) error {
	var params []river.InsertManyParams
	err := s.store.Read(ctx, func(rtx sandbox.Tx) error {
		r := &resolver{ctx: ctx, tx: rtx, byLocation: map[string][]*sandbox.Webhook{}, byApp: map[string]*sandbox.Webhook{},
			installed: map[string][]*sandbox.App{}}
		for i := range events {
			e := &events[i]
			targets, err := r.subscriptions(e)
			if err != nil {
				return err
			}
			for _, h := range targets {
				params = append(params, river.InsertManyParams{Args: DeliveryArgs{EventID: e.ID, SubscriptionID: h.ID, DeliveryID: sandbox.NewID()}})
			}
		}
		return nil
	})
	if err != nil || len(params) == 0 {
		return err
	}
	return s.queue.insert(ctx, tx, params)
}

// resolver finds the subscriptions of events, remembering what it read for
// the rest of a batch.
type resolver struct {
	ctx        context.Context
	tx         sandbox.Tx
	byLocation map[string][]*sandbox.Webhook // location id → its webhooks
	byApp      map[string]*sandbox.Webhook   // app id → its subscription (nil: none)
	installed  map[string][]*sandbox.App     // location + company → installed apps
}

// appEvents are delivered to the app they are about (their payload's
// appId), whether or not it is still installed: an app hears of its own
// uninstall.
var appEvents = map[string]bool{"AppInstall": true, "AppUninstall": true, "PlanChange": true}

// subscriptions returns the subscriptions that receive e: the webhooks of
// its location and those of the apps installed on its location (directly or
// on its company). A subscription receives only events emitted after it was
// created.
func (r *resolver) subscriptions(e *sandbox.OutboxEvent) ([]*sandbox.Webhook, error) {
	var cands []*sandbox.Webhook
	if appEvents[e.Type] {
		var p struct {
			AppID string `json:"appId"`
		}
		if json.Unmarshal(e.Payload, &p) == nil && p.AppID != "" {
			app, err := sandbox.GetApp(r.ctx, r.tx, p.AppID)
			if err != nil && !sandbox.IsNotFound(err) {
				return nil, err
			}
			if app != nil {
				h, err := r.app(app)
				if err != nil {
					return nil, err
				}
				if h != nil {
					cands = append(cands, h)
				}
			}
		}
	} else {
		if e.LocationID != "" {
			hooks, err := r.location(e.LocationID)
			if err != nil {
				return nil, err
			}
			cands = append(cands, hooks...)
		}
		key := e.LocationID + "|" + e.CompanyID
		apps, ok := r.installed[key]
		if !ok {
			var err error
			if apps, err = sandbox.InstalledApps(r.ctx, r.tx, e.LocationID, e.CompanyID); err != nil {
				return nil, err
			}
			r.installed[key] = apps
		}
		for _, app := range apps {
			h, err := r.app(app)
			if err != nil {
				return nil, err
			}
			if h != nil {
				cands = append(cands, h)
			}
		}
	}
	var out []*sandbox.Webhook
	seen := map[string]bool{}
	for _, h := range cands {
		if seen[h.ID] || !h.Wants(e.Type) || e.CreatedAt.Before(h.CreatedAt.Time) {
			continue
		}
		seen[h.ID] = true
		out = append(out, h)
	}
	return out, nil
}

func (r *resolver) location(id string) ([]*sandbox.Webhook, error) {
	if hooks, ok := r.byLocation[id]; ok {
		return hooks, nil
	}
	all, err := sandbox.ListRecordsAs[sandbox.Webhook](r.ctx, r.tx, sandbox.RecordQuery{Kind: sandbox.KindWebhook, LocationID: id})
	if err != nil {
		return nil, err
	}
	var hooks []*sandbox.Webhook
	for _, h := range all {
		if h.Type == sandbox.WebhookTypeLocation {
			hooks = append(hooks, h)
		}
	}
	r.byLocation[id] = hooks
	return hooks, nil
}

// app returns an app's subscription, or nil when it has none.
func (r *resolver) app(app *sandbox.App) (*sandbox.Webhook, error) {
	if h, ok := r.byApp[app.ID]; ok {
		return h, nil
	}
	h, err := sandbox.AppWebhook(r.ctx, r.tx, app)
	if sandbox.IsNotFound(err) {
		h, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	r.byApp[app.ID] = h
	return h, nil
}
