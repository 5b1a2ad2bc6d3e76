package gctune

import (
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	t.Setenv("GOGC", "")
	if got := Apply(); got != DefaultPercent {
		t.Errorf("Apply() = %d without GOGC, want %d", got, DefaultPercent)
	}
	if p := debug.SetGCPercent(DefaultPercent); p != DefaultPercent {
		t.Errorf("GC percent in force %d, want %d", p, DefaultPercent)
	}

	// GOGC set: the runtime's value (here set by hand, as the runtime would
	// have at start) is kept.
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	if got := Apply(); got != 150 {
		t.Errorf("Apply() = %d with GOGC=150, want 150", got)
	}
	if p := debug.SetGCPercent(150); p != 150 {
		t.Errorf("GC percent in force %d, want 150", p)
	}
}
