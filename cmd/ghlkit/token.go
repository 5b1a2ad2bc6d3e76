package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ghlkit/ghlkit/sandbox"
)

func newTokenCmd(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage the sandbox's Private Integration Tokens",
		Args:  subcommandArgs,
		RunE:  missingSubcommand,
	}
	cmd.AddCommand(newTokenCreateCmd(c))
	return cmd
}

type tokenCreateOptions struct {
	location, company, scopes, name, db string
	json                                bool
}

func newTokenCreateCmd(c *cli) *cobra.Command {
	o := &tokenCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Mint a Private Integration Token for a location or an agency",
		Long: `Mint a Private Integration Token in the sandbox's database (the same --db the
server uses; it may be running) and print it. The token is stored only as a
hash, so this is the one time it is shown.

The database must exist: start the sandbox (ghlkit dev or ghlkit sandbox) on
it first. A location (sub-account) token needs --location; an agency token
needs --company and no --location. Without --scopes the token has every scope
the sandbox knows; --scopes names them instead (an empty --scopes is refused).`,
		Example: `  ghlkit token create --location ve9EPM428h8vShlRW1KT
  ghlkit token create --location ve9EPM428h8vShlRW1KT --scopes "contacts.readonly contacts.write" --name "CRM sync"
  ghlkit token create --company 5DP4iH6HLkQsiKESj6rh --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return tokenCreate(cmd, c, o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.location, "location", "", "location (sub-account) id the token acts for")
	fs.StringVar(&o.company, "company", "", "company (agency) id: alone, mints an agency token")
	fs.StringVar(&o.scopes, "scopes", "", `scopes, separated by commas or spaces (when not given: every scope)`)
	fs.StringVar(&o.name, "name", "ghlkit token create", "a name to recognise the token by")
	fs.BoolVar(&o.json, "json", false, "print the token and its details as JSON")
	addDBFlag(fs, &o.db)
	return cmd
}

// splitScopes reads "a,b", "a b" or a mix.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// scopesFlag reads the --scopes flag of cmd, whose value is v: nil when it
// was not given (every scope), else the scopes it names, each one known to
// the sandbox. A --scopes that names none is a usage error (exit 2), not a
// request for every scope; an unknown scope fails the command (exit 1, as
// README's exit codes have it), before any database is opened.
func scopesFlag(cmd *cobra.Command, v string) ([]string, error) {
	scopes := splitScopes(v)
	if len(scopes) == 0 {
		if cmd.Flags().Changed("scopes") {
			return nil, usageErrorf("--scopes is empty: name at least one scope, or leave --scopes out for every scope")
		}
		return nil, nil
	}
	var unknown []string
	for _, sc := range scopes {
		if !sandbox.ScopeKnown(sc) {
			unknown = append(unknown, strconv.Quote(sc))
		}
	}
	if len(unknown) == 1 {
		return nil, fmt.Errorf("--scopes: unknown scope %s", unknown[0])
	} else if len(unknown) > 1 {
		return nil, fmt.Errorf("--scopes: unknown scopes %s", strings.Join(unknown, ", "))
	}
	return scopes, nil
}

func tokenCreate(cmd *cobra.Command, c *cli, o *tokenCreateOptions) error {
	if o.location == "" && o.company == "" {
		return usageErrorf("give --location for a location token or --company for an agency token")
	}
	scopes, err := scopesFlag(cmd, o.scopes)
	if err != nil {
		return err
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
	secret, tok, err := sandbox.CreatePrivateToken(ctx, st, sandbox.PITParams{
		LocationID: o.location, CompanyID: o.company, Scopes: scopes, Name: o.name,
	})
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("closing the database: %w", err)
	}
	return printToken(c.stdout, c.stderr, o.json, secret, tok)
}

// printToken writes the secret alone on stdout (so $(ghlkit token create …)
// captures just it) and a note on stderr, or everything as JSON.
func printToken(stdout, stderr io.Writer, asJSON bool, secret string, tok *sandbox.Token) error {
	if asJSON {
		out, err := json.Marshal(map[string]any{
			"token": secret, "id": tok.ID, "name": tok.Name, "userType": tok.UserType,
			"companyId": tok.CompanyID, "locationId": tok.LocationID, "scopes": tok.Scopes,
		})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", out)
		return err
	}
	target := "location " + tok.LocationID
	if tok.UserType == sandbox.UserTypeCompany {
		target = "agency " + tok.CompanyID
	}
	fmt.Fprintf(stderr, "Created Private Integration Token %s for %s with %d scope(s). It is shown only now:\n", tok.ID, target, len(tok.Scopes))
	_, err := fmt.Fprintln(stdout, secret)
	return err
}
