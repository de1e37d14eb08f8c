package hedge

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/internal/testkit"
)

// The race's rules, written a second time as a plain sequential simulation
// (the model), and checked against the real stage for every MaxHedges, every
// mix of outcomes and every order of arrival: exhaustively for one hedge,
// randomized with a fixed seed for more, and the extremes (every attempt the
// same outcome, all in flight at once, landing in reverse) for each
// MaxHedges. Round 1's fixed-size arrays overflowed at MaxHedges 10 when all
// 11 attempts failed with transport errors (issue 11, bug 1); a model catches
// the next counting mistake of that kind, and the panic outcome proves that
// a panic on any attempt's goroutine reaches the caller (bug 4).

// modelKind is what a scripted attempt does once its latency has elapsed.
type modelKind uint8

const (
	mSuccess   modelKind = iota // 200: wins
	mFinal                      // 404: wins
	mTransient                  // 503: fails, fires the next hedge at once
	mThrottled                  // 429 without Retry-After: fails, stops hedging (pushback)
	mPushback                   // 429 with Retry-After: 1: fails, stops hedging
	mFatal                      // 501: fails, fires nothing
	mTransport                  // connection reset: fails, fires the next hedge at once
	mRejection                  // an inner stage's rejection: fails, fires nothing
	mPanic                      // the transport panics
	numModelKinds
)

var modelKindNames = [...]string{"success", "final", "transient", "throttled", "pushback", "fatal", "transport", "rejection", "panic"}

func (k modelKind) String() string { return modelKindNames[k] }

const modelDelay = 100 * time.Millisecond // the fixed hedge Delay

// scenario is one scripted race. Attempt n (1-based) does kinds[n-1] after
// latencies[n-1]; the caller cancels at cancelAt (never if zero).
type scenario struct {
	maxHedges int // as configured; 0 means the default, 1
	kinds     []modelKind
	latencies []time.Duration
	cancelAt  time.Duration
}

func (s scenario) String() string {
	return fmt.Sprintf("MaxHedges %d, kinds %v, latencies %v, cancel at %v", s.maxHedges, s.kinds, s.latencies, s.cancelAt)
}

// expected is what the model says the caller gets.
type expected struct {
	from     int // the attempt whose response is returned; 0 for an error or a panic
	status   int
	err      string // the returned error's text
	panicVal string // the panic raised on the caller's goroutine
	winner   int
	sent     int
	took     time.Duration
}

// simulate runs the rules of hedge.go's "When hedges fire" and "Who wins"
// over s. It reports false when two events fall on the same instant, whose
// order the real stage does not define.
func (s scenario) simulate() (expected, bool) {
	hedges := max(s.maxHedges, 1)
	sentAt := []time.Duration{0}
	landed := []bool{false}
	var kept, lastErr, lastRej int // attempt numbers, 0 for none
	stopped := false
	var times []time.Duration // every event's instant, to find ties
	decide := func(e expected, at time.Duration) (expected, bool) {
		e.sent, e.took = len(sentAt), at
		seen := map[time.Duration]bool{}
		for _, t := range times {
			if seen[t] {
				return e, false
			}
			seen[t] = true
		}
		return e, true
	}
	fire := func(at time.Duration) {
		if !stopped && len(sentAt) <= hedges {
			sentAt = append(sentAt, at)
			landed = append(landed, false)
		}
	}
	for {
		// The next event: the earliest pending arrival, the timer of the
		// next hedge, or the caller's cancellation.
		next, what := time.Duration(1<<62), ""
		arrival := 0
		for i, at := range sentAt {
			if t := at + s.latencies[i]; !landed[i] && t < next {
				next, what, arrival = t, "arrival", i+1
			}
		}
		if k := len(sentAt); !stopped && k <= hedges && time.Duration(k)*modelDelay < next {
			next, what = time.Duration(k)*modelDelay, "timer"
		}
		if s.cancelAt > 0 && s.cancelAt < next {
			next, what = s.cancelAt, "cancel"
		}
		times = append(times, next)
		switch what {
		case "cancel":
			return decide(expected{err: context.Canceled.Error()}, next)
		case "timer":
			fire(next)
			continue
		}
		n := arrival
		landed[n-1] = true
		switch k := s.kinds[n-1]; k {
		case mPanic:
			return decide(expected{panicVal: panicValue(n)}, next)
		case mSuccess, mFinal:
			return decide(expected{from: n, winner: n, status: k.status()}, next)
		case mTransient, mThrottled, mPushback, mFatal:
			kept = n
		case mTransport:
			lastErr = n
		case mRejection:
			lastRej = n
		}
		switch s.kinds[n-1] {
		case mPushback, mThrottled:
			stopped = true
		case mTransient, mTransport:
			fire(next)
		}
		inFlight := false
		for _, l := range landed {
			inFlight = inFlight || !l
		}
		switch {
		case inFlight:
		case kept > 0:
			return decide(expected{from: kept, status: s.kinds[kept-1].status()}, next)
		case lastErr > 0:
			return decide(expected{err: resetErr(lastErr).Error()}, next)
		default:
			return decide(expected{err: modelRejection(lastRej).Error()}, next)
		}
	}
}

