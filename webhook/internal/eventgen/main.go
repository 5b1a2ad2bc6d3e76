// Command eventgen generates the webhook package's typed events from GHL's
// webhook event documentation.
//
// It works in two steps, so that building and testing ghlkit never needs the
// documentation itself:
//
//	go run ./internal/eventgen -extract /path/to/ghl-api/docs/webhook-events
//
// reads GHL's Markdown event docs (one file per event, each with a JSON schema
// block and example payloads) and writes internal/eventgen/events.json, a
// reduced, machine-readable copy that is committed to the repository.
//
//	go run ./internal/eventgen
//
// (what `go generate` runs) reads events.json and writes events_gen.go. Both
// paths are relative to the webhook package directory, where go generate runs.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

func main() {
	extract := flag.String("extract", "", "read GHL's webhook-events Markdown docs from this `dir` and write -events")
	eventsPath := flag.String("events", filepath.Join("internal", "eventgen", "events.json"), "events.json `file`")
	out := flag.String("out", "events_gen.go", "generated Go `file` (default mode)")
	flag.Parse()

	if err := run(*extract, *eventsPath, *out); err != nil {
		slog.Error("eventgen failed", "err", err)
		os.Exit(1)
	}
}

func run(extractDir, eventsPath, out string) error {
	if extractDir != "" {
		f, err := extractDocs(extractDir)
		if err != nil {
			return err
		}
		b, err := encodeEventsFile(f)
		if err != nil {
			return err
		}
		return os.WriteFile(eventsPath, b, 0o644)
	}
	raw, err := os.ReadFile(eventsPath)
	if err != nil {
		return err
	}
	src, err := generate(raw)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}

// EventsFile is the content of events.json.
type EventsFile struct {
	Comment string      `json:"comment"`
	Events  []*EventDoc `json:"events"`
}

// EventDoc is one event, reduced from its Markdown doc.
type EventDoc struct {
	// Name is the doc's file name: GHL's name for the event.
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// WireTypes are the values of the payload's "type" field that mean this
	// event; the first is the one a sender should use.
	WireTypes []string `json:"wireTypes"`
	// ExampleTypes are the "type" values the doc's examples show, for the record.
	ExampleTypes []string `json:"exampleTypes,omitempty"`
	// TypeNote explains why WireTypes differ from ExampleTypes or from Name.
	TypeNote string `json:"typeNote,omitempty"`
	// Properties are the top-level payload properties, all schema blocks of
	// the doc merged in order.
	Properties []*Schema `json:"properties"`
	// Examples are the doc's example payloads, verbatim (compacted); the
	// first is the canonical one.
	Examples []json.RawMessage `json:"examples"`
}

// Schema is a reduced JSON schema node.
type Schema struct {
	Name string `json:"name,omitempty"`
	// Type is one of string, number, integer, boolean, object, array, null,
	// any (a union of types: kept as raw JSON) or unknown (a type name the
	// docs invent, such as "Email/SMS": inferred from the examples).
	Type       string    `json:"type"`
	DocType    any       `json:"docType,omitempty"` // the doc's "type" where it differs from Type
	Format     string    `json:"format,omitempty"`
	Enum       []any     `json:"enum,omitempty"`
	Properties []*Schema `json:"properties,omitempty"`
	Items      *Schema   `json:"items,omitempty"`
}

// wireTypeQuirk records an event whose wire "type" is not its name
// (ghl-api/INDEX.md §5 "Doc quirks").
type wireTypeQuirk struct {
	types []string
	note  string
}

func wireTypeQuirks() map[string]wireTypeQuirk {
	return map[string]wireTypeQuirk{
		"AppInstall":                {[]string{"INSTALL"}, `GHL sends "INSTALL".`},
		"AppUninstall":              {[]string{"UNINSTALL"}, `GHL sends "UNINSTALL".`},
		"PlanChange":                {[]string{"PLAN_CHANGE"}, `GHL sends "PLAN_CHANGE".`},
		"ConversationUnreadWebhook": {[]string{"ConversationUnreadUpdate"}, `GHL sends "ConversationUnreadUpdate".`},
		"ProviderOutboundMessage":   {[]string{"SMS", "Email"}, `"type" carries the message channel ("SMS" or "Email").`},
	}
}

