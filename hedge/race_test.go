package hedge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/httpx"
	"github.com/tailguard/tailguard/internal/testkit"
)

// The original answers first, before the hedge's delay: no hedge is sent.
func TestOriginalWinsBeforeDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			return after(req, 5*time.Millisecond, 200, nil)
		}}
		h := New(Config{Delay: 10 * time.Millisecond})
		resp, err := h.Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		assert.Equal(t, "OK", readAll(t, resp))
		assert.Equal(t, 1, stub.Calls())
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, OriginalWins: 1}, h.Stats())
	})
}

// A slow original is beaten by the hedge; the original's context is
// canceled at once, and the winner arrives at Delay + the hedge's latency.
func TestHedgeWinsAndLoserIsCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var loserErr error
		loserDone := make(chan struct{})
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if n == 1 {
				_, err := after(req, time.Second, 200, nil)
				loserErr = err
				close(loserDone)
				return nil, err
			}
			return after(req, 5*time.Millisecond, 200, nil)
		}}
		h := New(Config{Delay: 10 * time.Millisecond})
		start := time.Now()
		resp, err := h.Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		assert.Equal(t, 15*time.Millisecond, time.Since(start))
		<-loserDone
		assert.ErrorIs(t, loserErr, context.Canceled, "the loser saw its cancellation")
		assert.Equal(t, 15*time.Millisecond, time.Since(start), "canceled at once, not after its 1 s")
		assert.Equal(t, "OK", readAll(t, resp))
		assert.Equal(t, Stats{Requests: 1, Hedgeable: 1, Hedged: 1, Hedges: 1, HedgeWins: 1}, h.Stats())
	})
}

// A fast 503 never beats a pending attempt: the slower 200 wins, and the
// 503's body is drained and closed.
func TestFast503DoesNotWin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr testkit.Tracker
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if n == 1 {
				return after(req, 50*time.Millisecond, 200, &tr)
			}
			return after(req, time.Millisecond, 503, &tr)
		}}
		h := New(Config{Delay: 10 * time.Millisecond})
		resp, err := h.Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		synctest.Wait()
		assert.Equal(t, 1, tr.Open(), "only the winner is open")
		readAll(t, resp)
		assert.Zero(t, tr.Open())
		assert.Equal(t, 2, stub.Calls())
		assert.Equal(t, uint64(1), h.Stats().OriginalWins)
	})
}

// A 503 from the original fires the hedge at once, not at its delay.
func TestFailureFiresNextHedgeAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(req *http.Request) (*http.Response, error)
	}{
		{"503", func(req *http.Request) (*http.Response, error) { return after(req, 2*time.Millisecond, 503, nil) }},
		{"transport error", func(req *http.Request) (*http.Response, error) {
			testkit.Sleep(req.Context(), 2*time.Millisecond)
			return nil, errors.New("connection reset by peer")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var fired []HedgeInfo
				stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
					if n == 1 {
						return tc.answer(req)
					}
					return after(req, 5*time.Millisecond, 200, nil)
				}}
				h := New(Config{Delay: time.Second, OnHedge: func(i HedgeInfo) { fired = append(fired, i) }})
				start := time.Now()
				resp, err := h.Wrap(stub).RoundTrip(newGet(t))
				require.NoError(t, err)
				assert.Equal(t, 200, resp.StatusCode)
				assert.Equal(t, 7*time.Millisecond, time.Since(start))
				readAll(t, resp)
				require.Len(t, fired, 1)
				assert.Equal(t, HedgeInfo{Request: fired[0].Request, Attempt: 2, Elapsed: 2 * time.Millisecond, Reason: ReasonFailure}, fired[0])
			})
		})
	}
}

