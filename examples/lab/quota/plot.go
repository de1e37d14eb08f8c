package quota

import (
	"fmt"
	"io"

	"github.com/tailguard/tailguard/examples/lab"
)

// WriteTimeline plots each run's arms over time: one row of panels per
// dialect, one panel per arm, each with requests sent, successes and 429s
// per second against the quota. runs holds one []Result per dialect, all
// with the same arms.
func WriteTimeline(w io.Writer, title string, runs [][]Result) error {
	tl := lab.Timeline{
		Title:  title,
		XLabel: "seconds since the start of the run",
		YLabel: "requests per second",
		Kinds:  []lab.LineKind{{Name: "sent (server received)"}, {Name: "succeeded"}, {Name: "429s", Dashed: true}},
	}
	for _, run := range runs {
		tl.Columns = max(tl.Columns, len(run))
		for _, r := range run {
			tl.Ref, tl.RefLabel = r.Quota, fmt.Sprintf("quota (%g/s)", r.Quota)
			tl.Panels = append(tl.Panels, lab.Panel{
				Title: r.Dialect.String() + ": " + r.Name,
				Lines: [][]float64{r.SentPerSec, r.SucceededPerSec, r.ThrottledPerSec},
			})
		}
	}
	return lab.WriteTimeline(w, tl)
}