// exampleTypeErrata lists example "type" values known to be wrong in the docs;
// any other mismatch stops the extraction so that a doc change is noticed.
func exampleTypeErrata() map[string]wireTypeQuirk {
	return map[string]wireTypeQuirk{
		"AppointmentDelete": {[]string{"AppointmentCreate"}, `the doc's example says "AppointmentCreate" (copy-paste error); the wire type is the event name.`},
		"AppointmentUpdate": {[]string{"AppointmentCreate"}, `the doc's example says "AppointmentCreate" (copy-paste error); the wire type is the event name.`},
		"InboundMessage":    {[]string{"OutboundMessage"}, `the doc's call example says "OutboundMessage" (that payload is an OutboundMessage event).`},
		"PriceDelete":       {[]string{"one_time"}, `the example's "type" is the price type, not the event; GHL sends the event name.`},
		"PriceUpdate":       {[]string{"one_time"}, `the example's "type" is the price type, not the event; GHL sends the event name.`},
	}
}

// ---------------------------------------------------------------------------
// Extraction: Markdown docs -> events.json

func extractDocs(dir string) (*EventsFile, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no .md files in %s", dir)
	}
	sort.Strings(paths)
	f := &EventsFile{
		Comment: "Generated by `go run ./internal/eventgen -extract <ghl-api>/docs/webhook-events` from GHL's webhook event docs; " +
			"edit the generator, not this file. `go generate` turns it into events_gen.go.",
	}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		name := strings.TrimSuffix(filepath.Base(p), ".md")
		ev, err := extractDoc(name, string(src))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		f.Events = append(f.Events, ev)
	}
	return f, nil
}

type fence struct {
	heading string // the last Markdown heading before the fence
	info    string
	body    string
}

func extractDoc(name, src string) (*EventDoc, error) {
	ev := &EventDoc{Name: name}
	var (
		fences            []fence
		heading           string
		in                bool
		cur               fence
		body              strings.Builder
		sawTitle, sawDesc bool
	)
	for line := range strings.Lines(src) {
		line = strings.TrimRight(line, "\r\n")
		trimmed := strings.TrimSpace(line)
		if in {
			if trimmed == "```" {
				cur.body = body.String()
				fences = append(fences, cur)
				in = false
				continue
			}
			body.WriteString(line)
			body.WriteByte('\n')
			continue
		}
		switch {
		case strings.HasPrefix(trimmed, "```"):
			info := strings.TrimPrefix(trimmed, "```")
			body.Reset()
			// Quirk: some docs glue the opening brace to the fence ("```json{").
			if strings.HasSuffix(info, "{") {
				info = strings.TrimSuffix(info, "{")
				body.WriteString("{\n")
			}
			cur = fence{heading: heading, info: strings.TrimSpace(info)}
			in = true
			sawDesc = sawDesc || sawTitle
		case strings.HasPrefix(trimmed, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(trimmed, "#"))
			if strings.HasPrefix(trimmed, "# ") {
				sawTitle = true
			}
		case sawTitle && !sawDesc && trimmed != "" && !strings.ContainsAny(trimmed[:1], "|>-*"):
			ev.Description = trimmed
			sawDesc = true
		}
	}
	if in {
		return nil, errors.New("unterminated code fence")
	}

	for _, fc := range fences {
		if !strings.HasPrefix(fc.info, "json") {
			continue
		}
		v, raw, err := decodeLenient(fc.body)
		if err != nil {
			return nil, fmt.Errorf("block under %q: %w", fc.heading, err)
		}
		isSchema := strings.Contains(fc.info, "json_schema") || strings.Contains(strings.ToLower(fc.heading), "schema")
		if isSchema {
			props, err := schemaProperties(v)
			if err != nil {
				return nil, fmt.Errorf("schema under %q: %w", fc.heading, err)
			}
			ev.Properties = mergeProperties(ev.Properties, props)
			continue
		}
		obj, ok := v.(*object)
		if !ok {
			return nil, fmt.Errorf("example under %q is not a JSON object", fc.heading)
		}
		ev.Examples = append(ev.Examples, raw)
		if t, ok := obj.vals["type"].(string); ok && !slices.Contains(ev.ExampleTypes, t) {
			ev.ExampleTypes = append(ev.ExampleTypes, t)
		}
	}
	if len(ev.Properties) == 0 {
		return nil, errors.New("no schema found")
	}
	if len(ev.Examples) == 0 {
		return nil, errors.New("no example found")
	}

	ev.WireTypes = []string{name}
	var notes []string
	if q, ok := wireTypeQuirks()[name]; ok {
		ev.WireTypes = q.types
		notes = append(notes, q.note)
	}
	if len(ev.ExampleTypes) == 0 {
		notes = append(notes, `The doc's examples carry no "type"; GHL sends the event name.`)
	}
	errata := exampleTypeErrata()[name]
	for _, t := range ev.ExampleTypes {
		switch {
		case slices.Contains(ev.WireTypes, t):
		case slices.Contains(errata.types, t):
			notes = append(notes, "Doc erratum: "+errata.note)
		default:
			return nil, fmt.Errorf("example has type %q, which is neither %q nor a known doc erratum: update the generator's quirk tables", t, ev.WireTypes)
		}
	}
	ev.TypeNote = strings.Join(notes, " ")
	return ev, nil
}

