package hedge

import (
	"bytes"
	"net/http"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// goroutineID returns the calling goroutine's number, for tests only.
func goroutineID() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	return string(bytes.Fields(b)[1])
}

// OnComplete runs on the caller's goroutine even when a hedge's goroutine
// decided the race, so a panic in it is the caller's to see.
func TestOnCompleteOnCallersGoroutine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if IsHedge(req.Context()) {
				return after(req, time.Millisecond, 200, nil)
			}
			return after(req, time.Second, 200, nil)
		}}
		var hookGoroutine string
		h := New(Config{Delay: 10 * time.Millisecond, OnComplete: func(CompleteInfo) { hookGoroutine = goroutineID() }})
		resp, err := h.Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		readAll(t, resp)
		assert.Equal(t, goroutineID(), hookGoroutine)
		assert.Equal(t, uint64(1), h.Stats().HedgeWins)
	})
}

// A panicking OnComplete reaches the caller, and the response it will never
// see is closed rather than leaked.
func TestPanicInOnComplete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr testkit.Tracker
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			return after(req, time.Millisecond, 200, &tr)
		}}
		h := New(Config{OnComplete: func(CompleteInfo) { panic("hook bug") }})
		p, _ := roundTripPanic(h.Wrap(stub), newGet(t))
		assert.Equal(t, "hook bug", p)
		synctest.Wait()
		assert.Zero(t, tr.Open())
	})
}
