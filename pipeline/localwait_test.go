package pipeline_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/hedge"
	"github.com/tailguard/tailguard/internal/testkit"
	"github.com/tailguard/tailguard/pipeline"
	"github.com/tailguard/tailguard/retry"
	"github.com/tailguard/tailguard/throttle"
)

// scripted is an upstream that answers each path as its script says and
// records when each request to it arrived.
type scripted struct {
	start time.Time
	// answer says how to answer a request to path: the status, a
	// Retry-After to send with it ("" for none), and how long to hold the
	// headers back.
	answer func(path string) (status int, retryAfter string, delay time.Duration)

	mu       sync.Mutex // guards arrivals and cuts
	arrivals map[string][]time.Duration
	cuts     map[string][]cut // requests whose context ended while held
}

// cut is when a request's context ended, and why.
type cut struct {
	at    time.Duration
	cause error
}

func (s *scripted) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.arrivals[req.URL.Path] = append(s.arrivals[req.URL.Path], time.Since(s.start))
	s.mu.Unlock()
	status, ra, delay := s.answer(req.URL.Path)
	if err := testkit.Sleep(req.Context(), delay); err != nil {
		s.mu.Lock()
		s.cuts[req.URL.Path] = append(s.cuts[req.URL.Path], cut{time.Since(s.start), context.Cause(req.Context())})
		s.mu.Unlock()
		return nil, err
	}
	resp := testkit.Respond(req, status, "", nil)
	if ra != "" {
		resp.Header.Set("Retry-After", ra)
	}
	return resp, nil
}

func (s *scripted) at(path string) ([]time.Duration, []cut) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.arrivals[path]...), append([]cut(nil), s.cuts[path]...)
}

