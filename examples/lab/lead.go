package lab

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// A Quantile is a latency quantile a table can show.
type Quantile struct {
	Name string  // "p99.9"
	Q    float64 // 0.999
}

// Of returns s at q: one of the quantiles a [Summary] holds.
func (q Quantile) Of(s Summary) time.Duration {
	switch q.Q {
	case 0.5:
		return s.P50
	case 0.9:
		return s.P90
	case 0.99:
		return s.P99
	case 0.999:
		return s.P999
	}
	panic(fmt.Sprintf("lab: a Summary holds no %s", q.Name))
}

// tableQuantiles are the quantiles the tables show, ascending.
var tableQuantiles = []Quantile{{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p99.9", 0.999}}

// LeadQuantile returns the quantile where hedging acts on d, which a
// table leads with: of p90, p99 and p99.9, the one where the unhedged
// distribution is slowest against ideal (one hedge at the true p95). The
// unhedged side is read at the quantile with twice the tail (p99.8 for
// p99.9), the ideal at the quantile itself. That margin keeps a quantile on the edge of a slow mode from leading: d1's 1%
// of stalls puts its p99 at 10 ms or at 1 s depending on the draws, so
// hedging's gain there is luck, while its p99.9 is a stall in every
// sample. Both sides are simulated from n draws of seed, so the choice
// depends on the distribution, never on the run: p99.9 for d1, d2 and d3.
func LeadQuantile(d Dist, ideal Summary, n int, seed uint64) Quantile {
	r := NewRand(seed)
	unhedged := make([]time.Duration, n)
	for i := range unhedged {
		unhedged[i] = d.Sample(r)
	}
	slices.Sort(unhedged)
	lead, best := tableQuantiles[len(tableQuantiles)-1], 0.0
	for _, q := range tableQuantiles[1:] {
		edge := Percentile(unhedged, 1-2*(1-q.Q))
		if ratio := float64(edge) / float64(max(q.Of(ideal), 1)); ratio > best {
			lead, best = q, ratio
		}
	}
	return lead
}

// WriteLedTable prints one row per result like [WriteTable], but led by
// lead: the arm, its latency at lead, that as a multiple of ref's (when
// ref is not nil), the extra attempts, then the other quantiles, max and
// errors.
func WriteLedTable(w io.Writer, results []Result, ref *Result, lead Quantile, markdown bool) error {
	head := []string{"arm", lead.Name}
	if ref != nil {
		head = append(head, lead.Name+" / ideal")
	}
	head = append(head, "extra")
	for _, q := range tableQuantiles {
		if q != lead {
			head = append(head, q.Name)
		}
	}
	head = append(head, "max", "errors")
	rows := [][]string{head}
	for _, r := range results {
		row := []string{r.Name, Dur(lead.Of(r.Summary))}
		if ref != nil {
			row = append(row, fmt.Sprintf("%.2f×", float64(lead.Of(r.Summary))/float64(lead.Of(ref.Summary))))
		}
		row = append(row, fmt.Sprintf("%.1f%%", 100*r.Extra))
		for _, q := range tableQuantiles {
			if q != lead {
				row = append(row, Dur(q.Of(r.Summary)))
			}
		}
		rows = append(rows, append(row, Dur(r.Max), fmt.Sprint(r.Errors)))
	}
	return WriteRows(w, rows, markdown)
}

// WriteHeadline prints the one line a lab's results open with: at lead,
// the baseline arm against the arm the lab is about, with its extra load,
// and the ideal.
func WriteHeadline(w io.Writer, lead Quantile, dist string, baseline, arm, ideal Result) error {
	_, err := fmt.Fprintf(w, "%s, where hedging acts on %s: %s (%s) → %s (%s) at %.1f%% extra load; the ideal hedge: %s at %.1f%%.\n",
		lead.Name, dist, Dur(lead.Of(baseline.Summary)), baseline.Name, Dur(lead.Of(arm.Summary)), arm.Name,
		100*arm.Extra, Dur(lead.Of(ideal.Summary)), 100*ideal.Extra)
	return err
}
