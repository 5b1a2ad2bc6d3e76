package sandbox

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. Each maps to one HTTP status in one place (codeStatus), so
// handlers and stores speak in codes and the HTTP layer decides the status.
const (
	EINVALID       = "invalid"         // 400: malformed request
	EUNPROCESSABLE = "unprocessable"   // 422: validation failed
	EUNAUTHORIZED  = "unauthorized"    // 401
	EFORBIDDEN     = "forbidden"       // 403
	ENOTFOUND      = "not_found"       // 404
	ECONFLICT      = "conflict"        // 400 in GHL's API (duplicates)
	ETOOLARGE      = "too_large"       // 413
	EUNSUPPORTED   = "unsupported"     // 415
	ERATELIMIT     = "rate_limited"    // 429
	EINTERNAL      = "internal"        // 500
	ENOTIMPL       = "not_implemented" // 501
)

var codeStatus = map[string]int{
	EINVALID:       http.StatusBadRequest,
	EUNPROCESSABLE: http.StatusUnprocessableEntity,
	EUNAUTHORIZED:  http.StatusUnauthorized,
	EFORBIDDEN:     http.StatusForbidden,
	ENOTFOUND:      http.StatusNotFound,
	ECONFLICT:      http.StatusBadRequest,
	ETOOLARGE:      http.StatusRequestEntityTooLarge,
	EUNSUPPORTED:   http.StatusUnsupportedMediaType,
	ERATELIMIT:     http.StatusTooManyRequests,
	EINTERNAL:      http.StatusInternalServerError,
	ENOTIMPL:       http.StatusNotImplemented,
}

// Messages GHL uses verbatim; integrations match on some of them.
const (
	MsgScope         = "The token is not authorized for this scope."
	MsgLocation      = "The token does not have access to this location"
	MsgInvalidToken  = "Invalid JWT"
	MsgAuthClass     = "This authClass type is not allowed to access this scope. Please reach out to the Platform team to get it added."
	MsgVersionHeader = "version header was not found"
	MsgRateLimited   = "Too many requests"
)

// Error is an application error with a code that selects the HTTP status.
type Error struct {
	Code    string
	Message string
	// Details are the individual validation messages of an EUNPROCESSABLE
	// error; GHL answers them as an array in "message".
	Details []string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("sandbox error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a 422 validation error listing messages that name fields.
func Invalid(messages ...string) *Error {
	msg := "Unprocessable Entity"
	if len(messages) == 1 {
		msg = messages[0]
	}
	return &Error{Code: EUNPROCESSABLE, Message: msg, Details: messages}
}

// ErrorCode returns the code of an *Error in err's chain, EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of an *Error, or a generic message
// for internal errors (whose text is logged, never shown).
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal Server Error"
}

// ErrorStatus returns the HTTP status for an error code.
func ErrorStatus(code string) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// IsNotFound reports whether err carries ENOTFOUND.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
