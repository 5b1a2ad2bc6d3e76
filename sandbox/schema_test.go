package sandbox_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlkit/ghlkit/sandbox/spec"
)

// This file is a small OpenAPI 3.0 schema validator over the embedded spec
// files (spec.FS()), for the conformance test and the handler tests that
// check a response's shape. It understands what GHL's specs use: $ref
// (local and into ../common/common-schemas.json), allOf/anyOf/oneOf,
// nullable, type, properties, required, additionalProperties, items,
// enum, minItems/maxItems, minLength/maxLength, pattern, minimum/maximum
// and the date-time and date formats.

// schemaMismatch is one place where a value strays from its schema.
type schemaMismatch struct {
	Path string // JSON path of the value, "$.contact.tags[0]"
	Msg  string
}

func (m schemaMismatch) String() string { return m.Path + ": " + m.Msg }

// schemaValidator checks JSON values (as decoded by encoding/json into any)
// against schemas of the embedded spec files.
type schemaValidator struct {
	// docs are parsed spec files by path in spec.FS() ("apps/contacts.json");
	// missing ones are read from spec.FS() on first use.
	docs map[string]map[string]any
	// strict makes a property the schema does not name a mismatch even
	// where additionalProperties allows it (the stricter check of the
	// handler tests that pin a response to exactly the spec's fields).
	strict bool
	// unknown, when set, collects the paths of properties the schema does
	// not name (allowed outside strict mode, but worth a look).
	unknown *[]string
}

var (
	specDocsOnce sync.Once
	specDocs     map[string]map[string]any
	specDocsErr  error
)

// loadSpecDocs parses every embedded spec file once.
func loadSpecDocs() (map[string]map[string]any, error) {
	specDocsOnce.Do(func() {
		specDocs = map[string]map[string]any{}
		specDocsErr = fs.WalkDir(spec.FS(), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
				return err
			}
			raw, err := fs.ReadFile(spec.FS(), p)
			if err != nil {
				return err
			}
			var doc map[string]any
			if err := json.Unmarshal(raw, &doc); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			specDocs[p] = doc
			return nil
		})
	})
	return specDocs, specDocsErr
}

// newSpecValidator validates against the embedded spec files as they are.
func newSpecValidator(t testing.TB) *schemaValidator {
	t.Helper()
	docs, err := loadSpecDocs()
	if err != nil {
		t.Fatal(err)
	}
	return &schemaValidator{docs: docs}
}

// doc returns a spec file, nil if there is none.
func (v *schemaValidator) doc(file string) map[string]any {
	if d, ok := v.docs[file]; ok {
		return d
	}
	docs, err := loadSpecDocs()
	if err != nil {
		return nil
	}
	return docs[file]
}

// resolve follows a $ref from file: "#/components/schemas/X" within it,
// "../common/common-schemas.json#/components/schemas/X" relative to it.
func (v *schemaValidator) resolve(file, ref string) (string, map[string]any, error) {
	target, pointer, _ := strings.Cut(ref, "#")
	if target != "" {
		file = path.Clean(path.Join(path.Dir(file), target))
	}
	d := v.doc(file)
	if d == nil {
		return "", nil, fmt.Errorf("$ref %s: no spec file %s", ref, file)
	}
	var cur any = d
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		obj, ok := cur.(map[string]any)
		if !ok {
			return "", nil, fmt.Errorf("$ref %s: %q is not an object", ref, tok)
		}
		if cur, ok = obj[tok]; !ok {
			return "", nil, fmt.Errorf("$ref %s: %s has no %q", ref, file, tok)
		}
	}
	s, ok := cur.(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("$ref %s is not a schema", ref)
	}
	return file, s, nil
}

// Validate returns every place where val strays from schema s of file.
func (v *schemaValidator) Validate(file string, s map[string]any, val any) []schemaMismatch {
	var out []schemaMismatch
	v.check(file, s, val, "$", 0, &out)
	return out
}

// maxRefDepth bounds $ref/allOf chains that do not descend into the value.
const maxRefDepth = 64

func (v *schemaValidator) check(file string, s map[string]any, val any, at string, depth int, out *[]schemaMismatch) {
	v.checkIn(file, s, val, at, depth, false, out)
}

