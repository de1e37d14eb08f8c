package throttle

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/idempotency"
	"github.com/tailguard/tailguard/internal/decisiontest"
)

// bugAt is a Shared store with a bug: its n-th Reserve panics.
type bugAt struct {
	n    int32
	seen atomic.Int32
}

func (b *bugAt) Reserve(context.Context, string, Quota, time.Duration) (Reservation, error) {
	if b.seen.Add(1) == b.n {
		panic(decisiontest.PanicLogValue)
	}
	return Reservation{OK: true}, nil
}
func (b *bugAt) Pause(context.Context, string, time.Duration) error { return nil }

// bugOnHeader is the default classifier, panicking on a response with an
// X-Bug header.
type bugOnHeader struct{ idempotency.Classifier }

func (c bugOnHeader) Classify(req *http.Request, resp *http.Response, err error) idempotency.Outcome {
	if resp != nil && resp.Header.Get("X-Bug") != "" {
		panic(decisiontest.PanicLogValue)
	}
	return c.Classifier.Classify(req, resp, err)
}

// Whatever the throttle calls out to while a request holds its host's
// probe and a concurrency slot — the classifier, OnThrottle, the logger,
// the Shared store — may panic: the panic reaches the caller, and the
// probe and the slot are given back, or the host's gate would stay
// "probing" forever and refuse every later request. Each response the
// caller never sees is closed.
func TestPanicInCalloutReleasesTicket(t *testing.T) {
	tests := []struct {
		name string
		cfg  func() Config
		bug  bool // the probe's answer carries X-Bug
	}{
		{"classifier, on the probe's answer", func() Config {
			return Config{Classifier: bugOnHeader{idempotency.Default}}
		}, true},
		{"logger, on the probe's pause", func() Config {
			return Config{Logger: slog.New(&decisiontest.PanicLog{Event: decision.Paused, Nth: 2})}
		}, false},
		{"logger, admitting the probe after its wait", func() Config {
			return Config{Logger: slog.New(&decisiontest.PanicLog{Event: decision.Throttled, Nth: 1})}
		}, false},
		{"OnThrottle, admitting the probe after its wait", func() Config {
			return Config{OnThrottle: func(e Event) {
				if !e.Rejected {
					panic(decisiontest.PanicLogValue)
				}
			}}
		}, false},
		{"Shared, reserving the probe's turn", func() Config {
			return Config{Shared: &bugAt{n: 2}}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u := &upstream{latency: time.Millisecond}
				u.answer = func(n int, req *http.Request) *http.Response {
					switch {
					case n == 1: // closes the gate for a second
						return reply(req, &u.tr, 429, "Retry-After", "1", "RateLimit-Policy", roomy)
					case req.Header.Get("X-Probe") != "": // the pause goes on
						resp := reply(req, &u.tr, 429, "Retry-After", "1", "RateLimit-Policy", roomy)
						if tt.bug {
							resp.Header.Set("X-Bug", "1")
						}
						return resp
					}
					return reply(req, &u.tr, 200, "RateLimit-Policy", roomy)
				}
				cfg := tt.cfg()
				cfg.MaxConcurrent = 1
				rt := New(cfg).Wrap(u)
				send(t.Context(), rt, "http://a.test/")
				time.Sleep(500 * time.Millisecond)
				func() { // waits for the gate, then goes as the probe
					defer func() { assert.Equal(t, decisiontest.PanicLogValue, recover()) }()
					req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://a.test/", nil)
					req.Header.Set("X-Probe", "1")
					resp, err := rt.RoundTrip(req)
					if err == nil {
						resp.Body.Close()
					}
				}()
				time.Sleep(2 * time.Second) // past any pause the probe's answer asked for
				start := time.Now()
				status, err := send(t.Context(), rt, "http://a.test/")
				assert.NoError(t, err, "the host still answers")
				assert.Equal(t, 200, status)
				assert.Less(t, time.Since(start), 10*time.Millisecond, "without waiting for a probe that never settles")
				assert.Zero(t, u.tr.Open(), "every response closed")
			})
		})
	}
}