// TestLocalWaitIsNotAttemptTimeout: time a request spends waiting in an
// inner stage, unsent — for its pace turn or at a closed gate in the
// throttle, for a probe in the breaker's MaxWait — is not the upstream's
// slowness, and the retry stage's AttemptTimeout does not count it: the
// request reaches the upstream once and succeeds, in every documented
// order that puts retry outside the throttle or the breaker. An upstream
// slow after the wait still times out d after it, and the caller's own
// deadline still bounds everything (the throttle refuses up front a wait
// the deadline cannot cover). Before the fix, the timer ran through the
// wait: the 800 ms pace wait under a 500 ms AttemptTimeout ended in
// retry.ErrAttemptTimeout and retries.
func TestLocalWaitIsNotAttemptTimeout(t *testing.T) {
	type stages struct {
		retry    *retry.Retrier
		throttle *throttle.Throttle
		breaker  *breaker.Breaker
	}
	h := func() pipeline.Stage { return hedge.New(hedge.Config{Delay: 5 * time.Second}) }
	orders := []struct {
		name              string
		throttle, breaker bool
		stages            func(s stages) []pipeline.Stage
	}{
		{"retry→throttle", true, false, func(s stages) []pipeline.Stage { return []pipeline.Stage{s.retry, s.throttle} }},
		{"retry→breaker", false, true, func(s stages) []pipeline.Stage { return []pipeline.Stage{s.retry, s.breaker} }},
		{"hedge→retry→breaker", false, true, func(s stages) []pipeline.Stage { return []pipeline.Stage{h(), s.retry, s.breaker} }},
		{"retry→hedge→breaker", false, true, func(s stages) []pipeline.Stage { return []pipeline.Stage{s.retry, h(), s.breaker} }},
		{"hedge→retry→throttle→breaker", true, true, func(s stages) []pipeline.Stage {
			return []pipeline.Stage{h(), s.retry, s.throttle, s.breaker}
		}},
		{"hedge→retry→breaker→throttle", true, true, func(s stages) []pipeline.Stage {
			return []pipeline.Stage{h(), s.retry, s.breaker, s.throttle}
		}},
		{"retry→hedge→throttle→breaker", true, true, func(s stages) []pipeline.Stage {
			return []pipeline.Stage{s.retry, h(), s.throttle, s.breaker}
		}},
	}

	const paced = 800 * time.Millisecond // a turn every 800 ms: the second request waits that long
	pace := throttle.Config{Rate: rate.Limit(time.Second) / rate.Limit(paced)}
	okAfter := func(slow time.Duration) func(string) (int, string, time.Duration) {
		return func(path string) (int, string, time.Duration) {
			switch path {
			case "/throttle":
				return http.StatusTooManyRequests, "1", 0
			case "/fail":
				return http.StatusServiceUnavailable, "", 0
			}
			if path == "/second" {
				return http.StatusOK, "", slow
			}
			return http.StatusOK, "", 0
		}
	}
	tests := []struct {
		name     string
		breaker  bool // the case needs a breaker (else a throttle)
		timeout  time.Duration
		attempts int // retry.Config.MaxAttempts
		throttle throttle.Config
		first    string        // a POST (never retried) to this path sets the scene; "" for the pace case's first turn
		slow     time.Duration // how long the upstream holds the second request's headers
		deadline time.Duration // the second request's own deadline, if any

		wantErr  error         // of the second request; nil: a 200
		wantTook time.Duration // the second request's duration, if exact (else 0)
		minTook  time.Duration // else at least this
		wantSent int           // times the second request reached the upstream; -1: any
		wantCut  time.Duration // when its first attempt, at the upstream, was canceled for ErrAttemptTimeout
	}{
		{name: "paced 800ms, AttemptTimeout 500ms", timeout: 500 * time.Millisecond, throttle: pace,
			first: "/ok", wantTook: paced, wantSent: 1},
		{name: "gate closed by Retry-After: 1, AttemptTimeout 300ms", timeout: 300 * time.Millisecond,
			first: "/throttle", minTook: time.Second, wantSent: 1},
		{name: "slow after the pace wait times out at wait+d", timeout: 500 * time.Millisecond, attempts: 1,
			throttle: pace, first: "/ok", slow: time.Hour,
			// In hedge orders the failed attempt fires the hedge, which
			// is paced and times out in turn: only the first attempt's
			// timing is the case's.
			wantErr: retry.ErrAttemptTimeout, wantSent: -1, wantCut: paced + 500*time.Millisecond},
		{name: "breaker MaxWait for the probe, AttemptTimeout 300ms", breaker: true, timeout: 300 * time.Millisecond,
			first: "/fail", minTook: time.Second, wantSent: 1},
		{name: "caller's deadline before the pace turn: refused up front", timeout: 500 * time.Millisecond,
			throttle: pace, first: "/ok", deadline: 600 * time.Millisecond, wantErr: throttle.ErrThrottled},
		{name: "caller's deadline before the gate opens: refused up front", timeout: 300 * time.Millisecond,
			first: "/throttle", deadline: 500 * time.Millisecond, wantErr: throttle.ErrThrottled},
		{name: "caller's deadline ends a slow upstream after the wait", timeout: 500 * time.Millisecond,
			throttle: pace, first: "/ok", slow: time.Hour, deadline: time.Second,
			wantErr: context.DeadlineExceeded, wantTook: time.Second, wantSent: 1},
	}
	for _, o := range orders {
		for _, tt := range tests {
			if tt.breaker && !o.breaker || !tt.breaker && !o.throttle {
				continue
			}
			t.Run(o.name+"/"+tt.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					up := &scripted{start: time.Now(), answer: okAfter(tt.slow), arrivals: map[string][]time.Duration{},
						cuts: map[string][]cut{}}
					s := stages{
						retry:    retry.New(retry.Config{AttemptTimeout: tt.timeout, MaxAttempts: tt.attempts}),
						throttle: throttle.New(tt.throttle),
						breaker: breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second,
							MaxWait: 2 * time.Second}),
					}
					rt := pipeline.NewWithBase(up, o.stages(s)...)

					first, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://up.test"+tt.first, nil)
					resp, err := rt.RoundTrip(first)
					if err != nil {
						t.Fatalf("setting the scene: %v", err)
					}
					resp.Body.Close()

					ctx := t.Context()
					if tt.deadline > 0 {
						var cancel context.CancelFunc
						ctx, cancel = context.WithTimeout(ctx, tt.deadline)
						defer cancel()
					}
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://up.test/second", nil)
					start := time.Now()
					resp, err = rt.RoundTrip(req)
					took := time.Since(start)
					if resp != nil {
						resp.Body.Close()
					}
					switch {
					case tt.wantErr == nil && err != nil:
						t.Errorf("err = %v, want a 200", err)
					case tt.wantErr == nil && resp.StatusCode != http.StatusOK:
						t.Errorf("status %d, want 200", resp.StatusCode)
					case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
						t.Errorf("err = %v, want %v", err, tt.wantErr)
					}
					if tt.wantTook > 0 && took != tt.wantTook {
						t.Errorf("took %v, want %v", took, tt.wantTook)
					}
					if took < tt.minTook {
						t.Errorf("took %v, want at least %v: it did not wait", took, tt.minTook)
					}
					got, cuts := up.at("/second")
					if tt.wantSent >= 0 && len(got) != tt.wantSent {
						t.Errorf("reached the upstream %d times (at %v), want %d", len(got), got, tt.wantSent)
					}
					if tt.wantCut > 0 {
						if len(got) == 0 || got[0] != paced || len(cuts) == 0 ||
							cuts[0].at != tt.wantCut || !errors.Is(cuts[0].cause, retry.ErrAttemptTimeout) {
							t.Errorf("sent at %v, cut at %+v; want sent at %v, cut by ErrAttemptTimeout at %v",
								got, cuts, paced, tt.wantCut)
						}
					}
					if st := s.retry.Stats(); st.Retries != 0 || st.HedgeResends != 0 {
						// A hedge re-sending an attempt the timer cut
						// short would hide the retry.
						t.Errorf("%d retries, %d re-sent by the hedge, want none: %+v", st.Retries, st.HedgeResends, st)
					}
				})
			})
		}
	}
}

