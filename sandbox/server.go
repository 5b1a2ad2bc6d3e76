// Package sandbox is ghlkit's GHL-API-compatible server: domain types, the
// Store contract, HTTP handlers per namespace, auth, scopes, rate limits and
// the event outbox. Storage drivers live in sandbox/sqlite and
// sandbox/postgres; cmd/ghlkit picks one.
package sandbox

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ghlkit/ghlkit/sandbox/spec"
)

// MaxBodyBytes is the largest request body the sandbox reads (1 MiB).
const MaxBodyBytes = 1 << 20

// ExtraVersions are Version header values accepted on every namespace besides
// the spec's own: the official Node SDK sends 2023-02-21 everywhere.
var ExtraVersions = []string{"2021-07-28", "2021-04-15", "2023-02-21"}

// Config configures a Server.
type Config struct {
	Store  Store
	Logger *slog.Logger
	// RateLimit configures the per (app or token, location/company) limits.
	RateLimit RateLimitConfig
	// Limiter keeps the rate-limit budgets; when nil, an in-memory
	// RateLimiter built from RateLimit and Now. When set (for instance a
	// sandbox/redislimit.Limiter shared by several processes), its Config
	// replaces RateLimit and it keeps its own clock.
	Limiter Limiter
	// TokenTTL is the lifetime of OAuth access tokens (default 24h; GHL's
	// expires_in is 86399 s).
	TokenTTL time.Duration
	// RefreshTTL is the lifetime of refresh tokens (default a year).
	RefreshTTL time.Duration
	// BaseURL is the externally visible URL, used in links (nextPageUrl,
	// consent redirects). Default "http://127.0.0.1:8080".
	BaseURL string
	// Now returns the current time; tests compress time with it.
	Now func() time.Time
	// Registry receives the server's Prometheus metrics; a new one when nil.
	Registry *prometheus.Registry
	// AdminToken, when set, is required as "Authorization: Bearer …" on the
	// admin API under /_ghlkit/ (the HTML consent page, health and metrics
	// stay open). Leave it empty only on a loopback dev server.
	AdminToken string
}

// Server is the sandbox HTTP server. Create it with NewServer.
type Server struct {
	store   Store
	log     *slog.Logger
	cfg     Config
	router  *router
	limiter *limiterGuard
	tokens  *tokenCache
	now     func() time.Time
	reg     *prometheus.Registry
	mux     *http.ServeMux // non-API routes: admin, health, metrics

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	handlers map[string]apiHandler // by "namespace/operationId"
	mu       sync.Mutex
}

// apiHandler serves one operation. It writes the success response itself
// (usually via writeJSON) or returns an error for the middleware to write in
// GHL's error shape.
type apiHandler func(w http.ResponseWriter, r *Request) error

// Request is an API request after routing, body reading and auth.
type Request struct {
	*http.Request
	Op      *spec.Operation
	Auth    *Auth // nil on operations without security
	TraceID string
	// RawBody is the request body as received (at most MaxBodyBytes).
	RawBody []byte
	params  map[string]string
	server  *Server
}

// PathParam returns a path parameter by its spec name.
func (r *Request) PathParam(name string) string { return r.params[name] }

// Query returns a query parameter, also accepting the "name[]" array form.
func (r *Request) Query(name string) string {
	q := r.URL.Query()
	if v := q.Get(name); v != "" {
		return v
	}
	return q.Get(name + "[]")
}

// QueryList returns all values of a query parameter in "a=1&a=2",
// "a[]=1&a[]=2" and "a=1,2" forms.
func (r *Request) QueryList(name string) []string {
	q := r.URL.Query()
	var out []string
	for _, v := range append(q[name], q[name+"[]"]...) {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// Decode parses the JSON body into v. Malformed JSON is a 400; a value of
// the wrong type is a 422 naming the field. An empty body decodes as {}.
func (r *Request) Decode(v any) error {
	body := bytes.TrimSpace(r.RawBody)
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			field := typeErr.Field
			if field == "" {
				return Errorf(EINVALID, "request body must be a JSON %s", jsonKind(v))
			}
			return Invalid(fmt.Sprintf("%s must be %s", field, typeName(typeErr.Type.Kind().String())))
		case errors.As(err, &syntaxErr):
			return Errorf(EINVALID, "Unexpected token in JSON at position %d", syntaxErr.Offset)
		default:
			var fe *Error
			if errors.As(err, &fe) {
				return fe
			}
			return Errorf(EINVALID, "invalid JSON body: %v", err)
		}
	}
	return nil
}

