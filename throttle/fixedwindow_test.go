package throttle

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/internal/testkit"
)

// windowServer is an in-memory fixed-window quota, as GitHub and many
// gateways keep one: limit requests per window, windows aligned to the
// Unix epoch, a request over the limit answered 429. It announces the
// quota in GitHub's X-RateLimit-* headers (Reset: the window's end in
// epoch seconds) or in the IETF draft's fields, and counts successes per
// window.
type windowServer struct {
	limit   int
	window  time.Duration
	dialect string        // "github", "ietf", or "retry-after" (429s only, Retry-After: 2)
	latency time.Duration // of an admitted request

	tr testkit.Tracker

	mu    sync.Mutex // guards the fields below
	ok    map[int64]int
	bad   map[int64]int
	first int64 // the first window that saw a request
}

func (s *windowServer) RoundTrip(req *http.Request) (*http.Response, error) {
	now := time.Now()
	win := now.UnixNano() / int64(s.window)
	end := time.Unix(0, (win+1)*int64(s.window))
	s.mu.Lock()
	if s.ok == nil {
		s.ok, s.bad, s.first = map[int64]int{}, map[int64]int{}, win
	}
	used := s.ok[win] + s.bad[win] + 1
	allowed := used <= s.limit
	if allowed {
		s.ok[win]++
	} else {
		s.bad[win]++
	}
	s.mu.Unlock()
	remaining := max(s.limit-used, 0)
	status := http.StatusOK
	if !allowed {
		status = http.StatusTooManyRequests
	} else if err := testkit.Sleep(req.Context(), s.latency); err != nil {
		return nil, err
	}
	resp := testkit.Respond(req, status, "", &s.tr)
	switch s.dialect {
	case "github":
		resp.Header.Set("X-RateLimit-Limit", strconv.Itoa(s.limit))
		resp.Header.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		resp.Header.Set("X-RateLimit-Reset", strconv.FormatInt(end.Unix(), 10))
	case "retry-after":
		if !allowed {
			resp.Header.Set("Retry-After", "2")
		}
	case "ietf":
		resp.Header.Set("RateLimit-Policy", fmt.Sprintf(`"p";q=%d;w=%d`, s.limit, int(s.window/time.Second)))
		resp.Header.Set("RateLimit", fmt.Sprintf(`"p";r=%d;t=%d`, remaining, int((end.Sub(now)+time.Second-1)/time.Second)))
	}
	return resp, nil
}

// perWindow returns the successes in each full window from the second
// window a request arrived in to the one before last.
func (s *windowServer) perWindow() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := s.first
	for w := range s.ok {
		last = max(last, w)
	}
	var out []int
	for w := s.first + 1; w < last; w++ {
		out = append(out, s.ok[w])
	}
	return out
}

// closedLoop runs callers that each send a request as soon as the last
// one returned, for d, as cmd/pacewait does; a caller refused by the
// throttle sleeps for the refusal's RetryAfter (100 ms if unknown), as the
// package documentation asks. It returns every admitted request's wait in
// the throttle, from OnThrottle (0 for a request not delayed), and the
// number of refusals.
func closedLoop(cfg Config, rt func(Config) http.RoundTripper, callers int, d time.Duration) (waits []time.Duration, refused int) {
	var mu sync.Mutex
	user := cfg.OnThrottle
	cfg.OnThrottle = func(e Event) {
		mu.Lock()
		if !e.Rejected {
			waits = append(waits, e.Wait)
		}
		mu.Unlock()
		if user != nil {
			user(e)
		}
	}
	tr := rt(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for ctx.Err() == nil {
				rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
				_, err := send(rctx, tr, "http://api.test/")
				rcancel()
				var te *Error
				if errors.As(err, &te) {
					mu.Lock()
					refused++
					mu.Unlock()
					backoff := te.RetryAfter()
					if backoff == 0 {
						backoff = 100 * time.Millisecond
					}
					testkit.Sleep(ctx, backoff)
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(waits)
	return waits, refused
}

// quantile returns the q-quantile of sorted xs.
func quantile(xs []time.Duration, q float64) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	return xs[min(int(q*float64(len(xs))), len(xs)-1)]
}

// pacewaitOffsets are where in a window the runs below start: the old
// behaviour depended on the phase, as the user's runs did ("about half of
// the runs").
var pacewaitOffsets = []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond, 700 * time.Millisecond, 950 * time.Millisecond}

// TestResetRestoresQuota is cmd/pacewait's GitHub case on the fake clock:
// 20 callers in a closed loop against 20 requests per 1 s window,
// announced in X-RateLimit-* with the window's end as the reset. Every
// window must get its quota. Before the fix, the remaining-0 correction
// drained the bucket, the requests that had reserved turns slept through
// the pause and kept their tokens spent, and the bucket did not refill at
// the reset: the first request after it left ~0.95 s late, and windows
// alternated 20 and 1 (52–64% of the quota).
func TestResetRestoresQuota(t *testing.T) {
	for _, off := range pacewaitOffsets {
		t.Run(off.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				time.Sleep(off)
				srv := &windowServer{limit: 20, window: time.Second, dialect: "github", latency: 5 * time.Millisecond}
				closedLoop(Config{}, func(c Config) http.RoundTripper { return New(c).Wrap(srv) }, 20, 10*time.Second)
				got := srv.perWindow()
				require.NotEmpty(t, got)
				for i, n := range got {
					assert.GreaterOrEqual(t, n, 19, "window %d of %v", i, got)
				}
				assert.Zero(t, srv.tr.Open())
			})
		})
	}
}

