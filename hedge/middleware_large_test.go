package hedge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/idempotency"
)

// writeChunks writes n chunks of size bytes, pausing between them, and
// returns the first write error.
func writeChunks(w http.ResponseWriter, n, size int, pause time.Duration) error {
	chunk := strings.Repeat("x", size)
	for range n {
		if _, err := io.WriteString(w, chunk); err != nil {
			return err
		}
		time.Sleep(pause)
	}
	return nil
}

// A run whose body outgrows MaxResponse while no run has won answers at
// once: its buffered bytes, then the rest as the handler writes them, with
// its headers and trailers; the other run is canceled with ErrLostRace.
// ServeHTTP returns only when the handler has.
func TestMiddlewareLargeResponseWritesThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			seen     causes
			info     CompleteInfo
			writeErr error
			streamed int
			rec      = httptest.NewRecorder()
		)
		m := NewMiddleware(MiddlewareConfig{
			Config:      Config{Delay: 10 * time.Millisecond, OnComplete: func(i CompleteInfo) { info = i }},
			MaxResponse: 100,
		})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				<-r.Context().Done()
				seen.set(n, context.Cause(r.Context()))
				return
			}
			w.Header().Set("Trailer", "X-Sum")
			w.Header().Set("X-Run", "2")
			w.WriteHeader(http.StatusPartialContent)
			writeErr = writeChunks(w, 3, 40, time.Millisecond)
			// Past the limit, bytes reach the client as they are written.
			streamed = rec.Body.Len()
			writeErr = errors.Join(writeErr, writeChunks(w, 7, 40, time.Millisecond))
			w.Header().Set("X-Sum", "400")
		}))
		start := time.Now()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/big", nil))
		assert.Equal(t, 20*time.Millisecond, time.Since(start), "ServeHTTP waits for the writing handler")
		require.NoError(t, writeErr)
		assert.Equal(t, 120, streamed)
		assert.Equal(t, http.StatusPartialContent, rec.Code)
		assert.Equal(t, strings.Repeat("x", 400), rec.Body.String())
		assert.Equal(t, "2", rec.Header().Get("X-Run"))
		assert.Equal(t, "400", rec.Result().Trailer.Get("X-Sum"))
		synctest.Wait()
		assert.Equal(t, map[int]error{1: ErrLostRace}, seen.get())
		assert.Equal(t, CompleteInfo{Request: info.Request, Winner: 2, Sent: 2, Duration: 20 * time.Millisecond, StatusCode: 206}, info)
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, Hedged: 1, Hedges: 1, HedgeWins: 1}, m.Stats())
	})
}

// A body of exactly MaxResponse bytes is buffered as usual: the race is
// decided when the handler returns.
func TestMiddlewareResponseAtLimitBuffered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}, MaxResponse: 100})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 2 {
				<-r.Context().Done()
				return
			}
			time.Sleep(20 * time.Millisecond)
			writeChunks(w, 2, 50, 0)
		}))
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, strings.Repeat("x", 100), rec.Body.String())
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, Hedged: 1, Hedges: 1, OriginalWins: 1}, m.Stats())
	})
}

// A run with a failing status that outgrows MaxResponse is cut off: its
// writes fail with ErrResponseTooLarge and its truncated body never
// reaches the client. Another run answers; if none can, the 503 does.
func TestMiddlewareLargeFailureCutOff(t *testing.T) {
	for _, tc := range []struct {
		name       string
		hedgeOK    bool
		wantStatus int
		wantBody   string
	}{
		{"another run answers", true, http.StatusOK, "small ok"},
		{"no run can answer", false, http.StatusServiceUnavailable, "Service Unavailable\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var (
					mu   sync.Mutex
					errs = map[int]error{}
				)
				m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}, MaxResponse: 100})
				h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
					if n == 2 && tc.hedgeOK {
						io.WriteString(w, "small ok")
						return
					}
					w.WriteHeader(http.StatusInternalServerError)
					err := writeChunks(w, 5, 40, 0)
					mu.Lock()
					errs[n] = err
					mu.Unlock()
				}))
				rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
				assert.Equal(t, tc.wantStatus, rec.Code)
				assert.Equal(t, tc.wantBody, rec.Body.String())
				synctest.Wait()
				mu.Lock()
				defer mu.Unlock()
				assert.ErrorIs(t, errs[1], ErrResponseTooLarge)
				if !tc.hedgeOK {
					assert.ErrorIs(t, errs[2], ErrResponseTooLarge)
				}
			})
		})
	}
}

