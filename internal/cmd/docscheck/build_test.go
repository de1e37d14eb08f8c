package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestVersionLess(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"1.22", "1.26.0", true},
		{"1.25.0", "1.25", false},
		{"1.9", "1.10", true},
		{"1.26.0", "1.25.9", false},
	} {
		assert.Equal(t, tc.want, versionLess(tc.a, tc.b), "%s < %s", tc.a, tc.b)
	}
}

func TestCompilerErrors(t *testing.T) {
	out := "# docsnippets/s001\n" +
		"docs/hedge.md:361: undefined: search\n" +
		"docs/x.md:7:3: declared and not used: y\n" +
		"note: module requires Go 1.26\n"
	assert.Equal(t, []problem{
		{"docs/hedge.md", 361, "undefined: search"},
		{"docs/x.md", 7, "declared and not used: y"},
	}, compilerErrors(out))
}