// TestPacedRequestIsNotHedged: a request waiting for its pace turn in the
// throttle holds the hedge delay too: the hedge stage sends no copy into
// the wait (which the throttle, with no spare pace, refused at once: a
// hedge counted and paid for that never left the process), and takes the
// delay up again when the request is sent. Before, each paced request
// below fired one hedge at 100 ms, refused for pace.
func TestPacedRequestIsNotHedged(t *testing.T) {
	orders := map[string]func(h *hedge.Hedger, th *throttle.Throttle) []pipeline.Stage{
		"hedge→throttle": func(h *hedge.Hedger, th *throttle.Throttle) []pipeline.Stage {
			return []pipeline.Stage{h, th}
		},
		"hedge→retry→throttle→breaker": func(h *hedge.Hedger, th *throttle.Throttle) []pipeline.Stage {
			return []pipeline.Stage{h, retry.New(retry.Config{}), th, breaker.New(breaker.Config{})}
		},
		"hedge→retry with AttemptTimeout→throttle→breaker": func(h *hedge.Hedger, th *throttle.Throttle) []pipeline.Stage {
			return []pipeline.Stage{h, retry.New(retry.Config{AttemptTimeout: 500 * time.Millisecond}), th, breaker.New(breaker.Config{})}
		},
		"hedge→retry→breaker→throttle": func(h *hedge.Hedger, th *throttle.Throttle) []pipeline.Stage {
			return []pipeline.Stage{h, retry.New(retry.Config{}), breaker.New(breaker.Config{}), th}
		},
		"retry→hedge→throttle→breaker": func(h *hedge.Hedger, th *throttle.Throttle) []pipeline.Stage {
			return []pipeline.Stage{retry.New(retry.Config{}), h, th, breaker.New(breaker.Config{})}
		},
	}
	for name, stages := range orders {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				up := &scripted{start: time.Now(), arrivals: map[string][]time.Duration{}, cuts: map[string][]cut{},
					answer: func(string) (int, string, time.Duration) { return http.StatusOK, "", 10 * time.Millisecond }}
				h := hedge.New(hedge.Config{Delay: 100 * time.Millisecond})
				th := throttle.New(throttle.Config{Rate: 1.25}) // a turn every 800 ms
				rt := pipeline.NewWithBase(up, stages(h, th)...)
				for i := range 3 {
					req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://up.test/paced", nil)
					start := time.Now()
					resp, err := rt.RoundTrip(req)
					if err != nil {
						t.Fatalf("request %d: %v", i, err)
					}
					resp.Body.Close()
					if want := time.Duration(min(i, 1))*790*time.Millisecond + 10*time.Millisecond; time.Since(start) != want {
						t.Errorf("request %d took %v, want %v", i, time.Since(start), want)
					}
				}
				if st := h.Stats(); st.Hedges != 0 {
					t.Errorf("%d hedges, want none: %+v", st.Hedges, st)
				}
				if st := th.Stats(); st.RejectedPace != 0 || st.Waited != 2 {
					t.Errorf("throttle: %d refused for pace, %d waited; want 0 and 2: %+v", st.RejectedPace, st.Waited, st)
				}
				if got, _ := up.at("/paced"); len(got) != 3 {
					t.Errorf("upstream got %v, want 3 requests", got)
				}
			})
		})
	}
}
