package ghl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors for errors.Is. An [*Error] matches the one for its status
// code; a [*RateLimitError] matches ErrRateLimited.
var (
	ErrNotFound     = errors.New("ghl: not found")           // 404
	ErrUnauthorized = errors.New("ghl: unauthorized")        // 401
	ErrForbidden    = errors.New("ghl: forbidden")           // 403
	ErrValidation   = errors.New("ghl: validation failed")   // 400, 422
	ErrRateLimited  = errors.New("ghl: rate limit exceeded") // 429, or the daily budget known to be spent
	ErrServer       = errors.New("ghl: server error")        // 5xx
)

// Error is a non-2xx answer from GHL. GHL's error bodies are
// {"statusCode", "message", "error"}, where message is a string, or an array
// of strings for 422.
type Error struct {
	StatusCode int
	// Message is Messages joined with "; ".
	Message string
	// Messages holds each message GHL sent.
	Messages []string
	// Reason is the body's "error" field, e.g. "Unprocessable Entity".
	Reason string
	// TraceID is GHL's traceId for the request, from the body or headers.
	TraceID string
	// RequestID is the X-Request-Id header, if any.
	RequestID string
	Method    string
	URL       string
	// Body is the raw response body (at most 1 MiB).
	Body []byte
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("ghl: ")
	if e.Method != "" {
		b.WriteString(e.Method + " " + e.URL + ": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.TraceID != "" {
		b.WriteString(" (traceId " + e.TraceID + ")")
	}
	return b.String()
}

// Is reports whether target is the sentinel error for e's status code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrValidation:
		return e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500
	}
	return false
}

// RateLimitError reports a 429 answer, or a request the limiter refused to
// send because GHL said the daily budget is spent. It matches
// errors.Is(err, ErrRateLimited), and errors.As finds the [*Error] of the 429
// answer through Unwrap.
type RateLimitError struct {
	// Err is the 429 answer; nil when the request was not sent.
	Err *Error
	// RateLimit is what the X-RateLimit-* headers said.
	RateLimit RateLimit
	// Daily reports that the daily budget is spent; retrying before ResetAt
	// is pointless.
	Daily bool
	// RetryAfter is how long to wait before trying again: Retry-After, else
	// the burst interval.
	RetryAfter time.Duration
	// ResetAt is when the budget is expected back. For the daily budget GHL
	// does not say; it is estimated as the next midnight UTC unless
	// Retry-After was sent.
	ResetAt time.Time
}

// Error implements error.
func (e *RateLimitError) Error() string {
	kind := "burst"
	if e.Daily {
		kind = "daily"
	}
	msg := fmt.Sprintf("ghl: %s rate limit exceeded; retry after %s", kind, e.ResetAt.UTC().Format(time.RFC3339))
	if e.Err != nil && e.Err.Message != "" {
		msg += ": " + e.Err.Message
	}
	return msg
}

