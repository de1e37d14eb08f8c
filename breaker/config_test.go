package breaker

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tailguard/tailguard/idempotency"
)

func TestConfigDefaults(t *testing.T) {
	s := Config{}.normalize()
	want := settings{
		consecutive: DefaultConsecutiveFailures,
		ratio:       DefaultFailureRatio,
		minRequests: DefaultMinRequests,
		window:      DefaultWindow,
		openTimeout: DefaultOpenTimeout,
		probes:      DefaultHalfOpenProbes,
		idleTTL:     DefaultIdleTTL,
		maxKeys:     DefaultMaxKeys,

		fleetQuorum:    DefaultFleetQuorum,
		fleetMinQuorum: DefaultFleetMinQuorum,
		fleetPoll:      DefaultFleetPoll,
	}
	if s.classifier != idempotency.Default {
		t.Errorf("classifier = %v, want idempotency.Default", s.classifier)
	}
	s.classifier = nil
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
}

func TestConfigDisableRule(t *testing.T) {
	if s := (Config{ConsecutiveFailures: -1}).normalize(); s.consecutive != 0 || s.ratio != DefaultFailureRatio {
		t.Errorf("ConsecutiveFailures -1: %+v", s)
	}
	if s := (Config{FailureRatio: -1}).normalize(); s.ratio != 0 || s.consecutive != DefaultConsecutiveFailures {
		t.Errorf("FailureRatio -1: %+v", s)
	}
	if s := (Config{ConsecutiveFailures: 3, FailureRatio: 1, MinRequests: 7}).normalize(); s.consecutive != 3 || s.ratio != 1 || s.minRequests != 7 {
		t.Errorf("explicit: %+v", s)
	}
}

func TestConfigPanics(t *testing.T) {
	cases := []struct {
		c    Config
		want string
	}{
		{Config{ConsecutiveFailures: -1, FailureRatio: -0.5}, "both disabled"},
		{Config{FailureRatio: 1.5}, "FailureRatio must be at most 1"},
		{Config{FailureRatio: math.NaN()}, "FailureRatio"},
		{Config{MinRequests: -1}, "MinRequests must be between 0"},
		{Config{HalfOpenProbes: -2}, "HalfOpenProbes must be between 0"},
		{Config{MaxKeys: -1}, "MaxKeys must be between 0"},
		{Config{FleetQuorum: 1.5}, "FleetQuorum must be in (0, 1]"},
		{Config{FleetQuorum: -0.1}, "FleetQuorum must be in (0, 1]"},
		{Config{FleetQuorum: math.NaN()}, "FleetQuorum"},
		{Config{FleetMinQuorum: -1}, "FleetMinQuorum must be between 0"},
		{Config{FleetMinQuorum: 1}, "FleetMinQuorum must be at least 2"},
		{Config{FleetPoll: -time.Second}, "FleetPoll must not be negative"},
		{Config{Window: -time.Second}, "Window must not be negative"},
		{Config{Window: 5}, "Window must be at least 10ns"},
		{Config{OpenTimeout: -1}, "OpenTimeout must not be negative"},
		{Config{IdleTTL: -1}, "IdleTTL must not be negative"},
		{Config{MaxWait: -1}, "MaxWait must not be negative"},
	}
	if math.MaxInt > math.MaxUint32 {
		cases = append(cases, struct {
			c    Config
			want string
		}{Config{ConsecutiveFailures: math.MaxInt}, "ConsecutiveFailures must be between 0"})
	}
	for _, tc := range cases {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.HasPrefix(msg, "breaker: ") || !strings.Contains(msg, tc.want) {
					t.Errorf("New(%+v) panicked with %q, want it to mention %q", tc.c, msg, tc.want)
				}
			}()
			New(tc.c)
		}()
	}
}
