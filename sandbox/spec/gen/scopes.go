package main

import (
	"fmt"
	"sort"
	"strings"
)

// ScopeSourceKey marks, on an operation of the generated specs, where the
// scopes of a security block that named none came from.
const ScopeSourceKey = "x-ghlkit-scopes-source"

// scopesDoc is the ScopeSourceKey value of scopes taken from Scopes.md.
const scopesDoc = "docs/oauth/Scopes.md"

// scopeOverride gives the scopes of an operation whose spec security names
// none and whose endpoint Scopes.md does not list either.
type scopeOverride struct {
	Method, Path string   // to catch an operationId moving to another endpoint
	Scopes       []string // required by every alternative of the security block
	Reason       string   // written to the generated spec as the scopes' source
}

// scopeOverrides, keyed by "namespace/operationId". Scopes.md lists the
// sibling endpoints of each, so a token that may use the siblings may use
// these. An override is an error once Scopes.md (or the spec) names a scope
// for the endpoint: the docs win, and the entry must go.
var scopeOverrides = map[string]scopeOverride{
	// Recurring tasks are location tasks: Scopes.md gives
	// POST /locations/:locationId/tasks/search locations/tasks.readonly
	// and lists no recurring-task endpoint. Writes take
	// locations/tasks.write, the write scope GHL's marketplace offers
	// beside locations/tasks.readonly (Scopes.md names no write scope for
	// location tasks at all).
	"locations/get-recurring-task-by-id": {Method: "GET", Path: "/locations/{locationId}/recurring-tasks/{id}", Scopes: []string{"locations/tasks.readonly"},
		Reason: "ghlkit: Scopes.md lists no recurring-task endpoint; locations/tasks.readonly, the scope of the location-tasks family"},
	"locations/create-recurring-task": {Method: "POST", Path: "/locations/{locationId}/recurring-tasks", Scopes: []string{"locations/tasks.write"},
		Reason: "ghlkit: Scopes.md lists no recurring-task endpoint; locations/tasks.write, the write scope of the location-tasks family"},
	"locations/update-recurring-task": {Method: "PUT", Path: "/locations/{locationId}/recurring-tasks/{id}", Scopes: []string{"locations/tasks.write"},
		Reason: "ghlkit: Scopes.md lists no recurring-task endpoint; locations/tasks.write, the write scope of the location-tasks family"},
	"locations/delete-recurring-task": {Method: "DELETE", Path: "/locations/{locationId}/recurring-tasks/{id}", Scopes: []string{"locations/tasks.write"},
		Reason: "ghlkit: Scopes.md lists no recurring-task endpoint; locations/tasks.write, the write scope of the location-tasks family"},
	// Scopes.md documents a single templates scope,
	// locations/templates.readonly (GET /locations/:locationId/templates),
	// and no locations/templates.write: a token can hold no other templates
	// scope, so deleting one takes that.
	"locations/DELETE-an-email-sms-template": {Method: "DELETE", Path: "/locations/{locationId}/templates/{id}", Scopes: []string{"locations/templates.readonly"},
		Reason: "ghlkit: Scopes.md lists only locations/templates.readonly for templates and defines no templates write scope"},
}

// parseScopesMD reads the scope table of docs/oauth/Scopes.md: rows
// "| scope | METHOD /path | webhook | access |", where an empty or &nbsp;
// first cell continues the scope above. It returns the scopes per endpoint
// key (endpointKey), in the order the table names them.
func parseScopesMD(md string) map[string][]string {
	out := map[string][]string{}
	scope := ""
	for _, line := range strings.Split(md, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 2 {
			continue
		}
		first, endpoint := cleanCell(cells[0]), cleanCell(cells[1])
		if strings.HasPrefix(first, "---") || first == "Scope" {
			continue
		}
		if first != "" {
			scope = first
		}
		method, p, ok := strings.Cut(endpoint, " ")
		if !ok || scope == "" {
			continue
		}
		k := endpointKey(method, strings.TrimSpace(p))
		if !contains(out[k], scope) {
			out[k] = append(out[k], scope)
		}
	}
	return out
}

func cleanCell(c string) string {
	return strings.TrimSpace(strings.ReplaceAll(c, "&nbsp;", ""))
}

// endpointKey is "METHOD a/{}/b": Scopes.md writes parameters as :name and
// sometimes drops the leading slash, the specs write {name}; a trailing
// slash is insignificant to both.
func endpointKey(method, p string) string {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || (strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}")) {
			segs[i] = "{}"
		}
	}
	return strings.ToUpper(method) + " " + strings.Join(segs, "/")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// readScope reports whether a scope grants reading only.
