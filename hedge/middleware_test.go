package hedge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serve runs h for req on a fresh recorder.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// causes records, per run, the cause with which the run's context ended.
type causes struct {
	mu sync.Mutex
	m  map[int]error
}

func (c *causes) set(n int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[int]error{}
	}
	c.m[n] = err
}

func (c *causes) get() map[int]error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m
}

// stuckFirst is a handler whose run 1 waits until its context ends (then
// writes output that must never reach the client) and whose other runs
// answer "run N" after d.
func stuckFirst(d time.Duration, seen *causes) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := CopyFrom(r.Context())
		if n == 1 {
			<-r.Context().Done()
			seen.set(n, context.Cause(r.Context()))
			io.WriteString(w, "loser output")
			return
		}
		time.Sleep(d)
		fmt.Fprintf(w, "run %d", n)
	})
}

// A handler faster than the delay runs once; no hedge ever starts.
func TestMiddlewareFastHandlerRunsOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs, mark atomic.Int32
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			runs.Add(1)
			mark.Store(int32(CopyFrom(r.Context())))
			time.Sleep(5 * time.Millisecond)
			io.WriteString(w, "fast")
		}))
		start := time.Now()
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, 5*time.Millisecond, time.Since(start))
		assert.Equal(t, 200, rec.Code)
		assert.Equal(t, "fast", rec.Body.String())
		time.Sleep(time.Second) // long past the delay: still no hedge
		assert.Equal(t, int32(1), runs.Load())
		assert.Equal(t, int32(1), mark.Load())
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, OriginalWins: 1}, m.Stats())
	})
}

// A stuck run 1 is beaten by the hedge; run 1's context is canceled with
// ErrLostRace at once, and its output never reaches the client.
func TestMiddlewareHedgeWinsLoserCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen causes
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}})
		start := time.Now()
		rec := serve(m.Handler(stuckFirst(5*time.Millisecond, &seen)), httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, 15*time.Millisecond, time.Since(start))
		assert.Equal(t, "run 2", rec.Body.String())
		synctest.Wait()
		assert.Equal(t, map[int]error{1: ErrLostRace}, seen.get(), "the loser saw why it was canceled")
		assert.Equal(t, 15*time.Millisecond, time.Since(start), "canceled at once")
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, Hedged: 1, Hedges: 1, HedgeWins: 1}, m.Stats())
	})
}

// Only requests the classifier calls replayable are hedged; the others run
// once, unmarked, with their body untouched.
func TestMiddlewareHedgesOnlyIdempotent(t *testing.T) {
	for _, tc := range []struct {
		method, key string
		hedged      bool
	}{
		{http.MethodGet, "", true},
		{http.MethodHead, "", true},
		{http.MethodPut, "", true},
		{http.MethodDelete, "", true},
		{http.MethodPost, "", false},
		{http.MethodPatch, "", false},
		{http.MethodPost, "k-1", true},
	} {
		t.Run(tc.method+"/"+tc.key, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var runs, intact atomic.Int32
				var marks sync.Map
				m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}})
				h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					n := runs.Add(1)
					marks.Store(n, CopyFrom(r.Context()))
					if b, err := io.ReadAll(r.Body); err == nil && string(b) == "payload" {
						intact.Add(1)
					}
					select {
					case <-time.After(50 * time.Millisecond):
					case <-r.Context().Done():
					}
				}))
				req := httptest.NewRequest(tc.method, "/x", strings.NewReader("payload"))
				if tc.key != "" {
					req.Header.Set("Idempotency-Key", tc.key)
				}
				serve(h, req)
				synctest.Wait()
				st := m.Stats()
				assert.Equal(t, runs.Load(), intact.Load(), "every run read the whole body")
				if tc.hedged {
					assert.Equal(t, int32(2), runs.Load())
					assert.Equal(t, uint64(1), st.Hedges)
					assert.Equal(t, uint64(1), st.Hedgeable)
					mark, _ := marks.Load(int32(1))
					assert.Equal(t, 1, mark)
				} else {
					assert.Equal(t, int32(1), runs.Load())
					assert.Equal(t, Stats{Requests: 1, PassThrough: 1}, st)
					mark, _ := marks.Load(int32(1))
					assert.Equal(t, 0, mark, "a pass-through request carries no mark")
				}
			})
		})
	}
}