// schemaProperties turns a schema block into a property list. Most docs use
// JSON schema; some (UserCreate) write an informal one: {"field": "string"}.
func schemaProperties(v any) ([]*Schema, error) {
	obj, ok := v.(*object)
	if !ok {
		return nil, errors.New("schema is not an object")
	}
	if _, formal := obj.vals["properties"]; formal || obj.vals["type"] == "object" {
		s, err := normalizeSchema("", obj)
		if err != nil {
			return nil, err
		}
		return s.Properties, nil
	}
	s := informalSchema("", obj)
	return s.Properties, nil
}

func normalizeSchema(name string, v any) (*Schema, error) {
	obj, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("property %q: schema is not an object", name)
	}
	s := &Schema{Name: name}
	switch t := obj.vals["type"].(type) {
	case string:
		s.Type = normalizeTypeName(t)
		if s.Type != t {
			s.DocType = t
		}
		if strings.EqualFold(t, "date") {
			s.Format = "date-time"
		}
	case []any:
		s.Type = "any"
		s.DocType = t
	case nil:
		s.Type = "unknown"
		if _, ok := obj.vals["properties"]; ok {
			s.Type = "object"
		}
	default:
		return nil, fmt.Errorf("property %q: unexpected type %v", name, t)
	}
	if f, ok := obj.vals["format"].(string); ok {
		s.Format = f
	}
	if e, ok := obj.vals["enum"].([]any); ok {
		s.Enum = e
	}
	if props, ok := obj.vals["properties"].(*object); ok {
		for _, k := range props.keys {
			p, err := normalizeSchema(k, props.vals[k])
			if err != nil {
				return nil, err
			}
			s.Properties = append(s.Properties, p)
		}
	}
	if items, ok := obj.vals["items"]; ok {
		it, err := normalizeSchema("", items)
		if err != nil {
			return nil, err
		}
		s.Items = it
	}
	return s, nil
}

func informalSchema(name string, v any) *Schema {
	switch v := v.(type) {
	case *object:
		s := &Schema{Name: name, Type: "object"}
		for _, k := range v.keys {
			s.Properties = append(s.Properties, informalSchema(k, v.vals[k]))
		}
		return s
	case []any:
		s := &Schema{Name: name, Type: "array"}
		if len(v) > 0 {
			s.Items = informalSchema("", v[0])
		}
		return s
	case string:
		s := &Schema{Name: name, Type: normalizeTypeName(v)}
		if s.Type != v {
			s.DocType = v
		}
		return s
	default:
		return &Schema{Name: name, Type: "unknown", DocType: v}
	}
}

func normalizeTypeName(t string) string {
	switch lt := strings.ToLower(t); lt {
	case "string", "number", "integer", "boolean", "object", "array", "null":
		return lt
	case "date":
		return "string"
	default:
		return "unknown"
	}
}

func mergeProperties(dst, src []*Schema) []*Schema {
	for _, p := range src {
		if !slices.ContainsFunc(dst, func(q *Schema) bool { return q.Name == p.Name }) {
			dst = append(dst, p)
		}
	}
	return dst
}

