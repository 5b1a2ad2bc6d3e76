package ghl

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrPagingStuck is yielded by an iterator whose endpoint answered with the
// same cursor twice, which would otherwise loop forever.
var ErrPagingStuck = errors.New("ghl: pagination cursor did not advance")

func errPagingStuck(op string) error {
	return fmt.Errorf("%w (%s)", ErrPagingStuck, op)
}

// nextStartAfter returns the startAfterId/startAfter cursor after a page:
// the answer's meta when it carries one, else the last item's id and
// dateAdded in epoch milliseconds.
func nextStartAfter(meta *ListMeta, lastID string, lastAdded FlexString) (string, int64) {
	if meta != nil && meta.StartAfterID != "" {
		return meta.StartAfterID, epochMillis(meta.StartAfter)
	}
	return lastID, epochMillis(lastAdded)
}

// epochMillis reads epoch milliseconds or an RFC 3339 time; 0 if neither.
func epochMillis(s FlexString) int64 {
	if s == "" {
		return 0
	}
	if n, err := strconv.ParseInt(string(s), 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(string(s), 64); err == nil {
		return int64(f)
	}
	if t, err := time.Parse(time.RFC3339Nano, string(s)); err == nil {
		return t.UnixMilli()
	}
	return 0
}