// Skip excludes requests by path: they run once, unmarked.
func TestMiddlewareSkipByPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs, marked atomic.Int32
		m := NewMiddleware(MiddlewareConfig{Config: Config{
			Delay: 10 * time.Millisecond,
			Skip:  func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/admin/") },
		}})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			runs.Add(1)
			if CopyFrom(r.Context()) != 0 {
				marked.Add(1)
			}
			time.Sleep(50 * time.Millisecond)
		}))
		serve(h, httptest.NewRequest(http.MethodGet, "/admin/users", nil))
		synctest.Wait()
		assert.Equal(t, int32(1), runs.Load())
		assert.Zero(t, marked.Load(), "a skipped request carries no mark")
		assert.Equal(t, Stats{Requests: 1, Skipped: 1}, m.Stats())
	})
}

// OnComplete reports the winning run and the time to the decision;
// OnHedge the hedge as it starts.
func TestMiddlewareHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			hedges    []HedgeInfo
			completes []CompleteInfo
			seen      causes
		)
		m := NewMiddleware(MiddlewareConfig{Config: Config{
			Delay:      10 * time.Millisecond,
			OnHedge:    func(i HedgeInfo) { hedges = append(hedges, i) },
			OnComplete: func(i CompleteInfo) { completes = append(completes, i) },
		}})
		req := httptest.NewRequest(http.MethodGet, "/x", nil)
		serve(m.Handler(stuckFirst(5*time.Millisecond, &seen)), req)
		require.Len(t, hedges, 1)
		assert.Equal(t, HedgeInfo{Request: req, Attempt: 2, Elapsed: 10 * time.Millisecond, Reason: ReasonDelay}, hedges[0])
		require.Len(t, completes, 1)
		assert.Equal(t, CompleteInfo{Request: req, Winner: 2, Sent: 2, Duration: 15 * time.Millisecond, StatusCode: 200}, completes[0])

		fast := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(3 * time.Millisecond)
			w.WriteHeader(http.StatusNotFound)
		}))
		req = httptest.NewRequest(http.MethodGet, "/y", nil)
		serve(fast, req)
		require.Len(t, completes, 2)
		assert.Equal(t, CompleteInfo{Request: req, Winner: 1, Sent: 1, Duration: 3 * time.Millisecond, StatusCode: 404}, completes[1])
		assert.Len(t, hedges, 1)
		synctest.Wait()
	})
}

// Stats count every kind of request exactly.
func TestMiddlewareStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen causes
		m := NewMiddleware(MiddlewareConfig{Config: Config{
			Delay: 10 * time.Millisecond,
			Skip:  func(r *http.Request) bool { return r.URL.Path == "/skip" },
		}})
		stuck := m.Handler(stuckFirst(time.Millisecond, &seen))
		fast := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		failing := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(20 * time.Millisecond)
			w.WriteHeader(http.StatusInternalServerError)
		}))
		for range 3 {
			serve(fast, httptest.NewRequest(http.MethodGet, "/", nil))
		}
		for range 2 {
			serve(stuck, httptest.NewRequest(http.MethodGet, "/", nil))
		}
		serve(failing, httptest.NewRequest(http.MethodGet, "/", nil))
		serve(fast, httptest.NewRequest(http.MethodPost, "/", nil))
		serve(fast, httptest.NewRequest(http.MethodGet, "/skip", nil))
		serve(fast, httptest.NewRequest(http.MethodGet, "/", nil))
		synctest.Wait()
		st := m.Stats()
		assert.Equal(t, Stats{
			Requests: 9, Hedgeable: 7, Hedged: 3, Hedges: 3, OriginalWins: 4, HedgeWins: 2, Failed: 1,
			PassThrough: 1, Skipped: 1,
		}, st)
	})
}

