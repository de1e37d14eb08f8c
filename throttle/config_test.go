package throttle

import (
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"golang.org/x/time/rate"

	"github.com/tailguard/tailguard/idempotency"
)

func TestConfigDefaults(t *testing.T) {
	s := Config{}.normalize()
	assert.Equal(t, DefaultMaxWait, s.maxWait)
	assert.Equal(t, DefaultMaxPause, s.maxPause)
	assert.Equal(t, DefaultMaxPaceWait, s.maxPaceWait)
	assert.Equal(t, DefaultReleaseWindow, s.releaseWindow)
	assert.Equal(t, DefaultK, s.k)
	assert.Equal(t, DefaultAdaptiveWindow, s.window)
	assert.Equal(t, DefaultIdleTTL, s.idleTTL)
	assert.Equal(t, DefaultMaxHosts, s.maxHosts)
	assert.Equal(t, idempotency.Default, s.classifier)
	assert.Zero(t, s.rate, "unpaced until a host teaches its rate")
	assert.Zero(t, s.maxConcurrent)

	assert.Equal(t, 1, Config{Rate: 5}.normalize().burst, "a rate without a burst spaces requests evenly")
	assert.Equal(t, time.Duration(-1), Config{MaxWait: -time.Hour}.normalize().maxWait, "negative: never wait")
	assert.Zero(t, Config{K: -1}.normalize().k, "negative K disables adaptive throttling")
	assert.Equal(t, 1.5, Config{K: 1.5}.normalize().k)
}

func TestConfigPanicsNamingTheField(t *testing.T) {
	hostRate := func(string) (rate.Limit, int) { return 1, 1 }
	tests := []struct {
		field string
		c     Config
	}{
		{"Rate", Config{Rate: -1}},
		{"Rate", Config{Rate: rate.Limit(math.NaN())}},
		{"Burst", Config{Rate: 1, Burst: -1}},
		{"Burst", Config{Burst: 3}},
		{"HostRate", Config{HostRate: hostRate, Rate: 1}},
		{"MaxConcurrent", Config{MaxConcurrent: -1}},
		{"K", Config{K: 0.5}},
		{"K", Config{K: math.NaN()}},
		{"MaxPause", Config{MaxPause: -1}},
		{"MaxPaceWait", Config{MaxPaceWait: -1}},
		{"ReleaseWindow", Config{ReleaseWindow: -1}},
		{"AdaptiveWindow", Config{AdaptiveWindow: -1}},
		{"IdleTTL", Config{IdleTTL: -1}},
		{"MaxHosts", Config{MaxHosts: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			msg := mustPanic(t, func() { New(tt.c) })
			assert.Contains(t, msg, "throttle: "+tt.field)
		})
	}
}

func TestHostRateIsPerHost(t *testing.T) {
	th := New(Config{HostRate: func(host string) (rate.Limit, int) {
		if host == "https://slow.test:443" {
			return 2, 3
		}
		return 0, 0
	}})
	rt := th.Wrap(&upstream{answer: func(_ int, req *http.Request) *http.Response { return reply(req, nil, 200) }})
	for _, u := range []string{"https://slow.test/", "https://fast.test/"} {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		resp, err := rt.RoundTrip(req)
		assert.NoError(t, err)
		resp.Body.Close()
	}
	snap := th.Snapshot()
	assert.Equal(t, []HostStatus{
		{Host: "https://fast.test:443", Rate: rate.Inf},
		{Host: "https://slow.test:443", Rate: 2, Burst: 3},
	}, snap)
}