// checkIn is check; part marks a schema that is (through $refs) a part of
// an allOf, whose object properties are only some of the value's: the allOf
// itself checks for properties none of its parts names.
func (v *schemaValidator) checkIn(file string, s map[string]any, val any, at string, depth int, part bool, out *[]schemaMismatch) {
	bad := func(format string, args ...any) {
		*out = append(*out, schemaMismatch{Path: at, Msg: fmt.Sprintf(format, args...)})
	}
	if s == nil {
		return // no schema: anything goes
	}
	if depth > maxRefDepth {
		bad("schema $ref chain deeper than %d (a cycle?)", maxRefDepth)
		return
	}
	if val == nil && s["nullable"] == true {
		return // also next to a $ref, where GHL's specs sometimes put it
	}
	if ref, ok := s["$ref"].(string); ok {
		// OpenAPI 3.0: a $ref's other siblings are ignored.
		f, rs, err := v.resolve(file, ref)
		if err != nil {
			bad("%v", err)
			return
		}
		v.checkIn(f, rs, val, at, depth+1, part, out)
		return
	}
	if val == nil {
		if !constrainsType(s) {
			return
		}
		// A null is only valid where the schema (or every allOf part) says so.
		if all, ok := s["allOf"].([]any); ok && len(all) > 0 && allNullable(v, file, all, depth) {
			return
		}
		bad("is null, want %s (the schema is not nullable)", describe(s))
		return
	}
	if all, ok := s["allOf"].([]any); ok {
		for _, a := range all {
			if as, ok := a.(map[string]any); ok {
				v.checkIn(file, as, val, at, depth+1, true, out)
			}
		}
	}
	for _, kw := range []string{"anyOf", "oneOf"} {
		alts, ok := s[kw].([]any)
		if !ok || len(alts) == 0 {
			continue
		}
		// oneOf is checked as anyOf: once unknown properties are allowed,
		// GHL's alternatives overlap (an SMS template is also a valid email
		// template), so "exactly one" would refuse valid values.
		var firstErrs []schemaMismatch
		matched := false
		for i, a := range alts {
			as, _ := a.(map[string]any)
			var errs []schemaMismatch
			v.check(file, as, val, at, depth+1, &errs)
			if len(errs) == 0 {
				matched = true
				break
			}
			if i == 0 {
				firstErrs = errs
			}
		}
		if !matched {
			bad("matches none of the %d %s alternatives (first: %v)", len(alts), kw, firstErrs)
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return reflect.DeepEqual(e, val) }) {
		bad("= %s, not one of %s", jsonText(val), jsonText(enum))
	}

	typ, _ := s["type"].(string)
	switch typ {
	case "object":
		if _, ok := val.(map[string]any); !ok {
			bad("= %s (%s), want an object", short(val), jsonKind(val))
			return
		}
	case "array":
		if _, ok := val.([]any); !ok {
			bad("= %s (%s), want an array", short(val), jsonKind(val))
			return
		}
	case "string":
		if _, ok := val.(string); !ok {
			bad("= %s (%s), want a string", short(val), jsonKind(val))
			return
		}
	case "number":
		if _, ok := val.(float64); !ok {
			bad("= %s (%s), want a number", short(val), jsonKind(val))
			return
		}
	case "integer":
		if f, ok := val.(float64); !ok || f != math.Trunc(f) {
			bad("= %s (%s), want an integer", short(val), jsonKind(val))
			return
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			bad("= %s (%s), want a boolean", short(val), jsonKind(val))
			return
		}
	case "":
	default:
		bad("schema has unknown type %q", typ)
		return
	}

	switch x := val.(type) {
	case map[string]any:
		v.checkObject(file, s, x, at, part, out)
	case []any:
		if n, ok := s["minItems"].(float64); ok && float64(len(x)) < n {
			bad("has %d items, want at least %v", len(x), n)
		}
		if n, ok := s["maxItems"].(float64); ok && float64(len(x)) > n {
			bad("has %d items, want at most %v", len(x), n)
		}
		items, _ := s["items"].(map[string]any)
		for i, item := range x {
			v.check(file, items, item, fmt.Sprintf("%s[%d]", at, i), 0, out)
		}
	case string:
		n := float64(len([]rune(x)))
		if m, ok := s["minLength"].(float64); ok && n < m {
			bad("= %q is shorter than %v", x, m)
		}
		if m, ok := s["maxLength"].(float64); ok && n > m {
			bad("= %q is longer than %v", x, m)
		}
		if p, ok := s["pattern"].(string); ok {
			// ECMA patterns RE2 cannot compile are skipped.
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(x) {
				bad("= %q does not match %s", x, p)
			}
		}
		switch s["format"] {
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				bad("= %q is not an RFC 3339 date-time", x)
			}
		case "date":
			if _, err := time.Parse(time.DateOnly, x); err != nil {
				bad("= %q is not a date (YYYY-MM-DD)", x)
			}
		}
	case float64:
		if m, ok := s["minimum"].(float64); ok && (x < m || (x == m && s["exclusiveMinimum"] == true)) {
			bad("= %v is below the minimum %v", x, m)
		}
		if m, ok := s["maximum"].(float64); ok && (x > m || (x == m && s["exclusiveMaximum"] == true)) {
			bad("= %v is above the maximum %v", x, m)
		}
	}
}

