package hedge

import (
	"io"
	"net/http"
	"net/http/httptrace"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/internal/testkit"
)

// The caller's ClientTrace follows the original attempt only: hedges run
// without it (they would call its hooks concurrently with the original's),
// and once the original lost, its late events are dropped too. Round 1
// handed the trace to every attempt.
func TestTraceFollowsOriginalOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			trace := httptrace.ContextClientTrace(req.Context())
			if trace != nil && trace.GetConn != nil { // net/http checks each hook too
				trace.GetConn("upstream.test:80")
			}
			if IsHedge(req.Context()) {
				return after(req, 5*time.Millisecond, 200, nil)
			}
			time.Sleep(time.Second) // a dial finishing in the background after the loss
			if trace != nil && trace.GotConn != nil {
				trace.GotConn(httptrace.GotConnInfo{})
			}
			return nil, req.Context().Err()
		}}
		var getConn, gotConn int // unsynchronized, as most traces are
		ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
			GetConn: func(string) { getConn++ },
			GotConn: func(httptrace.GotConnInfo) { gotConn++ },
		})
		resp, err := New(Config{Delay: 10 * time.Millisecond}).Wrap(stub).RoundTrip(newGet(t).WithContext(ctx))
		require.NoError(t, err)
		readAll(t, resp)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		assert.Equal(t, 1, getConn, "the original's event only")
		assert.Zero(t, gotConn, "the losing original's late event is dropped")
	})
}

// Over a real connection, under -race: a trace without locks sees each
// request's original attempt, never a hedge's events at the same time.
func TestLoopbackTraceWithHedges(t *testing.T) {
	srv, _ := testkit.NewServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if attemptOf(r) == 1 {
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "ok")
	}))
	client := &http.Client{Transport: New(Config{Delay: 5 * time.Millisecond}).Wrap(attemptHeader(testkit.Transport(t)))}
	var getConn, wrote int
	const n = 10
	for range n {
		ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
			GetConn:      func(string) { getConn++ },
			WroteHeaders: func() { wrote++ },
		})
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		assert.Equal(t, "ok", readAll(t, resp))
	}
	assert.Equal(t, n, getConn, "one GetConn per request: the original's")
	assert.LessOrEqual(t, wrote, n)
}
