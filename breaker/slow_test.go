package breaker

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tailguard/tailguard/internal/testkit"
)

// An upstream that fails slowly — a gateway answering 504 after 31 s, longer
// than the default 30 s Window — must still open the breaker, by either
// rule. gobreaker's own rolling window drops an outcome whose start bucket
// has rolled out by the time it ends; ours counts by completion time.
func TestSlowFailuresCount(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		concurrent bool
	}{
		{"consecutive, one at a time", Config{FailureRatio: -1}, false},
		{"ratio, 20 at once", Config{ConsecutiveFailures: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
					if err := testkit.Sleep(req.Context(), 31*time.Second); err != nil {
						return nil, err
					}
					return testkit.Respond(req, http.StatusGatewayTimeout, "", nil), nil
				}}
				b := New(tt.cfg)
				rt := b.Wrap(stub)
				get := func() { send(t.Context(), rt, "http://slow.test/") }
				if tt.concurrent {
					var wg sync.WaitGroup
					for range DefaultMinRequests {
						wg.Go(get)
					}
					wg.Wait()
				} else {
					for range DefaultConsecutiveFailures {
						get()
					}
				}
				if st := b.StateOf("http://slow.test:80"); st != Open {
					t.Errorf("after slow failures the breaker is %v: %+v", st, b.Snapshot())
				}
			})
		})
	}
}