// A run that outgrows MaxResponse after another run won is cut off with
// its context's cause, and never written to the client.
func TestMiddlewareLargeLoserCutOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		loserErr := make(chan error, 1)
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}, MaxResponse: 100})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 2 {
				io.WriteString(w, "hedge ok")
				return
			}
			time.Sleep(20 * time.Millisecond) // run 1 writes after it lost
			loserErr <- writeChunks(w, 5, 40, 0)
		}))
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, "hedge ok", rec.Body.String())
		synctest.Wait()
		assert.ErrorIs(t, <-loserErr, ErrLostRace)
	})
}

// Runs start from a copy of the headers outer middleware set, never from
// the real map: a losing run touching its headers for the first time while
// the winner's are written must not race (go test -race).
func TestMiddlewareLoserHeadersDoNotRace(t *testing.T) {
	for _, maxResponse := range []int64{0, 100} {
		t.Run(fmt.Sprint("MaxResponse=", maxResponse), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				started := make(chan struct{})
				m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: time.Millisecond}, MaxResponse: maxResponse})
				h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
					if n == 2 {
						close(started)
						<-r.Context().Done()
						w.Header().Set("X-Lost", "1") // the run's first look at its headers
						return
					}
					<-started
					w.Header().Set("X-Run", "1")
					io.WriteString(w, strings.Repeat("x", 200))
				}))
				rec := httptest.NewRecorder()
				rec.Header().Set("X-Outer", "outer")
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
				synctest.Wait()
				assert.Equal(t, "outer", rec.Header().Get("X-Outer"))
				assert.Equal(t, "1", rec.Header().Get("X-Run"))
				assert.Empty(t, rec.Header().Get("X-Lost"))
			})
		})
	}
}

// shedClassifier calls a 200 carrying X-Shed transient: a classifier that
// reads headers, which a handler can still change after its body was cut
// off.
type shedClassifier struct{ idempotency.Classifier }

func (c shedClassifier) Classify(r *http.Request, resp *http.Response, err error) idempotency.Outcome {
	if resp != nil && resp.StatusCode == http.StatusOK && resp.Header.Get("X-Shed") != "" {
		return idempotency.Outcome{Kind: idempotency.Transient}
	}
	return c.Classifier.Classify(r, resp, err)
}

// A cut-off run never answers, even when the classifier would call its
// final state a success: its body is truncated.
func TestMiddlewareCutOffRunNeverWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMiddleware(MiddlewareConfig{
			Config:      Config{Delay: time.Second, Classifier: shedClassifier{idempotency.Default}},
			MaxResponse: 100,
		})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Shed", "1")
			io.WriteString(w, strings.Repeat("x", 60))
			if _, err := io.WriteString(w, strings.Repeat("x", 60)); err != nil {
				w.Header().Del("X-Shed")
			}
		}))
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "Service Unavailable\n", rec.Body.String())
	})
}

// Two runs outgrowing MaxResponse at the same instant both report; the
// first judged answers, and the other's waiting write fails with
// ErrLostRace instead of waiting forever.
func TestMiddlewareTwoRunsOutgrowAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var errs causes
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}, MaxResponse: 100})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				time.Sleep(10 * time.Millisecond) // writes as run 2 starts
			}
			_, err := io.WriteString(w, strings.Repeat(fmt.Sprint(n), 200))
			errs.set(n, err)
		}))
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		synctest.Wait()
		winner := 1
		if rec.Body.String() != strings.Repeat("1", 200) {
			winner = 2
			assert.Equal(t, strings.Repeat("2", 200), rec.Body.String())
		}
		assert.Equal(t, map[int]error{winner: nil, 3 - winner: ErrLostRace}, errs.get())
	})
}

// A run that outgrows MaxResponse with a failing status has failed there
// and then: the next hedge starts at once, as after any failure.
func TestMiddlewareLargeFailureFiresNextAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var hedges []HedgeInfo
		m := NewMiddleware(MiddlewareConfig{
			Config:      Config{Delay: time.Second, OnHedge: func(i HedgeInfo) { hedges = append(hedges, i) }},
			MaxResponse: 100,
		})
		h := m.Handler(runsFunc(func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 2 {
				io.WriteString(w, "ok")
				return
			}
			time.Sleep(5 * time.Millisecond)
			w.WriteHeader(http.StatusServiceUnavailable)
			writeChunks(w, 10, 40, time.Millisecond)
		}))
		start := time.Now()
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, "ok", rec.Body.String())
		require.Len(t, hedges, 1)
		assert.Equal(t, ReasonFailure, hedges[0].Reason)
		assert.Equal(t, 7*time.Millisecond, time.Since(start), "run 1 failed on its third chunk")
		synctest.Wait()
		time.Sleep(10 * time.Millisecond) // run 1 finds its writes failing on its own goroutine
	})
}
