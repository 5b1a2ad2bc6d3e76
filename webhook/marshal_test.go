package webhook

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

func TestMarshalNoEscaping(t *testing.T) {
	v := map[string]any{
		"html":    `<a href="https://example.com/?a=1&b=2">Tom & Jerry</a>`,
		"unicode": "Grüße, 東京, emoji 👋",
		"seps":    "line\u2028separator\u2029paragraph",
		"ctrl":    "tab\tnl\ncr\rbs\bff\fnul\x00esc\x1b",
		"quote":   `say "hi" \ bye`,
		"int":     199999,
		"neg":     -42,
		"float":   150.1,
		"big":     2000000,
		"bool":    true,
		"null":    nil,
		"list":    []any{1, "two", 3.5},
	}
	got, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"big":2000000,"bool":true,"ctrl":"tab\tnl\ncr\rbs\bff\fnul\u0000esc\u001b","float":150.1,` +
		`"html":"<a href=\"https://example.com/?a=1&b=2\">Tom & Jerry</a>","int":199999,"list":[1,"two",3.5],` +
		`"neg":-42,"null":null,"quote":"say \"hi\" \\ bye","seps":"line` + "\u2028" + `separator` + "\u2029" + `paragraph",` +
		`"unicode":"Grüße, 東京, emoji 👋"}`
	if string(got) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", got, want)
	}
	if bytes.HasSuffix(got, []byte("\n")) {
		t.Error("trailing newline")
	}
}

// canonicalCases are JSON texts and their JSON.stringify(JSON.parse(x))
// form, as Node writes it.
func canonicalCases() []struct{ in, want string } {
	return []struct{ in, want string }{
		{`{}`, `{}`},
		{` { "a" : [ 1 , 2 ] , "b" : { } } `, `{"a":[1,2],"b":{}}`},
		{`"\u003cb\u003e \u0026"`, `"<b> &"`},
		{`"\u2028\u2029"`, "\"\u2028\u2029\""},
		{`"a\/b"`, `"a/b"`},
		{`"\u00e9\u00E9"`, `"éé"`},
		{`"\ud83d\udc4b"`, `"👋"`},
		{`"\ud83d"`, `"\ud83d"`},
		{`"\uDC4B x"`, `"\udc4b x"`},
		{`"\ud83d\u0041"`, `"\ud83dA"`},
		{`"\u0000\u001F\u007f"`, "\"\\u0000\\u001f\x7f\""},
		{`"\b\f\n\r\t\"\\"`, `"\b\f\n\r\t\"\\"`},
		{`"\u0008\u000c"`, `"\b\f"`},
		{`1.0`, `1`},
		{`1E2`, `100`},
		{`1e-7`, `1e-7`},
		{`0.000001`, `0.000001`},
		{`0.0000015`, `0.0000015`},
		{`1.5e-7`, `1.5e-7`},
		{`-0`, `0`},
		{`-0.0`, `0`},
		{`0.1`, `0.1`},
		{`100.50`, `100.5`},
		{`1e21`, `1e+21`},
		{`123456789012345678901`, `123456789012345680000`},
		{`9007199254740993`, `9007199254740992`},
		{`1e400`, `null`},
		{`-1e400`, `null`},
		{`1e-400`, `0`},
		{`[1,-1,0,-0.5,12.5e1]`, `[1,-1,0,-0.5,125]`},
		{`{"b":1,"a":2,"10":3,"2":4,"01":5,"-1":6,"4294967295":7,"4294967294":8}`,
			`{"2":4,"10":3,"4294967294":8,"b":1,"a":2,"01":5,"-1":6,"4294967295":7}`},
		{`{"x":{"1":"a","0":"b"},"y":[{"3":1,"c":2}]}`, `{"x":{"0":"b","1":"a"},"y":[{"3":1,"c":2}]}`},
		{`[true,false,null]`, `[true,false,null]`},
	}
}

func TestMarshalCanonical(t *testing.T) {
	for _, c := range canonicalCases() {
		got, err := Marshal(json.RawMessage(c.in))
		if err != nil {
			t.Errorf("Marshal(%s): %v", c.in, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("Marshal(%s) = %s, want %s", c.in, got, c.want)
		}
		again, err := Marshal(json.RawMessage(got))
		if err != nil || !bytes.Equal(again, got) {
			t.Errorf("Marshal not idempotent on %s: %s, %v", got, again, err)
		}
	}
	// Invalid UTF-8 in a Go string or in raw JSON becomes U+FFFD.
	got, err := Marshal("a\xffb")
	if err != nil || string(got) != "\"a\uFFFDb\"" {
		t.Errorf("Marshal(invalid UTF-8) = %q, %v", got, err)
	}
	if _, err := Marshal(json.RawMessage(`{"a":}`)); err == nil {
		t.Error("Marshal of invalid raw JSON succeeded")
	}
	if _, err := Marshal(make(chan int)); err == nil {
		t.Error("Marshal(chan) succeeded")
	}
}

func TestCanonicalJSONErrors(t *testing.T) {
	for _, in := range []string{``, `{`, `[1,`, `{"a" 1}`, `{"a":1,}`, `"abc`, `"\x"`, `"\u12"`, `01`, `1.`, `1e`, `-`, `tru`, `nul`, "\"\x01\"", `{} {}`, `{1:2}`, `[1 2]`} {
		if out, err := canonicalJSON([]byte(in)); err == nil {
			t.Errorf("canonicalJSON(%q) = %s, want error", in, out)
		}
	}
	deep := strings.Repeat("[", maxCanonicalDepth+1) + strings.Repeat("]", maxCanonicalDepth+1)
	if _, err := canonicalJSON([]byte(deep)); err == nil {
		t.Error("canonicalJSON accepted nesting beyond the limit")
	}
}

