package quota

import (
	"fmt"
	"io"

	"github.com/tailguard/tailguard/examples/lab"
)

// WriteTable prints one row per result (as Markdown with markdown set):
//
//   - goodput: successful requests per second within the run, % of quota;
//   - 429s/1k: 429s received per 1,000 requests sent, over the whole run
//     and after Warmup;
//   - p50, p99: latency of successful requests;
//   - failed: requests that did not succeed;
//   - sent/ok, sent/offered: requests sent per success and per request
//     made;
//   - burst: most requests received in the second after a gate opened, as
//     a multiple of the quota;
//   - in pause: 429s received inside a pause an earlier 429 announced.
func WriteTable(w io.Writer, results []Result, markdown bool) error {
	warm := "after warm-up"
	if len(results) > 0 {
		warm = fmt.Sprintf("429s/1k after %gs", Warmup(results[0].Dialect).Seconds())
	}
	rows := [][]string{{"arm", "goodput", "429s/1k sent", warm, "p50 ok", "p99 ok", "failed",
		"sent/ok", "sent/offered", "burst after gate", "429s in pause"}}
	for _, r := range results {
		burst, pause := "–", "–"
		if r.MaxReleased > 0 {
			burst = fmt.Sprintf("%.2f×", r.MaxReleased/r.Quota)
		}
		if r.Dialect.Announces() {
			pause = fmt.Sprint(r.InPause)
		}
		rows = append(rows, []string{r.Name,
			fmt.Sprintf("%.1f%%", 100*r.Goodput),
			fmt.Sprintf("%.0f", r.Per1000()),
			fmt.Sprintf("%.1f", r.Per1000AfterWarmup()),
			lab.Dur(r.P50), lab.Dur(r.P99),
			fmt.Sprint(r.Failed),
			fmt.Sprintf("%.2f", r.SentPerSuccess()),
			fmt.Sprintf("%.2f×", r.SentPerOffered()),
			burst, pause,
		})
	}
	return lab.WriteRows(w, rows, markdown)
}