func readScope(s string) bool {
	return strings.HasSuffix(s, ".readonly") || strings.HasSuffix(s, ".read")
}

// readByPost are operations that read with a non-GET method, so Scopes.md
// rightly gives them a read scope.
var readByPost = map[string]bool{
	"social-media-posting/get-tags-by-ids": true, // POST …/tags/details looks tags up
}

// scopeFiller fills the scopes of secured operations that name none.
type scopeFiller struct {
	docs                    map[string][]string
	fromDocs, fromOverrides int
	used                    map[string]bool
	unfilled                []string
	errs                    []string
}

func newScopeFiller(docs map[string][]string) *scopeFiller {
	return &scopeFiller{docs: docs, used: map[string]bool{}}
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// apply fills the operations of one reduced spec document in place;
// problems are collected for finish.
func (f *scopeFiller) apply(ns string, doc any) {
	root, _ := doc.(map[string]any)
	paths, _ := root["paths"].(map[string]any)
	for p, item := range paths {
		ops, _ := item.(map[string]any)
		for _, m := range httpMethods {
			op, ok := ops[m].(map[string]any)
			if !ok {
				continue
			}
			f.fillOp(ns, strings.ToUpper(m), p, op)
		}
	}
}

func (f *scopeFiller) fillOp(ns, method, p string, op map[string]any) {
	id, _ := op["operationId"].(string)
	name := fmt.Sprintf("%s/%s (%s %s)", ns, id, method, p)
	alts, ok := op["security"].([]any)
	if !ok || len(alts) == 0 || !noScopes(alts) {
		if _, ok := scopeOverrides[ns+"/"+id]; ok {
			f.used[ns+"/"+id] = true
			f.errs = append(f.errs, name+": has an override but its spec security already names scopes or is absent; drop the override")
		}
		return
	}
	docScopes := f.docs[endpointKey(method, p)]
	if o, ok := scopeOverrides[ns+"/"+id]; ok {
		f.used[ns+"/"+id] = true
		switch {
		case len(docScopes) > 0:
			f.errs = append(f.errs, fmt.Sprintf("%s: Scopes.md now names %v; drop the override", name, docScopes))
		case o.Method != method || o.Path != p:
			f.errs = append(f.errs, fmt.Sprintf("%s: override is for %s %s", name, o.Method, o.Path))
		default:
			setScopes(alts, o.Scopes)
			op[ScopeSourceKey] = o.Reason
			f.fromOverrides++
		}
		return
	}
	switch len(docScopes) {
	case 0:
		f.unfilled = append(f.unfilled, name)
		return
	case 1:
	default:
		f.errs = append(f.errs, fmt.Sprintf("%s: Scopes.md lists it under several scopes %v; add an override", name, docScopes))
		return
	}
	if readScope(docScopes[0]) != (method == "GET" || readByPost[ns+"/"+id]) {
		f.errs = append(f.errs, fmt.Sprintf("%s: Scopes.md gives %s, which does not fit the method; check the table, add an override or extend readByPost", name, docScopes[0]))
		return
	}
	setScopes(alts, docScopes)
	op[ScopeSourceKey] = scopesDoc
	f.fromDocs++
}

// noScopes reports whether no alternative of a security block names a scope.
func noScopes(alts []any) bool {
	for _, a := range alts {
		m, _ := a.(map[string]any)
		for _, v := range m {
			if l, _ := v.([]any); len(l) > 0 {
				return false
			}
		}
	}
	return true
}

func setScopes(alts []any, scopes []string) {
	for _, a := range alts {
		m, _ := a.(map[string]any)
		for scheme := range m {
			l := make([]any, len(scopes))
			for i, s := range scopes {
				l[i] = s
			}
			m[scheme] = l
		}
	}
}

// finish reports the errors of every document and overrides no operation used.
func (f *scopeFiller) finish() error {
	for k := range scopeOverrides {
		if !f.used[k] {
			f.errs = append(f.errs, k+": override matches no operation; drop it")
		}
	}
	sort.Strings(f.unfilled)
	if len(f.errs) > 0 {
		sort.Strings(f.errs)
		return fmt.Errorf("scopes:\n  %s", strings.Join(f.errs, "\n  "))
	}
	return nil
}