// When every attempt fails, the last response is returned with a readable
// body, and every other response is closed.
func TestAllFailReturnsLastResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr testkit.Tracker
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if err := testkit.Sleep(req.Context(), time.Duration(n)*time.Millisecond); err != nil {
				return nil, err
			}
			resp := testkit.Respond(req, []int{500, 502, 504}[n-1], "attempt "+string(rune('0'+n)), &tr)
			return resp, nil
		}}
		var info CompleteInfo
		h := New(Config{Delay: time.Second, MaxHedges: 2, OnComplete: func(i CompleteInfo) { info = i }})
		resp, err := h.Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		assert.Equal(t, 504, resp.StatusCode)
		synctest.Wait() // losers are drained after the result is handed over
		assert.Equal(t, 1, tr.Open())
		assert.Equal(t, "attempt 3", readAll(t, resp))
		assert.Zero(t, tr.Open())
		assert.Equal(t, 3, tr.Made())
		assert.Equal(t, 0, info.Winner)
		assert.Equal(t, 3, info.Sent)
		assert.Equal(t, 504, info.StatusCode)
		assert.Equal(t, uint64(1), h.Stats().Failed)
	})
}

// A response is more useful than an error, whichever came last.
func TestAllFailPrefersResponseOverError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if n == 1 {
				return after(req, time.Millisecond, 502, nil)
			}
			testkit.Sleep(req.Context(), time.Millisecond)
			return nil, errors.New("connection refused")
		}}
		resp, err := New(Config{Delay: time.Second}).Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		assert.Equal(t, 502, resp.StatusCode)
		readAll(t, resp)
	})
}

// rejection is what an inner breaker returns without sending.
type rejection struct{}

func (rejection) Error() string             { return "breaker: open" }
func (rejection) Rejected() bool            { return true }
func (rejection) RetryAfter() time.Duration { return 0 }

// An inner stage that rejects the hedge (a half-open breaker with its one
// probe in flight) neither cancels nor beats the pending original.
func TestRejectionNeverBeatsPendingAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var originalErr error
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if IsHedge(req.Context()) {
				return nil, rejection{}
			}
			resp, err := after(req, 50*time.Millisecond, 200, nil)
			originalErr = err
			return resp, err
		}}
		h := New(Config{Delay: 10 * time.Millisecond, MaxHedges: 2})
		resp, err := h.Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		assert.NoError(t, originalErr, "the original was not canceled")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, 3, stub.Calls(), "a rejection does not fire the next hedge early, the timer does")
		readAll(t, resp)
	})
}

// When only rejections are left, the rejection is returned as it is.
func TestOnlyRejection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) { return nil, rejection{} }}
		resp, err := New(Config{}).Wrap(stub).RoundTrip(newGet(t))
		assert.Nil(t, resp)
		assert.Equal(t, rejection{}, err)
		assert.Equal(t, 1, stub.Calls(), "no hedge waits on the timer after a rejection")
	})
}

// The winner's context outlives RoundTrip: the body is read after return,
// under a context that is canceled only when the body is closed.
func TestWinnerBodyReadableAfterReturn(t *testing.T) {
	for _, winner := range []int{1, 2} {
		t.Run([]string{"", "original", "hedge"}[winner], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var winCtx context.Context
				stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
					d := 50 * time.Millisecond
					if n == winner {
						d = 15 * time.Millisecond
					}
					if err := testkit.Sleep(req.Context(), d); err != nil {
						return nil, err
					}
					winCtx = req.Context()
					resp := testkit.Respond(req, 200, "", nil)
					resp.Body = newCtxBody(req.Context(), "payload")
					return resp, nil
				}}
				resp, err := New(Config{Delay: 10 * time.Millisecond}).Wrap(stub).RoundTrip(newGet(t))
				require.NoError(t, err)
				synctest.Wait()
				assert.Equal(t, "payload", readAll(t, resp))
				assert.ErrorIs(t, winCtx.Err(), context.Canceled, "closing the body releases the context")
			})
		})
	}
}

