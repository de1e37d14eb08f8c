package faulttest_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
)

// TestH2ProtocolViolation runs every arrangement against a real HTTP/2
// server that answers each request with an invalid response header value
// (issue 11, bug 6). The server received every request, so: a POST without
// a key reaches it exactly once (it is never called never-sent, so never
// resent); a GET is retried and hedged like any transient failure; and
// the breaker counts the violations as failures.
func TestH2ProtocolViolation(t *testing.T) {
	for a := range numArrangements {
		for _, kind := range []reqKind{getReq, postNoKey} {
			t.Run(a.String()+"/"+kind.String(), func(t *testing.T) {
				noLeaks(t)
				srv := testkit.NewH2Violator(t, "x-bad", "a\x01b")
				client := srv.Client()
				t.Cleanup(client.CloseIdleConnections)
				s := newStack(a, client.Transport, matrixConfig())
				ctx, cancel := context.WithTimeout(context.Background(), mxCallerTimeout)
				defer cancel()
				o := do(t, s.rt, kind.request(ctx, srv.URL+"/", 1, kind.body()), 5*time.Second)

				require.Error(t, o.err)
				if strings.Contains(o.err.Error(), "stream error") {
					assert.False(t, idempotency.NeverSent(o.err), "called never-sent: %v", o.err)
				} else {
					assert.ErrorIs(t, o.err, breaker.ErrOpen, "the protocol error, or the breaker it opened")
				}
				sent := srv.Requests()
				if kind == postNoKey {
					assert.EqualValues(t, 1, sent, "a POST without a key reaches the server once")
					return
				}
				assert.GreaterOrEqual(t, sent, int64(map[arrangement]int{retryAlone: 3, breakerAlone: 1, hedgeAlone: 2,
					hedgeRetryBreaker: mxConsecutive, retryHedgeBreaker: mxConsecutive, hedgeRetryThrottleBreaker: mxConsecutive}[a]),
					"the GET is retried as transient")
				if a.has("breaker") && a != breakerAlone {
					assert.EqualValues(t, 1, s.opens.Load(), "%d protocol violations open the breaker", mxConsecutive)
				}
			})
		}
	}
}

// TestBreakerOutageRecommendedPipeline is a whole outage of one host
// through pipeline.New(hedge, retry, breaker) over loopback (issue 11,
// bug 11): the host answers 503 until the breaker opens; then 20 callers
// at a time while it is open, and after the host recovers. While open, every caller gets
// breaker.ErrOpen at once — long before the open period ends — and the
// host receives nothing; after it, one probe closes the breaker and every
// caller gets its 200. With breaker.Config.MaxWait, callers arriving during
// the open period wait for the probe instead, and all get their 200.
func TestBreakerOutageRecommendedPipeline(t *testing.T) {
	const (
		callers  = 20
		openFor  = 2 * time.Second
		fastOpen = time.Second // an ErrOpen must come well before openFor
	)
	for _, maxWait := range []time.Duration{0, 5 * time.Second} {
		name := "fail fast"
		if maxWait > 0 {
			name = "MaxWait"
		}
		t.Run(name, func(t *testing.T) {
			noLeaks(t)
			var down atomic.Bool
			down.Store(true)
			srv := testkit.NewFaultServer(t, testkit.FaultServerOptions{Script: func(int, *http.Request) testkit.Fault {
				if down.Load() {
					return testkit.FaultStatus(http.StatusServiceUnavailable)
				}
				return testkit.FaultOK()
			}})
			c := matrixConfig()
			c.caller = 10 * time.Second
			c.retry.AttemptTimeout = 0 // 60 requests at once on a loaded machine are slow, not failing
			c.retry.MaxRetryAfter = 0  // the default, 30 s: round 1's retry waited out the open period
			c.breaker.OpenTimeout = openFor
			c.breaker.MaxWait = maxWait
			tr := srv.Transport(t)
			s := newStack(hedgeRetryBreaker, tr, c)
			wave := func() []outcome {
				out := make([]outcome, callers)
				var wg sync.WaitGroup
				for i := range out {
					wg.Go(func() {
						ctx, cancel := context.WithTimeout(context.Background(), c.caller)
						defer cancel()
						out[i] = do(t, s.rt, getReq.request(ctx, srv.URL+"/", i, nil), 15*time.Second)
					})
				}
				wg.Wait()
				return out
			}

			// The outage: 3 503s in a row open the breaker.
			for range mxConsecutive {
				o := do(t, s.breaker.Wrap(tr), getReq.request(context.Background(), srv.URL+"/", 0, nil), 15*time.Second)
				require.Equal(t, http.StatusServiceUnavailable, o.status, "%v", o)
			}
			require.EqualValues(t, 1, s.opens.Load(), "the outage opens the breaker")
			opened := time.Now()
			sent := srv.Received()

			if maxWait == 0 {
				// Open: everyone is refused at once, nothing is sent.
				for i, o := range wave() {
					assert.ErrorIs(t, o.err, breaker.ErrOpen, "caller %d", i)
					assert.Less(t, o.elapsed, fastOpen, "caller %d waited for ErrOpen", i)
				}
				assert.Equal(t, sent, srv.Received(), "requests sent to an open breaker's host")
				down.Store(false)
				time.Sleep(time.Until(opened.Add(openFor + 10*time.Millisecond)))
				// Half-open: the first request is the probe and closes it.
				o := do(t, s.rt, getReq.request(context.Background(), srv.URL+"/", 0, nil), 15*time.Second)
				require.NoError(t, o.err)
				assert.Equal(t, http.StatusOK, o.status)
			} else {
				// Callers meeting the open breaker wait inside it for the
				// probe, which the recovered host answers.
				down.Store(false)
			}
			for i, o := range wave() {
				if assert.NoError(t, o.err, "caller %d", i) {
					assert.Equal(t, http.StatusOK, o.status, "caller %d", i)
				}
			}
			assert.Equal(t, breaker.Closed, s.breaker.StateOf(hostKey(srv)))
			assert.EqualValues(t, 1, s.closes.Load())
		})
	}
}
