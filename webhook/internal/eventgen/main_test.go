package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedUpToDate fails when events_gen.go is not what the generator
// makes of the committed events.json: run `go generate ./webhook`.
func TestGeneratedUpToDate(t *testing.T) {
	raw, err := os.ReadFile("events.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := generate(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", "events_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("webhook/events_gen.go is stale; run go generate ./webhook")
	}
}

func TestEventsJSONIsCanonical(t *testing.T) {
	raw, err := os.ReadFile("events.json")
	if err != nil {
		t.Fatal(err)
	}
	var f EventsFile
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	again, err := encodeEventsFile(&f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(raw, again) {
		t.Error("events.json was edited by hand or by another encoder; regenerate it with -extract")
	}
	if len(f.Events) != 58 {
		t.Errorf("%d events, want 58", len(f.Events))
	}
}

// testDoc mimics GHL's doc quirks: a brace glued to the fence, a trailing
// comma, two schemas, an example-only field and a field whose example
// contradicts the schema.
const testDoc = "---\ntags: [Webhook Events]\n---\n\n# Widget\n\n" +
	"Called whenever a **widget** is `made`.\n\n#### Schema\n\n" +
	"```json json_schema\n" + `{
  "type": "object",
  "properties": {
    "type": { "type": "string" },
    "locationId": { "type": "string" },
    "to": { "type": "string" },
    "count": { "type": "integer" },
    "price": { "type": "number" },
    "items": { "type": "array", "items": { "type": "object", "properties": { "id": { "type": "string" } } } },
    "any": { "type": ["string", "number"] },
  }
}
` + "```\n\n#### Email Schema\n\n```json json_schema\n" + `{"type":"object","properties":{"cc":{"type":"string"}}}
` + "```\n\n#### Example\n\n```json{\n" + `  "type": "WidgetMake",
  "locationId": "loc",
  "to": ["a@example.com"],
  "count": 2,
  "price": 1.5,
  "items": [{"id": "i1", "extra": true}],
  "any": 3,
  "note": "only in the example"
}
` + "```\n"

func TestExtractAndGenerate(t *testing.T) {
	ev, err := extractDoc("WidgetMake", testDoc)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Description != "Called whenever a **widget** is `made`." {
		t.Errorf("description = %q", ev.Description)
	}
	var names []string
	for _, p := range ev.Properties {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "type locationId to count price items any cc" {
		t.Errorf("properties = %s", got)
	}
	if len(ev.Examples) != 1 || !json.Valid(ev.Examples[0]) || strings.Contains(string(ev.Examples[0]), "\n") {
		t.Errorf("examples = %s", ev.Examples)
	}
	if strings.Join(ev.WireTypes, ",") != "WidgetMake" || strings.Join(ev.ExampleTypes, ",") != "WidgetMake" {
		t.Errorf("wire types %v, example types %v", ev.WireTypes, ev.ExampleTypes)
	}

	b, err := encodeEventsFile(&EventsFile{Events: []*EventDoc{ev}})
	if err != nil {
		t.Fatal(err)
	}
	src, err := generate(b)
	if err != nil {
		t.Fatal(err)
	}
	// Compare with runs of blanks collapsed: gofmt aligns fields.
	squash := func(s string) string {
		return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' }), " ")
	}
	code := squash(string(src))
	for _, want := range []string{
		"// WidgetMake is the WidgetMake webhook event: called whenever a widget is made.",
		"type WidgetMake struct {\n Meta\n",
		"LocationID string `json:\"locationId,omitempty\"`",
		"To json.RawMessage `json:\"to,omitempty\"`", // schema says string, example has an array
		"Count int64 `json:\"count\"`",
		"Price float64 `json:\"price\"`",
		"Items []WidgetMakeItem `json:\"items,omitempty\"`",
		"Any json.RawMessage `json:\"any,omitempty\"`",
		"Cc string `json:\"cc,omitempty\"`",     // from the second schema
		"Note string `json:\"note,omitempty\"`", // only in the example
		"type WidgetMakeItem struct {",
		"Extra bool `json:\"extra\"`",
		`case "WidgetMake":`,
		"func (h *Handler) OnWidgetMake(",
		`case EventWidgetMake:`,
	} {
		if !strings.Contains(code, want) {
			t.Errorf("generated code lacks %q", want)
		}
	}
	if strings.Contains(string(src), "`json:\"type") {
		t.Error("type field generated; it belongs to Meta")
	}
}

func TestExtractRejectsUnknownExampleType(t *testing.T) {
	doc := strings.Replace(testDoc, `"type": "WidgetMake"`, `"type": "GadgetMake"`, 1)
	if _, err := extractDoc("WidgetMake", doc); err == nil || !strings.Contains(err.Error(), "GadgetMake") {
		t.Errorf("extractDoc = %v, want an error naming the unexpected type", err)
	}
}

func TestExtractErrata(t *testing.T) {
	doc := strings.Replace(testDoc, `"type": "WidgetMake"`, `"type": "AppointmentCreate"`, 1)
	ev, err := extractDoc("AppointmentDelete", doc)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ev.WireTypes, ",") != "AppointmentDelete" || !strings.Contains(ev.TypeNote, "erratum") {
		t.Errorf("wire types %v, note %q", ev.WireTypes, ev.TypeNote)
	}
	noType := strings.Replace(testDoc, `"type": "WidgetMake",`, ``, 1)
	ev, err = extractDoc("InvoiceCreate", noType)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ev.WireTypes, ",") != "InvoiceCreate" || !strings.Contains(ev.TypeNote, "carry no") {
		t.Errorf("wire types %v, note %q", ev.WireTypes, ev.TypeNote)
	}
	ev, err = extractDoc("AppInstall", strings.Replace(testDoc, `"type": "WidgetMake"`, `"type": "INSTALL"`, 1))
	if err != nil || strings.Join(ev.WireTypes, ",") != "INSTALL" {
		t.Errorf("AppInstall: %v %v", ev, err)
	}
}

