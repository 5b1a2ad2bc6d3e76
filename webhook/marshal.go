package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Marshal encodes v as compact JSON in the form JavaScript's JSON.stringify
// writes it, so that JSON.stringify(JSON.parse(body)) gives back the same
// bytes. That matters when signing: GHL's official Node SDK verifies the
// re-serialized body, not the raw bytes, so a body that does not survive the
// round trip fails verification there.
//
// Compared with [json.Marshal], Marshal does not escape <, > and &, writes
// U+2028 and U+2029 unescaped, and writes every string, number and object of
// the output — including [json.RawMessage] values, which json.Marshal copies
// as they are — the way JSON.stringify would:
//
//   - strings escape only '"', '\\' and control characters (as \b, \t, \n,
//     \f, \r or \u00xx); \/ and other escapes are replaced by the character;
//     an escaped lone surrogate stays escaped, invalid UTF-8 becomes U+FFFD;
//   - numbers are float64 values in ECMAScript's shortest form (1.0 → 1,
//     1E2 → 100, -0 → 0; integers beyond 2^53 lose precision, as in JS, and
//     overflowing numbers become null);
//   - object members whose keys are array indexes ("0", "1", … up to
//     4294967294) come first in ascending order, as in a JS object.
//
// Not handled: duplicate keys in [json.RawMessage] input (JS keeps the last
// value at the first key's position).
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return canonicalJSON(bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}))
}

// maxCanonicalDepth bounds the nesting canonicalJSON accepts, like
// encoding/json's decoder does.
const maxCanonicalDepth = 10000

// canonicalJSON rewrites a JSON text into JSON.stringify's form.
func canonicalJSON(src []byte) ([]byte, error) {
	c := &jsCanon{src: src, dst: make([]byte, 0, len(src))}
	if err := c.value(); err != nil {
		return nil, err
	}
	c.ws()
	if c.i != len(c.src) {
		return nil, c.errorf("trailing data")
	}
	return c.dst, nil
}

type jsCanon struct {
	src     []byte
	i       int
	dst     []byte
	depth   int
	members []member // stack of the members of the objects being written
}

// member is an object member written to dst[from:to].
type member struct {
	from, to int
	index    int64 // array index of the key, or -1
}

func (c *jsCanon) errorf(format string, args ...any) error {
	return fmt.Errorf("webhook: canonical JSON at offset %d: %s", c.i, fmt.Sprintf(format, args...))
}