func jsonKind(v any) string {
	s := fmt.Sprintf("%T", v)
	if strings.Contains(s, "[]") {
		return "array"
	}
	return "object"
}

func typeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	default:
		return "a number"
	}
}

// Logger returns the request-scoped logger.
func (r *Request) Logger() *slog.Logger { return r.server.log.With("traceId", r.TraceID) }

// NewServer builds a server: it loads the embedded spec once and registers
// every implemented operation.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("sandbox: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = 365 * 24 * time.Hour
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://127.0.0.1:8080"
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Limiter != nil {
		cfg.RateLimit = cfg.Limiter.Config()
	}
	cfg.RateLimit = cfg.RateLimit.WithDefaults()
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	s := &Server{
		store:    cfg.Store,
		log:      cfg.Logger,
		cfg:      cfg,
		router:   newRouter(),
		now:      cfg.Now,
		reg:      cfg.Registry,
		mux:      http.NewServeMux(),
		handlers: map[string]apiHandler{},
	}
	limiter := cfg.Limiter
	if limiter == nil {
		limiter = NewRateLimiter(cfg.RateLimit, cfg.Now)
	}
	s.limiter = newLimiterGuard(limiter, cfg.RateLimit, cfg.Logger)
	s.tokens = newTokenCache(5 * time.Second)
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ghlkit_sandbox_requests_total",
		Help: "API requests by operation and status code.",
	}, []string{"operation", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ghlkit_sandbox_request_duration_seconds",
		Help:    "API request latency by operation.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	}, []string{"operation"})
	for _, c := range []prometheus.Collector{s.requests, s.latency, s.limiter.errors} {
		if err := s.reg.Register(c); err != nil {
			return nil, err
		}
	}

	s.registerRoutes()

	ops, err := spec.Operations()
	if err != nil {
		return nil, err
	}
	for _, op := range ops {
		s.router.add(&route{method: op.Method, segments: splitPath(op.Path), op: op, handler: s.handlers[op.Namespace+"/"+op.ID]})
	}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	return s, nil
}

// handle registers the implementation of a spec operation.
func (s *Server) handle(namespace, operationID string, h apiHandler) {
	if spec.Find(namespace, operationID) == nil {
		panic("sandbox: no spec operation " + namespace + "/" + operationID)
	}
	s.handlers[namespace+"/"+operationID] = h
}

// Implemented reports whether the sandbox serves a spec operation statefully.
func (s *Server) Implemented(namespace, operationID string) bool {
	_, ok := s.handlers[namespace+"/"+operationID]
	return ok
}

// Store returns the server's store.
func (s *Server) Store() Store { return s.store }

// Limiter returns the server's rate limiter: Config.Limiter, or the
// in-memory *RateLimiter.
func (s *Server) Limiter() Limiter { return s.limiter.l }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	err := s.store.Read(r.Context(), func(tx Tx) error {
		_, err := tx.CountRecords(r.Context(), RecordQuery{Kind: KindCompany})
		return err
	})
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// statusWriter records the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ServeHTTP implements http.Handler: request id, access log, panic recovery,
// then routing to the admin/health mux or the GHL API pipeline.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	traceID := r.Header.Get("X-Request-Id")
	if traceID == "" || len(traceID) > 128 {
		traceID = newTraceID()
	}
	w.Header().Set("X-Request-Id", traceID)
	sw := &statusWriter{ResponseWriter: w}
	opName := "other"
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic serving request", "traceId", traceID, "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if sw.status == 0 {
				writeError(sw, traceID, Errorf(EINTERNAL, "Internal Server Error"))
			}
		}
		dur := time.Since(start)
		s.requests.WithLabelValues(opName, strconv.Itoa(sw.status)).Inc()
		s.latency.WithLabelValues(opName).Observe(dur.Seconds())
		if s.log.Enabled(r.Context(), slog.LevelInfo) {
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("traceId", traceID), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Int("bytes", sw.bytes), slog.Duration("duration", dur), slog.String("op", opName))
		}
	}()

	if strings.HasPrefix(r.URL.Path, "/_ghlkit/") || r.URL.Path == "/healthz" || r.URL.Path == "/metrics" ||
		r.URL.Path == "/oauth/chooselocation" || r.URL.Path == "/v2/oauth/chooselocation" {
		opName = "ghlkit"
		// Uploaded files are public, as GHL's file URLs are: their ids are
		// 119-bit random capabilities.
		if strings.HasPrefix(r.URL.Path, "/_ghlkit/") && !strings.HasPrefix(r.URL.Path, "/_ghlkit/files/") && !s.adminAuthorized(r) {
			writeError(sw, traceID, &Error{Code: EUNAUTHORIZED, Message: "the admin API needs the sandbox's admin token (Authorization: Bearer …)"})
			return
		}
		if r.URL.Path == "/v2/oauth/chooselocation" {
			// GHL's marketplace serves the consent page under /v2 too.
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/oauth/chooselocation"
			r = r2
		}
		if found, known := s.muxRoute(r); !found {
			// As the API answers an unknown route: GHL's JSON error, 404
			// also for a known path with another method.
			writeError(sw, traceID, unknownRoute(r.Method, r.URL.Path, known))
			return
		}
		s.mux.ServeHTTP(sw, r)
		return
	}
	rt, params, known := s.router.match(r.Method, r.URL.Path)
	if rt == nil {
		s.limiter.Idle().SetHeaders(sw.Header())
		writeError(sw, traceID, unknownRoute(r.Method, r.URL.Path, known))
		return
	}
	opName = rt.op.Namespace + "/" + rt.op.ID
	req := &Request{Request: r, Op: rt.op, TraceID: traceID, params: params, server: s}
	if err := s.serveAPI(sw, req, rt); err != nil {
		if ErrorCode(err) == EINTERNAL {
			s.log.Error("internal error", "traceId", traceID, "op", opName, "err", err)
		}
		if sw.status == 0 {
			writeError(sw, traceID, err)
		}
	}
}

