package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlkit/ghlkit/sandbox"
	"github.com/ghlkit/ghlkit/sandbox/outbound"
	"github.com/ghlkit/ghlkit/webhook"
)

type triggerOptions struct {
	to, db, secret, location string
	set                      []string
	list, print              bool
	timeout                  time.Duration
}

func newTriggerCmd(c *cli) *cobra.Command {
	o := &triggerOptions{}
	cmd := &cobra.Command{
		Use:   "trigger EVENT --to URL",
		Short: "Send a signed sample webhook event to a URL",
		Long: `Send a realistic sample of a GHL webhook event (the example of GHL's docs, with
a fresh timestamp and webhookId) to a URL, signed as the sandbox signs its
deliveries: Ed25519 in X-GHL-Signature and RSA in X-WH-Signature, with the
keys kept in the sandbox's database (--db, as for the server). With --secret
it is signed instead as GHL's workflow webhooks are: X-GHL-Signature:
sha256=<hex HMAC-SHA256>.

ghlkit trigger --list names the events. The command fails (exit 1) when the
receiver does not answer 2xx.`,
		Example: `  ghlkit trigger ContactCreate --to http://localhost:3000/webhooks
  ghlkit trigger AppInstall --to http://localhost:3000/webhooks --location ve9EPM428h8vShlRW1KT
  ghlkit trigger OpportunityStageUpdate --to http://localhost:3000/hooks --secret whsec_123
  ghlkit trigger ContactTagUpdate --set 'tags=["vip"]' --print
  ghlkit trigger --list`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.list {
				return noArgs(cmd, args)
			}
			if len(args) != 1 {
				return usageErrorf("trigger needs one event name (ghlkit trigger --list names them)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runTrigger(cmd, c, o, args) },
	}
	fs := cmd.Flags()
	fs.StringVar(&o.to, "to", "", "URL to POST the event to")
	addDBFlag(fs, &o.db)
	fs.StringVar(&o.secret, "secret", "", "sign with HMAC-SHA256 under this shared secret instead of the sandbox's keys")
	fs.StringVar(&o.location, "location", "", "locationId to put in the event")
	fs.StringArrayVar(&o.set, "set", nil, "set a top-level field: name=value (value as JSON, else a string); repeatable")
	fs.BoolVar(&o.list, "list", false, "list the event names and exit")
	fs.BoolVar(&o.print, "print", false, "print the signed request (headers on stderr, body on stdout) instead of sending it")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "how long to wait for the receiver")
	return cmd
}

func runTrigger(cmd *cobra.Command, c *cli, o *triggerOptions, args []string) error {
	if o.list {
		for _, name := range webhook.EventNames() {
			fmt.Fprintln(c.stdout, name)
		}
		return nil
	}
	name, err := eventName(args[0])
	if err != nil {
		return err
	}
	if o.to == "" && !o.print {
		return usageErrorf("give --to URL (or --print to see the request without sending it)")
	}
	if o.to != "" && !strings.HasPrefix(o.to, "http://") && !strings.HasPrefix(o.to, "https://") {
		return usageErrorf("--to must be an http:// or https:// URL, got %q", o.to)
	}
	fields := map[string]json.RawMessage{}
	var order []string
	for _, kv := range o.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageErrorf("--set %q: want name=value", kv)
		}
		raw, err := webhook.Marshal(json.RawMessage(v))
		if !json.Valid([]byte(v)) || err != nil {
			raw, _ = webhook.Marshal(v)
		}
		fields[k] = raw
		order = append(order, k)
	}
	if o.location != "" {
		raw, _ := webhook.Marshal(o.location)
		fields["locationId"] = raw
		order = append(order, "locationId")
	}
	stamp, _ := webhook.Marshal(time.Now().UTC().Format(sandbox.TimeLayout))
	id, _ := webhook.Marshal(sandbox.NewID())
	fields["timestamp"], fields["webhookId"] = stamp, id
	order = append(order, "timestamp", "webhookId")
	body, err := setMembers(webhook.SamplePayload(name), order, fields)
	if err != nil {
		return err
	}
	// Encoded as JSON.stringify would, so the official SDK, which verifies
	// JSON.stringify(req.body), accepts the signature.
	if body, err = webhook.Marshal(json.RawMessage(body)); err != nil {
		return err
	}

	var signers []webhook.Signer
	if o.secret != "" {
		signers = []webhook.Signer{webhook.HMACSigner{Secret: []byte(o.secret)}}
	} else {
		db, err := parseDB(o.db)
		if err != nil {
			return &usageError{err}
		}
		created := db.newSQLiteFile()
		st, err := db.open(cmd.Context(), slog.New(slog.DiscardHandler))
		if err != nil {
			return err
		}
		keys, err := outbound.EnsureKeys(cmd.Context(), st, 0)
		st.Close()
		if err != nil {
			return err
		}
		if created {
			noteNewKeys(c.stderr, db)
		}
		signers = keys.Signers(true)
	}
	header := http.Header{}
	for _, s := range signers {
		sig, err := s.Signature(body)
		if err != nil {
			return err
		}
		header[s.HeaderName()] = []string{sig}
	}
	header.Set("Content-Type", "application/json")
	header.Set("User-Agent", "ghlkit-trigger")

	if o.print {
		for _, k := range slices.Sorted(func(yield func(string) bool) {
			for k := range header {
				if !yield(k) {
					return
				}
			}
		}) {
			fmt.Fprintf(c.stderr, "%s: %s\n", k, header[k][0])
		}
		_, err := fmt.Fprintf(c.stdout, "%s\n", body)
		return err
	}

	ctx, cancel := context.WithTimeout(cmd.Context(), o.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.to, bytes.NewReader(body))
	if err != nil {
		return usageErrorf("--to: %v", err)
	}
	req.Header = header
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("sending %s to %s: %w", name, o.to, err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	fmt.Fprintf(c.stdout, "%s webhookId=%s -> %s (%s)\n", name, strings.Trim(string(id), `"`), res.Status, time.Since(start).Round(time.Millisecond/10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("the receiver answered %s: %s", res.Status, strings.TrimSpace(string(answer)))
	}
	return nil
}

// eventName finds an event by its name, ignoring case.
func eventName(arg string) (string, error) {
	names := webhook.EventNames()
	for _, n := range names {
		if strings.EqualFold(n, arg) {
			return n, nil
		}
	}
	var near []string
	for _, n := range names {
		if strings.Contains(strings.ToLower(n), strings.ToLower(arg)) {
			near = append(near, n)
		}
	}
	if len(near) > 0 && len(near) <= 8 {
		return "", usageErrorf("unknown event %q; did you mean %s?", arg, strings.Join(near, ", "))
	}
	return "", usageErrorf("unknown event %q (ghlkit trigger --list names them)", arg)
}

// setMembers replaces or appends top-level members of a JSON object,
// keeping the order of the others, so the sample reads as GHL's docs show
// it: members named in order are set to fields[name], in place when the
// object has them, else at the end.
func setMembers(obj []byte, order []string, fields map[string]json.RawMessage) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("sample payload is not a JSON object")
	}
	var out bytes.Buffer
	out.WriteByte('{')
	done := map[string]bool{}
	write := func(k string, v json.RawMessage) {
		if out.Len() > 1 {
			out.WriteByte(',')
		}
		key, _ := webhook.Marshal(k)
		out.Write(key)
		out.WriteByte(':')
		out.Write(v)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if nv, ok := fields[k]; ok {
			v, done[k] = nv, true
		}
		write(k, v)
	}
	for _, k := range order {
		if !done[k] {
			write(k, fields[k])
			done[k] = true
		}
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
