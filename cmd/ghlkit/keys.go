package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/ghlkit/ghlkit/sandbox/outbound"
)

type keysOptions struct {
	db           string
	ed25519, rsa bool
	json         bool
}

func newKeysCmd(c *cli) *cobra.Command {
	o := &keysOptions{}
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Print the public keys the sandbox signs webhooks with",
		Long: `Print the public halves of the sandbox's webhook signing keys as PEM, read from
the sandbox's database (the same --db the server uses; it may be running):
first the Ed25519 key that verifies X-GHL-Signature, then the RSA key that
verifies X-WH-Signature. The keys are generated on the sandbox's first start
(or here, if this runs first) and then stay the same.

GHL's official Node SDK reads them from WEBHOOK_SIGNATURE_PUBLIC_KEY (Ed25519)
and WEBHOOK_PUBLIC_KEY (RSA); --ed25519 and --rsa print one key alone for that.`,
		Example: `  ghlkit keys
  export WEBHOOK_SIGNATURE_PUBLIC_KEY="$(ghlkit keys --ed25519)"
  export WEBHOOK_PUBLIC_KEY="$(ghlkit keys --rsa)"
  ghlkit keys --db postgres://ghlkit@db/ghlkit --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runKeys(cmd, c, o) },
	}
	fs := cmd.Flags()
	addDBFlag(fs, &o.db)
	fs.BoolVar(&o.ed25519, "ed25519", false, "print only the Ed25519 key (X-GHL-Signature)")
	fs.BoolVar(&o.rsa, "rsa", false, "print only the RSA key (X-WH-Signature)")
	fs.BoolVar(&o.json, "json", false, `print {"ed25519": PEM, "rsa": PEM}`)
	return cmd
}

func runKeys(cmd *cobra.Command, c *cli, o *keysOptions) error {
	if o.ed25519 && o.rsa {
		return usageErrorf("give --ed25519 or --rsa, not both (neither prints both keys)")
	}
	db, err := parseDB(o.db)
	if err != nil {
		return &usageError{err}
	}
	ctx := cmd.Context()
	created := db.newSQLiteFile()
	st, err := db.open(ctx, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := outbound.EnsureKeys(ctx, st, 0)
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return fmt.Errorf("closing the database: %w", err)
	}
	if created {
		noteNewKeys(c.stderr, db)
	}
	switch {
	case o.json:
		out, _ := json.Marshal(map[string]string{"ed25519": keys.Ed25519PEM, "rsa": keys.RSAPEM})
		_, err = fmt.Fprintf(c.stdout, "%s\n", out)
	case o.ed25519:
		_, err = fmt.Fprint(c.stdout, keys.Ed25519PEM)
	case o.rsa:
		_, err = fmt.Fprint(c.stdout, keys.RSAPEM)
	default:
		_, err = fmt.Fprint(c.stdout, keys.Ed25519PEM+keys.RSAPEM)
	}
	return err
}

// noteNewKeys tells that keys or trigger found no database and made one,
// with new signing keys: by design (the keys may be printed before the
// sandbox first starts), but a mistyped --db, or the default one from
// another directory, would otherwise yield keys no sandbox signs with.
func noteNewKeys(w io.Writer, db dbTarget) {
	fmt.Fprintf(w, "ghlkit: note: there was no sandbox database at %s; created it with new signing keys, which a sandbox started with the same --db signs with\n", db.sqlitePath())
}
