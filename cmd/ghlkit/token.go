package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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

A location (sub-account) token needs --location; an agency token needs
--company and no --location. Scopes default to every scope.`,
		Example: `  ghlkit token create --location ve9EPM428h8vShlRW1KT
  ghlkit token create --location ve9EPM428h8vShlRW1KT --scopes "contacts.readonly contacts.write" --name "CRM sync"
  ghlkit token create --company 5DP4iH6HLkQsiKESj6rh --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return tokenCreate(cmd, c, o) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.location, "location", "", "location (sub-account) id the token acts for")
	fs.StringVar(&o.company, "company", "", "company (agency) id: alone, mints an agency token")
	fs.StringVar(&o.scopes, "scopes", "", `scopes, separated by commas or spaces (default: every scope)`)
	fs.StringVar(&o.name, "name", "ghlkit token create", "a name to recognise the token by")
	fs.BoolVar(&o.json, "json", false, "print the token and its details as JSON")
	addDBFlag(fs, &o.db)
	return cmd
}

// splitScopes reads "a,b", "a b" or a mix.
func splitScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

func tokenCreate(cmd *cobra.Command, c *cli, o *tokenCreateOptions) error {
	if o.location == "" && o.company == "" {
		return usageErrorf("give --location for a location token or --company for an agency token")
	}
	db, err := parseDB(o.db)
	if err != nil {
		return &usageError{err}
	}
	ctx := cmd.Context()
	st, err := db.open(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	secret, tok, err := sandbox.CreatePrivateToken(ctx, st, sandbox.PITParams{
		LocationID: o.location, CompanyID: o.company, Scopes: splitScopes(o.scopes), Name: o.name,
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
