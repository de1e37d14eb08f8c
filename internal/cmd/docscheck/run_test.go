package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeTree writes files (slash paths relative to a new temporary
// directory) and returns the directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
	return root
}

// fixture is a checkout whose Markdown is all correct: a fragment with a
// prelude, a complete program, links to a file, a directory, a heading of
// another page and of its own.
var fixture = map[string]string{
	"go.mod":     "module example.com/fixture\n\ngo 1.22\n",
	"lib/lib.go": "package lib\n\n// Answer is what the docs quote.\nconst Answer = 42\n",
	"README.md": "# Fixture\n\n" +
		"See [the guide](docs/guide.md#deep-dive), [lib](lib/) and [below](#usage).\n\n" +
		"## Usage\n\n" +
		"<!-- docscheck: var name string -->\n" +
		"```go\n" +
		"msg := fmt.Sprintf(\"hello %s\", name)\n" +
		"[]string{msg}\n" +
		"```\n",
	"docs/guide.md": "# Guide\n\n[Back](../README.md)\n\n## Deep dive\n\n" +
		"```go\npackage main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"ok\") }\n```\n",
}

func TestRunAcceptsCorrectDocs(t *testing.T) {
	root := writeTree(t, fixture)
	var out, errOut bytes.Buffer
	code := run(root, &out, &errOut)
	assert.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	assert.Contains(t, out.String(), "2 files, 2 Go snippets compiled")
}

// TestRunCatchesBrokenSnippetsAndLinks proves the check fails, naming file
// and line, on each kind of mistake it exists for.
func TestRunCatchesBrokenSnippetsAndLinks(t *testing.T) {
	files := map[string]string{}
	for k, v := range fixture {
		files[k] = v
	}
	files["README.md"] = "# Fixture\n\n" + // 1-2
		"A [missing file](docs/missing.md), [a missing heading](docs/guide.md#nowhere),\n" + // 3
		"[a missing heading here](#nowhere) and `[code](is/not/checked.md)`.\n\n" + // 4-5
		"```go\n" + // 6
		"x := 1\n" + // 7
		"fmt.Println(y)\n" + // 8: y is undefined
		"```\n" // 9
	files["docs/guide.md"] = "# Guide\n\n" + // 1-2
		"```go\n" + // 3
		"package main\n\n" + // 4-5
		"func main() {\n" + // 6
		"\tvar n int = \"not a number\"\n" + // 7
		"\t_ = n\n}\n" + // 8-9
		"```\n\n![plot](plot.svg)\n" // 10-12
	root := writeTree(t, files)
	var out, errOut bytes.Buffer
	code := run(root, &out, &errOut)
	assert.Equal(t, 1, code, "stderr:\n%s", errOut.String())
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		"README.md:3: link docs/missing.md: no such file or directory",
		"README.md:3: link docs/guide.md#nowhere: no heading #nowhere in docs/guide.md",
		"README.md:4: link #nowhere: no heading #nowhere in README.md",
		"README.md:8: undefined: y",
		"docs/guide.md:7: cannot use \"not a number\" (untyped string constant) as int value in variable declaration",
		"docs/guide.md:12: link plot.svg: no such file or directory",
	}
	require.Len(t, got, len(want)+1, out.String())
	assert.Equal(t, want, got[:len(want)])
	assert.Contains(t, got[len(want)], "6 problems")
}
