package hedge

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/budget"
)

// runsFunc is a handler whose behaviour depends on the run number.
func runsFunc(f func(n int, w http.ResponseWriter, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f(CopyFrom(r.Context()), w, r)
	})
}

// sleepCtx sleeps for d or until ctx ends, and reports whether d elapsed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}

// A fast 503 from the hedge never beats run 1 still going: the slower 200
// answers.
func TestMiddlewareFailureDoesNotWin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				sleepCtx(r.Context(), 50*time.Millisecond)
				io.WriteString(w, "slow ok")
				return
			}
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}))
		start := time.Now()
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, 50*time.Millisecond, time.Since(start))
		assert.Equal(t, 200, rec.Code)
		assert.Equal(t, "slow ok", rec.Body.String())
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, Hedged: 1, Hedges: 1, OriginalWins: 1}, m.Stats())
	})
}

// A transient status starts the next run at once instead of waiting for
// the delay.
func TestMiddlewareFailureFiresNextAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hedges []HedgeInfo
		m := NewMiddleware(MiddlewareConfig{Config: Config{
			Delay:   100 * time.Millisecond,
			OnHedge: func(i HedgeInfo) { hedges = append(hedges, i) },
		}})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			time.Sleep(5 * time.Millisecond)
			if n == 1 {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			io.WriteString(w, "ok")
		}))
		start := time.Now()
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, 10*time.Millisecond, time.Since(start))
		assert.Equal(t, "ok", rec.Body.String())
		require.Len(t, hedges, 1)
		assert.Equal(t, ReasonFailure, hedges[0].Reason)
		assert.Equal(t, 5*time.Millisecond, hedges[0].Elapsed)
	})
}

// When every run fails, the latest failure answers, headers and body
// included.
func TestMiddlewareAllFailLatestAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var info CompleteInfo
		m := NewMiddleware(MiddlewareConfig{Config: Config{
			Delay: 10 * time.Millisecond, OnComplete: func(i CompleteInfo) { info = i },
		}})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			time.Sleep(20 * time.Millisecond)
			w.Header().Set("X-Run", fmt.Sprint(n))
			http.Error(w, fmt.Sprintf("run %d failed", n), http.StatusInternalServerError)
		}))
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, 500, rec.Code)
		assert.Equal(t, "2", rec.Header().Get("X-Run"))
		assert.Equal(t, "run 2 failed\n", rec.Body.String())
		assert.Equal(t, CompleteInfo{Request: info.Request, Winner: 0, Sent: 2, Duration: 30 * time.Millisecond, StatusCode: 500}, info)
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, Hedged: 1, Hedges: 1, Failed: 1}, m.Stats())
	})
}

// A Timeout after a run failed answers with that failure, not the 503.
func TestMiddlewareTimeoutKeepsFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMiddleware(MiddlewareConfig{
			Config:  Config{Delay: 10 * time.Millisecond},
			Timeout: 50 * time.Millisecond,
		})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				time.Sleep(5 * time.Millisecond)
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			<-r.Context().Done()
		}))
		start := time.Now()
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, 50*time.Millisecond, time.Since(start))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "busy\n", rec.Body.String())
	})
}

// When the client goes away, every run is canceled and ServeHTTP returns
// at once.
func TestMiddlewareClientGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen causes
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			seen.set(n, context.Cause(r.Context()))
			io.WriteString(w, "artifact of the cancellation")
		}))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Millisecond, cancel)
		start := time.Now()
		rec := serve(h, httptest.NewRequestWithContext(ctx, http.MethodGet, "/x", nil))
		assert.Equal(t, 30*time.Millisecond, time.Since(start))
		assert.Equal(t, 503, rec.Code)
		synctest.Wait()
		assert.Equal(t, map[int]error{1: context.Canceled, 2: context.Canceled}, seen.get())
		assert.Equal(t, uint64(1), m.Stats().Failed)
	})
}

