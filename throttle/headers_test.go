package throttle

import (
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// now is the instant the header tables are read at.
var now = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestReadSignalPause(t *testing.T) {
	epoch := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	tests := []struct {
		name      string
		h         http.Header
		retryable bool
		want      time.Duration
	}{
		{"nothing", header(), true, 0},
		{"Retry-After seconds", header("Retry-After", "7"), true, 7 * time.Second},
		{"Retry-After HTTP-date", header("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat)), true, 90 * time.Second},
		{"Retry-After in the past is none", header("Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), true, 0},
		{"Retry-After zero is none", header("Retry-After", "0"), true, 0},
		{"Retry-After garbage", header("Retry-After", "soon"), true, 0},
		{"Retry-After ignored on a success", header("Retry-After", "7"), false, 0},
		{"retry-after-ms", header("Retry-After-Ms", "1500"), true, 1500 * time.Millisecond},
		{"retry-after-ms with a fraction", header("Retry-After-Ms", "12.5"), true, 12500 * time.Microsecond},
		{"retry-after-ms before Retry-After", header("Retry-After-Ms", "250", "Retry-After", "1"), true, 250 * time.Millisecond},
		{"bad retry-after-ms falls back to Retry-After", header("Retry-After-Ms", "-5", "Retry-After", "1"), true, time.Second},

		{"RateLimit r=0", header("RateLimit", `"default";r=0;t=30`), false, 30 * time.Second},
		{"RateLimit r>0 is no pause", header("RateLimit", `"default";r=3;t=30`), false, 0},
		{"RateLimit r=0 without t is no pause", header("RateLimit", `"default";r=0`), false, 0},
		{"RateLimit: the emptiest policy decides", header("RateLimit", `"a";r=5;t=1, "b";r=0;t=40`), false, 40 * time.Second},
		{"RateLimit: two empty policies, the longest reset", header("RateLimit", `"a";r=0;t=5, "b";r=0;t=40`), false, 40 * time.Second},
		{"RateLimit malformed is ignored", header("RateLimit", `"default";r=0;t=30,`), false, 0},
		{"RateLimit with a negative t is ignored", header("RateLimit", `"default";r=0;t=-1`), false, 0},
		{"RateLimit with a decimal r is ignored", header("RateLimit", `"default";r=0.0;t=30`), false, 0},
		{"RateLimit with a token name is ignored", header("RateLimit", `default;r=0;t=30`), false, 0},
		{"Retry-After takes precedence over RateLimit", header("Retry-After", "2", "RateLimit", `"d";r=0;t=30`), true, 2 * time.Second},
		{"even a Retry-After of 0", header("Retry-After", "0", "RateLimit", `"d";r=0;t=30`), true, 0},
		{"an invalid Retry-After does not", header("Retry-After", "soon", "RateLimit", `"d";r=0;t=30`), true, 30 * time.Second},
		{"RateLimit counts on a cached response", header("RateLimit", `"d";r=0;t=30`, "Age", "0"), false, 30 * time.Second},
		{"RateLimit ignored on a cached response", header("RateLimit", `"d";r=0;t=30`, "Age", "12"), false, 0},
		{"Retry-After still counts on a cached response", header("Retry-After", "3", "Age", "12"), true, 3 * time.Second},

		{"X-RateLimit delta reset", header("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "20"), false, 20 * time.Second},
		{"X-RateLimit epoch reset", header("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", epoch(45*time.Second)), false, 45 * time.Second},
		{"X-RateLimit epoch reset in ms", header("X-RateLimit-Remaining", "0",
			"X-RateLimit-Reset", strconv.FormatInt(now.Add(2500*time.Millisecond).UnixMilli(), 10)), false, 2500 * time.Millisecond},
		{"X-RateLimit fractional delta", header("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "1.25"), false, 1250 * time.Millisecond},
		{"X-RateLimit epoch in the past", header("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", epoch(-time.Minute)), false, 0},
		{"X-RateLimit largest delta", header("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Unix()/2, 10)),
			false, time.Duration(now.Unix()/2) * time.Second},
		{"X-RateLimit smallest epoch", header("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", strconv.FormatInt(now.Unix()/2+1, 10)), false, 0},
		{"X-RateLimit remaining > 0", header("X-RateLimit-Remaining", "1", "X-RateLimit-Reset", "20"), false, 0},
		{"X-RateLimit garbage reset", header("X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "-20"), false, 0},
		{"X-RateLimit reset without remaining", header("X-RateLimit-Reset", "20"), false, 0},
		{"X-RateLimit on a 429 with Retry-After", header("Retry-After", "3", "X-RateLimit-Remaining", "0", "X-RateLimit-Reset", "20"), true, 3 * time.Second},

		{"OpenAI requests", header("X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Requests", "6m0s"), false, 6 * time.Minute},
		{"OpenAI tokens", header("X-Ratelimit-Remaining-Requests", "10", "X-Ratelimit-Reset-Requests", "1s",
			"X-Ratelimit-Remaining-Tokens", "0", "X-Ratelimit-Reset-Tokens", "12ms"), false, 12 * time.Millisecond},
		{"OpenAI both empty: the longer", header("X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Requests", "1s",
			"X-Ratelimit-Remaining-Tokens", "0", "X-Ratelimit-Reset-Tokens", "1m30s"), false, 90 * time.Second},
		{"OpenAI bad duration", header("X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Requests", "6 minutes"), false, 0},
		{"OpenAI negative duration", header("X-Ratelimit-Remaining-Requests", "0", "X-Ratelimit-Reset-Requests", "-1s"), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := readSignal(tt.h, tt.retryable, now)
			assert.Equal(t, tt.want, s.pause)
		})
	}
}

func TestReadSignalQuota(t *testing.T) {
	tests := []struct {
		name      string
		h         http.Header
		quota     float64
		window    time.Duration
		remaining int64 // -1: none
		reset     time.Duration
		informed  bool
	}{
		{"none", header(), 0, 0, -1, 0, false},
		{"Retry-After alone informs nothing", header("Retry-After", "1"), 0, 0, -1, 0, false},
		{"policy", header("RateLimit-Policy", `"default";q=100;w=10`), 100, 10 * time.Second, -1, 0, true},
		{"the most restrictive policy", header("RateLimit-Policy", `"burst";q=100;w=60, "daily";q=1000;w=86400`),
			1000, 86400 * time.Second, -1, 0, true},
		{"policies split over lines", header("RateLimit-Policy", `"burst";q=100;w=60`, "RateLimit-Policy", `"fast";q=1;w=60`),
			1, 60 * time.Second, -1, 0, true},
		{"a policy in bytes is skipped", header("RateLimit-Policy", `"b";q=65535;qu="content-bytes";w=10, "r";q=5;w=1`),
			5, time.Second, -1, 0, true},
		{"a policy without a window says no rate", header("RateLimit-Policy", `"d";q=100`), 0, 0, -1, 0, false},
		{"a zero window is malformed", header("RateLimit-Policy", `"d";q=100;w=0`), 0, 0, -1, 0, false},
		{"a policy without q is malformed", header("RateLimit-Policy", `"d";w=1`), 0, 0, -1, 0, false},
		{"RateLimit remaining", header("RateLimit", `"d";r=50;t=30`), 0, 0, 50, 30 * time.Second, true},
		{"both IETF fields", header("RateLimit-Policy", `"d";q=100;w=1`, "RateLimit", `"d";r=7;t=1`), 100, time.Second, 7, time.Second, true},
		{"X-RateLimit", header("X-RateLimit-Limit", "5000", "X-RateLimit-Remaining", "4999", "X-RateLimit-Reset", "3600"),
			5000, 0, 4999, time.Hour, true},
		{"X-RateLimit bad limit", header("X-RateLimit-Limit", "5000;w=1", "X-RateLimit-Remaining", "3"), 0, 0, 3, 0, true},
		{"OpenAI", header("X-Ratelimit-Limit-Requests", "60", "X-Ratelimit-Remaining-Requests", "59", "X-Ratelimit-Reset-Requests", "1s"),
			60, 0, 59, time.Second, true},
		{"IETF wins over X-RateLimit", header("RateLimit", `"d";r=1;t=2`, "X-RateLimit-Remaining", "9"), 0, 0, 1, 2 * time.Second, true},
		{"a reset past the largest Duration saturates", header("RateLimit", `"d";r=0;t=999999999999999`),
			0, 0, 0, math.MaxInt64, true},
		{"a window past the largest Duration saturates", header("RateLimit-Policy", `"d";q=1;w=999999999999999`),
			1, math.MaxInt64, -1, 0, true},
		{"cached: quota ignored", header("RateLimit-Policy", `"d";q=100;w=1`, "Age", "3"), 0, 0, -1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := readSignal(tt.h, false, now)
			assert.Equal(t, tt.quota, s.quota)
			assert.Equal(t, tt.window, s.window)
			if tt.remaining < 0 {
				assert.False(t, s.hasRemaining)
			} else {
				assert.True(t, s.hasRemaining)
				assert.Equal(t, tt.remaining, s.remaining)
				assert.Equal(t, tt.reset, s.reset)
			}
			assert.Equal(t, tt.informed, s.informed())
		})
	}
}

func TestParseNumbers(t *testing.T) {
	for _, tt := range []struct {
		in string
		n  int64
		ok bool
	}{
		{"0", 0, true}, {" 42 ", 42, true}, {"99999999999999999999", 1<<63 - 1, true},
		{"", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {"1.0", 0, false}, {"1e3", 0, false},
	} {
		n, ok := parseCount(tt.in)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.n, n, tt.in)
	}
	for _, tt := range []struct {
		in string
		f  float64
		ok bool
	}{
		{"0", 0, true}, {"1.5", 1.5, true}, {"12.25", 12.25, true},
		{"", 0, false}, {".5", 0, false}, {"5.", 0, false}, {"1.2.3", 0, false}, {"Inf", 0, false},
		{"NaN", 0, false}, {"1e3", 0, false}, {"-1", 0, false}, {"1 2", 0, false},
	} {
		f, ok := parseDecimal(tt.in)
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.f, f, tt.in)
	}
}

// TestResetSlack: a reset in whole seconds may be up to a second shorter
// than it says (servers round up); the pacing reads a limit's window from
// resets less that slack.
func TestResetSlack(t *testing.T) {
	unix := strconv.FormatInt(now.Unix()+2, 10)
	tests := []struct {
		name  string
		h     http.Header
		slack time.Duration
	}{
		{"X-RateLimit-Reset, Unix seconds", header("X-RateLimit-Remaining", "1", "X-RateLimit-Reset", unix), time.Second},
		{"X-RateLimit-Reset, Unix milliseconds", header("X-RateLimit-Remaining", "1", "X-RateLimit-Reset", strconv.FormatInt(now.UnixMilli()+2000, 10)), time.Millisecond},
		{"X-RateLimit-Reset, whole delay seconds", header("X-RateLimit-Remaining", "1", "X-RateLimit-Reset", "2"), time.Second},
		{"X-RateLimit-Reset, fractional delay", header("X-RateLimit-Remaining", "1", "X-RateLimit-Reset", "1.5"), 0},
		{"IETF t", header("RateLimit", `"d";r=1;t=2`), time.Second},
		{"OpenAI duration", header("X-Ratelimit-Remaining-Requests", "1", "X-Ratelimit-Reset-Requests", "1.5s"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.slack, readSignal(tt.h, false, now).resetSlack)
		})
	}
}