// decodeLenient decodes a doc's JSON block, tolerating trailing commas (a
// quirk of RelationDelete.md), and returns it order-preserving and compacted.
func decodeLenient(s string) (any, json.RawMessage, error) {
	b := stripTrailingCommas([]byte(s))
	v, err := decodeOrdered(b)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, nil, err
	}
	return v, buf.Bytes(), nil
}

func stripTrailingCommas(b []byte) []byte {
	out := make([]byte, 0, len(b))
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inStr {
			out = append(out, c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
		}
		if c == ',' {
			j := i + 1
			for j < len(b) && strings.ContainsRune(" \t\r\n", rune(b[j])) {
				j++
			}
			if j < len(b) && (b[j] == '}' || b[j] == ']') {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// object is a JSON object that remembers its key order.
type object struct {
	keys []string
	vals map[string]any
}

func decodeOrdered(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &object{vals: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k := kt.(string)
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			if _, dup := o.vals[k]; !dup {
				o.keys = append(o.keys, k)
			}
			o.vals[k] = v
		}
		_, err := dec.Token()
		return o, err
	case json.Delim('['):
		a := []any{}
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := dec.Token()
		return a, err
	default:
		return tok, nil
	}
}

func encodeEventsFile(f *EventsFile) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ---------------------------------------------------------------------------
// Generation: events.json -> events_gen.go

// commonFields are carried by every delivery and live in the hand-written
// webhook.Meta struct that every event embeds.
func commonFields() map[string]bool {
	return map[string]bool{"type": true, "timestamp": true, "webhookId": true}
}

// reservedNames are identifiers of the hand-written part of the package.
func reservedNames() map[string]bool {
	return map[string]bool{
		"Event": true, "Meta": true, "Timestamp": true, "UnknownEvent": true, "Handler": true,
		"Verifier": true, "Signer": true, "SeenStore": true, "Parse": true, "Marshal": true,
	}
}

// typeNameOverride renames a generated nested type whose path-derived name
// reads badly, and describes it.
type typeNameOverride struct{ name, doc string }

func typeNameOverrides() map[string]typeNameOverride {
	return map[string]typeNameOverride{
		// dndSettings.SMS, .Email, .GMB, … share one shape: the first one's
		// name would be "ContactDndSettingsSMS".
		"ContactDndSettingsSMS": {"ContactDndChannelSettings", `one channel ("SMS", "Email", …) of the "dndSettings" object of Contact events.`},
	}
}

type field struct {
	goName, jsonName, goType string
	omitEmpty                bool
}

type structType struct {
	name   string
	doc    string
	fields []field
	sig    string
}

type generator struct {
	nested     map[string]*structType // generated nested types by name
	nestedList []*structType
}

func generate(eventsJSON []byte) ([]byte, error) {
	var f EventsFile
	if err := json.Unmarshal(eventsJSON, &f); err != nil {
		return nil, fmt.Errorf("events.json: %w", err)
	}
	if len(f.Events) == 0 {
		return nil, errors.New("events.json has no events")
	}
	g := &generator{nested: map[string]*structType{}}

	type eventOut struct {
		doc    *EventDoc
		st     *structType
		sample []byte
	}
	var events []eventOut
	registry := map[string]string{} // wire type -> event name
	reserved := reservedNames()
	for _, ev := range f.Events {
		if !token(ev.Name) {
			return nil, fmt.Errorf("event name %q is not a Go identifier", ev.Name)
		}
		if reserved[ev.Name] {
			return nil, fmt.Errorf("event name %q clashes with a hand-written identifier", ev.Name)
		}
		var examples []*object
		for i, raw := range ev.Examples {
			v, err := decodeOrdered(raw)
			if err != nil {
				return nil, fmt.Errorf("%s example %d: %w", ev.Name, i, err)
			}
			o, ok := v.(*object)
			if !ok {
				return nil, fmt.Errorf("%s example %d is not an object", ev.Name, i)
			}
			examples = append(examples, o)
		}
		fields, err := g.fields(ev.Name, family(ev.Name), nil, ev.Properties, examples, true)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ev.Name, err)
		}
		st := &structType{name: ev.Name, fields: fields}
		sample, err := samplePayload(ev, examples[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ev.Name, err)
		}
		events = append(events, eventOut{doc: ev, st: st, sample: sample})
		for _, wt := range append(slices.Clone(ev.WireTypes), ev.Name) {
			if other, dup := registry[wt]; dup && other != ev.Name {
				return nil, fmt.Errorf("wire type %q maps to both %s and %s", wt, other, ev.Name)
			}
			registry[wt] = ev.Name
		}
	}
	for _, st := range g.nestedList {
		if registry[st.name] != "" || reserved[st.name] {
			return nil, fmt.Errorf("nested type %s clashes with an event or hand-written name", st.name)
		}
	}

	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("// Code generated by eventgen from internal/eventgen/events.json. DO NOT EDIT.\n\n")
	p("package webhook\n\n")
	p("import (\n\t\"context\"\n\t\"encoding/json\"\n)\n\n")

	p("// Names of the events GHL documents, as its docs spell them. Event.Type\n")
	p("// returns one of these for a known event; it can differ from the payload's\n")
	p("// \"type\" field (see NewEvent).\n")
	p("const (\n")
	for _, e := range events {
		b.WriteString(indent(comment(fmt.Sprintf("%s is the name of the %s event (wire type %s).", constName(e.doc.Name), e.doc.Name, quoteList(e.doc.WireTypes)))))
		p("\t%s = %q\n", constName(e.doc.Name), e.doc.Name)
	}
	p(")\n\n")

	p("// EventNames returns the names of all events this package has types for,\n// sorted.\n")
	p("func EventNames() []string {\n\treturn []string{\n")
	names := make([]string, 0, len(events))
	for _, e := range events {
		names = append(names, e.doc.Name)
	}
	sort.Strings(names)
	for _, n := range names {
		p("\t\t%s,\n", constName(n))
	}
	p("\t}\n}\n\n")

	p("// NewEvent returns a new, empty event for a payload whose \"type\" field is\n")
	p("// wireType, or nil if wireType names no known event. Besides each event's\n")
	p("// documented wire type (\"INSTALL\" for AppInstall, \"SMS\" and \"Email\" for\n")
	p("// ProviderOutboundMessage, …), the event name itself is accepted, since GHL\n")
	p("// sends it for events whose docs show no \"type\" (Invoice*, Product*, …).\n")
	p("func NewEvent(wireType string) Event {\n\tswitch wireType {\n")
	wires := make([]string, 0, len(registry))
	for wt := range registry {
		wires = append(wires, wt)
	}
	sort.Strings(wires)
	byEvent := map[string][]string{}
	for _, wt := range wires {
		byEvent[registry[wt]] = append(byEvent[registry[wt]], wt)
	}
	for _, n := range names {
		p("\tcase %s:\n\t\treturn new(%s)\n", quoteList(byEvent[n]), n)
	}
	p("\t}\n\treturn nil\n}\n\n")

	for _, e := range events {
		ev := e.doc
		first := fmt.Sprintf("%s is the %s webhook event.", ev.Name, ev.Name)
		if desc := cleanDoc(ev.Description); desc != "" {
			first = fmt.Sprintf("%s is the %s webhook event: %s", ev.Name, ev.Name, lowerFirst(desc))
			if !strings.HasSuffix(first, ".") {
				first += "."
			}
		}
		b.WriteString(comment(first))
		b.WriteString("//\n")
		b.WriteString(comment(strings.TrimSpace(fmt.Sprintf("Wire type: %s. %s", quoteList(ev.WireTypes), ev.TypeNote))))
		writeStruct(&b, e.st, true)
		p("// Type returns %s.\n", constName(ev.Name))
		p("func (*%s) Type() string { return %s }\n\n", ev.Name, constName(ev.Name))
	}

	for _, st := range g.nestedList {
		b.WriteString(comment(st.name + " is " + st.doc))
		writeStruct(&b, st, false)
	}

	for _, n := range names {
		b.WriteString(comment(fmt.Sprintf("On%s registers fn to handle %s events. It replaces any function registered for %s before.", n, n, constName(n))))
		p("func (h *Handler) On%s(fn func(context.Context, *%s) error) {\n", n, n)
		p("\th.Handle(%s, func(ctx context.Context, e Event) error { return fn(ctx, e.(*%s)) })\n}\n\n", constName(n), n)
	}

	p("// SamplePayload returns the example payload of GHL's docs for the named\n")
	p("// event, compact, with \"type\" set to the event's wire type and without\n")
	p("// \"timestamp\" and \"webhookId\"; or nil if the name is unknown. A fresh\n")
	p("// slice is returned on every call.\n")
	p("func SamplePayload(name string) []byte {\n\tswitch name {\n")
	for _, e := range events {
		p("\tcase %s:\n\t\treturn []byte(%s)\n", constName(e.doc.Name), strconv.Quote(string(e.sample)))
	}
	p("\t}\n\treturn nil\n}\n")

	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("gofmt generated code: %w\n%s", err, b.Bytes())
	}
	return src, nil
}

