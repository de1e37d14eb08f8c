package hedge

import (
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tailguard/tailguard/internal/attempt"
	"github.com/tailguard/tailguard/internal/testkit"
)

// TestSpare: a hedge is a spare copy (attempt.Spare) while the attempt it
// backs up is live, and stands in for it once that attempt has failed:
// an inner throttle must then let it wait like the original. The original
// is never spare.
func TestSpare(t *testing.T) {
	tests := []struct {
		name string
		// the original's answer, after 50 ms
		status    int
		wantSpare map[int]bool // by attempt number
	}{
		{"hedge fired by the delay, original live", http.StatusOK, map[int]bool{1: false, 2: true}},
		{"hedge fired by the original's failure", http.StatusServiceUnavailable, map[int]bool{1: false, 2: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				got := map[int]bool{}
				stub := &testkit.Stub{Respond: func(_ int, req *http.Request) (*http.Response, error) {
					n := CopyFrom(req.Context())
					mu.Lock()
					got[n] = attempt.Spare(req.Context())
					mu.Unlock()
					if n == 1 {
						return after(req, 50*time.Millisecond, tt.status, nil)
					}
					return after(req, 100*time.Millisecond, http.StatusOK, nil)
				}}
				delay := 10 * time.Millisecond // fires while the original is in flight
				if tt.status != http.StatusOK {
					delay = time.Second // fires only on the original's failure
				}
				sendN(t, New(Config{Delay: delay}).Wrap(stub), 1)
				assert.Equal(t, tt.wantSpare, got)
			})
		})
	}
}