// checkObject checks an object's properties against s. A property s does
// not name is checked against additionalProperties; where that allows it,
// or says nothing, a property that none of the schema's allOf parts names
// either is unknown: a mismatch in strict mode (where the schema names
// properties or is an object's), else collected in v.unknown. An allOf part
// leaves that to its allOf.
func (v *schemaValidator) checkObject(file string, s map[string]any, m map[string]any, at string, part bool, out *[]schemaMismatch) {
	props, _ := s["properties"].(map[string]any)
	var shape objectShape
	if !part {
		shape = v.objectShape(file, s, 0)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		sub := at + "." + k
		if ps, ok := props[k].(map[string]any); ok {
			v.check(file, ps, m[k], sub, 0, out)
			continue
		}
		switch ap := s["additionalProperties"].(type) {
		case map[string]any:
			v.check(file, ap, m[k], sub, 0, out)
			continue
		case bool:
			if !ap {
				*out = append(*out, schemaMismatch{Path: sub, Msg: "is not a property of the schema (additionalProperties: false)"})
				continue
			}
		}
		if part || shape.names[k] {
			continue
		}
		switch {
		case shape.apSchema:
			// An allOf part checks it against its additionalProperties.
		case shape.apTrue:
			if v.strict && shape.hasProps {
				*out = append(*out, schemaMismatch{Path: sub, Msg: "is not a property of the spec's schema"})
			}
		case shape.hasProps || shape.object:
			if v.strict {
				*out = append(*out, schemaMismatch{Path: sub, Msg: "is not a property of the spec's schema"})
			} else if v.unknown != nil && shape.hasProps {
				*v.unknown = append(*v.unknown, sub)
			}
		}
	}
	req, _ := s["required"].([]any)
	for _, r := range req {
		name, _ := r.(string)
		if _, ok := m[name]; !ok {
			*out = append(*out, schemaMismatch{Path: at + "." + name, Msg: "is required by the schema and missing"})
		}
	}
}

// objectShape is what a schema and its allOf parts (through $refs) say
// about an object's properties together.
type objectShape struct {
	names    map[string]bool // the properties named
	hasProps bool            // some part has a properties keyword
	object   bool            // some part is of type object
	apSchema bool            // some part has an additionalProperties schema
	apTrue   bool            // some part has additionalProperties: true
}

func (v *schemaValidator) objectShape(file string, s map[string]any, depth int) objectShape {
	out := objectShape{names: map[string]bool{}}
	v.addShape(file, s, depth, &out)
	return out
}

func (v *schemaValidator) addShape(file string, s map[string]any, depth int, out *objectShape) {
	if s == nil || depth > maxRefDepth {
		return
	}
	if ref, ok := s["$ref"].(string); ok {
		if f, rs, err := v.resolve(file, ref); err == nil {
			v.addShape(f, rs, depth+1, out)
		}
		return
	}
	if props, ok := s["properties"].(map[string]any); ok {
		out.hasProps = true
		for k := range props {
			out.names[k] = true
		}
	}
	out.object = out.object || s["type"] == "object"
	switch ap := s["additionalProperties"].(type) {
	case map[string]any:
		out.apSchema = true
	case bool:
		out.apTrue = out.apTrue || ap
	}
	all, _ := s["allOf"].([]any)
	for _, a := range all {
		as, _ := a.(map[string]any)
		v.addShape(file, as, depth+1, out)
	}
}