// unknownRoute is the 404 of a request no route serves, in the words of
// GHL's NestJS gateway; pathKnown adds that the path takes other methods.
func unknownRoute(method, path string, pathKnown bool) error {
	if pathKnown {
		return Errorf(ENOTFOUND, "Cannot %s %s (the path exists with another method)", method, path)
	}
	return Errorf(ENOTFOUND, "Cannot %s %s", method, path)
}

// muxRoute reports whether the non-API mux (admin, health, metrics, consent
// page) has a route for the request and, when it has none, whether the path
// has one for another method.
func (s *Server) muxRoute(r *http.Request) (found, pathKnown bool) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		return true, false
	}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		r2 := r.WithContext(r.Context()) // a shallow copy
		r2.Method = m
		if _, pattern := s.mux.Handler(r2); pattern != "" {
			return false, true
		}
	}
	return false, false
}

// serveAPI runs the GHL pipeline: body, Version, auth, rate limit, scope,
// location access, handler.
func (s *Server) serveAPI(w http.ResponseWriter, r *Request, rt *route) error {
	// Every API answer carries the rate-limit headers: those of the
	// caller's bucket once it is known (below), else the limits untouched.
	s.limiter.Idle().SetHeaders(w.Header())
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Request.Body, MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Errorf(ETOOLARGE, "request entity too large: the limit is %d bytes", MaxBodyBytes)
		}
		return Errorf(EINVALID, "could not read request body: %v", err)
	}
	r.RawBody = body

	// A request with a valid token counts against its bucket whatever its
	// fate, as at GHL's gateway; its answer, error or not, carries the
	// bucket's headers.
	// An operation the spec leaves unsecured that is called with a bearer
	// token (the contacts bulk operations, whose handlers then demand
	// one) counts against that token's bucket too.
	var authErr error
	if rt.op.Secured || strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		r.Auth, authErr = s.authenticate(r.Context(), r.Header.Get("Authorization"))
		if r.Auth != nil && s.cfg.RateLimit.Enabled {
			st := s.limiter.Allow(r.Context(), r.Auth.RateKey())
			st.SetHeaders(w.Header())
			if !st.Allowed {
				w.Header().Set("Retry-After", strconv.Itoa(int((st.RetryAfter+time.Second-1)/time.Second)))
				return Errorf(ERATELIMIT, "%s", MsgRateLimited)
			}
		}
	}

	if len(rt.op.Versions) > 0 {
		v := r.Header.Get("Version")
		if v == "" {
			return Errorf(EINVALID, "%s", MsgVersionHeader)
		}
		if !versionAllowed(rt.op.Versions, v) {
			return Errorf(EINVALID, "Version header %q is not supported for this route; use one of %s", v, strings.Join(acceptedVersions(rt.op.Versions), ", "))
		}
	}

	if rt.op.Secured {
		if authErr != nil {
			return authErr
		}
		if err := authorize(rt.op, r.Auth); err != nil {
			return err
		}
		if err := s.checkRequestScope(r); err != nil {
			return err
		}
	}
	if rt.handler == nil {
		return Errorf(ENOTIMPL, "%s %s (%s) is not implemented by the ghlkit sandbox yet", rt.op.Method, rt.op.Path, rt.op.ID)
	}
	return rt.handler(w, r)
}

