package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ghlkit/ghlkit/sandbox"
)

// defaultSandboxURL is where the commands that talk to a running sandbox
// find it unless told otherwise.
const defaultSandboxURL = "http://127.0.0.1:8080"

// addSandboxFlag registers --sandbox (env GHLKIT_SANDBOX).
func addSandboxFlag(fs *pflag.FlagSet, dst *string) {
	fs.StringVar(dst, "sandbox", defaultSandboxURL, "URL of the running sandbox")
	configurable(fs, "sandbox")
}

// adminClient calls a running sandbox's admin API (/_ghlkit/…).
type adminClient struct {
	base string
	http *http.Client
}

func newAdminClient(base string) (*adminClient, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErrorf("--sandbox must be an http:// or https:// URL, got %q", base)
	}
	return &adminClient{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// call sends a JSON request and decodes the JSON answer into out (when not
// nil). An error answer becomes an error with the sandbox's message.
func (a *adminClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the sandbox at %s: %w", a.base, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 16<<20))
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		var e struct {
			Message any `json:"message"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Message != nil {
			if list, ok := e.Message.([]any); ok {
				parts := make([]string, len(list))
				for i, m := range list {
					parts[i] = fmt.Sprint(m)
				}
				e.Message = strings.Join(parts, "; ")
			}
			return fmt.Errorf("sandbox: %v (%s)", e.Message, res.Status)
		}
		return fmt.Errorf("sandbox: %s: %s", res.Status, strings.TrimSpace(string(raw)))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(raw, out)
}

// webhookCmdOptions are the flags every `ghlkit webhook` command shares.
type webhookCmdOptions struct {
	sandbox string
	json    bool
}

func newWebhookCmd(c *cli) *cobra.Command {
	o := &webhookCmdOptions{}
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "Manage a running sandbox's webhook subscriptions and deliveries",
		Long: `Manage the outbound webhooks of a running sandbox through its admin API: a
location's own webhooks (Settings > Webhooks) and marketplace apps' webhook
URLs, the delivery log, and replays.

Every delivery is signed with the sandbox's keys (see ghlkit keys); a location
webhook with a secret also carries X-GHLKit-Signature: sha256=<hex HMAC>.
Retry policies: ghl (the default, as GHL: only a 429 is retried, up to 6 more
times about 10 minutes apart) or exponential (also 5xx, timeouts and
connection errors, with capped exponential backoff).`,
		Args: subcommandArgs,
		RunE: missingSubcommand,
	}
	fs := cmd.PersistentFlags()
	addSandboxFlag(fs, &o.sandbox)
	fs.BoolVar(&o.json, "json", false, "print the sandbox's JSON answer")
	cmd.AddCommand(newWebhookListCmd(c, o), newWebhookCreateCmd(c, o), newWebhookDeleteCmd(c, o),
		newWebhookDeliveriesCmd(c, o), newWebhookReplayCmd(c, o))
	return cmd
}

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// webhookRow is a subscription as the admin API lists it.
type webhookRow struct {
	sandbox.Webhook
	HasSecret bool `json:"hasSecret"`
}

func newWebhookListCmd(c *cli, o *webhookCmdOptions) *cobra.Command {
	var location, app string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List webhook subscriptions",
		Example: "  ghlkit webhook list --location ve9EPM428h8vShlRW1KT",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ac, err := newAdminClient(o.sandbox)
			if err != nil {
				return err
			}
			q := url.Values{}
			if location != "" {
				q.Set("locationId", location)
			}
			if app != "" {
				q.Set("appId", app)
			}
			var out struct {
				Webhooks []webhookRow `json:"webhooks"`
			}
			if err := ac.call(cmd.Context(), "GET", "/_ghlkit/webhooks?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if o.json {
				return printJSON(c.stdout, out)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTYPE\tFOR\tURL\tEVENTS\tRETRY\tSECRET")
			for _, w := range out.Webhooks {
				target := w.LocationID
				if w.Type == sandbox.WebhookTypeApp {
					target = w.AppID
				}
				events := strings.Join(w.Events, ",")
				if events == "" {
					events = "*"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%v\n", w.ID, w.Type, target, w.URL, events, w.RetryPolicy, w.HasSecret)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&location, "location", "", "only this location's webhooks")
	cmd.Flags().StringVar(&app, "app", "", "only this app's subscription")
	return cmd
}

func newWebhookCreateCmd(c *cli, o *webhookCmdOptions) *cobra.Command {
	var location, app, target, events, secret, retry, name string
	cmd := &cobra.Command{
		Use:   "create --url URL (--location ID | --app ID)",
		Short: "Add a location webhook, or set an app's webhook",
		Long: `Add a webhook to a location (--location), or set a marketplace app's webhook
URL, events and retry policy (--app, by app id or client id; the app receives
events of every location it is installed on). --events takes event names
separated by commas; without it every event is sent.`,
		Example: `  ghlkit webhook create --location ve9EPM428h8vShlRW1KT --url http://localhost:3000/hooks --events ContactCreate,ContactUpdate
  ghlkit webhook create --location ve9EPM428h8vShlRW1KT --url https://example.com/hooks --secret s3cret --retry exponential
  ghlkit webhook create --app 6630a8ba1b8e2b7c9c2f1d3e --url http://localhost:3000/app-hooks`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (location == "") == (app == "") {
				return usageErrorf("give --location ID for a location webhook or --app ID for an app's webhook")
			}
			if target == "" {
				return usageErrorf("give --url, where the deliveries go")
			}
			ac, err := newAdminClient(o.sandbox)
			if err != nil {
				return err
			}
			body := map[string]any{"url": target, "events": splitScopes(events), "retryPolicy": retry, "name": name}
			method, path := "POST", "/_ghlkit/webhooks"
			if app != "" {
				method, path = "PUT", "/_ghlkit/apps/"+url.PathEscape(app)+"/webhook"
			} else {
				body["locationId"], body["secret"] = location, secret
			}
			var out struct {
				Webhook webhookRow `json:"webhook"`
			}
			if err := ac.call(cmd.Context(), method, path, body, &out); err != nil {
				return err
			}
			if o.json {
				return printJSON(c.stdout, out)
			}
			fmt.Fprintf(c.stderr, "Webhook %s sends %s events to %s (retry policy %s).\n", out.Webhook.ID, orAll(out.Webhook.Events), out.Webhook.URL, out.Webhook.RetryPolicy)
			_, err = fmt.Fprintln(c.stdout, out.Webhook.ID)
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&location, "location", "", "location (sub-account) id")
	fs.StringVar(&app, "app", "", "marketplace app id or client id")
	fs.StringVar(&target, "url", "", "URL the deliveries are POSTed to")
	fs.StringVar(&events, "events", "", "event names, separated by commas (default: every event)")
	fs.StringVar(&secret, "secret", "", "HMAC secret (location webhooks): adds X-GHLKit-Signature: sha256=<hex>")
	fs.StringVar(&retry, "retry", "ghl", "retry policy: ghl or exponential")
	fs.StringVar(&name, "name", "", "a name to recognise the webhook by")
	return cmd
}

