package hedge

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/budget"
	"github.com/tailguard/tailguard/idempotency"
)

// servePanic runs h for req and returns what ServeHTTP panicked with, if
// anything, so that a test can report it instead of dying of it.
func servePanic(h http.Handler, req *http.Request) (rec *httptest.ResponseRecorder, p any) {
	rec = httptest.NewRecorder()
	defer func() { p = recover() }()
	h.ServeHTTP(rec, req)
	return rec, nil
}

// waitCtx waits until ctx ends or an hour passes, and reports why it
// stopped: the context's cause, or nil after the hour.
func waitCtx(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(time.Hour):
		return nil
	}
}

// A panic in any run, the original or a hedge, is recovered on the run's
// goroutine and raised again, value untouched, on the ServeHTTP goroutine
// when no run answered; other runs' contexts have ended by then. A panic
// fires no hedge: the same code would most likely panic again.
func TestMiddlewarePanicInAnyRunReachesServeHTTP(t *testing.T) {
	for _, tc := range []struct {
		panicking int
		want      map[int]error // how the other runs ended
	}{
		{1, nil},
		{2, map[int]error{1: context.DeadlineExceeded}},
	} {
		t.Run(fmt.Sprint("run ", tc.panicking), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var seen causes
				m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}, Timeout: 50 * time.Millisecond})
				h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
					if n == tc.panicking {
						panic(fmt.Sprint("run ", n, " bug"))
					}
					seen.set(n, waitCtx(r.Context()))
				}))
				_, p := servePanic(h, httptest.NewRequest(http.MethodGet, "/x", nil))
				assert.Equal(t, fmt.Sprint("run ", tc.panicking, " bug"), p)
				synctest.Wait()
				assert.Equal(t, tc.want, seen.get())
			})
		})
	}
}

// A loser that panics after the answer was written is recovered on its
// own goroutine and dropped (counted): the process survives, the winner's
// answer stands.
func TestMiddlewareLoserPanicDiscarded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				<-r.Context().Done()
				panic("late bug")
			}
			fmt.Fprintf(w, "run %d", n)
		}))
		rec, p := servePanic(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Nil(t, p)
		assert.Equal(t, "run 2", rec.Body.String())
		synctest.Wait()
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, Hedged: 1, Hedges: 1, HedgeWins: 1, DroppedPanics: 1}, m.Stats())
	})
}

// A panicking OnHedge hook reaches the caller of ServeHTTP, as any panic on
// its goroutine does, and leaves nothing behind: run 1's context is
// canceled at once instead of running on unwatched (issue 11, bug 4).
func TestMiddlewareHookPanicCancelsRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen causes
		m := NewMiddleware(MiddlewareConfig{Config: Config{
			Delay:   10 * time.Millisecond,
			OnHedge: func(HedgeInfo) { panic("hook bug") },
		}})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			seen.set(n, waitCtx(r.Context()))
		}))
		start := time.Now()
		_, p := servePanic(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, "hook bug", p)
		synctest.Wait()
		assert.Equal(t, map[int]error{1: context.Canceled}, seen.get(), "run 1 was canceled")
		assert.Equal(t, 10*time.Millisecond, time.Since(start))
		time.Sleep(2 * time.Hour) // lets a run that was not canceled end, so that a failure is reported cleanly
	})
}

// boomClassifier panics when it judges a response carrying X-Boom.
type boomClassifier struct{ idempotency.Classifier }

func (c boomClassifier) Classify(r *http.Request, resp *http.Response, err error) idempotency.Outcome {
	if resp != nil && resp.Header.Get("X-Boom") != "" {
		panic("classifier bug")
	}
	return c.Classifier.Classify(r, resp, err)
}

