package main

import (
	"fmt"
	"io"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/ghlkit/ghlkit/sandbox"
)

func newDevCmd(c *cli) *cobra.Command {
	o := &serveOptions{mode: "dev"}
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the sandbox with demo data: the fastest way to start",
		Long: `Run the GHL-compatible sandbox on a local SQLite file with demo data — an agency,
two locations, users, 50 contacts, custom fields, a pipeline, a calendar, workflows
and a campaign — and print a Private Integration Token for the demo location with
every scope, plus snippets to try it.

The demo data is loaded once; later runs on the same file keep your changes and
print the same ids and token. The demo tokens are derived from a fixed seed:
they are well-known development credentials, like Stripe's test keys, so keep
the server on a loopback address (the default).`,
		Example: `  ghlkit dev
  ghlkit dev --json --listen 127.0.0.1:0     # first stdout line: {"baseUrl","companyId","locationId","token"}
  ghlkit dev --db sqlite:/tmp/scratch.db --rate-limit off`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return serve(cmd.Context(), c, o) },
	}
	addServeFlags(cmd, o, "demo")
	return cmd
}

var bannerTemplate = template.Must(template.New("banner").Parse(`
  ghlkit {{.Mode}} — GoHighLevel-compatible sandbox

  Base URL      {{.BaseURL}}
  Database      {{.DB}}
{{- if .Seed}}
  Company       {{.Seed.CompanyID}}  (agency)
  Location      {{.Seed.LocationID}}  (demo location, {{len .Seed.ContactIDs}} contacts)
  Token         {{.Seed.Token}}
  Agency token  {{.Seed.AgencyToken}}

  These demo tokens carry every scope and are well-known development
  credentials (like Stripe's test keys): never expose this server.

  Try it:

    export GHL_BASE={{.BaseURL}} GHL_LOCATION={{.Seed.LocationID}} GHL_TOKEN={{.Seed.Token}}
    curl -s "$GHL_BASE/contacts/?locationId=$GHL_LOCATION&limit=3" \
      -H "Authorization: Bearer $GHL_TOKEN" -H "Version: 2021-07-28"
    curl -s -X POST "$GHL_BASE/contacts/" -H "Authorization: Bearer $GHL_TOKEN" \
      -H "Version: 2021-07-28" -H "Content-Type: application/json" \
      -d '{"locationId":"'"$GHL_LOCATION"'","firstName":"Ada","email":"ada@example.com","tags":["lead"]}'

  Node (official SDK, @gohighlevel/api-client):

    const ghl = new HighLevel({ privateIntegrationToken: "{{.Seed.Token}}" });
    ghl.getHttpClient().defaults.baseURL = "{{.BaseURL}}";

  Go (github.com/ghlkit/ghlkit/ghl):

    c, err := ghl.NewClient(ghl.WithBaseURL("{{.BaseURL}}"),
        ghl.WithPrivateIntegrationToken("{{.Seed.Token}}"))
{{- else}}

  No data loaded (--seed none). Create a token for a location with:

    ghlkit token create --db {{.DBFlag}} --location LOCATION_ID
{{- end}}

  Stop with Ctrl-C.

`))

// printBanner writes the human start-up summary to w.
func printBanner(w io.Writer, mode string, info startup, seed *sandbox.SeedResult, db dbTarget) {
	data := struct {
		Mode, BaseURL, DB, DBFlag string
		Seed                      *sandbox.SeedResult
	}{Mode: mode, BaseURL: info.BaseURL, DB: db.String(), DBFlag: shellQuote(db.String()), Seed: seed}
	if err := bannerTemplate.Execute(w, data); err != nil {
		fmt.Fprintf(w, "ghlkit %s listening on %s\n", mode, info.BaseURL)
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
