// Package gctune sets the garbage collector up for ghlkit's servers.
package gctune

import (
	"os"
	"runtime/debug"
)

// DefaultPercent is the GOGC value the servers run with unless GOGC is set.
// A sandbox's live heap is small (tens of MiB) while every request
// allocates its response afresh, so at Go's default of 100 the collector
// runs many times a second and its assists land in request latency; 400
// trades a few tens of MiB of heap for a quarter of the collections.
const DefaultPercent = 400

// Apply sets DefaultPercent unless the GOGC environment variable is set
// (which the runtime has applied already). It returns the percent in force.
func Apply() int {
	if v, ok := os.LookupEnv("GOGC"); ok && v != "" {
		p := debug.SetGCPercent(100)
		debug.SetGCPercent(p)
		return p
	}
	debug.SetGCPercent(DefaultPercent)
	return DefaultPercent
}