func writeStruct(b *bytes.Buffer, st *structType, event bool) {
	fmt.Fprintf(b, "type %s struct {\n", st.name)
	if event {
		b.WriteString("\tMeta\n")
	}
	for _, f := range st.fields {
		tag := f.jsonName
		if f.omitEmpty {
			tag += ",omitempty"
		}
		fmt.Fprintf(b, "\t%s %s `json:%q`\n", f.goName, f.goType, tag)
	}
	b.WriteString("}\n\n")
}

// fields builds the Go fields for an object: its schema properties in order,
// then keys that only the examples show.
func (g *generator) fields(event, fam string, path []string, props []*Schema, examples []*object, top bool) ([]field, error) {
	type prop struct {
		name   string
		schema *Schema
	}
	var all []prop
	seen := map[string]bool{}
	for _, s := range props {
		if !seen[s.Name] {
			seen[s.Name] = true
			all = append(all, prop{s.Name, s})
		}
	}
	for _, ex := range examples {
		for _, k := range ex.keys {
			if !seen[k] {
				seen[k] = true
				all = append(all, prop{k, nil})
			}
		}
	}

	common := commonFields()
	goNames := map[string]string{}
	if top {
		goNames["Meta"], goNames["Type"] = "(embedded)", "(method)"
	}
	siblings := map[string]string{} // struct signature -> type name, among this object's children
	var out []field
	for _, pr := range all {
		if top && common[pr.name] {
			continue
		}
		var vals []any
		for _, ex := range examples {
			if v, ok := ex.vals[pr.name]; ok {
				vals = append(vals, v)
			}
		}
		typ, err := g.resolve(event, fam, append(slices.Clone(path), pr.name), pr.schema, vals, siblings)
		if err != nil {
			return nil, err
		}
		gn := goName(pr.name)
		if other, dup := goNames[gn]; dup {
			return nil, fmt.Errorf("JSON fields %q and %q both map to Go field %s", other, pr.name, gn)
		}
		goNames[gn] = pr.name
		out = append(out, field{
			goName:    gn,
			jsonName:  pr.name,
			goType:    typ,
			omitEmpty: typ != "float64" && typ != "int64" && typ != "bool",
		})
	}
	return out, nil
}