// A classifier that panics judging a run's response is that run's panic:
// recovered, counted as a failed run, raised on the ServeHTTP goroutine
// only if no run answers. It used to unwind ServeHTTP at once, with the
// other runs left going (issue 11, bug 4).
func TestMiddlewareClassifierPanicIsTheRunsPanic(t *testing.T) {
	for _, tc := range []struct {
		name      string
		boom      func(n int) bool
		wantBody  string
		wantPanic any
	}{
		{"another run answers", func(n int) bool { return n == 2 }, "run 3", nil},
		{"no run answers", func(int) bool { return true }, "", "classifier bug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var seen causes
				m := NewMiddleware(MiddlewareConfig{
					Config:  Config{Delay: 10 * time.Millisecond, MaxHedges: 2, Classifier: boomClassifier{idempotency.Default}},
					Timeout: time.Second,
				})
				h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
					if n == 1 {
						seen.set(n, waitCtx(r.Context()))
						return
					}
					time.Sleep(5 * time.Millisecond)
					if tc.boom(n) {
						w.Header().Set("X-Boom", "1")
					}
					fmt.Fprintf(w, "run %d", n)
				}))
				rec, p := servePanic(h, httptest.NewRequest(http.MethodGet, "/x", nil))
				assert.Equal(t, tc.wantPanic, p)
				if tc.wantPanic == nil {
					assert.Equal(t, tc.wantBody, rec.Body.String())
				}
				synctest.Wait()
				require.Contains(t, seen.get(), 1)
				assert.NotNil(t, seen.get()[1], "run 1 was canceled")
			})
		})
	}
}

// At the largest MaxHedges, all eleven runs can be in flight and fail
// every way: the latest failure answers, the latest panic is raised when
// nothing else is left, and the Timeout ends runs that never finish.
func TestMiddlewareMaxHedgesTenEveryRunFails(t *testing.T) {
	for _, tc := range []struct {
		name      string
		handler   func(n int, w http.ResponseWriter, r *http.Request)
		wantCode  int
		wantBody  string
		wantPanic any
		dropped   uint64 // panics not raised
	}{
		{"every run fails", func(n int, w http.ResponseWriter, r *http.Request) {
			http.Error(w, fmt.Sprint("run ", n), http.StatusServiceUnavailable)
		}, 503, "run 11\n", nil, 0},
		{"every run panics", func(n int, w http.ResponseWriter, r *http.Request) {
			panic(fmt.Sprint("run ", n))
		}, 0, "", "run 11", 10},
		{"no run finishes", func(n int, w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}, 503, "Service Unavailable\n", nil, 0},
		{"every run outgrows MaxResponse failing", func(n int, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			writeChunks(w, 3, 60, 0)
		}, 503, "Service Unavailable\n", nil, 0},
		{"runs alternate", func(n int, w http.ResponseWriter, r *http.Request) {
			switch n % 3 {
			case 0:
				panic("bug")
			case 1:
				w.WriteHeader(http.StatusBadGateway)
			default:
				w.WriteHeader(http.StatusInternalServerError)
				writeChunks(w, 3, 60, 0)
			}
		}, 502, "", nil, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var info CompleteInfo
				unlimited := budget.New(budget.Config{Ratio: 1, MinPerSecond: 1e12})
				m := NewMiddleware(MiddlewareConfig{
					Config: Config{Delay: 10 * time.Millisecond, MaxHedges: 10, Budget: unlimited,
						OnComplete: func(i CompleteInfo) { info = i }},
					Timeout:     time.Second,
					MaxResponse: 100,
				})
				h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
					time.Sleep(200 * time.Millisecond) // past hedge 10, fired at 100 ms
					tc.handler(n, w, r)
				}))
				rec, p := servePanic(h, httptest.NewRequest(http.MethodGet, "/x", nil))
				assert.Equal(t, tc.wantPanic, p)
				if tc.wantPanic == nil {
					assert.Equal(t, tc.wantCode, rec.Code)
					assert.Equal(t, tc.wantBody, rec.Body.String())
				}
				assert.Equal(t, 11, info.Sent)
				assert.Equal(t, 0, info.Winner)
				synctest.Wait()
				assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, Hedged: 1, Hedges: 10, Failed: 1, DroppedPanics: tc.dropped}, m.Stats())
			})
		})
	}
}
