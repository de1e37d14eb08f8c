package hedge

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/decisiontest"
	"github.com/tailguard/tailguard/internal/testkit"
)

// pushingBack answers req with a 503 asking for a 5 s pause, after d.
func pushingBack(req *http.Request, d time.Duration, tr *testkit.Tracker) (*http.Response, error) {
	resp, err := after(req, d, 503, tr)
	if err == nil {
		resp.Header.Set("Retry-After", "5")
	}
	return resp, err
}

// hedgePushesBack: the original answers 200 after 100 ms, the first hedge
// 503 asking for a pause after 1 ms.
func hedgePushesBack(tr *testkit.Tracker) func(int, *http.Request) (*http.Response, error) {
	return func(n int, req *http.Request) (*http.Response, error) {
		if n == 2 {
			return pushingBack(req, time.Millisecond, tr)
		}
		return after(req, 100*time.Millisecond, 200, tr)
	}
}

// A logger or an observer is a call-out like the transport: when it panics
// recording a decision of a race still undecided, the panic decides the
// race — the timer is stopped, every attempt canceled, every response
// closed — and reaches the caller's goroutine, whichever goroutine the
// record was made on. In round 2's first cut, a logger panicking on
// "hedging_stopped" after a hedge's 503 crashed the process (the hedge's
// goroutine had already marked its attempt landed, so nothing recovered
// it), and the same panic on the caller's goroutine unwound RoundTrip with
// a hedge in flight and the race undecided.
func TestCalloutPanicDecidesTheRace(t *testing.T) {
	denying := func() *budget.Budget { return budget.New(budget.Config{Ratio: 1e-9, MinPerSecond: 1e-9}) }
	tests := []struct {
		name     string
		event    decision.Name
		observer bool // the observer panics, not the logger
		cfg      Config
		respond  func(tr *testkit.Tracker) func(n int, req *http.Request) (*http.Response, error)
		sent     int // attempts handed to the transport
	}{
		{"hedging_stopped by a hedge's 503, on its goroutine", decision.HedgingStopped, false,
			Config{Delay: 5 * time.Millisecond, MaxHedges: 2},
			hedgePushesBack, 2},
		{"the same through an observer", decision.HedgingStopped, true,
			Config{Delay: 5 * time.Millisecond, MaxHedges: 2},
			hedgePushesBack, 2},
		{"hedging_stopped by the original's 503, a hedge in flight", decision.HedgingStopped, false,
			Config{Delay: 15 * time.Millisecond, MaxHedges: 2},
			func(tr *testkit.Tracker) func(int, *http.Request) (*http.Response, error) {
				return func(n int, req *http.Request) (*http.Response, error) {
					if n == 1 {
						return pushingBack(req, 20*time.Millisecond, tr)
					}
					return after(req, 100*time.Millisecond, 200, tr)
				}
			}, 2},
		{"hedging_stopped, the race decided in the same step", decision.HedgingStopped, false,
			Config{Delay: time.Second, MaxHedges: 2},
			func(tr *testkit.Tracker) func(int, *http.Request) (*http.Response, error) {
				return func(n int, req *http.Request) (*http.Response, error) {
					return pushingBack(req, 20*time.Millisecond, tr)
				}
			}, 1},
		{"hedge_denied by the budget", decision.HedgeDenied, false,
			Config{Delay: 5 * time.Millisecond, Budget: denying()},
			func(tr *testkit.Tracker) func(int, *http.Request) (*http.Response, error) {
				return func(n int, req *http.Request) (*http.Response, error) {
					return after(req, 100*time.Millisecond, 200, tr)
				}
			}, 1},
		{"hedge, on the hedge's goroutine", decision.Hedge, false,
			Config{Delay: 5 * time.Millisecond},
			func(tr *testkit.Tracker) func(int, *http.Request) (*http.Response, error) {
				return func(n int, req *http.Request) (*http.Response, error) {
					return after(req, 100*time.Millisecond, 200, tr)
				}
			}, 1},
		{"outcome, on the caller's goroutine", decision.Outcome, true,
			Config{Delay: 5 * time.Millisecond},
			func(tr *testkit.Tracker) func(int, *http.Request) (*http.Response, error) {
				return func(n int, req *http.Request) (*http.Response, error) {
					return after(req, 100*time.Millisecond, 200, tr)
				}
			}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var ctxs ctxLog
				var tr testkit.Tracker
				respond := tt.respond(&tr)
				stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
					ctxs.add(req.Context())
					return respond(n, req)
				}}
				cfg := tt.cfg
				req := newGet(t)
				if tt.observer {
					req = req.WithContext(decision.WithObserver(req.Context(), &decisiontest.PanicLog{Event: tt.event}))
				} else {
					cfg.Logger = slog.New(&decisiontest.PanicLog{Event: tt.event})
				}
				var info CompleteInfo
				cfg.OnComplete = func(i CompleteInfo) { info = i }
				h := New(cfg)
				p, _ := roundTripPanic(h.Wrap(stub), req)
				assert.Equal(t, decisiontest.PanicLogValue, p, "the panic reaches the caller")
				synctest.Wait()
				ctxs.allCanceled(t)
				assert.Zero(t, tr.Open(), "every response closed")
				time.Sleep(time.Hour)
				synctest.Wait()
				assert.Equal(t, tt.sent, stub.Calls(), "nothing sent after the panic")
				if tt.event != decision.Outcome { // OnComplete ran before the outcome was logged
					assert.ErrorContains(t, info.Err, "panicked: "+decisiontest.PanicLogValue)
					assert.Zero(t, info.Winner)
				}
				assert.Zero(t, h.Stats().DroppedPanics)
			})
		})
	}
}