const rawType = "json.RawMessage"

// resolve picks the Go type for a schema node, checked against the values the
// examples show at the same place. Where the schema and the examples disagree,
// or the docs are vague, the value is kept as raw JSON.
func (g *generator) resolve(event, fam string, path []string, s *Schema, vals []any, siblings map[string]string) (string, error) {
	kinds := kindsOf(vals)
	only := func(k string) bool { return len(kinds) == 0 || (len(kinds) == 1 && kinds[k]) }
	typ := "unknown"
	if s != nil {
		typ = s.Type
	}
	switch typ {
	case "string":
		if only("string") {
			return "string", nil
		}
	case "number":
		if only("number") {
			return "float64", nil
		}
	case "integer":
		if only("number") {
			for _, v := range vals {
				if _, err := v.(json.Number).Int64(); err != nil {
					return "float64", nil
				}
			}
			return "int64", nil
		}
	case "boolean":
		if only("bool") {
			return "bool", nil
		}
	case "object":
		if only("object") && len(s.Properties) > 0 {
			var objs []*object
			for _, v := range vals {
				objs = append(objs, v.(*object))
			}
			name, err := g.nestedStruct(event, fam, path, s.Properties, objs, siblings)
			if err != nil {
				return "", err
			}
			return "*" + name, nil
		}
	case "array":
		if only("array") {
			var elems []any
			for _, v := range vals {
				elems = append(elems, v.([]any)...)
			}
			itemPath := slices.Clone(path)
			itemPath[len(itemPath)-1] = singular(itemPath[len(itemPath)-1])
			elem, err := g.resolve(event, fam, itemPath, s.Items, elems, siblings)
			if err != nil {
				return "", err
			}
			return "[]" + strings.TrimPrefix(elem, "*"), nil
		}
	case "unknown":
		return infer(vals), nil
	}
	return rawType, nil
}

