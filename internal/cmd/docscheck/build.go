package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// A problem is one thing docscheck reports.
type problem struct {
	file string
	line int
	msg  string
}

func (p problem) String() string { return fmt.Sprintf("%s:%d: %s", p.file, p.line, p.msg) }

// modules returns the directories under root that hold a go.mod, root
// first, skipping hidden directories and testdata.
func modules(root string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "go.mod" {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	return dirs, err
}

var goLine = regexp.MustCompile(`(?m)^go\s+(\S+)\s*$`)

// goVersion returns the highest go directive among the modules, so the
// workspace accepts every one of them.
func goVersion(dirs []string) (string, error) {
	best := "1.22"
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err != nil {
			return "", err
		}
		if m := goLine.FindSubmatch(data); m != nil && versionLess(best, string(m[1])) {
			best = string(m[1])
		}
	}
	return best, nil
}

// versionLess compares dotted Go versions numerically.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// compile builds every block in one go build: each block is a package of
// a temporary module, joined by a go.work with every module under root.
// It returns the compiler's errors, which //line directives place in the
// Markdown files.
func compile(root string, blocks []block) ([]problem, error) {
	if len(blocks) == 0 {
		return nil, nil
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	mods, err := modules(root)
	if err != nil {
		return nil, err
	}
	version, err := goVersion(mods)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "docscheck")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	work := "go " + version + "\n\nuse (\n\t.\n"
	for _, m := range mods {
		work += "\t" + strconv.Quote(m) + "\n"
	}
	work += ")\n"
	files := map[string]string{
		"go.mod":  "module docsnippets\n\ngo " + version + "\n",
		"go.work": work,
	}
	for i, b := range blocks {
		files[filepath.Join(fmt.Sprintf("s%03d", i), "snippet.go")] = source(b)
	}
	for name, text := range files {
		path := filepath.Join(tmp, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			return nil, err
		}
	}

	cmd := exec.Command("go", "build", "./...")
	cmd.Dir = tmp
	// GOFLAGS such as -mod=mod do not apply in workspace mode.
	cmd.Env = append(os.Environ(), "GOWORK="+filepath.Join(tmp, "go.work"), "GOFLAGS=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err == nil {
		return nil, nil
	} else if _, ok := err.(*exec.ExitError); !ok {
		return nil, err
	}
	problems := compilerErrors(out.String())
	if len(problems) == 0 {
		return nil, fmt.Errorf("go build failed with no error placed in a Markdown file:\n%s", out.String())
	}
	return problems, nil
}

// compilerError matches "file.md:line[:col]: message".
var compilerError = regexp.MustCompile(`(?m)^(\S+\.md):(\d+)(?::\d+)?: (.*)$`)

func compilerErrors(out string) []problem {
	var ps []problem
	for _, m := range compilerError.FindAllStringSubmatch(out, -1) {
		line, _ := strconv.Atoi(m[2])
		ps = append(ps, problem{file: m[1], line: line, msg: m[3]})
	}
	return ps
}
