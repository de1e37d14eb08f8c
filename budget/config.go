package budget

import (
	"fmt"
	"math"
	"time"
)

// Defaults used for zero [Config] fields. They are Finagle's RetryBudget
// defaults, which Linkerd adopted: retries may add 20% to the request rate, at
// least 10 per second, measured over 10 seconds.
const (
	// DefaultRatio is the extra attempts allowed per first attempt.
	DefaultRatio = 0.2
	// DefaultMinPerSecond is the floor of extra attempts allowed per second,
	// whatever the traffic.
	DefaultMinPerSecond = 10.0
	// DefaultWindow is the length of the sliding window.
	DefaultWindow = 10 * time.Second
)

// Config configures a [Budget]. The zero value is the recommended setup.
//
// Zero means "default" for every field, so a ratio or a floor of exactly zero
// cannot be expressed; a tiny positive value such as 1e-9 behaves as zero.
type Config struct {
	// Ratio is the number of extra attempts (retries plus hedges) allowed per
	// first attempt in the window: 0.2 lets extras add 20% to the load.
	// If zero, DefaultRatio. New panics unless 0 ≤ Ratio ≤ 1.
	Ratio float64

	// MinPerSecond is the floor: extra attempts allowed per second regardless
	// of traffic, so that a client sending few requests can still retry. It
	// grants MinPerSecond × Window.Seconds() extras per window.
	// If zero, DefaultMinPerSecond. New panics if it is negative, NaN or
	// infinite.
	MinPerSecond float64

	// Window is how far back first and extra attempts are counted. It is split
	// into 10 buckets, so an attempt stops counting between 0.9 × Window and
	// Window after it was recorded.
	// If zero, DefaultWindow. New panics if it is negative.
	Window time.Duration
}

// settings is a validated Config with defaults applied.
type settings struct {
	ratio  float64       // extras per first attempt
	floor  float64       // extras per window granted regardless of traffic
	window time.Duration // sliding window length
}

// normalize validates c and applies defaults. It panics, with a message that
// names the field, on a value New cannot honour: a misconfigured budget is a
// programming error, and silently clamping it would hide an outage amplifier.
func (c Config) normalize() settings {
	s := settings{ratio: c.Ratio, window: c.Window}
	if !(c.Ratio >= 0 && c.Ratio <= 1) { // also rejects NaN
		panic(fmt.Sprintf("budget: Ratio must be in [0, 1], got %v", c.Ratio))
	}
	if c.MinPerSecond < 0 || math.IsNaN(c.MinPerSecond) || math.IsInf(c.MinPerSecond, 0) {
		panic(fmt.Sprintf("budget: MinPerSecond must be finite and non-negative, got %v", c.MinPerSecond))
	}
	if c.Window < 0 {
		panic(fmt.Sprintf("budget: Window must be non-negative, got %v", c.Window))
	}
	if s.ratio == 0 {
		s.ratio = DefaultRatio
	}
	perSecond := c.MinPerSecond
	if perSecond == 0 {
		perSecond = DefaultMinPerSecond
	}
	if s.window == 0 {
		s.window = DefaultWindow
	}
	s.floor = perSecond * s.window.Seconds()
	return s
}