// infer picks a type from example values alone.
func infer(vals []any) string {
	kinds := kindsOf(vals)
	if len(kinds) != 1 {
		return rawType
	}
	switch {
	case kinds["string"]:
		return "string"
	case kinds["number"]:
		return "float64"
	case kinds["bool"]:
		return "bool"
	case kinds["array"]:
		var elems []any
		for _, v := range vals {
			elems = append(elems, v.([]any)...)
		}
		return "[]" + infer(elems)
	}
	return rawType
}

func kindsOf(vals []any) map[string]bool {
	k := map[string]bool{}
	for _, v := range vals {
		switch v.(type) {
		case string:
			k["string"] = true
		case json.Number:
			k["number"] = true
		case bool:
			k["bool"] = true
		case *object:
			k["object"] = true
		case []any:
			k["array"] = true
		}
	}
	return k
}

// nestedStruct names and records the struct type of a nested object. Types
// are shared where the shape is the same: between events of one family
// (ContactCreate and ContactUpdate share ContactCustomField) and between
// sibling properties (the channels of ContactDndUpdate's dndSettings).
func (g *generator) nestedStruct(event, fam string, path []string, props []*Schema, objs []*object, siblings map[string]string) (string, error) {
	fields, err := g.fields(event, fam, path, props, objs, false)
	if err != nil {
		return "", err
	}
	sig := signature(fields)
	if name, ok := siblings[sig]; ok {
		return name, nil
	}
	var base strings.Builder
	for _, seg := range path {
		base.WriteString(goName(seg))
	}
	name := base.String()
	if !strings.HasPrefix(name, fam) {
		name = fam + name
	}
	doc := fmt.Sprintf("the %q object of %s events.", strings.Join(path, "."), fam)
	if fam == event {
		doc = fmt.Sprintf("the %q object of the %s event.", strings.Join(path, "."), event)
	}
	if o, ok := typeNameOverrides()[name]; ok {
		name, doc = o.name, o.doc
	}
	if prev, ok := g.nested[name]; ok && prev.sig != sig {
		// Same name, different shape: qualify by event.
		name = event + base.String()
		if prev, ok := g.nested[name]; ok && prev.sig != sig {
			return "", fmt.Errorf("cannot name nested type at %s: %s is taken", strings.Join(path, "."), name)
		}
	}
	siblings[sig] = name
	if _, ok := g.nested[name]; ok {
		return name, nil
	}
	st := &structType{name: name, doc: doc, fields: fields, sig: sig}
	g.nested[name] = st
	g.nestedList = append(g.nestedList, st)
	return name, nil
}

func signature(fields []field) string {
	var b strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&b, "%s %s %s %v;", f.goName, f.goType, f.jsonName, f.omitEmpty)
	}
	return b.String()
}

