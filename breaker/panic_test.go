package breaker

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

// panicOn418 is a classifier with a bug: it panics on a 418.
type panicOn418 struct{ idempotency.Classifier }

func (p panicOn418) Classify(req *http.Request, resp *http.Response, err error) idempotency.Outcome {
	if resp != nil && resp.StatusCode == http.StatusTeapot {
		panic("classifier bug")
	}
	return p.Classifier.Classify(req, resp, err)
}

// Whatever panics during a half-open probe — the state-change hook, a
// custom classifier — must release the probe slot: gobreaker's half-open
// state has no expiry, so a lost slot would refuse the key forever.
func TestPanicDuringProbeReleasesSlot(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		probeStatus int
	}{
		{"hook panics on half-open", Config{OnStateChange: func(c StateChange) {
			if c.To == HalfOpen {
				panic("hook bug")
			}
		}}, http.StatusOK},
		{"classifier panics on the probe's answer", Config{Classifier: panicOn418{idempotency.Default}}, http.StatusTeapot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stub := newStatusStub(http.StatusServiceUnavailable)
				tt.cfg.ConsecutiveFailures, tt.cfg.OpenTimeout = 1, time.Second
				b := New(tt.cfg)
				rt := b.Wrap(stub)
				get := func() (err error) {
					defer func() { _ = recover() }() // as net/http's server recovers handlers
					_, err = send(t.Context(), rt, "http://x.test/")
					return err
				}
				get() // 503: opens
				time.Sleep(2 * time.Second)
				stub.status.Store(int64(tt.probeStatus))
				get() // the probe; something panics
				stub.status.Store(http.StatusOK)
				time.Sleep(time.Hour)
				if err := get(); err != nil {
					t.Errorf("an hour after the panic the key still refuses: %v", err)
				}
			})
		})
	}
}
