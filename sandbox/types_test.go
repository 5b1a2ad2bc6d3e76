package sandbox_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox"
)

// TestZeroTimesOmitted pins the fields whose zero Time is left out rather
// than written as null: a user's dateAdded (not in GHL's UserSchema, so
// absent when unknown) and a stored token's expiresAt (zero: never, as for
// PITs). A set time is written, and the omitted field reads back as zero.
func TestZeroTimesOmitted(t *testing.T) {
	at := sandbox.Time{Time: time.Date(2024, 5, 6, 7, 8, 9, 10e6, time.UTC)}
	for _, tt := range []struct {
		name, field string
		zero, set   any
	}{
		{"user", "dateAdded", &sandbox.User{ID: "u1"}, &sandbox.User{ID: "u1", DateAdded: at}},
		{"token", "expiresAt", &sandbox.Token{ID: "t1"}, &sandbox.Token{ID: "t1", ExpiresAt: at}},
	} {
		b, err := json.Marshal(tt.zero)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), `"`+tt.field+`"`) {
			t.Errorf("%s: zero %s written: %s", tt.name, tt.field, b)
		}
		b, err = json.Marshal(tt.set)
		if err != nil {
			t.Fatal(err)
		}
		if want := `"` + tt.field + `":"2024-05-06T07:08:09.010Z"`; !strings.Contains(string(b), want) {
			t.Errorf("%s: %s, want %s", tt.name, b, want)
		}
	}
	var u sandbox.User
	if err := json.Unmarshal([]byte(`{"id":"u1"}`), &u); err != nil || !u.DateAdded.IsZero() {
		t.Errorf("user without dateAdded reads as %v %v", u.DateAdded, err)
	}
	var tok sandbox.Token
	if err := json.Unmarshal([]byte(`{"id":"t1"}`), &tok); err != nil || !tok.ExpiresAt.IsZero() {
		t.Errorf("token without expiresAt reads as %v %v", tok.ExpiresAt, err)
	}
}