// samplePayload returns the first example with "type" set to the event's
// primary wire type.
func samplePayload(ev *EventDoc, ex *object) ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	writeKV := func(k string, v []byte) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(v)
	}
	typ, err := json.Marshal(ev.WireTypes[0])
	if err != nil {
		return nil, err
	}
	if _, ok := ex.vals["type"]; !ok {
		writeKV("type", typ)
	}
	for _, k := range ex.keys {
		if k == "type" {
			writeKV(k, typ)
			continue
		}
		if k == "timestamp" || k == "webhookId" {
			continue
		}
		v, err := encodeOrdered(ex.vals[k])
		if err != nil {
			return nil, err
		}
		writeKV(k, v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func encodeOrdered(v any) ([]byte, error) {
	switch v := v.(type) {
	case *object:
		var b bytes.Buffer
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			kb, err := marshalNoEscape(k)
			if err != nil {
				return nil, err
			}
			b.Write(kb)
			b.WriteByte(':')
			vb, err := encodeOrdered(v.vals[k])
			if err != nil {
				return nil, err
			}
			b.Write(vb)
		}
		b.WriteByte('}')
		return b.Bytes(), nil
	case []any:
		var b bytes.Buffer
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			eb, err := encodeOrdered(e)
			if err != nil {
				return nil, err
			}
			b.Write(eb)
		}
		b.WriteByte(']')
		return b.Bytes(), nil
	default:
		return marshalNoEscape(v)
	}
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// ---------------------------------------------------------------------------
// Names

// family is an event's name without its verb: Contact for ContactTagUpdate,
// Invoice for InvoicePartiallyPaid. Nested types are prefixed with it.
func family(event string) string {
	suffixes := []string{
		"MonetaryValueUpdate", "AssignedToUpdate", "PartiallyPaid", "StatusUpdate", "StageUpdate",
		"DndUpdate", "TagUpdate", "Uninstall", "Complete", "Install", "Create", "Update", "Delete",
		"Change", "Paid", "Sent", "Void",
	}
	for _, s := range suffixes {
		if f, ok := strings.CutSuffix(event, s); ok && f != "" {
			return f
		}
	}
	return event
}

func constName(event string) string { return "Event" + event }

// goName turns a JSON field name into an exported Go identifier with Go's
// initialisms: locationId -> LocationID, logoUrl -> LogoURL, _id -> ID,
// i-ip-pool-id -> IIPPoolID.
func goName(s string) string {
	var b strings.Builder
	for _, w := range splitWords(s) {
		lw := strings.ToLower(w)
		switch {
		case initialisms()[lw]:
			b.WriteString(strings.ToUpper(lw))
		case strings.HasSuffix(lw, "s") && initialisms()[strings.TrimSuffix(lw, "s")]:
			b.WriteString(strings.ToUpper(strings.TrimSuffix(lw, "s")) + "s")
		case len(w) > 1 && strings.ToUpper(w) == w:
			b.WriteString(w) // SMS, FB, GMB: already an acronym
		default:
			r := []rune(w)
			r[0] = unicode.ToUpper(r[0])
			b.WriteString(string(r))
		}
	}
	n := b.String()
	if n == "" || !unicode.IsLetter([]rune(n)[0]) {
		n = "X" + n
	}
	return n
}

func initialisms() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields("acl api ascii cpu css dns eof guid html http https id ip json sms smtp sql ssh tcp tls ttl udp ui uid uuid uri url utf8 vm xml") {
		m[w] = true
	}
	return m
}

func splitWords(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = nil
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if unicode.IsUpper(r) && len(cur) > 0 {
			prev := cur[len(cur)-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return strings.TrimSuffix(s, "ies") + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "xes"):
		return strings.TrimSuffix(s, "es")
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss"):
		return strings.TrimSuffix(s, "s")
	}
	return s
}

func token(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(unicode.IsLetter(r) || r == '_' || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}

func lowerFirst(s string) string {
	r := []rune(s)
	if len(r) > 1 && unicode.IsUpper(r[1]) {
		return s // an acronym
	}
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// cleanDoc strips Markdown emphasis and code marks from doc text.
func cleanDoc(s string) string {
	s = strings.NewReplacer("**", "", "`", "").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

// comment wraps text into // comment lines of at most about 80 columns.
func comment(text string) string {
	var b, line strings.Builder
	for _, w := range strings.Fields(text) {
		if line.Len() > 0 && line.Len()+1+len(w) > 77 {
			b.WriteString("// " + line.String() + "\n")
			line.Reset()
		}
		if line.Len() > 0 {
			line.WriteByte(' ')
		}
		line.WriteString(w)
	}
	if line.Len() > 0 {
		b.WriteString("// " + line.String() + "\n")
	}
	return b.String()
}

func indent(s string) string {
	return "\t" + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n\t") + "\n"
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
