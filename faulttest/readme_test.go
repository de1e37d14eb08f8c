package faulttest_test

import (
	"os"
	"strings"
	"testing"
)

// matrixTable renders the matrix's expectations as the Markdown table the
// README's Reliability section shows.
func matrixTable() string {
	var b strings.Builder
	b.WriteString("| fault | request |")
	for a := range numArrangements {
		b.WriteString(" " + a.String() + " |")
	}
	b.WriteString("\n|---|---|")
	for range numArrangements {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range matrix {
		b.WriteString("| " + r.name + " | " + r.req.String() + " |")
		for a := range numArrangements {
			b.WriteString(" " + r.want[a].describe(a.has("breaker")) + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestREADMEMatrix keeps the README's table and the test's table the same:
// the README must contain the table rendered from the matrix, verbatim.
func TestREADMEMatrix(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skipf("no README: %v", err)
	}
	if table := matrixTable(); !strings.Contains(string(readme), table) {
		t.Errorf("README.md's Reliability section does not contain the matrix table; replace it with:\n\n%s", table)
	}
}
