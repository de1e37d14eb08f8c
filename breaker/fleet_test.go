package breaker

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/internal/testkit"
)

// memFleet is an in-memory Fleet store for synctest bubbles, with the
// semantics of the Redis one: open reports and callers per key, by
// process, dropped after the window. proc returns one process's view.
type memFleet struct {
	mu      sync.Mutex // guards the fields below
	opens   map[string]map[string]time.Time
	callers map[string]map[string]time.Time
	failing bool
}

type memProc struct {
	f    *memFleet
	name string
}

func (f *memFleet) proc(name string) Fleet { return memProc{f, name} }

var errFleetDown = errors.New("fleet store down")

func (p memProc) Report(_ context.Context, key string, open bool, _ time.Duration) error {
	f := p.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing {
		return errFleetDown
	}
	if f.opens == nil {
		f.opens = map[string]map[string]time.Time{}
	}
	if f.opens[key] == nil {
		f.opens[key] = map[string]time.Time{}
	}
	if open {
		f.opens[key][p.name] = time.Now()
	} else {
		delete(f.opens[key], p.name)
	}
	return nil
}

func (p memProc) Observe(_ context.Context, key string, window time.Duration, calling bool) (FleetView, error) {
	f := p.f
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing {
		return FleetView{}, errFleetDown
	}
	now := time.Now()
	if f.callers == nil {
		f.callers = map[string]map[string]time.Time{}
	}
	if f.callers[key] == nil {
		f.callers[key] = map[string]time.Time{}
	}
	if calling {
		f.callers[key][p.name] = now
	}
	v := FleetView{Newest: -1}
	for _, at := range f.callers[key] {
		if now.Sub(at) < window {
			v.Callers++
		}
	}
	for name, at := range f.opens[key] {
		if name == p.name || now.Sub(at) >= window {
			continue
		}
		v.Open++
		if age := now.Sub(at); v.Newest < 0 || age < v.Newest {
			v.Newest = age
		}
	}
	return v, nil
}

func (f *memFleet) set(failing bool) {
	f.mu.Lock()
	f.failing = failing
	f.mu.Unlock()
}

// health is an upstream whose answer the test switches: 200 or 503.
type health struct{ failing atomic.Bool }

func (h *health) RoundTrip(req *http.Request) (*http.Response, error) {
	if h.failing.Load() {
		return testkit.Respond(req, 503, "", nil), nil
	}
	return testkit.Respond(req, 200, "", nil), nil
}

func get(rt http.RoundTripper) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://api.test/", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestFleetQuorum: four processes (breakers on one fleet store). A host
// failing for one process opens no other; failing for two of four (the
// default quorum: half, at least 2) opens it in the two that barely call
// it, within one FleetPoll, for the newest report's open period; the
// fleet's open period ends once the reporters have closed.
func TestFleetQuorum(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &memFleet{}
		sick := &health{}
		sick.failing.Store(true)
		well := &health{}
		newProc := func(name string, up http.RoundTripper) http.RoundTripper {
			return New(Config{Fleet: f.proc(name)}).Wrap(up)
		}
		a, b := newProc("a", sick), newProc("b", well)
		c, d := newProc("c", well), newProc("d", well)
		for _, p := range []http.RoundTripper{a, b, c, d} {
			_, err := get(p) // every process calls the host
			require.NoError(t, err)
		}

		// The host fails for a alone: a opens; the others do not.
		for range DefaultConsecutiveFailures {
			get(a)
		}
		_, err := get(a)
		require.ErrorIs(t, err, ErrOpen, "a's own breaker")
		time.Sleep(DefaultFleetPoll)
		for _, p := range []http.RoundTripper{b, c, d} {
			status, err := get(p)
			require.NoError(t, err, "one report is below the quorum")
			assert.Equal(t, 200, status)
		}

		// It fails for b too: two of four report it open, a quorum.
		sick2 := New(Config{Fleet: f.proc("b")}).Wrap(sick)
		for range DefaultConsecutiveFailures {
			get(sick2)
		}
		opened := time.Now()
		time.Sleep(DefaultFleetPoll)
		for _, p := range []http.RoundTripper{c, d} {
			_, err := get(p)
			var oe *OpenError
			require.ErrorAs(t, err, &oe, "c and d open within a poll of the quorum")
			assert.Equal(t, Open, oe.State)
			assert.Equal(t, opened.Add(DefaultOpenTimeout+time.Nanosecond), oe.Until, "for the newest report's open period")
		}

		// The reporters recover and close; the others follow when the
		// fleet's open period ends.
		sick.failing.Store(false)
		time.Sleep(DefaultOpenTimeout)
		for _, p := range []http.RoundTripper{a, sick2} {
			_, err := get(p) // the probe closes each
			require.NoError(t, err)
		}
		time.Sleep(DefaultFleetPoll)
		for _, p := range []http.RoundTripper{c, d} {
			status, err := get(p)
			require.NoError(t, err)
			assert.Equal(t, 200, status)
		}
	})
}