func (c *jsCanon) ws() {
	for c.i < len(c.src) {
		switch c.src[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *jsCanon) value() error {
	c.ws()
	if c.i >= len(c.src) {
		return c.errorf("unexpected end")
	}
	switch ch := c.src[c.i]; {
	case ch == '{':
		return c.object()
	case ch == '[':
		return c.array()
	case ch == '"':
		return c.str()
	case ch == 't':
		return c.literal("true")
	case ch == 'f':
		return c.literal("false")
	case ch == 'n':
		return c.literal("null")
	case ch == '-' || ('0' <= ch && ch <= '9'):
		return c.number()
	}
	return c.errorf("unexpected %q", c.src[c.i])
}

func (c *jsCanon) literal(lit string) error {
	if !bytes.HasPrefix(c.src[c.i:], []byte(lit)) {
		return c.errorf("invalid literal")
	}
	c.i += len(lit)
	c.dst = append(c.dst, lit...)
	return nil
}

func (c *jsCanon) enter() error {
	c.depth++
	if c.depth > maxCanonicalDepth {
		return c.errorf("nested too deeply")
	}
	return nil
}

func (c *jsCanon) array() error {
	if err := c.enter(); err != nil {
		return err
	}
	c.i++
	c.dst = append(c.dst, '[')
	c.ws()
	if c.i < len(c.src) && c.src[c.i] == ']' {
		c.i++
	} else {
		for {
			if err := c.value(); err != nil {
				return err
			}
			c.ws()
			if c.i >= len(c.src) {
				return c.errorf("unexpected end in array")
			}
			if c.src[c.i] == ']' {
				c.i++
				break
			}
			if c.src[c.i] != ',' {
				return c.errorf("expected , or ] in array")
			}
			c.i++
			c.dst = append(c.dst, ',')
		}
	}
	c.dst = append(c.dst, ']')
	c.depth--
	return nil
}

func (c *jsCanon) object() error {
	if err := c.enter(); err != nil {
		return err
	}
	c.i++
	start := len(c.dst)
	c.dst = append(c.dst, '{')
	base := len(c.members)
	reorder := false
	c.ws()
	if c.i < len(c.src) && c.src[c.i] == '}' {
		c.i++
	} else {
		for {
			c.ws()
			if c.i >= len(c.src) || c.src[c.i] != '"' {
				return c.errorf("expected object key")
			}
			from := len(c.dst)
			if err := c.str(); err != nil {
				return err
			}
			idx := arrayIndex(c.dst[from+1 : len(c.dst)-1])
			reorder = reorder || idx >= 0
			c.ws()
			if c.i >= len(c.src) || c.src[c.i] != ':' {
				return c.errorf("expected : after object key")
			}
			c.i++
			c.dst = append(c.dst, ':')
			if err := c.value(); err != nil {
				return err
			}
			c.members = append(c.members, member{from: from, to: len(c.dst), index: idx})
			c.ws()
			if c.i >= len(c.src) {
				return c.errorf("unexpected end in object")
			}
			if c.src[c.i] == '}' {
				c.i++
				break
			}
			if c.src[c.i] != ',' {
				return c.errorf("expected , or } in object")
			}
			c.i++
			c.dst = append(c.dst, ',')
		}
	}
	if reorder {
		c.reorderMembers(start+1, c.members[base:])
	}
	c.members = c.members[:base]
	c.dst = append(c.dst, '}')
	c.depth--
	return nil
}

// reorderMembers moves members with array-index keys to the front, in
// ascending order, as JavaScript orders an object's own properties.
func (c *jsCanon) reorderMembers(at int, ms []member) {
	sorted := slices.Clone(ms)
	slices.SortStableFunc(sorted, func(a, b member) int {
		switch {
		case a.index >= 0 && b.index >= 0:
			return int(a.index - b.index)
		case a.index >= 0:
			return -1
		case b.index >= 0:
			return 1
		}
		return 0
	})
	out := make([]byte, 0, len(c.dst)-at)
	for i, m := range sorted {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, c.dst[m.from:m.to]...)
	}
	c.dst = append(c.dst[:at], out...)
}

// arrayIndex returns the value of a canonical array-index key ("0", "7",
// "42"; not "07" or "4294967295"), or -1.
func arrayIndex(key []byte) int64 {
	if len(key) == 0 || len(key) > 10 || (key[0] == '0' && len(key) > 1) {
		return -1
	}
	var n int64
	for _, ch := range key {
		if ch < '0' || ch > '9' {
			return -1
		}
		n = n*10 + int64(ch-'0')
	}
	if n > math.MaxUint32-1 {
		return -1
	}
	return n
}

func (c *jsCanon) str() error {
	c.i++ // opening quote
	c.dst = append(c.dst, '"')
	for {
		if c.i >= len(c.src) {
			return c.errorf("unterminated string")
		}
		ch := c.src[c.i]
		switch {
		case ch == '"':
			c.i++
			c.dst = append(c.dst, '"')
			return nil
		case ch == '\\':
			if err := c.escape(); err != nil {
				return err
			}
		case ch < 0x20:
			return c.errorf("control character in string")
		case ch < utf8.RuneSelf:
			c.dst = append(c.dst, ch)
			c.i++
		default:
			r, size := utf8.DecodeRune(c.src[c.i:])
			if r == utf8.RuneError && size == 1 {
				c.dst = utf8.AppendRune(c.dst, utf8.RuneError)
			} else {
				c.dst = append(c.dst, c.src[c.i:c.i+size]...)
			}
			c.i += size
		}
	}
}

func (c *jsCanon) escape() error {
	if c.i+1 >= len(c.src) {
		return c.errorf("unterminated escape")
	}
	e := c.src[c.i+1]
	c.i += 2
	switch e {
	case '"', '\\', '/':
		c.appendRune(rune(e))
		return nil
	case 'b':
		c.appendRune('\b')
		return nil
	case 'f':
		c.appendRune('\f')
		return nil
	case 'n':
		c.appendRune('\n')
		return nil
	case 'r':
		c.appendRune('\r')
		return nil
	case 't':
		c.appendRune('\t')
		return nil
	case 'u':
	default:
		return c.errorf("invalid escape \\%c", e)
	}
	r, ok := hex4(c.src[c.i:])
	if !ok {
		return c.errorf("invalid \\u escape")
	}
	c.i += 4
	if 0xD800 <= r && r < 0xDC00 && c.i+6 <= len(c.src) && c.src[c.i] == '\\' && c.src[c.i+1] == 'u' {
		if lo, ok := hex4(c.src[c.i+2:]); ok && 0xDC00 <= lo && lo < 0xE000 {
			c.i += 6
			c.appendRune((r-0xD800)<<10 + (lo - 0xDC00) + 0x10000)
			return nil
		}
	}
	if 0xD800 <= r && r < 0xE000 {
		// A lone surrogate: JSON.stringify keeps it escaped, in lowercase.
		c.dst = append(c.dst, '\\', 'u')
		c.dst = strconv.AppendUint(c.dst, uint64(r), 16)
		return nil
	}
	c.appendRune(r)
	return nil
}

// appendRune writes r as JSON.stringify writes it inside a string.
func (c *jsCanon) appendRune(r rune) {
	switch r {
	case '"':
		c.dst = append(c.dst, '\\', '"')
	case '\\':
		c.dst = append(c.dst, '\\', '\\')
	case '\b':
		c.dst = append(c.dst, '\\', 'b')
	case '\f':
		c.dst = append(c.dst, '\\', 'f')
	case '\n':
		c.dst = append(c.dst, '\\', 'n')
	case '\r':
		c.dst = append(c.dst, '\\', 'r')
	case '\t':
		c.dst = append(c.dst, '\\', 't')
	default:
		if r < 0x20 {
			const hexDigits = "0123456789abcdef"
			c.dst = append(c.dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xF])
			return
		}
		c.dst = utf8.AppendRune(c.dst, r)
	}
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, ch := range b[:4] {
		r <<= 4
		switch {
		case '0' <= ch && ch <= '9':
			r |= rune(ch - '0')
		case 'a' <= ch && ch <= 'f':
			r |= rune(ch - 'a' + 10)
		case 'A' <= ch && ch <= 'F':
			r |= rune(ch - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

func (c *jsCanon) number() error {
	start := c.i
	simple := true // an integer of at most 15 digits: already in JS form
	if c.src[c.i] == '-' {
		c.i++
	}
	digits := c.i
	switch {
	case c.i < len(c.src) && c.src[c.i] == '0':
		c.i++
	case c.i < len(c.src) && '1' <= c.src[c.i] && c.src[c.i] <= '9':
		for c.i < len(c.src) && '0' <= c.src[c.i] && c.src[c.i] <= '9' {
			c.i++
		}
	default:
		return c.errorf("invalid number")
	}
	if c.i-digits > 15 {
		simple = false
	}
	if c.i < len(c.src) && c.src[c.i] == '.' {
		simple = false
		c.i++
		if !c.digits() {
			return c.errorf("invalid number fraction")
		}
	}
	if c.i < len(c.src) && (c.src[c.i] == 'e' || c.src[c.i] == 'E') {
		simple = false
		c.i++
		if c.i < len(c.src) && (c.src[c.i] == '+' || c.src[c.i] == '-') {
			c.i++
		}
		if !c.digits() {
			return c.errorf("invalid number exponent")
		}
	}
	lit := c.src[start:c.i]
	if simple && string(lit) != "-0" {
		c.dst = append(c.dst, lit...)
		return nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return c.errorf("invalid number: %v", err)
	}
	if math.IsInf(f, 0) {
		c.dst = append(c.dst, "null"...) // JSON.stringify(Infinity)
		return nil
	}
	c.dst = appendJSNumber(c.dst, f)
	return nil
}

func (c *jsCanon) digits() bool {
	n := c.i
	for c.i < len(c.src) && '0' <= c.src[c.i] && c.src[c.i] <= '9' {
		c.i++
	}
	return c.i > n
}

// appendJSNumber writes f as ECMAScript's Number::toString does (the same
// algorithm encoding/json uses for float64), with -0 written as 0.
func appendJSNumber(b []byte, f float64) []byte {
	if f == 0 {
		return append(b, '0')
	}
	format := byte('f')
	if abs := math.Abs(f); abs < 1e-6 || abs >= 1e21 {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 -> e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
