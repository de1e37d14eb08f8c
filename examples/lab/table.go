package lab

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// IdealResult turns an ideal into a table row named name.
func IdealResult(name string, id Ideal) Result {
	return Result{Name: name, Summary: id.Summary, Extra: id.Extra, Sorted: id.Sorted}
}

// WriteTable prints one row per result: percentiles, max, extra attempts
// and errors, and each p99 as a multiple of ref's p99 when ref is not nil.
// With markdown set it prints a Markdown table for a README.
func WriteTable(w io.Writer, results []Result, ref *Result, markdown bool) error {
	head := []string{"arm", "p50", "p90", "p99", "p99.9", "max", "extra", "errors"}
	if ref != nil {
		head = append(head, "p99 / ideal")
	}
	rows := [][]string{head}
	for _, r := range results {
		row := []string{r.Name, Dur(r.P50), Dur(r.P90), Dur(r.P99), Dur(r.P999), Dur(r.Max),
			fmt.Sprintf("%.1f%%", 100*r.Extra), fmt.Sprint(r.Errors)}
		if ref != nil {
			row = append(row, fmt.Sprintf("%.2f×", float64(r.P99)/float64(ref.P99)))
		}
		rows = append(rows, row)
	}
	return WriteRows(w, rows, markdown)
}

// WriteRows prints rows, the first being the header, as an aligned
// plain-text table (the first column left-aligned, the rest right-aligned,
// for numbers) or, with markdown set, as a Markdown table for a README.
func WriteRows(w io.Writer, rows [][]string, markdown bool) error {
	if markdown {
		for i, row := range rows {
			if _, err := fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | ")); err != nil {
				return err
			}
			if i == 0 {
				fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(row)))
			}
		}
		return nil
	}
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if i == 0 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString("  " + pad + cell)
			}
		}
		if _, err := fmt.Fprintln(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// Dur formats a latency for a table: 10.4ms, 1.00s.
func Dur(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
