package quota

import (
	"strings"
	"testing"
)

func TestTargets(t *testing.T) {
	good := Result{Name: "careful", Quota: 100, Goodput: 0.97, Sent: 3000, Throttled: 3, SentAfterWarmup: 2800,
		ThrottledAfterWarmup: 1, MaxReleased: 110, Succeeded: 2990}
	peer := Result{Name: "hammer", Quota: 100, Goodput: 1.003, Sent: 9000, Throttled: 6000, Succeeded: 3010}
	cases := []struct {
		d      Dialect
		r      func(Result) Result
		peers  []Result
		missed []string
	}{
		{IETF, func(r Result) Result { return r }, nil, nil},
		{GitHub, func(r Result) Result { r.Goodput = 0.94; return r }, nil, []string{"goodput ≥ 95%"}},
		{IETF, func(r Result) Result { r.ThrottledAfterWarmup = 29; return r }, nil, []string{"≤ 10 429s per 1,000 sent after 2s"}},
		{RetryAfterOnly, func(r Result) Result { r.Goodput = 0.91; r.InPause = 1; return r }, nil, []string{"one 429 burst"}},
		{Bare, func(r Result) Result { r.Goodput = 0.91; r.ThrottledAfterWarmup = 150; return r }, nil, []string{"≤ 50 429s per 1,000 sent after 5s"}},
		{Bare, func(r Result) Result { r.Goodput = 0.91; r.MaxReleased = 121; return r }, nil, []string{"no released burst"}},
		{IETF, func(r Result) Result { return r }, []Result{peer}, []string{"goodput no worse"}},
		{IETF, func(r Result) Result { r.Goodput = 0.999; return r }, []Result{peer}, nil},
		{IETF, func(r Result) Result { r.Goodput = 0.999; r.Sent = 90000; r.Throttled = 60000; return r }, []Result{peer},
			[]string{"no more 429s", "fewer requests sent per success"}},
	}
	for i, c := range cases {
		r := c.r(good)
		r.Dialect = c.d
		var missed []string
		for _, v := range Targets(r, c.peers) {
			if !v.Met {
				missed = append(missed, v.String())
			}
		}
		if len(missed) != len(c.missed) {
			t.Errorf("case %d (%v): missed %q, want %q", i, c.d, missed, c.missed)
			continue
		}
		for j, m := range c.missed {
			if !strings.Contains(missed[j], m) {
				t.Errorf("case %d (%v): missed %q, want %q", i, c.d, missed[j], m)
			}
		}
	}
	v := Targets(good, []Result{peer})[len(Targets(good, nil))]
	if !strings.Contains(v.Got, "careful 1.0 vs hammer 666.7") {
		t.Errorf("comparison detail %q", v.Got)
	}
}
