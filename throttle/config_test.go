package throttle

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		says  string // the message also says this
	}{
		{"Rate", Config{Rate: -1}, "must not be negative, got -1"},
		{"Rate", Config{Rate: rate.Limit(math.NaN())}, "must be a number, got NaN"},
		{"Burst", Config{Rate: 1, Burst: -1}, "must not be negative"},
		{"Burst", Config{Burst: 3}, "is 3 without a rate"},
		{"Rate", Config{Rate: -1, Burst: 2}, "must not be negative, got -1"},
		{"HostRate", Config{HostRate: hostRate, Rate: 1}, "HostRate and Config.Rate are both set"},
		{"HostRate", Config{HostRate: hostRate, Burst: 1}, "HostRate and Config.Burst are both set"},
		{"MaxConcurrent", Config{MaxConcurrent: -1}, ""},
		{"K", Config{K: 0.5}, ""},
		{"K", Config{K: math.NaN()}, ""},
		{"MaxPause", Config{MaxPause: -1}, ""},
		{"MaxPaceWait", Config{MaxPaceWait: -1}, ""},
		{"ReleaseWindow", Config{ReleaseWindow: -1}, ""},
		{"AdaptiveWindow", Config{AdaptiveWindow: -1}, ""},
		{"IdleTTL", Config{IdleTTL: -1}, ""},
		{"MaxHosts", Config{MaxHosts: -1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			msg := mustPanic(t, func() { New(tt.c) })
			assert.True(t, strings.HasPrefix(msg, "throttle: Config."+tt.field+" "), "%q names the field", msg)
			assert.Contains(t, msg, tt.says)
			if math.IsNaN(float64(tt.c.Rate)) {
				assert.NotContains(t, msg, "negative", "NaN is not negative")
			}
		})
	}
}

// TestHostRateInvalidPanics: a HostRate result that Config.Rate and
// Config.Burst could not hold is a programmer error, reported by a panic
// naming HostRate and the host on the request that created the host,
// never silently read as no limit or as a burst of 1.
func TestHostRateInvalidPanics(t *testing.T) {
	tests := []struct {
		name  string
		rate  rate.Limit
		burst int
		says  string
	}{
		{"negative rate", -5, 2, "returned (-5, 2): its rate must not be negative, got -5"},
		{"negative infinite rate", rate.Limit(math.Inf(-1)), 0, "its rate must not be negative"},
		{"NaN rate", rate.Limit(math.NaN()), 1, "its rate must be a number, got NaN"},
		{"negative burst", 10, -3, "its burst must not be negative, got -3"},
		{"burst without rate", 0, 4, "its burst is 4 without a rate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &upstream{}
			next.answer = always(next, 200)
			th := New(Config{HostRate: func(host string) (rate.Limit, int) {
				if host == "https://other.test:443" {
					return 1, 1
				}
				return tt.rate, tt.burst
			}})
			rt := th.Wrap(next)
			for range 2 { // no state is kept: the next request panics alike
				body := &closeTracker{}
				req, _ := http.NewRequest(http.MethodPost, "https://api.test/", body)
				msg := mustPanic(t, func() { rt.RoundTrip(req) })
				assert.True(t, strings.HasPrefix(msg, `throttle: Config.HostRate("https://api.test:443") returned (`), msg)
				assert.Contains(t, msg, tt.says)
				assert.True(t, body.closed, "the unsent request's body is closed")
			}
			assert.Zero(t, next.count(), "nothing was sent")
			assert.Empty(t, th.Snapshot(), "no state is kept for the host")
			_, err := send(context.Background(), rt, "https://other.test/")
			assert.NoError(t, err, "another host is not affected")
			assert.Len(t, th.Snapshot(), 1)
		})
	}
	// Valid results are taken as they are; (10, 0) means a burst of 1.
	for _, ok := range []struct {
		rate  rate.Limit
		burst int
		want  HostStatus
	}{
		{10, 0, HostStatus{Host: "https://api.test:443", Rate: 10, Burst: 1}},
		{0, 0, HostStatus{Host: "https://api.test:443", Rate: rate.Inf}},
		{rate.Inf, 3, HostStatus{Host: "https://api.test:443", Rate: rate.Inf}},
	} {
		next := &upstream{}
		next.answer = always(next, 200)
		th := New(Config{HostRate: func(string) (rate.Limit, int) { return ok.rate, ok.burst }})
		_, err := send(context.Background(), th.Wrap(next), "https://api.test/")
		require.NoError(t, err)
		assert.Equal(t, []HostStatus{ok.want}, th.Snapshot())
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