func orAll(events []string) string {
	if len(events) == 0 {
		return "all"
	}
	return strings.Join(events, ",")
}

func newWebhookDeleteCmd(c *cli, o *webhookCmdOptions) *cobra.Command {
	var app bool
	cmd := &cobra.Command{
		Use:     "delete ID",
		Short:   "Delete a webhook subscription",
		Example: "  ghlkit webhook delete 3Fq9kPz1aBcDeFgHiJkL",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("delete needs the webhook's id")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ac, err := newAdminClient(o.sandbox)
			if err != nil {
				return err
			}
			path := "/_ghlkit/webhooks/" + url.PathEscape(args[0])
			if app {
				path = "/_ghlkit/apps/" + url.PathEscape(args[0]) + "/webhook"
			}
			var out map[string]any
			if err := ac.call(cmd.Context(), "DELETE", path, nil, &out); err != nil {
				return err
			}
			if o.json {
				return printJSON(c.stdout, out)
			}
			fmt.Fprintf(c.stderr, "Deleted webhook %v.\n", out["id"])
			return nil
		},
	}
	cmd.Flags().BoolVar(&app, "app", false, "ID is an app (id or client id): remove its webhook subscription")
	return cmd
}

func newWebhookDeliveriesCmd(c *cli, o *webhookCmdOptions) *cobra.Command {
	var event, subscription, delivery string
	var limit int
	cmd := &cobra.Command{
		Use:   "deliveries",
		Short: "Show the delivery log, newest first",
		Long: `Show the delivery log of the running sandbox, newest first: one line per
attempt with its result (delivered, retrying, failed), the receiver's status
or the error, and the latency. Replay any of them with ghlkit webhook replay.`,
		Example: `  ghlkit webhook deliveries --limit 20
  ghlkit webhook deliveries --event 4ZyTcY9kHmMvbJpS2xQa`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 1000 {
				return usageErrorf("--limit must be from 1 to 1000, got %d", limit)
			}
			ac, err := newAdminClient(o.sandbox)
			if err != nil {
				return err
			}
			q := url.Values{"limit": {strconv.Itoa(limit)}}
			for k, v := range map[string]string{"eventId": event, "subscriptionId": subscription, "deliveryId": delivery} {
				if v != "" {
					q.Set(k, v)
				}
			}
			var out struct {
				Deliveries []sandbox.WebhookAttempt `json:"deliveries"`
			}
			if err := ac.call(cmd.Context(), "GET", "/_ghlkit/webhooks/deliveries?"+q.Encode(), nil, &out); err != nil {
				return err
			}
			if o.json {
				return printJSON(c.stdout, out)
			}
			tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTIME\tEVENT\tWEBHOOKID\tSUBSCRIPTION\tATTEMPT\tRESULT\tSTATUS\tLATENCY")
			for _, a := range out.Deliveries {
				status := strconv.Itoa(a.StatusCode)
				if a.StatusCode == 0 {
					status = a.Error
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%.1fms\n", a.ID, a.CreatedAt.Format(time.RFC3339), a.EventType, a.EventID,
					a.SubscriptionID, a.Attempt, a.Result, status, a.LatencyMs)
			}
			return tw.Flush()
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&event, "event", "", "only deliveries of this event (its webhookId)")
	fs.StringVar(&subscription, "subscription", "", "only deliveries to this webhook subscription")
	fs.StringVar(&delivery, "delivery", "", "only the attempts of this delivery")
	fs.IntVar(&limit, "limit", 50, "how many to show")
	return cmd
}

func newWebhookReplayCmd(c *cli, o *webhookCmdOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "replay ID",
		Short: "Deliver a logged delivery again, as a new delivery",
		Long: `Deliver again the event of a logged delivery (by the id of an attempt or of a
delivery, as ghlkit webhook deliveries shows them) to the same subscription:
the same payload, webhookId and signatures, as a new delivery under the
subscription's retry policy. Prints the new delivery's id.`,
		Example: "  ghlkit webhook replay 8sLkQ2nVbXc4RtYuIoPa",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("replay needs the id of a delivery")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ac, err := newAdminClient(o.sandbox)
			if err != nil {
				return err
			}
			var out map[string]any
			if err := ac.call(cmd.Context(), "POST", "/_ghlkit/webhooks/deliveries/"+url.PathEscape(args[0])+"/replay", nil, &out); err != nil {
				return err
			}
			if o.json {
				return printJSON(c.stdout, out)
			}
			_, err = fmt.Fprintln(c.stdout, out["deliveryId"])
			return err
		},
	}
}
