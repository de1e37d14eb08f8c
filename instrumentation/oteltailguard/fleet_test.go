package oteltailguard

import (
	"context"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tailguard/tailguard/breaker"
)

// openFleet is a breaker.Fleet in which three other processes of four
// have just reported every key open: a quorum.
type openFleet struct{}

func (openFleet) Report(context.Context, string, bool, time.Duration) error { return nil }

func (openFleet) Observe(context.Context, string, time.Duration, bool) (breaker.FleetView, error) {
	return breaker.FleetView{Callers: 4, Open: 3, Newest: 0}, nil
}

// TestBreakerFleetMetrics: a key the fleet opens is open in the metrics
// like any other: the transition is counted, the refusal too, and the
// state gauge reads open.
func TestBreakerFleetMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, reader := newMeter(t)
		in := New(Config{MeterProvider: mp})
		b := breaker.New(breaker.Config{Fleet: openFleet{}})
		up := stub(func(n int, req *http.Request) (*http.Response, error) { return reply(req, 200), nil })
		rt := in.Pipeline(up.transport(), b)
		_, err := do(t.Context(), rt, "GET", "http://f.test/")
		require.ErrorIs(t, err, breaker.ErrOpen)
		ps, _ := collect(t, reader)
		assert.Equal(t, map[string]float64{"breaker.from=closed,breaker.state=open,server.address=f.test": 1}, ps[MetricBreakerTransitions])
		assert.Equal(t, map[string]float64{"breaker.state=open,server.address=f.test": 1}, ps[MetricBreakerRejections])
		assert.Equal(t, map[string]float64{
			"breaker.state=closed,server.address=f.test":    0,
			"breaker.state=half-open,server.address=f.test": 0,
			"breaker.state=open,server.address=f.test":      1,
		}, ps[MetricBreakerState])
	})
}
