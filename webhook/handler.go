package webhook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
)

// DefaultMaxBodyBytes is the largest body a [Handler] reads unless told
// otherwise. GHL's payloads are small, but message events carry whole HTML
// emails.
const DefaultMaxBodyBytes = 5 << 20

// A HandlerFunc handles one verified, parsed delivery. Returning an error
// makes the [Handler] answer 500, so that the sender may redeliver.
type HandlerFunc func(ctx context.Context, e Event) error

// Handler is an [http.Handler] that receives GHL webhook deliveries: it reads
// the body (up to a size limit), verifies its signature, applies the replay
// guard, parses it and calls the function registered for its event type.
//
// It answers:
//
//   - 405 for a method other than POST, 413 for a body over the limit;
//   - 401 when the signature is missing or invalid;
//   - 400 when the body is not a valid payload or its timestamp is outside
//     the tolerance (a redelivery would fail the same way);
//   - 200 for a duplicate webhookId, without calling any function: the
//     delivery was already accepted, and answering with an error would only
//     make the sender retry something that has been handled (GHL retries
//     only on 429 anyway). A duplicate that arrives while the first delivery
//     is still being handled is acknowledged too;
//   - 500 when the seen store fails or the function returns an error (or
//     panics); the webhookId is then forgotten so that a redelivery is
//     handled again;
//   - 200 otherwise, including events nobody registered a function for.
//
// Register functions before serving; registering while serving is safe but
// races with deliveries in flight.
type Handler struct {
	verifier *Verifier
	maxBody  int64
	logger   *slog.Logger

	mu       sync.RWMutex
	funcs    map[string]HandlerFunc
	fallback HandlerFunc
}

// A HandlerOption configures a [Handler].
type HandlerOption func(*Handler)

// WithMaxBodyBytes sets the largest body the Handler reads; larger ones get
// 413. The default is [DefaultMaxBodyBytes].
func WithMaxBodyBytes(n int64) HandlerOption {
	return func(h *Handler) {
		if n > 0 {
			h.maxBody = n
		}
	}
}

// WithLogger sets where the Handler logs rejected deliveries (Warn), failed
// functions (Error) and duplicates (Info). By default it does not log.
func WithLogger(l *slog.Logger) HandlerOption {
	return func(h *Handler) {
		if l != nil {
			h.logger = l
		}
	}
}

// NewHandler returns a Handler that checks deliveries with v. It panics if v
// is nil: accepting unverified webhooks has to be spelled out in code, not
// happen by accident.
func NewHandler(v *Verifier, opts ...HandlerOption) *Handler {
	if v == nil {
		panic("webhook: NewHandler: nil Verifier")
	}
	h := &Handler{
		verifier: v,
		maxBody:  DefaultMaxBodyBytes,
		logger:   slog.New(slog.DiscardHandler),
		funcs:    map[string]HandlerFunc{},
	}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Handle registers fn for events of the given type: an event name such as
// [EventContactCreate] (what [Event.Type] returns), or a wire type such as
// "INSTALL", which is mapped to its event name. For an [*UnknownEvent] the
// type is the payload's "type" field. fn replaces any function registered
// for the type before; a nil fn removes it. The generated OnContactCreate,
// OnAppInstall, … methods are typed shorthands for Handle.
func (h *Handler) Handle(eventType string, fn HandlerFunc) {
	if ev := NewEvent(eventType); ev != nil {
		eventType = ev.Type()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if fn == nil {
		delete(h.funcs, eventType)
		return
	}
	h.funcs[eventType] = fn
}

// HandleDefault registers fn for events no function is registered for,
// including [*UnknownEvent]s.
func (h *Handler) HandleDefault(fn HandlerFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fallback = fn
}

func (h *Handler) lookup(eventType string) HandlerFunc {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if fn, ok := h.funcs[eventType]; ok {
		return fn
	}
	return h.fallback
}

// ServeHTTP implements [http.Handler].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.reject(ctx, w, http.StatusMethodNotAllowed, errors.New("method "+r.Method))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.reject(ctx, w, http.StatusRequestEntityTooLarge, errors.New("body larger than "+strconv.FormatInt(h.maxBody, 10)+" bytes"))
			return
		}
		h.reject(ctx, w, http.StatusBadRequest, err)
		return
	}

	v := h.verifier
	if err := v.VerifySignature(r.Header, body); err != nil {
		h.reject(ctx, w, http.StatusUnauthorized, err)
		return
	}
	id, err := v.checkReplayFields(body)
	if err != nil {
		h.reject(ctx, w, http.StatusBadRequest, err)
		return
	}
	ev, err := Parse(body)
	if err != nil {
		h.reject(ctx, w, http.StatusBadRequest, err)
		return
	}
	if err := v.markSeen(ctx, id); err != nil {
		if errors.Is(err, ErrDuplicate) {
			h.logger.LogAttrs(ctx, slog.LevelInfo, "webhook: duplicate delivery acknowledged",
				slog.String("type", ev.Type()), slog.String("webhookId", id))
			w.WriteHeader(http.StatusOK)
			return
		}
		h.logger.LogAttrs(ctx, slog.LevelError, "webhook: seen store failed", slog.String("err", err.Error()))
		http.Error(w, "seen store failed", http.StatusInternalServerError)
		return
	}

	if err := h.dispatch(ctx, ev, id); err != nil {
		h.logger.LogAttrs(ctx, slog.LevelError, "webhook: handler failed",
			slog.String("type", ev.Type()), slog.String("webhookId", id), slog.String("err", err.Error()))
		http.Error(w, "handler failed", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// dispatch calls the function for ev and forgets its webhookId when the
// function fails or panics, so that a redelivery is handled.
func (h *Handler) dispatch(ctx context.Context, ev Event, id string) (err error) {
	fn := h.lookup(ev.Type())
	if fn == nil {
		return nil
	}
	forget := func() {
		// A fresh context: the request's may be done, and the id must go.
		if ferr := h.verifier.Forget(context.WithoutCancel(ctx), id); ferr != nil {
			h.logger.LogAttrs(ctx, slog.LevelError, "webhook: forget webhookId failed",
				slog.String("webhookId", id), slog.String("err", ferr.Error()))
		}
	}
	defer func() {
		if p := recover(); p != nil {
			forget()
			panic(p)
		}
	}()
	if err = fn(ctx, ev); err != nil {
		forget()
	}
	return err
}

func (h *Handler) reject(ctx context.Context, w http.ResponseWriter, code int, err error) {
	h.logger.LogAttrs(ctx, slog.LevelWarn, "webhook: delivery rejected",
		slog.Int("status", code), slog.String("err", err.Error()))
	http.Error(w, http.StatusText(code), code)
}