// acceptedVersions lists the Version values an operation accepts: the
// spec's, then ExtraVersions, each once, in that order.
func acceptedVersions(specVersions []string) []string {
	out := make([]string, 0, len(specVersions)+len(ExtraVersions))
	for _, v := range append(append([]string{}, specVersions...), ExtraVersions...) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func versionAllowed(specVersions []string, v string) bool {
	for _, a := range specVersions {
		if a == v {
			return true
		}
	}
	for _, a := range ExtraVersions {
		if a == v {
			return true
		}
	}
	return false
}

// adminAuthorized checks the admin token, when one is configured.
func (s *Server) adminAuthorized(r *http.Request) bool {
	if s.cfg.AdminToken == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.AdminToken)) == 1
}

// checkRequestScope enforces location/company access for ids the request
// names directly: path parameters, query parameters and top-level body
// fields called locationId/location_id/altId and companyId. Handlers check
// ids they find on stored objects with CheckLocation.
func (s *Server) checkRequestScope(r *Request) error {
	check := func(loc, company string) error {
		if loc != "" {
			if err := r.CheckLocation(loc); err != nil {
				return err
			}
		}
		if company != "" {
			if err := r.CheckCompany(company); err != nil {
				return err
			}
		}
		return nil
	}
	q := r.URL.Query()
	if err := check(firstNonEmpty(r.params["locationId"], q.Get("locationId"), q.Get("location_id")), firstNonEmpty(r.params["companyId"], q.Get("companyId"))); err != nil {
		return err
	}
	if bytes.HasPrefix(bytes.TrimSpace(r.RawBody), []byte("{")) {
		var ids struct {
			LocationID any `json:"locationId"`
			CompanyID  any `json:"companyId"`
		}
		if json.Unmarshal(r.RawBody, &ids) == nil {
			loc, _ := ids.LocationID.(string)
			comp, _ := ids.CompanyID.(string)
			if err := check(loc, comp); err != nil {
				return err
			}
		}
	}
	return nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// errorBody is GHL's error shape.
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Message    any    `json:"message"`
	Error      string `json:"error,omitempty"`
	TraceID    string `json:"traceId,omitempty"`
}

// writeError writes err in GHL's error shape: {statusCode, message, error}.
// Validation errors carry the messages as an array, as GHL's NestJS does.
func writeError(w http.ResponseWriter, traceID string, err error) {
	code := ErrorCode(err)
	status := ErrorStatus(code)
	body := errorBody{StatusCode: status, Message: ErrorMessage(err), Error: http.StatusText(status), TraceID: traceID}
	var e *Error
	if errors.As(err, &e) && code == EUNPROCESSABLE && len(e.Details) > 0 {
		body.Message = e.Details
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as JSON with the status. HTML escaping is off so bodies
// match what GHL (Node) emits.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b := getBuffer()
	defer putBuffer(b)
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b.Reset()
		status = http.StatusInternalServerError
		fmt.Fprintf(b, `{"statusCode":500,"message":%q}`+"\n", "encode response: "+err.Error())
	}
	writeRawJSON(w, status, b.Bytes())
}

// writeRawJSON answers an encoded JSON body in one write, with its length.
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// bufferPool recycles response buffers; buffers grown past maxPooledBuffer
// are left to the collector so one huge answer doesn't pin its memory.
var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuffer = 1 << 20

func getBuffer() *bytes.Buffer { return bufferPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	bufferPool.Put(b)
}

// WriteJSON is writeJSON for handlers in other files of this package.
func (r *Request) WriteJSON(w http.ResponseWriter, status int, v any) error {
	writeJSON(w, status, v)
	return nil
}

func newTraceID() string {
	return strings.ToLower(randomString(8)) + "-" + strings.ToLower(randomString(4)) + "-" + strings.ToLower(randomString(12))
}

// withCtx is a tiny helper so handlers can run a write transaction with the
// request's context.
func (s *Server) write(ctx context.Context, fn func(Tx) error) error { return s.store.Write(ctx, fn) }
func (s *Server) read(ctx context.Context, fn func(Tx) error) error  { return s.store.Read(ctx, fn) }

// readLoose runs a read whose statements need not share one snapshot (see
// LooseReader), in a transaction when the store has nothing cheaper.
func (s *Server) readLoose(ctx context.Context, fn func(Tx) error) error {
	if lr, ok := s.store.(LooseReader); ok {
		return lr.ReadLoose(ctx, fn)
	}
	return s.store.Read(ctx, fn)
}
