package hedge

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

func TestReasonString(t *testing.T) {
	assert.Equal(t, "delay", ReasonDelay.String())
	assert.Equal(t, "failure", ReasonFailure.String())
}

// OnHedge fires once per hedge sent, with the caller's request; OnComplete
// once per race, before RoundTrip returns; Stats may be read from both
// without deadlock.
func TestHooks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if CopyFrom(req.Context()) == 3 {
				return after(req, 5*time.Millisecond, 200, nil)
			}
			return after(req, time.Second, 200, nil)
		}}
		var mu sync.Mutex
		var hedges []HedgeInfo
		var completes []CompleteInfo
		var h *Hedger
		h = New(Config{
			Delay: 10 * time.Millisecond, MaxHedges: 3,
			OnHedge: func(i HedgeInfo) {
				_ = h.Stats()
				mu.Lock()
				hedges = append(hedges, i)
				mu.Unlock()
			},
			OnComplete: func(i CompleteInfo) {
				_ = h.Stats()
				mu.Lock()
				completes = append(completes, i)
				mu.Unlock()
			},
		})
		req := newGet(t)
		resp, err := h.Wrap(stub).RoundTrip(req)
		require.NoError(t, err)
		mu.Lock()
		require.Len(t, completes, 1, "OnComplete ran before RoundTrip returned")
		assert.Equal(t, CompleteInfo{Request: req, Winner: 3, Sent: 3, Duration: 25 * time.Millisecond, StatusCode: 200}, completes[0])
		assert.Equal(t, []HedgeInfo{
			{Request: req, Attempt: 2, Elapsed: 10 * time.Millisecond, Reason: ReasonDelay},
			{Request: req, Attempt: 3, Elapsed: 20 * time.Millisecond, Reason: ReasonDelay},
		}, hedges)
		mu.Unlock()
		readAll(t, resp)
	})
}
