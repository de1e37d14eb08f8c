package lab

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
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
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, row := range rows {
		// The name column reads better left-aligned; pad it by hand.
		fmt.Fprintf(tw, "%s\t%s\t\n", row[0]+strings.Repeat(" ", max(0, 26-len([]rune(row[0])))), strings.Join(row[1:], "\t"))
	}
	return tw.Flush()
}

// Dur formats a latency for a table: 10.4ms, 1.00s.
func Dur(d time.Duration) string {
	if d >= time.Second {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
