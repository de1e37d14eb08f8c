package faulttest_test

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/internal/testkit"
)

// The docs allow OnStateChange to panic ("a hook that panics panics that
// caller; later transitions are still delivered"). When it panics on the
// Open→HalfOpen transition, delivered right after Allow admitted the probe
// (breaker.go:137-138), the probe slot is never released: the key refuses
// every request forever.
func TestHookPanicOnHalfOpenLeaksProbeSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		status := 503
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			return testkit.Respond(req, status, "", nil), nil
		}}
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenTimeout: time.Second,
			OnStateChange: func(c breaker.StateChange) {
				if c.To == breaker.HalfOpen {
					panic("hook bug")
				}
			}})
		rt := b.Wrap(stub)
		get := func() (err error) {
			defer func() {
				if p := recover(); p != nil {
					t.Logf("recovered: %v", p)
				}
			}()
			req, _ := http.NewRequest("GET", "http://x.test/", nil)
			resp, err := rt.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		}
		get() // 503: opens
		time.Sleep(2 * time.Second)
		status = 200
		get() // Allow admits the probe, then the hook panics
		time.Sleep(time.Hour)
		if err := get(); err != nil {
			t.Errorf("an hour later the key still refuses: %v", err)
		}
		t.Logf("stub calls: %d", stub.Calls())
	})
}
