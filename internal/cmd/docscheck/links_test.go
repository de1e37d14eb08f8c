package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsURL(t *testing.T) {
	for target, want := range map[string]bool{
		"https://pkg.go.dev/x": true,
		"mailto:a@b.c":         true,
		"docs/hedge.md":        false,
		"../README.md#install": false,
		"#anchor":              false,
	} {
		assert.Equal(t, want, isURL(target), target)
	}
}

func TestLinkLeavingTheRepository(t *testing.T) {
	root := writeTree(t, map[string]string{"README.md": "[up](../elsewhere.md)\n"})
	pages := map[string]page{"README.md": parse("README.md", "[up](../elsewhere.md)\n")}
	assert.Equal(t, []problem{{"README.md", 1, "link ../elsewhere.md leaves the repository"}}, checkLinks(root, pages))
}
