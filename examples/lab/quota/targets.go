package quota

import (
	"fmt"
	"strings"
)

// Verdict is one target checked against one arm's result.
type Verdict struct {
	Target string // what was asked, e.g. "goodput ≥ 95% of quota"
	Met    bool
	Got    string // what the arm achieved
}

func (v Verdict) String() string {
	mark := "met"
	if !v.Met {
		mark = "MISSED"
	}
	return fmt.Sprintf("%s: %s (%s)", mark, v.Target, v.Got)
}

// Targets checks r, a throttling arm's result, against the throttle
// issue's targets for r's dialect:
//
//   - header dialects (IETF, GitHub): goodput ≥ 95% of quota and ≤ 10
//     429s per 1,000 requests sent after the first 2 s;
//   - Retry-After only: at most one 429 burst per Retry-After window (no
//     429 inside a pause, see Result.InPause) and goodput ≥ 90%;
//   - bare 429s: goodput ≥ 90% and ≤ 50 429s per 1,000 requests sent after
//     the first 5 s;
//   - every dialect: no released burst above 1.2× the quota.
//
// With peers (the other libraries' arms on the same dialect) it also
// checks that r is ahead of every peer on 429s per 1,000 requests sent
// (fewer, or none at all: a peer that receives none cannot be beaten) and
// on requests sent per success, and no worse on goodput. "No worse" allows
// 0.5 percentage points: a client that never spends the server's burst
// (10 requests, 0.33% of a 30 s run at 100/s) cannot collect it, while a
// client that hammers the server does.
func Targets(r Result, peers []Result) []Verdict {
	var vs []Verdict
	goodput := func(min float64) {
		vs = append(vs, Verdict{fmt.Sprintf("goodput ≥ %.0f%% of quota", 100*min), r.Goodput >= min,
			fmt.Sprintf("%.1f%%", 100*r.Goodput)})
	}
	late429s := func(max float64) {
		vs = append(vs, Verdict{fmt.Sprintf("≤ %.0f 429s per 1,000 sent after %v", max, Warmup(r.Dialect)),
			r.Per1000AfterWarmup() <= max, fmt.Sprintf("%.1f", r.Per1000AfterWarmup())})
	}
	switch r.Dialect {
	case IETF, GitHub:
		goodput(0.95)
		late429s(10)
	case RetryAfterOnly:
		vs = append(vs, Verdict{"one 429 burst per Retry-After window (no 429 inside a pause)", r.InPause == 0,
			fmt.Sprintf("%d 429s inside pauses", r.InPause)})
		goodput(0.90)
	case Bare:
		goodput(0.90)
		late429s(50)
	}
	vs = append(vs, Verdict{"no released burst above 1.2× the quota", r.MaxReleased <= 1.2*r.Quota,
		fmt.Sprintf("%.2f×", r.MaxReleased/r.Quota)})
	if len(peers) == 0 {
		return vs
	}
	ahead := func(target string, mine float64, theirs func(Result) float64, better func(mine, theirs float64) bool, format string) {
		v := Verdict{Target: target, Met: true}
		var got []string
		for _, p := range peers {
			if !better(mine, theirs(p)) {
				v.Met = false
			}
			got = append(got, fmt.Sprintf(format, p.Name, theirs(p)))
		}
		v.Got = fmt.Sprintf(format, r.Name, mine) + " vs " + strings.Join(got, ", ")
		vs = append(vs, v)
	}
	// Against a peer that receives no 429 at all (failsafe-go's limiter
	// set to the quota by hand), fewer is impossible: as few is ahead.
	ahead("no more 429s per 1,000 sent than any peer", r.Per1000(), Result.Per1000,
		func(mine, theirs float64) bool { return mine < theirs || mine == 0 }, "%s %.1f")
	ahead("fewer requests sent per success than every peer", r.SentPerSuccess(), Result.SentPerSuccess,
		func(mine, theirs float64) bool { return mine < theirs }, "%s %.2f")
	ahead("goodput no worse than every peer's (within 0.5 points)", 100*r.Goodput,
		func(p Result) float64 { return 100 * p.Goodput },
		func(mine, theirs float64) bool { return mine >= theirs-0.5 }, "%s %.1f%%")
	return vs
}
