package faulttest_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/httpx"
	"github.com/tailguard/tailguard/retry"
)

// TestGodocNamesNoInternalPackage: what `go doc` shows of a public package —
// exported constants' and variables' values, exported functions' and
// methods' signatures, exported fields — never names an internal package,
// which a user can neither read nor import. Round 1 showed
// "const DefaultMaxBody = httpx.DefaultMaxBufferedBody" (issue 11, docs).
func TestGodocNamesNoInternalPackage(t *testing.T) {
	entries, err := os.ReadDir("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch name := e.Name(); {
		case !e.IsDir(), strings.HasPrefix(name, "."), name == "internal", name == "examples",
			name == "bench", name == "faulttest", name == "scripts", name == "docs":
			continue
		}
		dir := filepath.Join("..", e.Name())
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range internalNames(f) {
				t.Errorf("%s: go doc shows %s, from an internal package", path, bad)
			}
		}
	}
}

// The public constants that restate an internal limit keep its value.
func TestPublicLimitsMatchInternal(t *testing.T) {
	if retry.DefaultMaxBufferedBody != httpx.DefaultMaxBufferedBody || hedge.DefaultMaxBody != httpx.DefaultMaxBufferedBody {
		t.Errorf("retry.DefaultMaxBufferedBody %d, hedge.DefaultMaxBody %d, httpx.DefaultMaxBufferedBody %d: want one value",
			retry.DefaultMaxBufferedBody, hedge.DefaultMaxBody, httpx.DefaultMaxBufferedBody)
	}
}

// internalNames lists the selectors on internal imports that f's exported
// declarations show.
func internalNames(f *ast.File) []string {
	internal := map[string]bool{} // local names of internal imports
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if !strings.Contains(p, "/internal/") {
			continue
		}
		name := p[strings.LastIndex(p, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		internal[name] = true
	}
	var bad []string
	find := func(n ast.Node) {
		if n == nil {
			return
		}
		ast.Inspect(n, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && internal[x.Name] {
					bad = append(bad, x.Name+"."+sel.Sel.Name)
				}
			}
			return true
		})
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Name.IsExported() && (d.Recv == nil || exportedRecv(d.Recv)) {
				find(d.Type)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.ValueSpec:
					for i, n := range s.Names {
						if n.IsExported() {
							find(s.Type)
							if i < len(s.Values) {
								find(s.Values[i])
							}
						}
					}
				case *ast.TypeSpec:
					if !s.Name.IsExported() {
						continue
					}
					if st, ok := s.Type.(*ast.StructType); ok {
						for _, fld := range st.Fields.List {
							if len(fld.Names) == 0 || fld.Names[0].IsExported() {
								find(fld.Type)
							}
						}
						continue
					}
					find(s.Type)
				}
			}
		}
	}
	return bad
}

func exportedRecv(recv *ast.FieldList) bool {
	t := recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if g, ok := t.(*ast.IndexExpr); ok {
		t = g.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}