// A late response from a loser is drained and closed by its own goroutine.
func TestLateLoserResponseIsClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr testkit.Tracker
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if n == 2 {
				// Ignores cancellation, like a transport that already had
				// the headers in hand.
				time.Sleep(100 * time.Millisecond)
				return testkit.Respond(req, 200, "late", &tr), nil
			}
			return after(req, 20*time.Millisecond, 200, &tr)
		}}
		resp, err := New(Config{Delay: 10 * time.Millisecond}).Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		readAll(t, resp)
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, 2, tr.Made())
		assert.Zero(t, tr.Open())
	})
}

// The caller's cancellation cancels every attempt and returns ctx.Err()
// untouched.
func TestCallerCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var errs []error
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			_, err := after(req, time.Hour, 200, nil)
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
			return nil, err
		}}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Millisecond, cancel)
		var info CompleteInfo
		h := New(Config{Delay: 10 * time.Millisecond, MaxHedges: 2, OnComplete: func(i CompleteInfo) { info = i }})
		resp, err := h.Wrap(stub).RoundTrip(newGet(t).WithContext(ctx))
		assert.Nil(t, resp)
		assert.Equal(t, context.Canceled, err)
		synctest.Wait()
		assert.Len(t, errs, 3)
		for _, e := range errs {
			assert.ErrorIs(t, e, context.Canceled)
		}
		assert.Equal(t, CompleteInfo{Request: info.Request, Sent: 3, Duration: 30 * time.Millisecond, Err: context.Canceled}, info)
	})
}

// A deadline on the caller's context is returned as it is, and no hedge
// fires after it.
func TestCallerDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			return after(req, time.Hour, 200, nil)
		}}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		defer cancel()
		resp, err := New(Config{Delay: 10 * time.Millisecond}).Wrap(stub).RoundTrip(newGet(t).WithContext(ctx))
		assert.Nil(t, resp)
		assert.Equal(t, context.DeadlineExceeded, err)
		time.Sleep(time.Second)
		assert.Equal(t, 1, stub.Calls())
	})
}

// Fatal outcomes neither fire the next hedge early nor beat a pending one.
func TestFatalIsAFailureWithoutEarlyHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			return after(req, time.Millisecond, http.StatusNotImplemented, nil)
		}}
		resp, err := New(Config{Delay: 10 * time.Millisecond}).Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		assert.Equal(t, 501, resp.StatusCode)
		assert.Equal(t, 1, stub.Calls())
		readAll(t, resp)
	})
}

func TestWinsAndFiresNext(t *testing.T) {
	for k := range idempotency.Rejected + 1 {
		assert.Equal(t, k == idempotency.Success || k == idempotency.Final, wins(k), k.String())
		assert.Equal(t, k == idempotency.Transient, firesNext(k), k.String())
		assert.Equal(t, k == idempotency.Throttled, stopsHedging(k, nil), k.String())
	}
}

// A throttled response stops hedging for the request, whatever its
// Retry-After says: neither an early hedge nor the timer's is sent, and
// the 429 comes back. A 429 is pushback, like a pause: a copy would add
// load to an upstream that is refusing it. Round 2 fired the next hedge at
// once after a bare 429 (against a bare-429 upstream through the
// recommended pipeline, 194 of 442 requests were hedges).
func TestThrottledStopsHedging(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter string
		wantCalls  int
		wantStatus int
	}{
		{"seconds", "1", 1, 429},
		{"http-date", "Fri, 01 Jan 2100 00:00:00 GMT", 1, 429},
		{"past date", "Sun, 06 Nov 1994 08:49:37 GMT", 1, 429},
		{"garbage", "soon", 1, 429},
		{"no Retry-After", "", 1, 429},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
					if n == 1 {
						resp, err := after(req, 2*time.Millisecond, 429, nil)
						if tc.retryAfter != "" {
							resp.Header.Set("Retry-After", tc.retryAfter)
						}
						return resp, err
					}
					return after(req, 5*time.Millisecond, 200, nil)
				}}
				h := New(Config{Delay: 10 * time.Millisecond, MaxHedges: 2})
				resp, err := h.Wrap(stub).RoundTrip(newGet(t))
				require.NoError(t, err)
				readAll(t, resp)
				time.Sleep(time.Second) // no timer may fire later either
				synctest.Wait()
				assert.Equal(t, tc.wantStatus, resp.StatusCode)
				assert.Equal(t, tc.wantCalls, stub.Calls())
			})
		})
	}
}