// TestFleetNeverSerializes: calls to a host the fleet knows are not held
// behind each other, and no lock is held across a request: 8 slow calls
// are in flight at once.
func TestFleetNeverSerializes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inflight, most atomic.Int32
		slow := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			n := inflight.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Second)
			inflight.Add(-1)
			return testkit.Respond(req, 200, "", nil), nil
		})
		rt := New(Config{Fleet: (&memFleet{}).proc("a")}).Wrap(slow)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				_, err := get(rt)
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		assert.EqualValues(t, 8, most.Load())
	})
}

// TestFleetStoreFailure: a fleet store that fails changes nothing for the
// requests: the breaker decides alone and logs the outage once.
func TestFleetStoreFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &memFleet{}
		f.set(true)
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		h := &health{}
		rt := New(Config{Fleet: f.proc("a"), Logger: logger}).Wrap(h)
		for range 5 {
			status, err := get(rt)
			require.NoError(t, err)
			assert.Equal(t, 200, status)
			time.Sleep(DefaultFleetPoll)
		}
		h.failing.Store(true)
		for range DefaultConsecutiveFailures {
			get(rt)
		}
		_, err := get(rt)
		require.ErrorIs(t, err, ErrOpen, "the local rules still open it")
		assert.Equal(t, 1, bytes.Count(logs.Bytes(), []byte("event=shared_unavailable")), logs.String())
	})
}

// TestFleetStartsOpen: a host fails for all four processes, which all
// open and report it; a process (re)started during the open period starts
// with the host open, refusing its first request unsent, until the
// newest report's open period ends.
func TestFleetStartsOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &memFleet{}
		sick := &health{}
		sick.failing.Store(true)
		for _, name := range []string{"a", "b", "c", "d"} {
			rt := New(Config{Fleet: f.proc(name)}).Wrap(sick)
			for range DefaultConsecutiveFailures {
				get(rt)
			}
		}
		opened := time.Now()
		time.Sleep(2 * time.Second)
		var sent atomic.Int32
		count := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			sent.Add(1)
			return testkit.Respond(req, 200, "", nil), nil
		})
		restarted := New(Config{Fleet: f.proc("a2")}).Wrap(count)
		_, err := get(restarted)
		var oe *OpenError
		require.ErrorAs(t, err, &oe, "the first request of a new process")
		assert.Equal(t, opened.Add(DefaultOpenTimeout+time.Nanosecond), oe.Until)
		assert.Zero(t, sent.Load())
		// Once the newest report's open period is over, its age says so:
		// the process sends again, and its own breaker decides.
		time.Sleep(time.Until(oe.Until))
		status, err := get(restarted)
		require.NoError(t, err)
		assert.Equal(t, 200, status)
		assert.EqualValues(t, 1, sent.Load())
	})
}

