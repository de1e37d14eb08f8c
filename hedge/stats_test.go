package hedge

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// Every counter, from one scripted sequence of requests.
func TestStatsCounters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			switch req.URL.Path {
			case "/slow-original":
				if !IsHedge(req.Context()) {
					return after(req, time.Second, 200, nil)
				}
			case "/fail":
				return after(req, time.Millisecond, 500, nil)
			}
			return after(req, time.Millisecond, 200, nil)
		}}
		h := New(Config{Delay: 10 * time.Millisecond, Skip: func(r *http.Request) bool { return r.URL.Path == "/skip" }})
		rt := h.Wrap(stub)
		send := func(method, path string) {
			req, _ := http.NewRequest(method, "http://upstream.test"+path, strings.NewReader(""))
			resp, err := rt.RoundTrip(req)
			require.NoError(t, err)
			readAll(t, resp)
		}
		send("GET", "/fast")          // original wins
		send("GET", "/slow-original") // hedge wins
		send("GET", "/fail")          // both fail
		send("POST", "/fast")         // pass-through
		send("GET", "/skip")          // skipped
		assert.Equal(t, Stats{
			Requests: 5, Hedgeable: 3, Hedged: 2, Hedges: 2, OriginalWins: 1, HedgeWins: 1, Failed: 1,
			PassThrough: 1, Skipped: 1,
		}, h.Stats())
	})
}

// Stats may be read while requests run (run with -race).
func TestStatsConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := New(Config{Delay: time.Millisecond})
		rt := h.Wrap(slowStub(2 * time.Millisecond))
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				resp, err := rt.RoundTrip(newGet(t))
				if err == nil {
					resp.Body.Close()
				}
				_ = h.Stats()
			})
		}
		wg.Wait()
		st := h.Stats()
		assert.Equal(t, uint64(50), st.Requests)
		assert.Equal(t, uint64(50), st.OriginalWins+st.HedgeWins)
	})
}

// Hedgeable is derived when Stats is taken: Requests less PassThrough and
// Skipped, never below zero when those two were read after requests they
// count but Requests was not.
func TestStatsHedgeableDerived(t *testing.T) {
	tests := []struct {
		name                           string
		requests, passThrough, skipped uint64
		want                           uint64
	}{
		{"none", 0, 0, 0, 0},
		{"all hedgeable", 5, 0, 0, 5},
		{"some passed through or skipped", 9, 1, 1, 7},
		{"none hedgeable", 2, 1, 1, 0},
		{"the other two ahead of Requests", 1, 1, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c counters
			c.requests.Store(tc.requests)
			c.passThrough.Store(tc.passThrough)
			c.skipped.Store(tc.skipped)
			assert.Equal(t, tc.want, c.snapshot().Hedgeable)
		})
	}
}