func TestInformalSchema(t *testing.T) {
	doc := "# User\n\nCalled whenever a user is created\n\n#### Schema\n\n```json\n" +
		`{"type":"string","id":"string","permissions":{"a":"boolean"},"locations":["string"]}` +
		"\n```\n\n#### Example\n\n```json\n" + `{"type":"UserCreate","id":"u","permissions":{"a":true},"locations":["l"]}` + "\n```\n"
	ev, err := extractDoc("UserCreate", doc)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range ev.Properties {
		got[p.Name] = p.Type
	}
	if got["id"] != "string" || got["permissions"] != "object" || got["locations"] != "array" {
		t.Errorf("properties = %v", got)
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[string]string{
		"locationId": "LocationID", "_id": "ID", "logoUrl": "LogoURL", "i-ip-pool-id": "IIPPoolID",
		"variantOptionIds": "VariantOptionIDs", "SMS": "SMS", "FB": "FB", "WhatsApp": "WhatsApp",
		"utf8": "UTF8", "html": "HTML", "delivery-status": "DeliveryStatus", "address1": "Address1",
		"isWhitelabelCompany": "IsWhitelabelCompany", "__v": "V", "1st": "X1st",
	} {
		if got := goName(in); got != want {
			t.Errorf("goName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"properties": "property", "taxes": "tax", "items": "item", "address": "address", "medias": "media", "status": "statu",
	} {
		if got := singular(in); got != want {
			t.Errorf("singular(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"ContactDndUpdate": "Contact", "InvoicePartiallyPaid": "Invoice", "LCEmailStats": "LCEmailStats",
		"AppInstall": "App", "Update": "Update", "OpportunityMonetaryValueUpdate": "Opportunity",
	} {
		if got := family(in); got != want {
			t.Errorf("family(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	docs := filepath.Join(dir, "docs")
	if err := os.Mkdir(docs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(docs, "WidgetMake.md"), []byte(testDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(dir, "events.json")
	out := filepath.Join(dir, "events_gen.go")
	if err := run(docs, events, out); err != nil {
		t.Fatal(err)
	}
	if err := run("", events, out); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(src), "type WidgetMake struct") {
		t.Fatalf("generated %d bytes, %v", len(src), err)
	}
	if err := run(t.TempDir(), events, out); err == nil {
		t.Error("extracting an empty directory succeeded")
	}
	if err := run("", filepath.Join(dir, "missing.json"), out); err == nil {
		t.Error("generating from a missing file succeeded")
	}
}
