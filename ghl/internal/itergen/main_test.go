package main

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"testing"
)

// TestGeneratedFileIsCurrent fails when ghl/iterators_gen.go differs from
// what the table generates: run go generate ./ghl.
func TestGeneratedFileIsCurrent(t *testing.T) {
	want, err := generate(table)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../iterators_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("ghl/iterators_gen.go is out of date; run: go generate ./ghl")
	}
}

// TestEveryStyleRenders renders each style, including those no table entry
// uses yet, and checks the output parses as Go.
func TestEveryStyleRenders(t *testing.T) {
	for style := range styles {
		e := entry{Service: "X", Method: "List", Params: "P", Item: "T", Items: "Items", Style: style, DefaultLimit: 10, Op: "GET /x"}
		src, err := generate([]entry{e})
		if err != nil {
			t.Fatalf("%s: %v", style, err)
		}
		if _, err := parser.ParseFile(token.NewFileSet(), style+".go", src, 0); err != nil {
			t.Errorf("%s: %v", style, err)
		}
	}
	if _, err := generate([]entry{{Style: "nope"}}); err == nil {
		t.Error("unknown style: no error")
	}
}
