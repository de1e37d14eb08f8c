package faulttest_test

import (
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/breaker"
	"github.com/tailguard/tailguard/internal/testkit"
)

// A half-open key whose single probe is still in flight is evicted when new
// keys arrive; the next request to the sick host is then let through as if
// the host were healthy, bypassing the one-probe limit.
func TestHalfOpenProbeInFlightEvicted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var sentToA int
		stub := &testkit.Stub{Respond: func(n int, req *http.Request) (*http.Response, error) {
			if req.URL.Host == "a.test" {
				sentToA++
				if sentToA > 2 { // the probe and anything after it hang
					<-release
				}
				return testkit.Respond(req, 503, "", nil), nil
			}
			return testkit.Respond(req, 200, "", nil), nil
		}}
		b := breaker.New(breaker.Config{ConsecutiveFailures: 2, MaxKeys: 2, OpenTimeout: time.Second})
		rt := b.Wrap(stub)
		get := func(host string) error {
			req, _ := http.NewRequest("GET", "http://"+host+"/", nil)
			resp, err := rt.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
			}
			return err
		}
		get("a.test")
		get("a.test") // opens
		if st := b.State("http://a.test:80"); st != breaker.Open {
			t.Fatalf("state %v", st)
		}
		time.Sleep(2 * time.Second)
		go get("a.test") // the half-open probe, hangs
		synctest.Wait()
		time.Sleep(1500 * time.Millisecond) // b and c are used more recently than a
		get("b.test")
		get("c.test") // MaxKeys 2: evicts the least recently used evictable key
		// A second request to a.test while its probe is in flight must be refused.
		done := make(chan error, 1)
		go func() { done <- get("a.test") }()
		synctest.Wait()
		select {
		case err := <-done:
			t.Logf("second request during probe: %v", err)
		default:
			t.Errorf("second request to a half-open host was sent (the key was evicted mid-probe); sent to a: %d", sentToA)
		}
		close(release)
		synctest.Wait()
	})
}