// An inner stage reporting a try (a retry stage, in hedge(retry) order)
// calls into the race, whose decision log then runs on the inner stage's
// goroutine: a panic there decides the race and is raised by RoundTrip,
// and never unwinds the inner stage, which gets its answer and keeps
// closing what it holds.
func TestCalloutPanicNeverUnwindsInnerStage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr testkit.Tracker
		var innerDone []bool
		inner := testkit.RoundTripFunc(func(req *http.Request) (*http.Response, error) {
			ctx := req.Context()
			completed := false
			defer func() { innerDone = append(innerDone, completed) }()
			start := attempt.StartTry(ctx)
			resp, err := after(req, 20*time.Millisecond, 503, &tr)
			attempt.EndTry(ctx, start, idempotency.Transient)
			completed = true
			return resp, err
		})
		denying := budget.New(budget.Config{Ratio: 1e-9, MinPerSecond: 1e-9})
		h := New(Config{Delay: time.Second, Budget: denying, Logger: slog.New(&decisiontest.PanicLog{Event: decision.HedgeDenied})})
		p, _ := roundTripPanic(h.Wrap(inner), newGet(t))
		assert.Equal(t, decisiontest.PanicLogValue, p)
		synctest.Wait()
		assert.Equal(t, []bool{true}, innerDone, "the inner stage returned normally")
		assert.Zero(t, tr.Open(), "its response closed")
	})
}

// A panic no caller is left to receive — an attempt that had already lost
// — is dropped, but not silently: Stats counts it and the decision log
// records it, with its stack, as panic_dropped (Warn).
func TestLatePanicIsCountedAndLogged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if IsHedge(req.Context()) {
				return after(req, 5*time.Millisecond, 200, nil)
			}
			time.Sleep(time.Second) // ignores cancellation
			panicInLoser()
			return nil, nil
		}}
		logger, logs := testkit.NewLogs(slog.LevelWarn)
		h := New(Config{Delay: 10 * time.Millisecond, Logger: logger})
		resp, err := h.Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		assert.Equal(t, "OK", readAll(t, resp))
		time.Sleep(2 * time.Second)
		synctest.Wait()
		assert.Equal(t, uint64(1), h.Stats().DroppedPanics)
		recs := logs.Records()
		require.Len(t, recs, 1)
		assert.Equal(t, slog.LevelWarn, recs[0].Level)
		assert.Equal(t, "panic_dropped", recs[0].Attrs["event"])
		assert.Equal(t, "1", recs[0].Attrs["attempt"])
		assert.Contains(t, recs[0].Attrs["error"], "attempt 1 panicked: late bug")
		assert.Contains(t, recs[0].Attrs["error"], "panicInLoser", "with the stack where it happened")
	})
}

func panicInLoser() { panic("late bug") }

// The stack of a hedge goroutine's panic, which RoundTrip raises again on
// the caller's goroutine, is kept in the error OnComplete reports.
func TestHedgePanicStackInOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if IsHedge(req.Context()) {
				panicInHedge()
			}
			return after(req, time.Second, 200, nil)
		}}
		var info CompleteInfo
		h := New(Config{Delay: 10 * time.Millisecond, OnComplete: func(i CompleteInfo) { info = i }})
		p, _ := roundTripPanic(h.Wrap(stub), newGet(t))
		assert.Equal(t, "hedge bug", p, "the value raised is the one the hedge panicked with")
		assert.ErrorContains(t, info.Err, "attempt 2 panicked: hedge bug")
		assert.ErrorContains(t, info.Err, "panicInHedge")
	})
}

func panicInHedge() { panic("hedge bug") }

// A Middleware drops the panic of a run that lost the same way, counting
// and recording each once: a run panicking after another won (its report
// is never read), one that panicked before but lost to a winner, and one
// of two panicking runs when the other's panic is the one raised.
func TestMiddlewareDroppedPanics(t *testing.T) {
	tests := []struct {
		name    string
		handler func(n int, w http.ResponseWriter, r *http.Request)
		raised  bool // ServeHTTP raises a run's panic
	}{
		{"a loser panics after the decision", func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				time.Sleep(time.Second) // ignores cancellation
				panic("run bug")
			}
			io.WriteString(w, "ok")
		}, false},
		{"a run panics before a hedge wins", func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				time.Sleep(20 * time.Millisecond)
				panic("run bug")
			}
			time.Sleep(50 * time.Millisecond)
			io.WriteString(w, "ok")
		}, false},
		{"two runs panic, the latest is raised", func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				time.Sleep(20 * time.Millisecond)
			} else {
				time.Sleep(50 * time.Millisecond)
			}
			panic("run bug")
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				logger, logs := testkit.NewLogs(slog.LevelWarn)
				m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond, Logger: logger}})
				_, p := servePanic(m.Handler(runsFunc(tt.handler)), httptest.NewRequest(http.MethodGet, "/x", nil))
				if tt.raised {
					assert.Equal(t, "run bug", p)
				} else {
					assert.Nil(t, p)
				}
				time.Sleep(time.Hour)
				synctest.Wait()
				assert.Equal(t, uint64(1), m.Stats().DroppedPanics)
				recs := logs.Records()
				require.Len(t, recs, 1)
				assert.Equal(t, "panic_dropped", recs[0].Attrs["event"])
				assert.Contains(t, recs[0].Attrs["error"], "panicked: run bug")
			})
		})
	}
}
