package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/sqlite"
)

// TestREADME keeps the README honest where it can be checked: it opens with
// the two commands, its copy-paste demo ids and tokens are the ones the
// seed makes, and the flags its reference documents exist.
func TestREADME(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	lines := strings.Split(readme, "\n")
	if len(lines) < 3 || lines[0] != "```sh" || !strings.HasPrefix(lines[1], "go run ./cmd/ghlkit dev") || !strings.HasPrefix(lines[2], "go test ./...") {
		t.Errorf("README does not open with `go run ./cmd/ghlkit dev` and `go test ./...`:\n%s", strings.Join(lines[:min(4, len(lines))], "\n"))
	}

	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	seed, err := sandbox.Seed(context.Background(), st, sandbox.SeedOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"company id": seed.CompanyID, "location id": seed.LocationID, "token": seed.Token, "agency token": seed.AgencyToken} {
		if !strings.Contains(readme, v) {
			t.Errorf("README does not show the demo %s %s: update the tour", name, v)
		}
	}

	// Every --flag in the flag table is a flag of `ghlkit dev`.
	dev := newDevCmd(&cli{lookupEnv: os.LookupEnv})
	for _, m := range regexp.MustCompile("(?m)^\\| `--([a-z-]+)`").FindAllStringSubmatch(readme, -1) {
		if dev.Flags().Lookup(m[1]) == nil {
			t.Errorf("README documents --%s, which ghlkit dev does not have", m[1])
		}
	}
	// And every flag of `ghlkit dev` is in the table.
	dev.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && !strings.Contains(readme, "| `--"+f.Name+"` |") {
			t.Errorf("README's flag table lacks --%s", f.Name)
		}
	})
}
