package faulttest_test

import (
	"os"
	"strings"
	"testing"
)

// matrixTable renders the matrix's expectations as the Markdown table
// docs/reliability.md shows (the fault matrix section).
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

// TestREADMEMatrix keeps the documented table and the test's table the
// same: docs/reliability.md (where the README's Reliability section moved)
// must contain the table rendered from the matrix, verbatim.
func TestREADMEMatrix(t *testing.T) {
	doc, err := os.ReadFile("../docs/reliability.md")
	if err != nil {
		t.Fatalf("the fault matrix's page: %v", err)
	}
	if table := matrixTable(); !strings.Contains(string(doc), table) {
		t.Errorf("docs/reliability.md's fault matrix section does not contain the matrix table; replace it with:\n\n%s", table)
	}
}
