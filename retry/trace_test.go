package retry

import (
	"net/http"
	"net/http/httptrace"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// The caller's ClientTrace sees each attempt in turn: an attempt's late
// event (here a GetConn its transport fires after the retry moved on, as a
// dial finishing in the background would) is dropped rather than run
// alongside the next attempt's hooks, whose state it would corrupt.
func TestTraceSeesOneAttemptAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			trace := httptrace.ContextClientTrace(req.Context())
			trace.GetConn("upstream.test:80")
			if n == 1 {
				go func() {
					time.Sleep(5 * time.Millisecond) // after the retry went out
					trace.GetConn("upstream.test:80")
				}()
				return testkit.Respond(req, 503, "", nil), nil
			}
			time.Sleep(10 * time.Millisecond)
			return testkit.Respond(req, 200, "ok", nil), nil
		}}
		conns := 0 // unsynchronized, as most traces are
		ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
			GetConn: func(string) { conns++ },
		})
		resp, err := New(quiet(Config{BaseDelay: time.Millisecond})).Wrap(stub).RoundTrip(newReq(t, ctx, "GET", ""))
		require.NoError(t, err)
		resp.Body.Close()
		synctest.Wait()
		assert.Equal(t, 2, conns, "one GetConn per attempt; the first attempt's late one dropped")
	})
}
