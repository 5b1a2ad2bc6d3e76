package sandbox

import (
	"strings"

	"github.com/ghlkit/ghlkit/sandbox/spec"
)

// route is one method+path template the sandbox answers.
type route struct {
	method   string
	segments []string // literal segments, or "{name}" for parameters
	op       *spec.Operation
	handler  apiHandler
	// raw routes (consent page, admin, health) get no GHL middleware.
	raw bool
}

// router matches request paths against spec path templates. A trailing slash
// is insignificant (GHL's clients send "/contacts/", others "/contacts"), and
// at each segment a literal beats a parameter, so "/contacts/search/duplicate"
// wins over "/contacts/{contactId}/…".
type router struct {
	byShape map[string][]*route // key: segment count + first segment
	params  map[string][]*route // key: segment count, first segment is a parameter
}

func newRouter() *router {
	return &router{byShape: map[string][]*route{}, params: map[string][]*route{}}
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func shapeKey(n int, first string) string {
	return string(rune('0'+n)) + "|" + first
}

func (rt *router) add(r *route) {
	n := len(r.segments)
	if n > 0 && isParam(r.segments[0]) {
		k := shapeKey(n, "")
		rt.params[k] = append(rt.params[k], r)
		return
	}
	first := ""
	if n > 0 {
		first = r.segments[0]
	}
	k := shapeKey(n, first)
	rt.byShape[k] = append(rt.byShape[k], r)
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// match returns the best route for the method and path and its parameters.
// pathKnown reports whether some route matched the path with another method.
func (rt *router) match(method, path string) (best *route, params map[string]string, pathKnown bool) {
	segs := splitPath(path)
	first := ""
	if len(segs) > 0 {
		first = segs[0]
	}
	bestScore := -1
	try := func(cands []*route) {
		for _, r := range cands {
			score, ok := matchSegments(r.segments, segs)
			if !ok {
				continue
			}
			if r.method != method {
				pathKnown = true
				continue
			}
			if score > bestScore {
				best, bestScore = r, score
			}
		}
	}
	try(rt.byShape[shapeKey(len(segs), first)])
	try(rt.params[shapeKey(len(segs), "")])
	if best == nil {
		return nil, nil, pathKnown
	}
	for i, s := range best.segments {
		if isParam(s) {
			if params == nil {
				params = map[string]string{}
			}
			params[s[1:len(s)-1]] = segs[i]
		}
	}
	return best, params, pathKnown
}

// matchSegments scores a template against path segments: a bit per literal
// position, earlier positions weigh more.
func matchSegments(tmpl, segs []string) (int, bool) {
	if len(tmpl) != len(segs) {
		return 0, false
	}
	score := 0
	for i, t := range tmpl {
		score <<= 1
		if isParam(t) {
			if segs[i] == "" {
				return 0, false
			}
			continue
		}
		if t != segs[i] {
			return 0, false
		}
		score |= 1
	}
	return score, true
}
