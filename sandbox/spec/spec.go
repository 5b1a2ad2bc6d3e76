// Package spec embeds GHL's official OpenAPI specs (reduced to machine-readable
// facts by ./gen) and exposes the operation table the sandbox routes, authorises
// and validates by: method, path template, operationId, Version values, security
// alternatives with their scopes, and parameters. Where a spec's security block
// names no scope, ./gen has filled in the one docs/oauth/Scopes.md documents
// (see Operation.ScopeSource).
package spec

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
)

//go:embed data
var files embed.FS

// FS returns the embedded spec files, laid out as apps/*.json and
// common/common-schemas.json, for loaders that resolve external $refs.
func FS() fs.FS {
	sub, err := fs.Sub(files, "data")
	if err != nil {
		panic(err) // the embedded layout is fixed at build time
	}
	return sub
}

// TokenClass is the kind of bearer token a security scheme accepts.
type TokenClass string

// Token classes, from the specs' securitySchemes.
const (
	// Location is a sub-account token: OAuth user_type Location or a location PIT.
	Location TokenClass = "Location"
	// LocationOAuthOnly is a sub-account OAuth access token only (no PIT).
	LocationOAuthOnly TokenClass = "Location-OAuth"
	// Agency is a company token: OAuth user_type Company or an agency PIT.
	Agency TokenClass = "Agency"
	// AgencyOAuthOnly is a company OAuth access token only (no PIT).
	AgencyOAuthOnly TokenClass = "Agency-OAuth"
)

var schemeClass = map[string]TokenClass{
	"bearer":               Location,
	"Location-Access":      Location,
	"Location-Access-Only": LocationOAuthOnly,
	"Agency-Access":        Agency,
	"Agency-Access-Only":   AgencyOAuthOnly,
}

// Security is one alternative of an operation's security block: a token of
// Class holding every scope in Scopes (none when the list is empty).
type Security struct {
	Class  TokenClass
	Scopes []string
}

// Param is a declared operation parameter.
type Param struct {
	Name     string
	In       string // path, query, header
	Required bool
	Type     string // schema type when simple; "" otherwise
	Enum     []string
}

// Operation is one method+path of a spec.
type Operation struct {
	Namespace   string // spec file name without .json, e.g. "contacts"
	ID          string // operationId
	Method      string
	Path        string
	Versions    []string // Version header enum; nil when the spec declares none
	Security    []Security
	Secured     bool // false when the spec declares no security block
	Deprecated  bool
	Params      []Param
	BodyTypes   []string // request content types
	SuccessCode int      // first 2xx response code
	// ScopeSource is empty when the scopes in Security are the spec's own.
	// Where the spec's security block named no scope, ./gen filled in the
	// scope docs/oauth/Scopes.md gives the endpoint (ScopeSource
	// "docs/oauth/Scopes.md") or, for an endpoint Scopes.md omits, the
	// scope of one of gen's documented overrides ("ghlkit: <reason>").
	ScopeSource string
}

// Key is "METHOD path", unique across the specs.
func (o *Operation) Key() string { return o.Method + " " + o.Path }

type rawOp struct {
	OperationID string                            `json:"operationId"`
	Deprecated  bool                              `json:"deprecated"`
	Security    *[]map[string][]string            `json:"security"`
	ScopeSource string                            `json:"x-ghlkit-scopes-source"`
	Parameters  []rawParam                        `json:"parameters"`
	RequestBody *struct{ Content map[string]any } `json:"requestBody"`
	Responses   map[string]json.RawMessage        `json:"responses"`
}

type rawParam struct {
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
	Schema   *struct {
		Type string   `json:"type"`
		Enum []string `json:"enum"`
	} `json:"schema"`
}

var (
	loadOnce sync.Once
	loaded   []*Operation
	loadErr  error
)

// Operations returns every operation of every embedded spec, sorted by
// namespace, path and method. The table is parsed once and shared; callers
// must not modify it.
func Operations() ([]*Operation, error) {
	loadOnce.Do(func() { loaded, loadErr = load() })
	return loaded, loadErr
}

// MustOperations is Operations for callers that treat a broken embed as a bug.
func MustOperations() []*Operation {
	ops, err := Operations()
	if err != nil {
		panic(err)
	}
	return ops
}

// Find returns the operation with the given operationId in a namespace.
func Find(namespace, operationID string) *Operation {
	for _, op := range MustOperations() {
		if op.Namespace == namespace && op.ID == operationID {
			return op
		}
	}
	return nil
}

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

func load() ([]*Operation, error) {
	entries, err := fs.ReadDir(files, "data/apps")
	if err != nil {
		return nil, err
	}
	var ops []*Operation
	for _, e := range entries {
		name := e.Name()
		raw, err := files.ReadFile(path.Join("data/apps", name))
		if err != nil {
			return nil, err
		}
		var doc struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("spec %s: %w", name, err)
		}
		ns := strings.TrimSuffix(name, ".json")
		for p, item := range doc.Paths {
			var shared []rawParam
			if rp, ok := item["parameters"]; ok {
				_ = json.Unmarshal(rp, &shared)
			}
			for _, m := range methods {
				rawJSON, ok := item[m]
				if !ok {
					continue
				}
				var ro rawOp
				if err := json.Unmarshal(rawJSON, &ro); err != nil {
					return nil, fmt.Errorf("spec %s %s %s: %w", name, m, p, err)
				}
				ops = append(ops, convert(ns, strings.ToUpper(m), p, ro, shared))
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		a, b := ops[i], ops[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Method < b.Method
	})
	return ops, nil
}

func convert(ns, method, p string, ro rawOp, shared []rawParam) *Operation {
	op := &Operation{Namespace: ns, ID: ro.OperationID, Method: method, Path: p, Deprecated: ro.Deprecated, ScopeSource: ro.ScopeSource}
	for _, rp := range append(append([]rawParam{}, shared...), ro.Parameters...) {
		if rp.In == "header" && strings.EqualFold(rp.Name, "Version") {
			if rp.Schema != nil {
				op.Versions = append(op.Versions, rp.Schema.Enum...)
			}
			continue
		}
		prm := Param{Name: rp.Name, In: rp.In, Required: rp.Required}
		if rp.Schema != nil {
			prm.Type, prm.Enum = rp.Schema.Type, rp.Schema.Enum
		}
		op.Params = append(op.Params, prm)
	}
	if ro.Security != nil {
		op.Secured = true
		for _, alt := range *ro.Security {
			for scheme, scopes := range alt {
				class, ok := schemeClass[scheme]
				if !ok {
					class = Location
				}
				op.Security = append(op.Security, Security{Class: class, Scopes: scopes})
			}
		}
	}
	if ro.RequestBody != nil {
		for ct := range ro.RequestBody.Content {
			op.BodyTypes = append(op.BodyTypes, ct)
		}
		sort.Strings(op.BodyTypes)
	}
	codes := make([]string, 0, len(ro.Responses))
	for c := range ro.Responses {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		if len(c) == 3 && c[0] == '2' {
			fmt.Sscanf(c, "%d", &op.SuccessCode)
			break
		}
	}
	if op.SuccessCode == 0 {
		op.SuccessCode = 200
	}
	return op
}

// Scopes returns the distinct scopes an operation names across its security
// alternatives.
func (o *Operation) Scopes() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range o.Security {
		for _, sc := range s.Scopes {
			if !seen[sc] {
				seen[sc] = true
				out = append(out, sc)
			}
		}
	}
	sort.Strings(out)
	return out
}