// TestPaceWaitBound is cmd/pacewait on the fake clock, in both header
// dialects: 20 callers, 20 requests per 1 s window, the remaining count
// reaching 0 (a pause until the window's end) every window. MaxPaceWait
// (1 s) bounds the time a request waits for pace turns in all (see
// TestPaceWaitBudget), and a pause that begins meanwhile sends it back to
// the gate for the rest of the window and the release: here no admitted
// request waited more than 2.44 s in 240 runs. Before the fix, a request
// slept through each pause, kept its spent turn, and started a new
// MaxPaceWait after it, again and again: the longest wait was 4.1–9.8 s in
// every run (3.6–7.2 s in the user's).
func TestPaceWaitBound(t *testing.T) {
	const bound = 3 * time.Second
	for _, dialect := range []string{"github", "ietf"} {
		for _, off := range pacewaitOffsets {
			t.Run(dialect+"/"+off.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					time.Sleep(off)
					srv := &windowServer{limit: 20, window: time.Second, dialect: dialect, latency: 5 * time.Millisecond}
					waits, _ := closedLoop(Config{}, func(c Config) http.RoundTripper { return New(c).Wrap(srv) }, 20, 10*time.Second)
					require.NotEmpty(t, waits)
					assert.LessOrEqual(t, quantile(waits, 1), bound, "longest wait of an admitted request; p50 %v, p90 %v",
						quantile(waits, .5), quantile(waits, .9))
				})
			})
		}
	}
}

// bad429 returns the number of 429s answered.
func (s *windowServer) bad429() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.bad {
		n += b
	}
	return n
}

// TestRetryAfterOnlyConverges is the user's Retry-After-only upstream on
// the fake clock: 20 requests per 1 s window, a 429 with "Retry-After: 2"
// and nothing else beyond, 20 callers in a closed loop. The host lets 20
// requests through after every pause whatever the rate, so each step of
// AIMDDecrease used to cost a two-second pause: the rate was still near
// 80/s after 30 s, and half the windows were lost to pauses. A cut after a
// span that pauses dominated goes to what got through in the last second
// (at most halving), so the rate reaches the host's 20/s within a few
// pauses, and the later windows get their quota.
func TestRetryAfterOnlyConverges(t *testing.T) {
	for _, off := range []time.Duration{100 * time.Millisecond, 500 * time.Millisecond} {
		t.Run(off.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				time.Sleep(off)
				srv := &windowServer{limit: 20, window: time.Second, dialect: "retry-after", latency: 5 * time.Millisecond}
				var th *Throttle
				closedLoop(Config{}, func(c Config) http.RoundTripper { th = New(c); return th.Wrap(srv) }, 20, 30*time.Second)
				rate := float64(th.Snapshot()[0].Rate)
				got := srv.perWindow()
				late := 0
				for _, n := range got[len(got)-10:] {
					late += n
				}
				t.Logf("rate %.1f/s after 30 s, %d 429s, %d in the last 10 windows, windows %v", rate, srv.bad429(), late, got)
				assert.InDelta(t, 20, rate, 5, "the learned rate")
				// The rate above is the regression test (72-82/s before).
				// Goodput over the last 10 windows comes in three modes
				// (600 runs): no probe past the quota, ~190 (30%); one
				// probe, whose 429 costs a window, 140-160 (68%); and, in
				// under 1%, a run still oscillating, where the waiters an
				// opening gate releases fill the next window to its limit
				// and each such window ends in a 429 and a pause: 80-90.
				// A bar at 150 failed one run in ten in CI.
				assert.GreaterOrEqual(t, late, 80, "successes in the last 10 windows (quota 200)")
			})
		})
	}
}
