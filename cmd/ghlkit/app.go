package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ghlkit/ghlkit/sandbox"
)

func newAppCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "Manage the sandbox's marketplace (OAuth) apps",
		Args:  subcommandArgs,
		RunE:  missingSubcommand,
	}
	cmd.AddCommand(newAppCreateCmd(c))
	return cmd
}

type appCreateOptions struct {
	name, scopes, webhookURL, company, clientID, clientSecret, baseURL, db string
	redirectURIs                                                           []string
	distribution                                                           *choiceValue
	json                                                                   bool
}

// distributions maps the --distribution choices to GHL's names.
var distributions = map[string]string{
	"sub-account": sandbox.DistributionSubAccount,
	"agency":      sandbox.DistributionAgency,
	"both":        sandbox.DistributionBoth,
}

func newAppCreateCmd(c *cli) *cobra.Command {
	o := &appCreateOptions{distribution: newChoice("sub-account", "sub-account", "agency", "both")}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Register a marketplace app and print its client id and secret",
		Long: `Register a marketplace (OAuth 2.0) app in the sandbox's database and print its
client_id and client_secret. The secret is stored only as a hash: this is the
one time it is shown.

The database must exist: start the sandbox (ghlkit dev or ghlkit sandbox) on
it first. Redirect URIs must be absolute http or https URLs without a fragment.
Without --scopes the app may request every scope.

Also printed: the consent URL that starts the authorization code flow. Open it
in a browser, pick a location, and the sandbox redirects to your redirect URI
with ?code=…, which you exchange at POST /oauth/token.`,
		Example: `  ghlkit app create --name "My App" --redirect-uri http://localhost:3000/oauth/callback \
      --scopes "contacts.readonly contacts.write"
  ghlkit app create --name "Agency App" --redirect-uri https://app.example/cb --distribution both --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return appCreate(cmd, c, o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.name, "name", "", "the app's name (required)")
	fs.StringArrayVar(&o.redirectURIs, "redirect-uri", nil, "an allowed redirect URI, an http(s) URL (required; repeat for several)")
	fs.StringVar(&o.scopes, "scopes", "", "scopes the app may request, separated by commas or spaces (when not given: every scope)")
	fs.Var(o.distribution, "distribution", "who installs it: sub-account, agency or both")
	fs.StringVar(&o.webhookURL, "webhook-url", "", "URL that receives the app's webhook events")
	fs.StringVar(&o.company, "company", "", "the developer's company id (informative)")
	fs.StringVar(&o.clientID, "client-id", "", "use this client id instead of a generated one (fixed credentials for a dev setup)")
	fs.StringVar(&o.clientSecret, "client-secret", "", "use this client secret instead of a generated one")
	fs.StringVar(&o.baseURL, "base-url", "http://127.0.0.1:8080", "the sandbox's URL, for the consent URL")
	fs.BoolVar(&o.json, "json", false, "print the app as JSON (RFC 7591 names: client_id, client_secret, redirect_uris, …)")
	addDBFlag(fs, &o.db)
	configurable(fs, "base-url")
	return cmd
}

func appCreate(cmd *cobra.Command, c *cli, o *appCreateOptions) error {
	if strings.TrimSpace(o.name) == "" {
		return usageErrorf("--name is required")
	}
	if len(o.redirectURIs) == 0 {
		return usageErrorf("--redirect-uri is required (repeat it for several)")
	}
	if !strings.HasPrefix(o.baseURL, "http://") && !strings.HasPrefix(o.baseURL, "https://") {
		return usageErrorf("--base-url must start with http:// or https://, got %q", o.baseURL)
	}
	scopes, err := scopesFlag(cmd, o.scopes)
	if err != nil {
		return err
	}
	params := sandbox.AppParams{
		Name: o.name, RedirectURIs: o.redirectURIs, Scopes: scopes, CompanyID: o.company,
		DistributionType: distributions[o.distribution.value], WebhookURL: o.webhookURL,
		ClientID: o.clientID, ClientSecret: o.clientSecret,
	}
	// What the flags say wrong on their own (a javascript: redirect URI, a
	// malformed client id, …) is a usage error, found before the database
	// is opened (unknown scopes were refused above, with exit 1 as for
	// token create); what needs the database (an unknown --company, a
	// taken client id) fails the command.
	if err := sandbox.CheckAppParams(params); err != nil {
		return &usageError{err}
	}
	db, err := parseDB(o.db)
	if err != nil {
		return &usageError{err}
	}
	ctx := cmd.Context()
	st, err := db.openExisting(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	app, secret, err := sandbox.CreateApp(ctx, st, params)
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("closing the database: %w", err)
	}
	return printApp(c.stdout, c.stderr, o.json, app, secret, consentURL(o.baseURL, app, scopes))
}

// consentURL is where the authorization code flow starts, as GHL's
// marketplace.gohighlevel.com/oauth/chooselocation?… link does. It asks for
// the scopes given on the command line; without them it names none, which
// the consent page takes as all of the app's (a URL listing every scope
// would be kilobytes long).
func consentURL(base string, app *sandbox.App, scopes []string) string {
	q := url.Values{}
	q.Set("response_type", "code")
	q.Set("client_id", app.ClientID)
	q.Set("redirect_uri", app.RedirectURIs[0])
	if len(scopes) > 0 {
		q.Set("scope", strings.Join(scopes, " "))
	}
	return strings.TrimRight(base, "/") + "/oauth/chooselocation?" + q.Encode()
}

func printApp(stdout, stderr io.Writer, asJSON bool, app *sandbox.App, secret, consent string) error {
	if asJSON {
		out, err := json.Marshal(map[string]any{
			"app_id": app.ID, "client_name": app.Name, "client_id": app.ClientID, "client_secret": secret,
			"redirect_uris": app.RedirectURIs, "scope": strings.Join(app.Scopes, " "),
			"distribution_type": app.DistributionType, "consent_url": consent,
		})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", out)
		return err
	}
	fmt.Fprintf(stderr, "Registered app %q (%s). The client secret is shown only now.\n", app.Name, app.DistributionType)
	_, err := fmt.Fprintf(stdout, "app_id         %s\nclient_id      %s\nclient_secret  %s\nconsent_url    %s\n",
		app.ID, app.ClientID, secret, consent)
	return err
}
