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