// roundTripPayloads are typical bodies: every documented example, plus
// payloads with the characters Go escapes by default.
func roundTripPayloads(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for _, name := range EventNames() {
		out = append(out, deliveryBody(t, name, testNow, "wh-"+name))
	}
	return append(out,
		[]byte(`{"type":"InboundMessage","body":"<div style=\"font-family: verdana\">Tom & Jerry > Itchy</div>","messageType":"Email"}`),
		[]byte("{\"type\":\"NoteCreate\",\"body\":\"line\u2028sep\u2029para 👋 Grüße\",\"n\":1234567890123}"),
		[]byte(`{"type":"OpportunityCreate","monetaryValue":2000000,"ratio":0.25,"neg":-3,"customData":{"z":1,"a":[1,2,{"k":null}]}}`),
	)
}

// TestMarshalRoundTrip checks that bodies Marshal writes are stable through
// Go's own decode + Marshal, both generic (any) and typed (Parse).
func TestMarshalRoundTrip(t *testing.T) {
	for _, body := range roundTripPayloads(t) {
		var v any
		mustUnmarshal(t, body, &v)
		b1, err := Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var v2 any
		mustUnmarshal(t, b1, &v2)
		b2, err := Marshal(v2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b1, b2) {
			t.Errorf("generic round trip not stable:\n%s\n%s", b1, b2)
		}

		e, err := Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		t1, err := Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := Parse(t1)
		if err != nil {
			t.Fatal(err)
		}
		t2, err := Marshal(e2)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(t1, t2) {
			t.Errorf("typed round trip not stable:\n%s\n%s", t1, t2)
		}
		for _, s := range []string{`\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`} {
			if bytes.Contains(b1, []byte(s)) || bytes.Contains(t1, []byte(s)) {
				t.Errorf("output contains %s: %s", s, t1)
			}
		}
	}
}

// TestMarshalMatchesNode checks Marshal against the real JSON.stringify:
// for every input x, Marshal(x) == JSON.stringify(JSON.parse(x)), and Node
// leaves bodies Marshal wrote unchanged. Skipped without node on PATH.
func TestMarshalMatchesNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not on PATH")
	}
	var inputs [][]byte
	for _, c := range canonicalCases() {
		inputs = append(inputs, []byte(c.in))
	}
	inputs = append(inputs, roundTripPayloads(t)...)
	for _, body := range roundTripPayloads(t) {
		e, err := Parse(body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, b)
	}

	enc := make([]string, len(inputs))
	for i, in := range inputs {
		enc[i] = base64.StdEncoding.EncodeToString(in)
	}
	stdin, _ := json.Marshal(enc)
	const script = `
let data = '';
process.stdin.on('data', c => data += c);
process.stdin.on('end', () => {
  const out = JSON.parse(data).map(b64 => {
    const s = Buffer.from(b64, 'base64').toString('utf8');
    return Buffer.from(JSON.stringify(JSON.parse(s)), 'utf8').toString('base64');
  });
  process.stdout.write(JSON.stringify(out));
});`
	cmd := exec.Command(node, "-e", script)
	cmd.Stdin = bytes.NewReader(stdin)
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var outs []string
	if err := json.Unmarshal(stdout, &outs); err != nil || len(outs) != len(inputs) {
		t.Fatalf("node output: %v (%d results for %d inputs)", err, len(outs), len(inputs))
	}
	for i, in := range inputs {
		want, _ := base64.StdEncoding.DecodeString(outs[i])
		got, err := Marshal(json.RawMessage(in))
		if err != nil {
			t.Errorf("Marshal(%s): %v", in, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("Marshal(%s)\n  = %s\nnode %s", in, got, want)
		}
	}
}
