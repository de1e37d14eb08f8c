package quota

import (
	"slices"
	"testing"
	"time"
)

func at(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }

func rej(ms int, pause time.Duration) Arrival {
	return Arrival{At: at(ms), Status: 429, Wait: 10 * time.Millisecond, Pause: pause}
}

func TestInPause(t *testing.T) {
	s := time.Second
	cases := []struct {
		name string
		in   []Arrival
		want int
	}{
		{"none", nil, 0},
		{"one burst with stragglers", []Arrival{rej(0, s), rej(5, s), rej(100, s)}, 0},
		{"a 429 inside the pause", []Arrival{rej(0, s), rej(101, s), rej(999, s)}, 2},
		{"one burst per pause", []Arrival{rej(0, s), rej(1000, s), rej(1050, s), rej(2000, s)}, 0},
		{"200s do not count", []Arrival{rej(0, s), {At: at(500), Status: 200}}, 0},
		{"bare 429s announce nothing", []Arrival{rej(0, 0), rej(500, 0)}, 0},
		{"out of order", []Arrival{rej(500, s), rej(0, s)}, 1},
	}
	for _, c := range cases {
		if got := inPause(c.in); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestMaxReleased(t *testing.T) {
	// A 429 at 0 ms announcing 1 s, then 3 arrivals in [1 s, 2 s) and 1
	// later; a bare 429 at 2.5 s whose 10 ms wait opens on 2 arrivals.
	arrivals := []Arrival{rej(0, time.Second), {At: at(1000)}, {At: at(1500)}, {At: at(1999)},
		rej(2500, 0), {At: at(2510)}, {At: at(2600)}, {At: at(3600)}}
	offs := make([]time.Duration, len(arrivals))
	for i, a := range arrivals {
		offs[i] = a.At.Sub(at(0))
	}
	if got := maxReleased(arrivals, at(0), offs); got != 3 {
		t.Errorf("maxReleased = %v, want 3", got)
	}
	if got := maxReleased([]Arrival{{At: at(0)}}, at(0), []time.Duration{0}); got != 0 {
		t.Errorf("no 429: %v, want 0", got)
	}
}

func TestPerSecond(t *testing.T) {
	got := perSecond([]time.Duration{0, 999 * time.Millisecond, time.Second, 3500 * time.Millisecond, -time.Millisecond})
	if want := []float64{2, 1, 0, 1}; !slices.Equal(got, want) {
		t.Errorf("perSecond = %v, want %v", got, want)
	}
}

func TestResultRatios(t *testing.T) {
	r := Result{Offered: 100, Succeeded: 50, Sent: 200, Throttled: 20, SentAfterWarmup: 100, ThrottledAfterWarmup: 1}
	if r.Per1000() != 100 || r.Per1000AfterWarmup() != 10 || r.SentPerSuccess() != 4 || r.SentPerOffered() != 2 {
		t.Errorf("ratios %v %v %v %v", r.Per1000(), r.Per1000AfterWarmup(), r.SentPerSuccess(), r.SentPerOffered())
	}
	if (Result{}).SentPerSuccess() != 0 {
		t.Error("ratio of nothing is not 0")
	}
	if Warmup(Bare) != 5*time.Second || Warmup(IETF) != 2*time.Second {
		t.Error("warm-ups are not the issue's")
	}
}
