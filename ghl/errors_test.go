package ghl

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestErrors(t *testing.T) {
	sentinels := []error{ErrNotFound, ErrUnauthorized, ErrForbidden, ErrValidation, ErrRateLimited, ErrServer}
	for _, tc := range []struct {
		status   int
		body     string
		header   http.Header
		is       error
		messages []string
		reason   string
		traceID  string
	}{
		{400, `{"statusCode":400,"message":"Bad Request"}`, nil, ErrValidation, []string{"Bad Request"}, "", ""},
		{401, `{"statusCode":401,"message":"Invalid token: access token is invalid","error":"Unauthorized"}`, nil, ErrUnauthorized,
			[]string{"Invalid token: access token is invalid"}, "Unauthorized", ""},
		{403, `{"statusCode":403,"message":"The token does not have access to this location."}`, nil, ErrForbidden,
			[]string{"The token does not have access to this location."}, "", ""},
		{404, `{"statusCode":404,"message":"Contact not found","traceId":"tr-1"}`, nil, ErrNotFound, []string{"Contact not found"}, "", "tr-1"},
		{422, `{"statusCode":422,"message":["email must be an email","phone is invalid"],"error":"Unprocessable Entity"}`, hdr("X-Request-Id", "rq-1"),
			ErrValidation, []string{"email must be an email", "phone is invalid"}, "Unprocessable Entity", ""},
		{429, `{"statusCode":429,"message":"Too Many Requests"}`, hdr("X-RateLimit-Remaining", "0", "X-RateLimit-Interval-Milliseconds", "10000"),
			ErrRateLimited, []string{"Too Many Requests"}, "", ""},
		{500, `internal`, nil, ErrServer, []string{"internal"}, "", ""},
		{502, `<html>bad gateway</html>`, nil, ErrServer, nil, "", ""},
	} {
		c, mux, _ := setup(t)
		mux.HandleFunc("GET /contacts/c1", func(w http.ResponseWriter, r *http.Request) {
			for k, v := range tc.header {
				w.Header()[k] = v
			}
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		})
		_, err := c.Contacts.Get(t.Context(), "c1")
		for _, s := range sentinels {
			if got := errors.Is(err, s); got != (s == tc.is) {
				t.Errorf("%d: errors.Is(err, %v) = %v", tc.status, s, got)
			}
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%d: %T is not *Error", tc.status, err)
		}
		if e.StatusCode != tc.status || string(e.Body) != tc.body || e.Reason != tc.reason || e.TraceID != tc.traceID || e.Method != "GET" {
			t.Errorf("%d: %+v", tc.status, e)
		}
		if diff := cmp.Diff(tc.messages, e.Messages); diff != "" {
			t.Errorf("%d: messages (-want +got):\n%s", tc.status, diff)
		}
		if tc.status == 422 && (e.RequestID != "rq-1" || e.Message != "email must be an email; phone is invalid") {
			t.Errorf("422: RequestID %q Message %q", e.RequestID, e.Message)
		}
		if tc.status == 429 {
			var rle *RateLimitError
			if !errors.As(err, &rle) || rle.Daily || rle.RetryAfter != 10e9 || rle.RateLimit.Remaining != 0 {
				t.Errorf("429: %+v", rle)
			}
		}
		if err.Error() == "" {
			t.Error("empty message")
		}
	}
}
