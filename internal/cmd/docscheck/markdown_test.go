package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSlug(t *testing.T) {
	for _, tc := range []struct{ heading, want string }{
		{"Quick start", "quick-start"},
		{"HTTP hygiene (what every stage guarantees)", "http-hygiene-what-every-stage-guarantees"},
		{"Tail lab, d1 (`go run ./examples/taillab`)", "tail-lab-d1-go-run-examplestaillab"},
		{"Overhead (`cd bench && go test -run '^$' -bench . -count 5`)", "overhead-cd-bench--go-test--run---bench---count-5"},
		{"See [the docs](docs/README.md) now", "see-the-docs-now"},
		{"snake_case and ×3 — steps", "snake_case-and-3--steps"},
	} {
		assert.Equal(t, tc.want, slug(tc.heading), tc.heading)
	}
}

func TestParse(t *testing.T) {
	md := "# Title\n" + // 1
		"\n" + // 2
		"A [link](a.md#x) and `[not a link](b.md)` and ![img](p.svg \"title\").\n" + // 3
		"<!-- docscheck: var err error -->\n" + // 4
		"```go\n" + // 5
		"fmt.Println(err)\n" + // 6
		"```\n" + // 7
		"```sh\n" + // 8
		"[in a fence](c.md)\n" + // 9
		"```\n" + // 10
		"## Title\n" + // 11
		"````go\n" + // 12
		"package main\n" + // 13
		"```\n" + // 14, inside the longer fence
		"````\n" // 15
	p := parse("x.md", md)
	assert.Equal(t, []link{{"x.md", 3, "a.md#x"}, {"x.md", 3, "p.svg"}}, p.links)
	assert.Equal(t, map[string]bool{"title": true, "title-1": true}, p.anchors)
	if assert.Len(t, p.blocks, 2) {
		assert.Equal(t, block{file: "x.md", line: 6, code: "fmt.Println(err)", prelude: "var err error", pline: 4}, p.blocks[0])
		assert.Equal(t, block{file: "x.md", line: 13, code: "package main\n```"}, p.blocks[1])
	}
}