// propertyNames returns the properties a schema names for an object,
// through $refs and allOf.
func (v *schemaValidator) propertyNames(file string, s map[string]any, depth int) map[string]bool {
	return v.objectShape(file, s, depth).names
}

// constrainsType reports whether s restricts the JSON type of a value.
func constrainsType(s map[string]any) bool {
	if _, ok := s["type"]; ok {
		return true
	}
	for _, kw := range []string{"allOf", "anyOf", "oneOf", "enum", "properties", "items"} {
		if _, ok := s[kw]; ok {
			return true
		}
	}
	return false
}

// allNullable reports whether every allOf part accepts null.
func allNullable(v *schemaValidator, file string, all []any, depth int) bool {
	for _, a := range all {
		as, _ := a.(map[string]any)
		var errs []schemaMismatch
		v.check(file, as, nil, "", depth+1, &errs)
		if len(errs) > 0 {
			return false
		}
	}
	return true
}

func describe(s map[string]any) string {
	if t, ok := s["type"].(string); ok {
		return "a " + t
	}
	return "a value"
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// short is a value's JSON text cut to a readable length.
func short(v any) string {
	s := jsonText(v)
	if len(s) > 120 {
		return s[:117] + "..."
	}
	return s
}

// specSchemas returns the component schemas of an embedded spec app, fresh
// copies a test may change (to override a known spec defect).
func specSchemas(t *testing.T, app string) map[string]map[string]any {
	t.Helper()
	raw, err := fs.ReadFile(spec.FS(), "apps/"+app+".json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Components.Schemas
}

// checkSchema fails the test where v strays from schema s, whose $refs
// resolve in schemas: a property the spec does not name, a required one
// missing, a value of another type, format or outside an enum.
func checkSchema(t *testing.T, schemas map[string]map[string]any, s map[string]any, v any, path string) {
	t.Helper()
	comps := make(map[string]any, len(schemas))
	for k, sc := range schemas {
		comps[k] = sc
	}
	const file = "apps/checked.json"
	val := &schemaValidator{strict: true, docs: map[string]map[string]any{file: {"components": map[string]any{"schemas": comps}}}}
	for _, m := range val.Validate(file, s, v) {
		t.Errorf("%s%s: %s", path, strings.TrimPrefix(m.Path, "$"), m.Msg)
	}
}

// Unit checks of the validator itself, so the conformance test's silence
// means something.
func TestSchemaValidator(t *testing.T) {
	docs := map[string]map[string]any{
		"apps/x.json": {"components": map[string]any{"schemas": map[string]any{
			"Thing": map[string]any{"type": "object", "required": []any{"id", "when"}, "properties": map[string]any{
				"id":    map[string]any{"type": "string", "maxLength": 5.0},
				"when":  map[string]any{"type": "string", "format": "date-time"},
				"n":     map[string]any{"type": "integer", "minimum": 0.0, "maximum": 3.0},
				"kind":  map[string]any{"type": "string", "enum": []any{"a", "b"}},
				"tags":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
				"maybe": map[string]any{"type": "string", "nullable": true},
				"inner": map[string]any{"allOf": []any{map[string]any{"$ref": "#/components/schemas/Closed"}}},
				"alt":   map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}},
				"err":   map[string]any{"$ref": "../common/common-schemas.json#/components/schemas/BadRequestDTO"},
				"map":   map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "boolean"}},
			}},
			"Closed": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{"x": map[string]any{"type": "number"}}},
		}}},
	}
	v := &schemaValidator{docs: docs}
	thing := map[string]any{"$ref": "#/components/schemas/Thing"}
	good := `{"id":"abc","when":"2030-01-01T00:00:00.123Z","n":2,"kind":"a","tags":["x"],"maybe":null,"inner":{"x":1},"alt":3,
		"err":{"statusCode":400,"message":"m"},"map":{"k":true},"unknown":{"any":"thing"}}`
	if errs := v.Validate("apps/x.json", thing, decodeJSON(t, good)); len(errs) > 0 {
		t.Errorf("valid value refused: %v", errs)
	}
	for _, c := range []struct{ body, path string }{
		{`{"when":"2030-01-01T00:00:00Z"}`, "$.id"},
		{`{"id":"abcdef","when":"2030-01-01T00:00:00Z"}`, "$.id"},
		{`{"id":"a","when":"yesterday"}`, "$.when"},
		{`{"id":"a","when":"2030-01-01T00:00:00Z","n":1.5}`, "$.n"},
		{`{"id":"a","when":"2030-01-01T00:00:00Z","n":4}`, "$.n"},
		{`{"id":"a","when":"2030-01-01T00:00:00Z","kind":"c"}`, "$.kind"},
		{`{"id":"a","when":"2030-01-01T00:00:00Z","tags":[1]}`, "$.tags[0]"},
		{`{"id":"a","when":"2030-01-01T00:00:00Z","tags":{}}`, "$.tags"},
		{`{"id":null,"when":"2030-01-01T00:00:00Z"}`, "$.id"},
		{`{"id":"a","when":"2030-01-01T00:00:00Z","inner":{"y":1}}`, "$.inner.y"},
		{`{"id":"a","when":"2030-01-01T00:00:00Z","inner":null}`, "$.inner"},
		{`{"id":"a","when":"2030-01-01T00:00:00Z","alt":true}`, "$.alt"},
		{`{"id":"a","when":"2030-01-01T00:00:00Z","err":{"statusCode":"400"}}`, "$.err.statusCode"},
		{`{"id":"a","when":"2030-01-01T00:00:00Z","map":{"k":1}}`, "$.map.k"},
		{`[]`, "$"},
	} {
		errs := v.Validate("apps/x.json", thing, decodeJSON(t, c.body))
		if !slices.ContainsFunc(errs, func(m schemaMismatch) bool { return m.Path == c.path }) {
			t.Errorf("%s: want a mismatch at %s, got %v", c.body, c.path, errs)
		}
	}
	strict := &schemaValidator{docs: docs, strict: true}
	if errs := strict.Validate("apps/x.json", thing, decodeJSON(t, good)); len(errs) != 1 || errs[0].Path != "$.unknown" {
		t.Errorf("strict: %v", errs)
	}
	if _, _, err := v.resolve("apps/x.json", "#/components/schemas/Nope"); err == nil {
		t.Error("a dangling $ref resolved")
	}
}

