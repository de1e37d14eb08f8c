package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"sort"
	"strings"
)

// knownPackages maps the names fragments use to the packages they mean. A
// fragment using one of these names followed by a dot imports it.
var knownPackages = map[string]string{
	// standard library
	"bytes": "bytes", "context": "context", "errors": "errors", "fmt": "fmt", "io": "io",
	"log": "log", "slog": "log/slog", "http": "net/http", "httptest": "net/http/httptest",
	"httptrace": "net/http/httptrace", "url": "net/url", "os": "os", "strings": "strings",
	"sync": "sync", "time": "time",
	// this module
	"breaker": "github.com/tailguard/tailguard/breaker", "budget": "github.com/tailguard/tailguard/budget",
	"decision": "github.com/tailguard/tailguard/decision", "hedge": "github.com/tailguard/tailguard/hedge",
	"idempotency": "github.com/tailguard/tailguard/idempotency",
	"pipeline":    "github.com/tailguard/tailguard/pipeline", "retry": "github.com/tailguard/tailguard/retry",
	"throttle": "github.com/tailguard/tailguard/throttle",
	// nested modules and what their snippets use
	"redisstate":    "github.com/tailguard/tailguard/redisstate",
	"oteltailguard": "github.com/tailguard/tailguard/instrumentation/oteltailguard",
	"redis":         "github.com/redis/go-redis/v9",
	"prometheus":    "github.com/prometheus/client_golang/prometheus",
	"promhttp":      "github.com/prometheus/client_golang/prometheus/promhttp",
	"otelprom":      "go.opentelemetry.io/otel/exporters/prometheus",
	"sdkmetric":     "go.opentelemetry.io/otel/sdk/metric",
	"metric":        "go.opentelemetry.io/otel/metric",
	"trace":         "go.opentelemetry.io/otel/trace",
}

// libraryName replaces package main: a main package would be linked into
// a binary, which costs seconds per snippet and proves nothing more.
const libraryName = "snippet"

// source returns the Go file that compiles b, with //line directives that
// map it back to the Markdown.
func source(b block) string {
	if name := packageName(b.code); name != "" {
		code := b.code
		if name == "main" {
			code = strings.Replace(code, "package main", "package "+libraryName, 1)
		}
		return "//line " + b.file + ":" + fmt.Sprint(b.line) + "\n" + code + "\n"
	}
	var s strings.Builder
	s.WriteString("package " + libraryName + "\n\n")
	if imports := usedPackages(b.prelude + "\n" + b.code); len(imports) > 0 {
		s.WriteString("import (\n")
		for _, name := range imports {
			fmt.Fprintf(&s, "\t%s %q\n", name, knownPackages[name])
		}
		s.WriteString(")\n\n")
	}
	if b.prelude != "" {
		fmt.Fprintf(&s, "//line %s:%d\n%s\n\n", b.file, b.pline, b.prelude)
	}
	s.WriteString("func main() {\n")
	head := s.Len()
	fmt.Fprintf(&s, "//line %s:%d\n%s\n", b.file, b.line, b.code)
	return settle(s.String(), head)
}

// packageName returns the name in the package clause code starts with,
// after comments, or "" if it starts with none.
func packageName(code string) string {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", -1, len(code)), []byte(code), nil, 0)
	if _, tok, _ := sc.Scan(); tok != token.PACKAGE {
		return ""
	}
	if _, tok, lit := sc.Scan(); tok == token.IDENT {
		return lit
	}
	return ""
}

// usedPackages returns, sorted, the known package names that code uses as
// qualifiers (a name followed by a dot), outside comments and strings.
func usedPackages(code string) []string {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", -1, len(code)), []byte(code), func(token.Position, string) {}, 0)
	used := map[string]bool{}
	prev, prevLit := token.ILLEGAL, ""
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			break
		}
		if tok == token.PERIOD && prev == token.IDENT && knownPackages[prevLit] != "" {
			used[prevLit] = true
		}
		prev, prevLit = tok, lit
	}
	names := make([]string, 0, len(used))
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// settle closes main after a fragment that starts at offset head of src:
// values the fragment only shows (an expression statement that is no call
// or receive) are assigned to _, and the variables it declares at its top
// level are marked used, so that a fragment need not be a whole program.
// If src does not parse, the compiler reports the syntax error.
func settle(src string, head int) string {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src+"}\n", parser.SkipObjectResolution)
	if err != nil {
		return src + "}\n"
	}
	var main *ast.FuncDecl
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == "main" && fd.Recv == nil {
			main = fd
		}
	}
	if main == nil {
		return src + "}\n"
	}
	var shown []int // offsets of expression statements to assign to _
	var declared []string
	for _, st := range main.Body.List {
		switch st := st.(type) {
		case *ast.ExprStmt:
			switch x := st.X.(type) {
			case *ast.CallExpr:
			case *ast.UnaryExpr:
				if x.Op != token.ARROW {
					shown = append(shown, fset.PositionFor(st.Pos(), false).Offset)
				}
			default:
				shown = append(shown, fset.PositionFor(st.Pos(), false).Offset)
			}
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				for _, l := range st.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
						declared = append(declared, id.Name)
					}
				}
			}
		case *ast.DeclStmt:
			if gd, ok := st.Decl.(*ast.GenDecl); ok && gd.Tok == token.VAR {
				for _, spec := range gd.Specs {
					for _, id := range spec.(*ast.ValueSpec).Names {
						if id.Name != "_" {
							declared = append(declared, id.Name)
						}
					}
				}
			}
		}
	}
	for i := len(shown) - 1; i >= 0; i-- {
		if off := shown[i]; off >= head {
			src = src[:off] + "_ = " + src[off:]
		}
	}
	var tail strings.Builder
	for _, name := range declared {
		tail.WriteString("\t_ = " + name + "\n")
	}
	return src + tail.String() + "}\n"
}
