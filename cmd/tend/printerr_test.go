package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"tend/internal/diag"
)

func TestPrintError(t *testing.T) {
	at := func(file string, line int, field, msg string) *diag.Error {
		return &diag.Error{Pos: diag.Pos{File: file, Line: line, Col: 3}, Field: field, Msg: msg}
	}
	var many diag.List
	for i := 60; i > 0; i-- {
		many = append(many, at("big.yml", i, "", "bad"))
	}
	var manyWant strings.Builder
	for i := 1; i <= diag.MaxShown; i++ {
		fmt.Fprintf(&manyWant, "big.yml:%d:3: bad\n", i)
	}
	manyWant.WriteString("... and 10 more\ntend: 60 errors in big.yml\n")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"plain", errors.New("run: no such file"), "tend: run: no such file\n"},
		{"one positioned", at("site.yml", 4, "tasks[0].when", "invalid"), "tend: site.yml:4:3: tasks[0].when: invalid\n"},
		{"a list, sorted, then a count", badInput(diag.List{at("site.yml", 9, "b", "second"), at("site.yml", 2, "a", "first"), at("site.yml", 9, "", "third")}),
			"site.yml:2:3: a: first\nsite.yml:9:3: b: second\nsite.yml:9:3: third\ntend: 3 errors in site.yml\n"},
		{"two files", diag.List{at("b.yml", 1, "", "x"), at("a.yml", 1, "", "y")}, "a.yml:1:3: y\nb.yml:1:3: x\ntend: 2 errors in a.yml, b.yml\n"},
		{"capped", many, manyWant.String()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			exitCode(tt.err, &out)
			if out.String() != tt.want {
				t.Errorf("printed\n%s\nwant\n%s", out.String(), tt.want)
			}
		})
	}
}