func (k modelKind) status() int {
	return map[modelKind]int{mSuccess: 200, mFinal: 404, mTransient: 503, mThrottled: 429, mPushback: 429, mFatal: 501}[k]
}

func panicValue(n int) string { return fmt.Sprintf("transport bug in attempt %d", n) }

func resetErr(n int) error { return fmt.Errorf("attempt %d: connection reset by peer", n) }

// modelRejection is an inner stage's refusal of attempt n.
type modelRejection int

func (r modelRejection) Error() string           { return fmt.Sprintf("attempt %d: breaker open", int(r)) }
func (modelRejection) Rejected() bool            { return true }
func (modelRejection) RetryAfter() time.Duration { return 0 }

// run runs s through the real stage and compares with the model.
func (s scenario) run(t *testing.T, want expected) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		var tr testkit.Tracker
		stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
			n := CopyFrom(req.Context())
			if err := testkit.Sleep(req.Context(), s.latencies[n-1]); err != nil {
				return nil, err
			}
			body := fmt.Sprintf("attempt %d", n)
			switch k := s.kinds[n-1]; k {
			case mPanic:
				panic(panicValue(n))
			case mTransport:
				return nil, resetErr(n)
			case mRejection:
				return nil, modelRejection(n)
			case mPushback:
				resp := testkit.Respond(req, k.status(), body, &tr)
				resp.Header.Set("Retry-After", "1")
				return resp, nil
			default:
				return testkit.Respond(req, k.status(), body, &tr), nil
			}
		}}
		var mu sync.Mutex
		var infos []CompleteInfo
		h := New(Config{
			Delay: modelDelay, MaxHedges: s.maxHedges,
			Budget:     budget.New(budget.Config{Ratio: 1, MinPerSecond: 1e9, MaxTokens: budget.MaxTokensLimit}),
			OnComplete: func(i CompleteInfo) { mu.Lock(); infos = append(infos, i); mu.Unlock() },
		})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if s.cancelAt > 0 {
			time.AfterFunc(s.cancelAt, cancel)
		}
		start := time.Now()
		var resp *http.Response
		var err error
		var panicked any
		func() {
			defer func() { panicked = recover() }()
			resp, err = h.Wrap(stub).RoundTrip(newGet(t).WithContext(ctx))
		}()
		took := time.Since(start)
		if took != want.took {
			t.Errorf("returned after %v, want %v", took, want.took)
		}
		switch {
		case want.panicVal != "":
			if panicked != want.panicVal {
				t.Errorf("panic %v, want %q", panicked, want.panicVal)
			}
		case panicked != nil:
			t.Errorf("unexpected panic %v", panicked)
		case want.err != "":
			if resp != nil || err == nil || err.Error() != want.err {
				t.Errorf("got %v, %v; want error %q", resp, err, want.err)
			}
		default:
			if err != nil || resp == nil {
				t.Fatalf("got error %v, want %d from attempt %d", err, want.status, want.from)
			}
			if got := readAll(t, resp); resp.StatusCode != want.status || got != fmt.Sprintf("attempt %d", want.from) {
				t.Errorf("got %d %q, want %d from attempt %d", resp.StatusCode, got, want.status, want.from)
			}
		}
		// Nothing fires later, every loser finishes, and every response
		// but the one returned (now closed) was drained and closed.
		time.Sleep(time.Hour)
		synctest.Wait()
		if stub.Calls() != want.sent {
			t.Errorf("%d attempts sent, want %d", stub.Calls(), want.sent)
		}
		if tr.Open() != 0 {
			t.Errorf("%d response bodies left open", tr.Open())
		}
		mu.Lock()
		defer mu.Unlock()
		if len(infos) != 1 {
			t.Fatalf("OnComplete called %d times", len(infos))
		}
		if i := infos[0]; i.Winner != want.winner || i.Sent != want.sent || i.Duration != want.took {
			t.Errorf("CompleteInfo %+v; want winner %d, sent %d, duration %v", i, want.winner, want.sent, want.took)
		}
		st := h.Stats()
		if got := st.OriginalWins + st.HedgeWins + st.Failed; got != 1 || (want.winner == 1) != (st.OriginalWins == 1) {
			t.Errorf("stats %+v for winner %d", st, want.winner)
		}
		if st.Hedges != uint64(want.sent-1) {
			t.Errorf("Stats.Hedges %d, want %d", st.Hedges, want.sent-1)
		}
	})
}

