// Command gen reduces GHL's official OpenAPI specs (CC0) to the machine-readable
// facts the sandbox needs — paths, parameters, schemas, security, examples — and
// writes them under sandbox/spec/data, where they are embedded into the binary.
//
// It also repairs one known spec defect: operations whose security block names
// a token type but no scope (`"security": [{"bearer": []}]`) get the scope that
// docs/oauth/Scopes.md documents for their endpoint, or, where Scopes.md lists
// none, the scope of scopeOverrides (see scopes.go). Each repaired operation is
// marked with "x-ghlkit-scopes-source". Operations with no security block at
// all are left alone.
//
// It is run by hand when the upstream specs change:
//
//	go run ./sandbox/spec/gen -src ../shared/ghl-api
//
// Nothing in the build or the tests reads the upstream copy; only the output is
// committed and embedded.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	src := flag.String("src", "../shared/ghl-api", "folder holding apps/*.json and common/common-schemas.json")
	out := flag.String("out", "sandbox/spec/data", "output folder")
	flag.Parse()
	if err := run(*src, *out); err != nil {
		slog.Error("specgen failed", "err", err)
		os.Exit(1)
	}
}

func run(src, out string) error {
	files, err := filepath.Glob(filepath.Join(src, "apps", "*.json"))
	if err != nil {
		return err
	}
	files = append(files, filepath.Join(src, "common", "common-schemas.json"))
	sort.Strings(files)
	if len(files) < 2 {
		return fmt.Errorf("no specs under %s", src)
	}
	scopesMD, err := os.ReadFile(filepath.Join(src, "docs", "oauth", "Scopes.md"))
	if err != nil {
		return err
	}
	fill := newScopeFiller(parseScopesMD(string(scopesMD)))
	var in, outBytes int
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var doc any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		reduced := reduce(doc, false)
		if filepath.Base(filepath.Dir(f)) == "apps" {
			fill.apply(strings.TrimSuffix(filepath.Base(f), ".json"), reduced)
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(reduced); err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, f)
		dst := filepath.Join(out, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
			return err
		}
		in += len(raw)
		outBytes += buf.Len()
	}
	if err := fill.finish(); err != nil {
		return err
	}
	slog.Info("specs reduced", "files", len(files), "inBytes", in, "outBytes", outBytes,
		"scopesFromDocs", fill.fromDocs, "scopesFromOverrides", fill.fromOverrides, "stillNoScope", len(fill.unfilled))
	for _, u := range fill.unfilled {
		slog.Info("operation requires no scope (neither the spec nor Scopes.md names one)", "op", u)
	}
	return nil
}

// prose keys carry human text only; they are dropped when their value is text.
var prose = map[string]bool{"description": true, "summary": true, "externalDocs": true, "x-codeSamples": true, "x-readme": true, "x-stoplight": true, "contact": true, "license": true, "termsOfService": true}

// data keys hold example or constraint values that must be kept verbatim.
var data = map[string]bool{"example": true, "examples": true, "default": true, "enum": true, "const": true}

// reduce walks a JSON value and drops prose. inProps is true when v is the map
// under a "properties" key, whose keys are field names, not keywords.
func reduce(v any, inProps bool) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, val := range t {
			if !inProps {
				if data[k] {
					m[k] = val
					continue
				}
				if prose[k] {
					if _, isObj := val.(map[string]any); !isObj || k != "description" {
						continue
					}
				}
				if strings.HasPrefix(k, "x-") && k != "x-enumNames" {
					continue
				}
				if k == "tags" {
					if _, isArr := val.([]any); isArr {
						continue // operation tags group docs pages only
					}
				}
			}
			m[k] = reduce(val, !inProps && k == "properties")
		}
		return m
	case []any:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = reduce(e, false)
		}
		return s
	default:
		return v
	}
}