// TestSchemaValidatorAllOfProperties: the properties of an allOf's parts
// add up; only a property none of them names is unknown, once.
func TestSchemaValidatorAllOfProperties(t *testing.T) {
	docs := map[string]map[string]any{
		"apps/x.json": {"components": map[string]any{"schemas": map[string]any{
			"A": map[string]any{"type": "object", "properties": map[string]any{"x": map[string]any{"type": "number"}}},
			"B": map[string]any{"type": "object", "required": []any{"y"}, "properties": map[string]any{"y": map[string]any{"type": "string"}}},
			"C": map[string]any{"properties": map[string]any{"w": map[string]any{"type": "boolean"}}},
		}}},
	}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	for name, s := range map[string]map[string]any{
		"allOf of two":                {"allOf": []any{ref("A"), ref("B")}},
		"allOf with own properties":   {"allOf": []any{ref("A")}, "properties": map[string]any{"y": map[string]any{"type": "string"}}, "required": []any{"y"}},
		"nested allOf":                {"allOf": []any{ref("A"), map[string]any{"allOf": []any{ref("B")}}}},
		"allOf of three, one untyped": {"allOf": []any{ref("A"), ref("B"), ref("C")}},
	} {
		const file = "apps/x.json"
		strict := &schemaValidator{docs: docs, strict: true}
		if errs := strict.Validate(file, s, decodeJSON(t, `{"x":1,"y":"a"}`)); len(errs) != 0 {
			t.Errorf("%s: strict refuses the parts' properties: %v", name, errs)
		}
		if errs := strict.Validate(file, s, decodeJSON(t, `{"x":1,"y":"a","z":true}`)); len(errs) != 1 || errs[0].Path != "$.z" {
			t.Errorf("%s: strict, an unknown property: %v", name, errs)
		}
		if errs := strict.Validate(file, s, decodeJSON(t, `{"x":"1","z":0}`)); len(errs) != 3 {
			t.Errorf("%s: strict, a mistyped, a missing and an unknown property: %v", name, errs)
		}
		var unknown []string
		loose := &schemaValidator{docs: docs, unknown: &unknown}
		if errs := loose.Validate(file, s, decodeJSON(t, `{"x":1,"y":"a","z":true}`)); len(errs) != 0 || !slices.Equal(unknown, []string{"$.z"}) {
			t.Errorf("%s: not strict: %v, unknown %v", name, errs, unknown)
		}
	}
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}
