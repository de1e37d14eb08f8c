package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSource(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    block
		want string
	}{{
		name: "fragment: imports inferred, declarations used, shown values assigned",
		b: block{file: "d.md", line: 7, code: "// fmt.Println in a comment imports nothing\n" +
			"h := hedge.New(hedge.Config{})\n" +
			"hedge.Config{Delay: time.Second}\n" +
			"http.Get(\"http://x\")"},
		want: "package snippet\n\n" +
			"import (\n\thedge \"github.com/tailguard/tailguard/hedge\"\n\thttp \"net/http\"\n\ttime \"time\"\n)\n\n" +
			"func main() {\n//line d.md:7\n// fmt.Println in a comment imports nothing\n" +
			"h := hedge.New(hedge.Config{})\n" +
			"_ = hedge.Config{Delay: time.Second}\n" +
			"http.Get(\"http://x\")\n" +
			"\t_ = h\n}\n",
	}, {
		name: "fragment with a prelude",
		b:    block{file: "d.md", line: 4, code: "fmt.Println(err)", prelude: "var err error", pline: 2},
		want: "package snippet\n\nimport (\n\tfmt \"fmt\"\n)\n\n//line d.md:2\nvar err error\n\n" +
			"func main() {\n//line d.md:4\nfmt.Println(err)\n}\n",
	}, {
		name: "complete file: package main compiled as a library",
		b:    block{file: "d.md", line: 3, code: "// Comment.\npackage main\n\nfunc main() {}"},
		want: "//line d.md:3\n// Comment.\npackage snippet\n\nfunc main() {}\n",
	}, {
		name: "complete library file as it stands",
		b:    block{file: "d.md", line: 3, code: "package lib\n\nvar X = 1"},
		want: "//line d.md:3\npackage lib\n\nvar X = 1\n",
	}, {
		name: "a syntax error is left to the compiler",
		b:    block{file: "d.md", line: 3, code: "x := (1"},
		want: "package snippet\n\nfunc main() {\n//line d.md:3\nx := (1\n}\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, source(tc.b))
		})
	}
}
