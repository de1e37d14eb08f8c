package main

import (
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// checkLinks reports every relative link in pages (keyed by slash path
// relative to root) that names no existing file or directory, or whose
// #fragment names no heading of the Markdown file it points into.
// Markdown files that are not among pages are read when a fragment points
// into them.
func checkLinks(root string, pages map[string]page) []problem {
	var ps []problem
	anchorsOf := func(file string) (map[string]bool, bool) {
		if p, ok := pages[file]; ok {
			return p.anchors, true
		}
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			return nil, false
		}
		p := parse(file, string(data))
		pages[file] = p
		return p.anchors, true
	}
	for _, file := range sortedKeys(pages) {
		for _, l := range pages[file].links {
			if isURL(l.target) {
				continue
			}
			target, fragment, _ := strings.Cut(l.target, "#")
			if unescaped, err := url.PathUnescape(target); err == nil {
				target = unescaped
			}
			dest := file
			if target != "" {
				dest = path.Join(path.Dir(file), target)
				if strings.HasPrefix(dest, "../") || dest == ".." {
					ps = append(ps, problem{l.file, l.line, "link " + l.target + " leaves the repository"})
					continue
				}
				if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(dest))); err != nil {
					ps = append(ps, problem{l.file, l.line, "link " + l.target + ": no such file or directory"})
					continue
				}
			}
			if fragment == "" || !strings.HasSuffix(dest, ".md") {
				continue
			}
			anchors, ok := anchorsOf(dest)
			if ok && !anchors[strings.ToLower(fragment)] {
				ps = append(ps, problem{l.file, l.line, "link " + l.target + ": no heading #" + fragment + " in " + dest})
			}
		}
	}
	return ps
}

// isURL reports whether target has a scheme (https:, mailto:, ...) and so
// is not checked.
func isURL(target string) bool {
	u, err := url.Parse(target)
	return err == nil && u.Scheme != ""
}
