package main

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// A block is one fenced code block tagged go.
type block struct {
	file    string // relative to the checkout, slash-separated
	line    int    // line of the block's first line of code, 1-based
	code    string
	prelude string // from a <!-- docscheck: ... --> comment before the fence
	pline   int    // line of that comment
}

// A link is one inline link or image target outside code.
type link struct {
	file   string
	line   int
	target string
}

// A page is what docscheck reads from one Markdown file.
type page struct {
	blocks  []block
	links   []link
	anchors map[string]bool
}

var (
	// inlineLink matches [text](target) and ![alt](target); the target
	// stops at whitespace (a title may follow) or the closing parenthesis.
	inlineLink = regexp.MustCompile(`\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	codeSpan   = regexp.MustCompile("`+[^`]*`+")
	preludeRE  = regexp.MustCompile(`(?s)^<!--\s*docscheck:(.*)-->\s*$`)
)

// parse splits a Markdown file into its Go blocks, its links and its
// headings' anchors. Fences are lines starting with ``` or ~~~ (up to three
// spaces of indentation), closed by the same marker.
func parse(file, text string) page {
	p := page{anchors: map[string]bool{}}
	seen := map[string]int{}
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		ln := lines[i]
		trimmed := strings.TrimLeft(ln, " ")
		if fence := fenceMarker(trimmed); fence != "" && len(ln)-len(trimmed) <= 3 {
			lang := strings.TrimSpace(strings.TrimLeft(trimmed, fence[:1]))
			start := i + 1
			end := start
			for end < len(lines) && !strings.HasPrefix(strings.TrimLeft(lines[end], " "), fence) {
				end++
			}
			if lang == "go" || strings.HasPrefix(lang, "go ") {
				b := block{file: file, line: start + 1, code: strings.Join(lines[start:min(end, len(lines))], "\n")}
				b.prelude, b.pline = preludeBefore(lines, i)
				p.blocks = append(p.blocks, b)
			}
			i = end
			continue
		}
		if strings.HasPrefix(ln, "#") {
			if a, ok := headingAnchor(ln); ok {
				if n := seen[a]; n > 0 {
					p.anchors[a+"-"+strconv.Itoa(n)] = true
				} else {
					p.anchors[a] = true
				}
				seen[a]++
			}
		}
		for _, m := range inlineLink.FindAllStringSubmatch(codeSpan.ReplaceAllString(ln, ""), -1) {
			p.links = append(p.links, link{file: file, line: i + 1, target: m[1]})
		}
	}
	return p
}

// fenceMarker returns the run of backticks or tildes that opens a fence
// at the start of s, or "" if s opens none.
func fenceMarker(s string) string {
	for _, c := range []string{"`", "~"} {
		n := len(s) - len(strings.TrimLeft(s, c))
		if n >= 3 {
			return strings.Repeat(c, n)
		}
	}
	return ""
}

// preludeBefore returns the text of a docscheck comment that ends on the
// line right before the fence at index fence, and the comment's first line
// (1-based).
func preludeBefore(lines []string, fence int) (string, int) {
	end := fence - 1
	if end < 0 || !strings.HasSuffix(strings.TrimSpace(lines[end]), "-->") {
		return "", 0
	}
	for start := end; start >= 0 && start >= end-20; start-- {
		if strings.HasPrefix(strings.TrimSpace(lines[start]), "<!--") {
			m := preludeRE.FindStringSubmatch(strings.Join(lines[start:end+1], "\n"))
			if m == nil {
				return "", 0
			}
			return strings.TrimSpace(m[1]), start + 1
		}
	}
	return "", 0
}

// headingAnchor returns the anchor GitHub gives an ATX heading line.
func headingAnchor(line string) (string, bool) {
	level := len(line) - len(strings.TrimLeft(line, "#"))
	if level == 0 || level > 6 || (len(line) > level && line[level] != ' ') {
		return "", false
	}
	text := strings.TrimSpace(strings.TrimRight(strings.TrimSpace(line[level:]), "#"))
	return slug(text), true
}

// linkText replaces [text](target) with text in a heading.
var linkText = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)

// slug turns heading text into its anchor: links become their text, then
// lower case; letters, digits, '-' and '_' are kept, spaces become '-',
// everything else is dropped.
func slug(text string) string {
	text = linkText.ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
