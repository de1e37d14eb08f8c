package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	root := flag.String("root", ".", "the checkout to check")
	flag.Parse()
	os.Exit(run(*root, os.Stdout, os.Stderr))
}

// run checks the Markdown under root, prints each problem to out, and
// returns the exit code: 0 when there is none, 1 when there are problems,
// 2 when the check itself failed.
func run(root string, out, errOut io.Writer) int {
	files, err := markdownFiles(root)
	if err != nil {
		fmt.Fprintln(errOut, "docscheck:", err)
		return 2
	}
	pages := map[string]page{}
	var blocks []block
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if err != nil {
			fmt.Fprintln(errOut, "docscheck:", err)
			return 2
		}
		p := parse(f, string(data))
		pages[f] = p
		blocks = append(blocks, p.blocks...)
	}
	problems := checkLinks(root, pages)
	built, err := compile(root, blocks)
	if err != nil {
		fmt.Fprintln(errOut, "docscheck:", err)
		return 2
	}
	problems = append(problems, built...)
	sort.SliceStable(problems, func(i, j int) bool {
		if problems[i].file != problems[j].file {
			return problems[i].file < problems[j].file
		}
		return problems[i].line < problems[j].line
	})
	for _, p := range problems {
		fmt.Fprintln(out, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(out, "docscheck: %d problems in the Markdown (see internal/cmd/docscheck/doc.go for the conventions)\n", len(problems))
		return 1
	}
	fmt.Fprintf(out, "docscheck: %d files, %d Go snippets compiled, links resolve\n", len(files), len(blocks))
	return 0
}

// markdownFiles lists, slash-separated and relative to root, README.md,
// every .md file under docs/, and the README.md of every nested module.
func markdownFiles(root string) ([]string, error) {
	var files []string
	add := func(rel string) {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel))); err == nil {
			files = append(files, rel)
		}
	}
	add("README.md")
	docs := filepath.Join(root, "docs")
	if _, err := os.Stat(docs); err == nil {
		err := filepath.WalkDir(docs, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && filepath.Ext(path) == ".md" {
				rel, err := filepath.Rel(root, path)
				if err != nil {
					return err
				}
				files = append(files, filepath.ToSlash(rel))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	mods, err := modules(abs)
	if err != nil {
		return nil, err
	}
	for _, m := range mods {
		rel, err := filepath.Rel(abs, m)
		if err != nil {
			return nil, err
		}
		if rel != "." {
			add(filepath.ToSlash(filepath.Join(rel, "README.md")))
		}
	}
	return files, nil
}

func sortedKeys(m map[string]page) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