// A run that panics with nothing else left raises the panic again on the
// ServeHTTP goroutine, value untouched, so net/http treats it as usual.
func TestMiddlewarePanicRaisedAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var info CompleteInfo
		m := NewMiddleware(MiddlewareConfig{Config: Config{
			Delay: 10 * time.Millisecond, OnComplete: func(i CompleteInfo) { info = i },
		}})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			panic(http.ErrAbortHandler)
		}))
		assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
			serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		})
		assert.Equal(t, 0, info.Winner)
		assert.EqualError(t, info.Err, "hedge: run 1 panicked: net/http: abort Handler")
	})
}

// A panicking run does not beat a run still going.
func TestMiddlewarePanicLosesToPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				time.Sleep(15 * time.Millisecond)
				panic("boom")
			}
			time.Sleep(10 * time.Millisecond)
			io.WriteString(w, "ok")
		}))
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, "ok", rec.Body.String())
		assert.Equal(t, uint64(1), m.Stats().HedgeWins)
	})
}

// A hedge the budget denies is not started, and the request waits for
// run 1.
func TestMiddlewareBudgetDenied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := budget.New(budget.Config{Ratio: 1e-9, MinPerSecond: 1e-9, Window: time.Second})
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond, Budget: b}})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			time.Sleep(30 * time.Millisecond)
			fmt.Fprintf(w, "run %d", n)
		}))
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, "run 1", rec.Body.String())
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, OriginalWins: 1, BudgetDenied: 1}, m.Stats())
	})
}

// Adaptive delays are learnt per ServeMux pattern: after warm-up, a slow
// run on the fast route is hedged near that route's p95, not the slow
// route's.
func TestMiddlewareAdaptivePerPattern(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hedgedAt = map[string]time.Duration{}
		m := NewMiddleware(MiddlewareConfig{Config: Config{
			Quantile:    DefaultQuantile, // adaptive, with
			WarmupDelay: time.Second,     // a warm-up delay: no hedges while learning
			OnHedge:     func(i HedgeInfo) { hedgedAt[i.Request.Pattern] = i.Elapsed },
		}})
		wrapped := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			d := 2 * time.Millisecond
			if r.Pattern == "GET /slow" {
				d = 50 * time.Millisecond
			}
			if n == 1 && r.Header.Get("X-Stall") != "" {
				d = time.Hour
			}
			sleepCtx(r.Context(), d)
		}))
		mux := http.NewServeMux()
		mux.Handle("GET /fast", wrapped)
		mux.Handle("GET /slow", wrapped)
		for range MinSamples {
			serve(mux, httptest.NewRequest(http.MethodGet, "/fast", nil))
			serve(mux, httptest.NewRequest(http.MethodGet, "/slow", nil))
		}
		require.Empty(t, hedgedAt)
		for _, path := range []string{"/fast", "/slow"} {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("X-Stall", "1")
			serve(mux, req)
		}
		synctest.Wait()
		// Estimates are histogram bucket upper edges: ≤ 6.25% above the
		// latency.
		assert.InDelta(t, 2*time.Millisecond, hedgedAt["GET /fast"], float64(150*time.Microsecond))
		assert.InDelta(t, 50*time.Millisecond, hedgedAt["GET /slow"], float64(3*time.Millisecond))
	})
}

// A throttled answer with a future Retry-After stops hedging the request:
// no run starts at once or on the timer, and the run going may still win.
func TestMiddlewareRetryAfterStopsHedging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var started []int
		m := NewMiddleware(MiddlewareConfig{Config: Config{
			Delay: 10 * time.Millisecond, MaxHedges: 3,
			OnHedge: func(i HedgeInfo) { started = append(started, i.Attempt) },
		}})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			switch n {
			case 1:
				time.Sleep(50 * time.Millisecond)
				io.WriteString(w, "run 1")
			default:
				time.Sleep(5 * time.Millisecond)
				w.Header().Set("Retry-After", "2")
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}))
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, "run 1", rec.Body.String())
		assert.Equal(t, []int{2}, started, "hedges 2 and 3 were not sent")
	})
}

