package faulttest_test

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// The throttle in the recommended pipeline, pipeline.New(hedge, retry,
// throttle, breaker), every Config zero, on the fake clock with an
// in-memory upstream:
//
//	cell                                            expected
//	upstream always "429, Retry-After: 1",          one request per second from the second second on,
//	1, 5 or 50 callers looping for 10 s             whatever the number of callers (a probe per pause)
//	an open breaker inside                          the caller gets breaker.ErrOpen at once, nothing sent;
//	                                                the throttle neither waits nor rejects

// recommended builds the recommended pipeline over base.
func recommended(base http.RoundTripper) (*pipeline.Pipeline, *throttle.Throttle, *breaker.Breaker) {
	th := throttle.New(throttle.Config{})
	b := breaker.New(breaker.Config{})
	return pipeline.NewWithBase(base, hedge.New(hedge.Config{}), retry.New(retry.Config{}), th, b), th, b
}

// arrivals is an in-memory upstream answering every request with answer
// after 10 ms, recording when each arrived.
type arrivals struct {
	answer func(req *http.Request) *http.Response

	mu    sync.Mutex
	times []time.Time
}

func (a *arrivals) RoundTrip(req *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.times = append(a.times, time.Now())
	a.mu.Unlock()
	if err := testkit.Sleep(req.Context(), 10*time.Millisecond); err != nil {
		return nil, err
	}
	return a.answer(req), nil
}

func (a *arrivals) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.times)
}

// perSecond counts arrivals in each whole second since start.
func (a *arrivals) perSecond(start time.Time) []int {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []int
	for _, at := range a.times {
		s := int(at.Sub(start) / time.Second)
		for len(out) <= s {
			out = append(out, 0)
		}
		out[s]++
	}
	return out
}

func TestRecommendedPipelineAgainstPermanent429(t *testing.T) {
	for _, callers := range []int{1, 5, 50} {
		t.Run(strconv.Itoa(callers)+" callers", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				up := &arrivals{answer: func(req *http.Request) *http.Response {
					resp := testkit.Respond(req, http.StatusTooManyRequests, "slow down", nil)
					resp.Header.Set("Retry-After", "1")
					return resp
				}}
				p, th, _ := recommended(up)
				start := time.Now()
				var wg sync.WaitGroup
				for range callers {
					wg.Go(func() {
						for time.Since(start) < 10*time.Second {
							req, _ := http.NewRequest(http.MethodGet, "http://quota.test/", nil)
							resp, err := p.RoundTrip(req)
							if err == nil {
								io.Copy(io.Discard, resp.Body)
								resp.Body.Close()
							} else if !errors.Is(err, throttle.ErrThrottled) {
								t.Errorf("unexpected error: %v", err)
							}
						}
					})
				}
				wg.Wait()
				counts := up.perSecond(start)
				t.Logf("requests per second: %v; throttle %+v", counts, th.Stats())
				// A new host gets NewHostRequests before its first answer,
				// and that answer closes the gate for every caller.
				assert.LessOrEqual(t, counts[0], min(callers, throttle.NewHostRequests),
					"the first second: the new host's debut, then the gate")
				for s := 1; s < len(counts); s++ {
					assert.LessOrEqual(t, counts[s], 1, "second %d: one probe per pause, whatever the callers", s)
				}
				sent := 0
				for _, c := range counts[1:min(10, len(counts))] {
					sent += c
				}
				assert.GreaterOrEqual(t, sent, 8, "and a probe every second or so, not fewer")
			})
		})
	}
}

func TestRecommendedPipelineOpenBreakerRejectsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var failing atomic.Bool
		up := &arrivals{answer: func(req *http.Request) *http.Response {
			if failing.Load() {
				return testkit.Respond(req, http.StatusInternalServerError, "", nil)
			}
			return testkit.Respond(req, http.StatusOK, "", nil)
		}}
		p, th, b := recommended(up)
		get := func() (*http.Response, error) {
			req, _ := http.NewRequest(http.MethodGet, "http://a.test/", nil)
			resp, err := p.RoundTrip(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return resp, err
		}
		// Enough successes that adaptive throttling stays out of it, then
		// failures until the breaker opens.
		for range 20 {
			_, err := get()
			assert.NoError(t, err)
		}
		failing.Store(true)
		for b.StateOf("http://a.test:80") != breaker.Open {
			get()
		}
		sent := up.count()
		before := th.Stats()

		start := time.Now()
		_, err := get()
		elapsed := time.Since(start)
		after := th.Stats()
		assert.Equal(t, before.Waited, after.Waited, "the throttle did not wait")
		assert.Equal(t, before.Rejected(), after.Rejected(), "the throttle did not reject")
		assert.Zero(t, elapsed, "refused at once, no wait in any stage")
		assert.ErrorIs(t, err, breaker.ErrOpen)
		_, rejected := idempotency.AsRejection(err)
		assert.True(t, rejected)
		assert.Equal(t, sent, up.count(), "nothing sent")
	})
}
