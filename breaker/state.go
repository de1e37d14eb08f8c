package breaker

import (
	"time"

	"strconv"

	"github.com/sony/gobreaker/v2"
)

// State is the state of one key's breaker: [Closed], [HalfOpen] or
// [Open]. [Breaker.StateOf] returns it for one key; [Status] carries it,
// with the key and its counts, for each key [Breaker.Snapshot] lists.
//
// The zero State is [Closed], which is also the state of a key the breaker
// has never seen (or has evicted): its first request is let through.
type State uint8

const (
	// Closed lets every request through and counts outcomes.
	Closed State = iota
	// HalfOpen lets at most Config.HalfOpenProbes requests through as
	// probes and rejects the rest with an [*OpenError].
	HalfOpen
	// Open rejects every request with an [*OpenError] until
	// Config.OpenTimeout has passed since the breaker opened.
	Open
)

var stateNames = [...]string{Closed: "closed", HalfOpen: "half-open", Open: "open"}

// String returns "closed", "half-open" or "open", or "State(n)" for a
// value outside the defined constants.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// fromGobreaker maps gobreaker's state. gobreaker's constants happen to be
// in the same order as ours, but the mapping is spelled out so that a
// reordering upstream cannot silently swap Open and HalfOpen.
func fromGobreaker(s gobreaker.State) State {
	switch s {
	case gobreaker.StateHalfOpen:
		return HalfOpen
	case gobreaker.StateOpen:
		return Open
	default:
		return Closed
	}
}

// Counts are the outcomes a breaker has recorded: over the rolling Window,
// by the instant each attempt finished, and never from before the last
// state change. Every change starts afresh, and an attempt sent before it
// never counts, neither while in flight nor when it settles: its outcome
// describes a state that is over (gobreaker drops it the same way).
type Counts struct {
	// Requests is how many requests were let through since the last state
	// change and are in the window or still in flight.
	Requests uint32
	// Successes and Failures count settled outcomes; see the package
	// documentation for what counts as which.
	Successes, Failures uint32
	// Excluded counts outcomes that were neither: canceled callers, lost
	// hedges, rejections by inner stages and, unless Config.CountThrottled,
	// throttled responses.
	Excluded uint32
	// ConsecutiveSuccesses and ConsecutiveFailures are the current runs
	// since the last state change, however long ago they started.
	ConsecutiveSuccesses, ConsecutiveFailures uint32
}

// counts reads e's window and gobreaker's runs. They are read one after
// the other, so an outcome settling in between may show in one and not
// yet in the other.
func (e *entry) counts() Counts {
	w, inflight := e.window.totals(time.Now())
	c := e.cb.Counts()
	return Counts{
		Requests:             w.successes + w.failures + w.excluded + inflight,
		Successes:            w.successes,
		Failures:             w.failures,
		Excluded:             w.excluded,
		ConsecutiveSuccesses: c.ConsecutiveSuccesses,
		ConsecutiveFailures:  c.ConsecutiveFailures,
	}
}

// Status is one tracked key's breaker as [Breaker.Snapshot] saw it: the
// key, its [State] and its [Counts]. Where [Breaker.StateOf] answers "what
// will this key's next request meet" for any key, known or not, a Status
// exists only for a key the Breaker currently tracks, and adds the counts
// that explain the state (as gobreaker's State and Counts do together).
type Status struct {
	// Key names the breaker, in the form StateOf takes: the upstream,
	// such as "https://api.example.com:443", or a string Config.Key
	// returned.
	Key string
	// State is the key's state when Snapshot read it.
	State State
	// Counts are the key's outcome counts when Snapshot read it.
	Counts Counts
}