// check simulates s and, unless it has ties, runs it as a subtest.
func (s scenario) check(t *testing.T) bool {
	want, ok := s.simulate()
	if !ok {
		return false
	}
	if !t.Run(s.String(), func(t *testing.T) { s.run(t, want) }) {
		t.FailNow() // one failing scenario is enough to read
	}
	return true
}

// TestRaceModelOneHedge: every pair of outcomes, at every order of arrival
// relative to each other, to the hedge's timer and to a cancellation.
func TestRaceModelOneHedge(t *testing.T) {
	firsts := []time.Duration{30 * time.Millisecond, 150 * time.Millisecond, 350 * time.Millisecond}
	seconds := []time.Duration{10 * time.Millisecond, 90 * time.Millisecond, 300 * time.Millisecond}
	for _, mh := range []int{0, 1} {
		for k1 := range numModelKinds {
			for k2 := range numModelKinds {
				for _, l1 := range firsts {
					for _, l2 := range seconds {
						for _, c := range []time.Duration{0, 170 * time.Millisecond} {
							scenario{mh, []modelKind{k1, k2}, []time.Duration{l1, l2}, c}.check(t)
						}
					}
				}
			}
		}
	}
}

// TestRaceModelRandom: random mixes and latencies for every MaxHedges up to
// the maximum, with a fixed seed.
func TestRaceModelRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 2026))
	for mh := 0; mh <= maxHedgesLimit; mh++ {
		for ran := 0; ran < 150; {
			n := max(mh, 1) + 1
			s := scenario{maxHedges: mh, kinds: make([]modelKind, n), latencies: make([]time.Duration, n)}
			for i := range n {
				// Failures dominate, so that the later hedges get sent.
				s.kinds[i] = modelKind(rng.IntN(int(numModelKinds)))
				if rng.IntN(3) > 0 && s.kinds[i] <= mFinal {
					s.kinds[i] = mTransient + modelKind(rng.IntN(int(mRejection-mTransient+1)))
				}
				s.latencies[i] = time.Duration(1+rng.IntN(1500))*time.Millisecond + time.Duration(rng.IntN(1000))*time.Microsecond
			}
			if rng.IntN(4) == 0 {
				s.cancelAt = time.Duration(rng.IntN(2000))*time.Millisecond + 500*time.Microsecond
			}
			if s.check(t) {
				ran++
			}
		}
	}
}

// TestRaceModelExtremes: for each MaxHedges, every attempt with the same
// outcome, (a) each landing before the next timer, (b) all in flight at
// once and landing in reverse order. (b) with transport errors at
// MaxHedges 10 is round 1's crash.
func TestRaceModelExtremes(t *testing.T) {
	for mh := 0; mh <= maxHedgesLimit; mh++ {
		n := max(mh, 1) + 1
		for k := range numModelKinds {
			kinds := make([]modelKind, n)
			quick, reverse := make([]time.Duration, n), make([]time.Duration, n)
			for i := range n {
				kinds[i] = k
				quick[i] = 50*time.Millisecond + time.Duration(i)*time.Microsecond
				reverse[i] = 3*time.Second - time.Duration(i)*150*time.Millisecond
			}
			for _, lat := range [][]time.Duration{quick, reverse} {
				if !(scenario{mh, kinds, lat, 0}.check(t)) {
					t.Fatalf("extreme scenario has ties: MaxHedges %d, %v", mh, k)
				}
			}
		}
	}
}