// A Delay too large to multiply (math.MaxInt64: "hedge only on failure")
// saturates instead of wrapping around: after run 1 fails, hedge 1 starts
// at once, and hedge 2 waits for hedge 1 to fail rather than firing at
// 2 × Delay, which overflowed to a negative offset (issue 11, bug 8).
func TestMiddlewareHugeDelaySaturates(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		timeout time.Duration
	}{
		{"fixed", Config{Delay: math.MaxInt64, MaxHedges: 2}, 0},
		{"fixed, Timeout math.MaxInt64", Config{Delay: math.MaxInt64, MaxHedges: 2}, math.MaxInt64},
		{"adaptive warm-up", Config{Quantile: 0.95, WarmupDelay: math.MaxInt64, MaxDelay: math.MaxInt64, MaxHedges: 2}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var started []int
				cfg := tc.cfg
				cfg.OnHedge = func(i HedgeInfo) { started = append(started, i.Attempt) }
				m := NewMiddleware(MiddlewareConfig{Config: cfg, Timeout: tc.timeout})
				h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
					if n == 1 {
						time.Sleep(5 * time.Millisecond)
						w.WriteHeader(http.StatusServiceUnavailable)
						return
					}
					time.Sleep(time.Second)
					fmt.Fprintf(w, "run %d", n)
				}))
				rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
				assert.Equal(t, "run 2", rec.Body.String())
				assert.Equal(t, []int{2}, started, "hedge 2 never fires on the timer")
			})
		})
	}
}

// Any response that asks for a pause with a future Retry-After stops
// hedging the request, whatever its status: no run starts at once or on
// the timer, and the run going may still win. A Retry-After that asks for
// no pause changes nothing (issue 11, bug 9).
func TestMiddlewarePushbackOnAnyStatusStopsHedging(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter string
		want       []int
	}{
		{http.StatusInternalServerError, "5", []int{2}},
		{http.StatusBadGateway, "5", []int{2}},
		{http.StatusServiceUnavailable, "5", []int{2}},
		{http.StatusTooManyRequests, "5", []int{2}},
		{http.StatusTooManyRequests, "", []int{2}}, // a 429 is pushback with or without Retry-After
		{http.StatusNotImplemented, "5", []int{2}}, // fatal: no hedge at once, and none on the timer
		{http.StatusGatewayTimeout, "Fri, 31 Dec 2100 23:59:59 GMT", []int{2}},
		{http.StatusInternalServerError, "0", []int{2, 3, 4}},
		{http.StatusInternalServerError, "", []int{2, 3, 4}},
	} {
		t.Run(fmt.Sprint(tc.status, "/", tc.retryAfter), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var started []int
				m := NewMiddleware(MiddlewareConfig{Config: Config{
					Delay: 10 * time.Millisecond, MaxHedges: 3,
					OnHedge: func(i HedgeInfo) { started = append(started, i.Attempt) },
				}})
				h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
					if n == 1 {
						time.Sleep(50 * time.Millisecond)
						io.WriteString(w, "run 1")
						return
					}
					time.Sleep(5 * time.Millisecond)
					if tc.retryAfter != "" {
						w.Header().Set("Retry-After", tc.retryAfter)
					}
					w.WriteHeader(tc.status)
				}))
				rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
				assert.Equal(t, "run 1", rec.Body.String())
				assert.Equal(t, tc.want, started)
			})
		})
	}
}

// Nothing a loser does delays the answer: ServeHTTP writes the winner's
// output as soon as it is decided, and never waits for, drains or cleans
// up after a run that ignores its canceled context, however long it runs
// and however much it writes (issue 11, bug 3).
func TestMiddlewareLoserNeverDelaysAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		loserErr := make(chan error, 1)
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}, MaxResponse: 1 << 10})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				time.Sleep(3 * time.Second) // deaf to its context
				_, err := w.Write(make([]byte, 2<<20))
				loserErr <- err
				return
			}
			time.Sleep(5 * time.Millisecond)
			io.WriteString(w, "run 2")
		}))
		start := time.Now()
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, 15*time.Millisecond, time.Since(start))
		assert.Equal(t, "run 2", rec.Body.String())
		assert.ErrorIs(t, <-loserErr, ErrLostRace)
	})
}
