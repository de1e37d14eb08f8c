package throttle

import (
	"sync"
	"time"
)

// adaptive is client-side adaptive throttling as the SRE book describes it
// ("Handling Overload"): over a rolling window the client counts requests
// (every request it meant to send, including those it rejected itself) and
// accepts (requests the host accepted), and rejects a new request locally
// with probability
//
//	max(0, (requests − K·accepts) / (requests + 1))
//
// so that once the host refuses more than 1 − 1/K of its requests, the
// client sends about K times what the host accepts and sheds the rest
// without a round trip. Throttled and failed responses are not accepts. A
// response that asked for a pause counts as neither: the gate already keeps
// the client away for exactly as long as the host asked, and counting the
// pause's 429 as a refusal would keep rejecting requests after it.
//
// Nothing is rejected until the window holds [AdaptiveMinRequests]
// requests: at the formula's low end, one refused request out of one
// would reject the next with probability 1/2, which says more about a
// quiet client than about an overloaded host (failsafe-go's throttler
// waits for 5 by default, for the same reason).
//
// It is safe for concurrent use.
type adaptive struct {
	k float64 // 0: disabled

	mu sync.Mutex // guards w
	w  window     // a: requests, b: accepts
}

func newAdaptive(k float64, d time.Duration) *adaptive {
	return &adaptive{k: k, w: newWindow(d)}
}

// AdaptiveMinRequests is how many requests a host's window must hold
// before adaptive throttling rejects any.
const AdaptiveMinRequests = 10

// rejectProbability returns the chance of rejecting a request at now.
func (a *adaptive) rejectProbability(now time.Time) float64 {
	if a.k == 0 {
		return 0
	}
	a.mu.Lock()
	t := a.w.totals(now)
	a.mu.Unlock()
	if t.a < AdaptiveMinRequests {
		return 0
	}
	return rejectProbability(float64(t.a), float64(t.b), a.k)
}

// rejectProbability is the SRE formula.
func rejectProbability(requests, accepts, k float64) float64 {
	return max(0, (requests-k*accepts)/(requests+1))
}

// record counts one request at now, accepted or not.
func (a *adaptive) record(now time.Time, accepted bool) {
	if a.k == 0 {
		return
	}
	var acc uint64
	if accepted {
		acc = 1
	}
	a.mu.Lock()
	a.w.add(now, 1, acc)
	a.mu.Unlock()
}