// MaxHedges = 2 runs the handler three times in parallel; the third run
// wins and both others are canceled.
func TestMiddlewareMaxHedgesRunsThree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			inFlight, most atomic.Int32
			seen           causes
		)
		m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond, MaxHedges: 2}})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			cur := inFlight.Add(1)
			defer inFlight.Add(-1)
			most.Store(max(most.Load(), cur))
			n := CopyFrom(r.Context())
			if n < 3 {
				<-r.Context().Done()
				seen.set(n, context.Cause(r.Context()))
				return
			}
			fmt.Fprintf(w, "run %d of %d in flight", n, cur)
		}))
		start := time.Now()
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, 20*time.Millisecond, time.Since(start))
		assert.Equal(t, "run 3 of 3 in flight", rec.Body.String())
		synctest.Wait()
		assert.Equal(t, int32(3), most.Load())
		assert.Equal(t, map[int]error{1: ErrLostRace, 2: ErrLostRace}, seen.get())
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, Hedged: 1, Hedges: 2, HedgeWins: 1}, m.Stats())
	})
}

// When no run finishes within Timeout, every run's context ends with
// DeadlineExceeded and the client gets 503; what the runs write after that
// is discarded.
func TestMiddlewareTimeout503(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var (
			seen causes
			info CompleteInfo
		)
		m := NewMiddleware(MiddlewareConfig{
			Config:  Config{Delay: 10 * time.Millisecond, OnComplete: func(i CompleteInfo) { info = i }},
			Timeout: 50 * time.Millisecond,
		})
		h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			seen.set(CopyFrom(r.Context()), context.Cause(r.Context()))
			io.WriteString(w, "late")
		}))
		start := time.Now()
		rec := serve(h, httptest.NewRequest(http.MethodGet, "/x", nil))
		assert.Equal(t, 50*time.Millisecond, time.Since(start))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "Service Unavailable\n", rec.Body.String())
		synctest.Wait()
		assert.Equal(t, map[int]error{1: context.DeadlineExceeded, 2: context.DeadlineExceeded}, seen.get())
		assert.Equal(t, 0, info.Winner)
		assert.Equal(t, 503, info.StatusCode)
		assert.ErrorIs(t, info.Err, context.DeadlineExceeded)
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, Hedged: 1, Hedges: 1, Failed: 1}, m.Stats())
	})
}

// A request body of exactly MaxBody is hedged and every run reads all of
// it; one byte more and the request runs once, with its whole body.
func TestMiddlewareBodyCap(t *testing.T) {
	for _, size := range []int{DefaultMaxBody, DefaultMaxBody + 1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				payload := strings.Repeat("x", size)
				var got sync.Map
				m := NewMiddleware(MiddlewareConfig{Config: Config{Delay: 10 * time.Millisecond}})
				h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					b, err := io.ReadAll(r.Body)
					got.Store(CopyFrom(r.Context()), err == nil && string(b) == payload)
					if IsHedge(r.Context()) {
						return
					}
					select {
					case <-time.After(50 * time.Millisecond):
					case <-r.Context().Done():
					}
				}))
				serve(h, httptest.NewRequest(http.MethodPut, "/x", strings.NewReader(payload)))
				synctest.Wait()
				want := map[any]any{1: true, 2: true}
				if size > DefaultMaxBody {
					want = map[any]any{0: true}
				}
				have := map[any]any{}
				got.Range(func(k, v any) bool { have[k] = v; return true })
				assert.Equal(t, want, have)
			})
		})
	}
}

func TestNewMiddlewarePanics(t *testing.T) {
	for _, tc := range []struct {
		cfg MiddlewareConfig
		msg string
	}{
		{MiddlewareConfig{Timeout: -1}, "hedge: Timeout must not be negative, got -1ns"},
		{MiddlewareConfig{MaxBody: -1}, "hedge: MaxBody must not be negative, got -1"},
		{MiddlewareConfig{MaxResponse: -1}, "hedge: MaxResponse must not be negative, got -1"},
		{MiddlewareConfig{Config: Config{MaxHedges: 11}}, "hedge: MaxHedges must be between 1 and 10 (or 0 for 1), got 11"},
	} {
		assert.PanicsWithValue(t, tc.msg, func() { NewMiddleware(tc.cfg) })
	}
}
