package breaker

import (
	"testing"

	"github.com/sony/gobreaker/v2"
)

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Closed: "closed", HalfOpen: "half-open", Open: "open", 7: "State(7)"} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", s, got, want)
		}
	}
}

func TestFromGobreaker(t *testing.T) {
	for in, want := range map[gobreaker.State]State{
		gobreaker.StateClosed:   Closed,
		gobreaker.StateHalfOpen: HalfOpen,
		gobreaker.StateOpen:     Open,
	} {
		if got := fromGobreaker(in); got != want {
			t.Errorf("fromGobreaker(%v) = %v, want %v", in, got, want)
		}
	}
}

func TestFromGobreakerCounts(t *testing.T) {
	got := fromGobreakerCounts(gobreaker.Counts{Requests: 1, TotalSuccesses: 2, TotalFailures: 3,
		TotalExclusions: 4, ConsecutiveSuccesses: 5, ConsecutiveFailures: 6})
	want := Counts{Requests: 1, Successes: 2, Failures: 3, Excluded: 4, ConsecutiveSuccesses: 5, ConsecutiveFailures: 6}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
