package quota

import (
	"fmt"
	"io"
)

// writeHeadline prints the line a dialect's results open with: what the
// throttle arm sends per success and the 429s it draws, against the plain
// client's, and its goodput. A run without both arms prints nothing.
func writeHeadline(w io.Writer, res []Result) {
	var plain, th *Result
	for i := range res {
		switch res[i].Name {
		case ArmPlain:
			plain = &res[i]
		case ArmThrottle:
			th = &res[i]
		}
	}
	if plain == nil || th == nil {
		return
	}
	fmt.Fprintf(w, "Requests sent per success %.2f (%s) → %.2f (%s); 429s per 1,000 sent %.0f → %.1f; goodput %.1f%% of the quota.\n",
		plain.SentPerSuccess(), plain.Name, th.SentPerSuccess(), th.Name, plain.Per1000(), th.Per1000(), 100*th.Goodput)
}
