package savedplan

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// savedplan is plan data: it must not depend on the engine nor on views
// (cmd adapts it to the event stream).
func TestImportsNoEngine(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range ast.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if p == "tend/runner" || p == "tend/views" || strings.HasPrefix(p, "tend/cmd") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}