// Is matches ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Unwrap returns the 429 answer, if there was one.
func (e *RateLimitError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// CheckResponse returns nil for a 2xx response and otherwise an [*Error]
// (a [*RateLimitError] for 429) built from the body, which it reads.
func CheckResponse(r *http.Response) error {
	if r.StatusCode >= 200 && r.StatusCode <= 299 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	e := &Error{
		StatusCode: r.StatusCode,
		Body:       body,
		RequestID:  r.Header.Get("X-Request-Id"),
		TraceID:    firstHeader(r.Header, "X-Trace-Id", "Traceid", "Trace-Id"),
	}
	if r.Request != nil {
		e.Method = r.Request.Method
		e.URL = r.Request.URL.Redacted()
	}
	parseErrorBody(e, body)
	if r.StatusCode != http.StatusTooManyRequests {
		return e
	}
	rl := ParseRateLimit(r.Header)
	return newRateLimitError(e, rl, time.Now())
}

func newRateLimitError(e *Error, rl RateLimit, now time.Time) *RateLimitError {
	rle := &RateLimitError{Err: e, RateLimit: rl, Daily: rl.DailyExhausted()}
	switch {
	case rl.RetryAfter > 0:
		rle.RetryAfter = rl.RetryAfter
	case rle.Daily:
		rle.RetryAfter = nextMidnightUTC(now).Sub(now)
	case rl.Interval > 0:
		rle.RetryAfter = rl.Interval
	}
	rle.ResetAt = now.Add(rle.RetryAfter)
	return rle
}

func nextMidnightUTC(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

func parseErrorBody(e *Error, body []byte) {
	var b struct {
		Message json.RawMessage `json:"message"`
		Msg     string          `json:"msg"`
		Desc    string          `json:"error_description"` // OAuth's error shape (RFC 6749 §5.2)
		Error   json.RawMessage `json:"error"`
		TraceID string          `json:"traceId"`
	}
	if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &b) != nil {
		if s := strings.TrimSpace(string(body)); s != "" && len(s) < 512 && !strings.HasPrefix(s, "<") {
			e.Messages = []string{s}
			e.Message = s
		}
		return
	}
	e.Messages = stringOrStrings(b.Message)
	if len(e.Messages) == 0 && b.Msg+b.Desc != "" {
		e.Messages = []string{b.Msg + b.Desc}
	}
	if r := stringOrStrings(b.Error); len(r) > 0 {
		e.Reason = strings.Join(r, "; ")
	}
	e.Message = strings.Join(e.Messages, "; ")
	if b.TraceID != "" {
		e.TraceID = b.TraceID
	}
}

// stringOrStrings decodes a JSON string or array of strings.
func stringOrStrings(raw json.RawMessage) []string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	var ss []string
	if json.Unmarshal(raw, &ss) == nil {
		return ss
	}
	var anys []any
	if json.Unmarshal(raw, &anys) == nil {
		out := make([]string, 0, len(anys))
		for _, a := range anys {
			out = append(out, fmt.Sprint(a))
		}
		return out
	}
	return []string{string(raw)}
}

// RateLimit is what GHL's X-RateLimit-* headers report. Integer fields are
// -1 when their header was absent.
type RateLimit struct {
	Max            int           // X-RateLimit-Max: requests per interval
	Remaining      int           // X-RateLimit-Remaining: left in the current interval
	Interval       time.Duration // X-RateLimit-Interval-Milliseconds; 0 when absent
	DailyLimit     int           // X-RateLimit-Limit-Daily
	DailyRemaining int           // X-RateLimit-Daily-Remaining
	RetryAfter     time.Duration // Retry-After; 0 when absent
}

// Known reports whether any rate-limit header was present.
func (r RateLimit) Known() bool {
	return r.Remaining >= 0 || r.DailyRemaining >= 0 || r.Max >= 0 || r.DailyLimit >= 0
}

// DailyExhausted reports whether GHL said no requests are left today.
func (r RateLimit) DailyExhausted() bool { return r.DailyRemaining == 0 }

// ParseRateLimit reads the X-RateLimit-* and Retry-After headers.
func ParseRateLimit(h http.Header) RateLimit {
	rl := RateLimit{
		Max:            headerInt(h, "X-Ratelimit-Max"),
		Remaining:      headerInt(h, "X-Ratelimit-Remaining"),
		DailyLimit:     headerInt(h, "X-Ratelimit-Limit-Daily"),
		DailyRemaining: headerInt(h, "X-Ratelimit-Daily-Remaining"),
	}
	if ms := headerInt(h, "X-Ratelimit-Interval-Milliseconds"); ms > 0 {
		rl.Interval = time.Duration(ms) * time.Millisecond
	}
	rl.RetryAfter = parseRetryAfter(h.Get("Retry-After"), time.Now())
	return rl
}

func headerInt(h http.Header, name string) int {
	v := h[name] // canonical form; avoids Get's re-canonicalization on the hot path
	if len(v) == 0 {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(v[0]))
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
