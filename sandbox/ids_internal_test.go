package sandbox

import (
	"sort"
	"strings"
	"testing"
	"time"
)

func TestNewIDShapeAndOrder(t *testing.T) {
	valid := func(id string) bool {
		if len(id) != 20 {
			return false
		}
		for i := 0; i < len(id); i++ {
			if !strings.ContainsRune(idAlphabet, rune(id[i])) {
				return false
			}
		}
		return true
	}
	// Ids made at later milliseconds sort after earlier ones, across the
	// whole range (including carries in the time characters).
	base := time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	var ids []string
	for _, d := range []time.Duration{0, time.Millisecond, 61 * time.Millisecond, 62 * time.Millisecond, 3843 * time.Millisecond,
		3844 * time.Millisecond, time.Hour, 24 * time.Hour, 365 * 24 * time.Hour, 50 * 365 * 24 * time.Hour} {
		ids = append(ids, newIDAt(base.Add(d)))
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatalf("ids of increasing times are not sorted: %q", ids)
	}
	seen := map[string]bool{}
	prev := ""
	for i := 0; i < 20000; i++ {
		id := NewID()
		if !valid(id) {
			t.Fatalf("NewID() = %q: not 20 alphanumeric characters", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
		if prev != "" && id[:idTimeChars] < prev[:idTimeChars] {
			t.Fatalf("time prefix went backwards: %q after %q", id, prev)
		}
		prev = id
	}
	// Within one millisecond the rest is random: many distinct suffixes.
	suffixes := map[string]bool{}
	for i := 0; i < 1000; i++ {
		suffixes[newIDAt(base)[idTimeChars:]] = true
	}
	if len(suffixes) != 1000 {
		t.Fatalf("1000 ids of one millisecond have %d distinct random parts", len(suffixes))
	}
	// Secret ids share no time prefix: two made together differ early.
	same := 0
	for i := 0; i < 200; i++ {
		a, b := NewSecretID(), NewSecretID()
		if !valid(a) || !valid(b) {
			t.Fatalf("NewSecretID() = %q, %q", a, b)
		}
		if a[:4] == b[:4] {
			same++
		}
	}
	if same > 2 {
		t.Fatalf("%d of 200 secret id pairs share their first 4 characters: not random", same)
	}
}
