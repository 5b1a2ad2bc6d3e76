package sandbox

import (
	"slices"
	"testing"

	"github.com/ghlkit/ghlkit/sandbox/spec"
)

// TestAcceptedVersions: every operation's accepted Version values start
// with the spec's, in order, end with ExtraVersions, and name each once.
func TestAcceptedVersions(t *testing.T) {
	for _, op := range spec.MustOperations() {
		got := acceptedVersions(op.Versions)
		seen := map[string]bool{}
		for _, v := range got {
			if seen[v] {
				t.Fatalf("%s %s: %v names %s twice", op.Method, op.Path, got, v)
			}
			seen[v] = true
		}
		for _, v := range append(append([]string{}, op.Versions...), ExtraVersions...) {
			if !seen[v] || !versionAllowed(op.Versions, v) {
				t.Fatalf("%s %s: %v lacks %s", op.Method, op.Path, got, v)
			}
		}
		if len(op.Versions) > 0 && got[0] != op.Versions[0] {
			t.Fatalf("%s %s: %v does not start with the spec's %v", op.Method, op.Path, got, op.Versions)
		}
	}
	if got := acceptedVersions([]string{"2021-07-28"}); !slices.Equal(got, []string{"2021-07-28", "2021-04-15", "2023-02-21"}) {
		t.Errorf("2021-07-28: %v", got)
	}
	if got := acceptedVersions(nil); !slices.Equal(got, ExtraVersions) {
		t.Errorf("none: %v", got)
	}
}