// The original wins at 60 ms while a hedge's 503, whose body stalls, is
// kept as the fallback: the 200 comes back at 60 ms, and the 503 is drained
// in the background, given up after httpx.DrainTimeout. Round 1 drained it
// on the caller's goroutine first: the 200 came back after 3 s (issue 11,
// bug 3).
func TestStalledLoserBodyNeverDelaysWinner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stalled := testkit.NewStalledBody()
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if IsHedge(req.Context()) {
				resp, err := after(req, 10*time.Millisecond, 503, nil)
				resp.Body = stalled
				return resp, err
			}
			return after(req, 60*time.Millisecond, 200, nil)
		}}
		start := time.Now()
		resp, err := New(Config{Delay: 10 * time.Millisecond}).Wrap(stub).RoundTrip(newGet(t))
		require.NoError(t, err)
		assert.Equal(t, 60*time.Millisecond, time.Since(start))
		assert.Equal(t, "OK", readAll(t, resp))
		time.Sleep(httpx.DrainTimeout)
		synctest.Wait()
		assert.True(t, stalled.Closed(), "the stalled loser is closed once its drain times out")
	})
}

// Any failed response whose Retry-After asks for a pause stops hedging, not
// only a 429 or a 503: round 1 fired the next hedge at once after a 500 or
// 502 carrying Retry-After: 5 (issue 11, bug 9). Without the header each
// transient one fires the next hedge at once, as before; a 429 stops
// hedging either way.
func TestRetryAfterOnAnyFailureStopsHedging(t *testing.T) {
	for _, status := range []int{500, 502, 503, 504, 429, 501} {
		for _, retryAfter := range []string{"5", ""} {
			t.Run(fmt.Sprintf("%d Retry-After %q", status, retryAfter), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
						if n == 1 {
							resp, err := after(req, 2*time.Millisecond, status, nil)
							if retryAfter != "" {
								resp.Header.Set("Retry-After", retryAfter)
							}
							return resp, err
						}
						return after(req, 5*time.Millisecond, 200, nil)
					}}
					resp, err := New(Config{Delay: 10 * time.Millisecond, MaxHedges: 2}).Wrap(stub).RoundTrip(newGet(t))
					require.NoError(t, err)
					readAll(t, resp)
					time.Sleep(time.Minute)
					synctest.Wait()
					switch {
					case retryAfter != "" || status == 429:
						assert.Equal(t, status, resp.StatusCode)
						assert.Equal(t, 1, stub.Calls(), "no hedge into the pause")
					case status == 501: // fatal: fires nothing, and nothing else is pending
						assert.Equal(t, 501, resp.StatusCode)
						assert.Equal(t, 1, stub.Calls())
					default:
						assert.Equal(t, 200, resp.StatusCode, "the hedge fired at once wins")
					}
				})
			})
		}
	}
}

// A transport that returns neither a response nor an error breaks the
// RoundTripper contract; the caller gets an error saying so, never (nil,
// nil), once no hedge can fix it.
func TestNeitherResponseNorError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) { return nil, nil }}
		resp, err := New(Config{Delay: time.Second}).Wrap(stub).RoundTrip(newGet(t))
		assert.Nil(t, resp)
		assert.ErrorIs(t, err, errNoResponse)
		assert.Equal(t, 2, stub.Calls(), "classified Transient: the hedge fired at once, and failed the same way")
	})
}