// TestFleetHoldIsAState: a key the fleet opens in a process is that
// process's breaker state, not a gate beside it. It shows Open in StateOf and
// Snapshot, is logged and hooked as closed → open (reason fleet), refuses
// with an error whose next probe exists, turns half-open when the fleet's
// open period ends, and lets exactly one probe through to a host that is
// still down (of 20 requests at once); the failed probe opens the key for
// a full OpenTimeout by this process's own observation, which it reports.
// A fleet-held open is never reported to the fleet.
func TestFleetHoldIsAState(t *testing.T) {
	const key = "http://api.test:80"
	for _, recovers := range []bool{false, true} {
		name := map[bool]string{false: "host still down", true: "host recovered"}[recovers]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &memFleet{}
				sick := &health{}
				sick.failing.Store(true)
				var sent atomic.Int32
				follower := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
					sent.Add(1)
					time.Sleep(100 * time.Millisecond) // all 20 requests arrive while the probe is out
					if recovers {
						return testkit.Respond(req, 200, "", nil), nil
					}
					return testkit.Respond(req, 503, "", nil), nil
				})
				logger, logs := testkit.NewLogs(slog.LevelInfo)
				var changes []StateChange
				var mu sync.Mutex
				c := New(Config{Fleet: f.proc("c"), Logger: logger, OnStateChange: func(sc StateChange) {
					mu.Lock()
					changes = append(changes, sc)
					mu.Unlock()
				}})
				rt := c.Wrap(follower)
				_, err := get(rt) // c is a caller, healthy so far
				require.NoError(t, err)
				sent.Store(0)
				for _, name := range []string{"a", "b"} {
					reporter := New(Config{Fleet: f.proc(name)}).Wrap(sick)
					for range DefaultConsecutiveFailures {
						get(reporter)
					}
				}
				opened := time.Now()
				time.Sleep(DefaultFleetPoll)

				_, err = get(rt)
				var oe *OpenError
				require.ErrorAs(t, err, &oe, "the fleet's quorum opens c")
				assert.Equal(t, opened.Add(DefaultOpenTimeout+time.Nanosecond), oe.Until)
				assert.Equal(t, "breaker: open for "+key+", next probe in 4s", oe.Error())
				assert.Equal(t, Open, c.StateOf(key), "State")
				require.Len(t, c.Snapshot(), 1)
				assert.Equal(t, Open, c.Snapshot()[0].State, "Snapshot")
				assert.Zero(t, sent.Load())
				f.mu.Lock()
				_, reported := f.opens[key]["c"]
				f.mu.Unlock()
				assert.False(t, reported, "an open taken from the fleet is never reported")

				time.Sleep(time.Until(oe.Until))
				assert.Equal(t, HalfOpen, c.StateOf(key), "the fleet's open period is over")
				var wg sync.WaitGroup
				var refused atomic.Int32
				for range 20 {
					wg.Go(func() {
						if _, err := get(rt); errors.Is(err, ErrOpen) {
							refused.Add(1)
						}
					})
				}
				wg.Wait()
				assert.EqualValues(t, 1, sent.Load(), "one half-open probe, not full traffic")
				assert.EqualValues(t, 19, refused.Load())

				// The fleet's open is logged with what this process had seen:
				// its one request before it.
				first := map[bool]string{false: "successes=0 failures=1", true: "successes=1 failures=0"}[recovers]
				want := []string{"state_change reason=fleet from=closed to=open " + first,
					"state_change reason=open_timeout from=open to=half-open successes=0 failures=0"}
				wantChanges := []StateChange{{key, Closed, Open, opened.Add(DefaultFleetPoll)}, {key, Open, HalfOpen, oe.Until}}
				if recovers {
					assert.Equal(t, Closed, c.StateOf(key))
					want = append(want, "state_change reason=probes_succeeded from=half-open to=closed successes=1 failures=0")
					wantChanges = append(wantChanges, StateChange{key, HalfOpen, Closed, oe.Until.Add(100 * time.Millisecond)})
				} else {
					assert.Equal(t, Open, c.StateOf(key), "the failed probe opens c by its own observation")
					want = append(want, "state_change reason=probe_failed from=half-open to=open successes=0 failures=1")
					wantChanges = append(wantChanges, StateChange{key, HalfOpen, Open, oe.Until.Add(100 * time.Millisecond)})
					f.mu.Lock()
					_, reported := f.opens[key]["c"]
					f.mu.Unlock()
					assert.True(t, reported, "c's own failed probe is reported")
				}
				assert.Equal(t, want, logs.Lines())
				mu.Lock()
				defer mu.Unlock()
				for i := range changes {
					changes[i].At = changes[i].At.Round(time.Millisecond)
				}
				for i := range wantChanges {
					wantChanges[i].At = wantChanges[i].At.Round(time.Millisecond)
				}
				assert.Equal(t, wantChanges, changes)
			})
		})
	}
}

// TestFleetHoldWaiters: with Config.MaxWait, requests that meet a key the
// fleet opened wait for its probe like for any open key's, and the
// recovered host sees one probe first, then the waiters.
func TestFleetHoldWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &memFleet{}
		sick := &health{}
		sick.failing.Store(true)
		var inflight, first atomic.Int32
		up := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			n := inflight.Add(1)
			first.CompareAndSwap(0, n)
			time.Sleep(10 * time.Millisecond)
			inflight.Add(-1)
			return testkit.Respond(req, 200, "", nil), nil
		})
		rt := New(Config{Fleet: f.proc("c"), MaxWait: 10 * time.Second}).Wrap(up)
		_, err := get(rt)
		require.NoError(t, err)
		for _, name := range []string{"a", "b"} {
			reporter := New(Config{Fleet: f.proc(name)}).Wrap(sick)
			for range DefaultConsecutiveFailures {
				get(reporter)
			}
		}
		time.Sleep(DefaultFleetPoll)
		first.Store(0)
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				status, err := get(rt)
				assert.NoError(t, err)
				assert.Equal(t, 200, status)
			})
		}
		wg.Wait()
		assert.EqualValues(t, 1, first.Load(), "the first request out is the probe, alone")
	})
}
