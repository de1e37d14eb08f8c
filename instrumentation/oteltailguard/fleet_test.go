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
	"github.com/tailguard/tailguard/throttle"
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

// pausedFleet is a throttle.Shared whose gate another process closed
// until until.
type pausedFleet struct{ until time.Time }

func (p pausedFleet) Reserve(context.Context, string, throttle.Quota, time.Duration) (throttle.Reservation, error) {
	if left := time.Until(p.until); left > 0 {
		return throttle.Reservation{Paused: left}, nil
	}
	return throttle.Reservation{OK: true}, nil
}

func (pausedFleet) Pause(context.Context, string, time.Duration) error { return nil }

// TestThrottleFleetPauseMetrics: a pause a throttle learns from the
// fleet's gate is counted like one a response asked for.
func TestThrottleFleetPauseMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mp, reader := newMeter(t)
		in := New(Config{MeterProvider: mp})
		th := throttle.New(throttle.Config{Shared: pausedFleet{time.Now().Add(2 * time.Second)}})
		up := stub(func(n int, req *http.Request) (*http.Response, error) { return reply(req, 200), nil })
		rt := in.Pipeline(up.transport(), th)
		status, err := do(t.Context(), rt, "GET", "http://p.test/")
		require.NoError(t, err, "it waits out the pause")
		assert.Equal(t, 200, status)
		ps, _ := collect(t, reader)
		assert.Equal(t, map[string]float64{"server.address=p.test": 1}, ps[MetricThrottlePauses])
	})
}
