package decision

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestLevels(t *testing.T) {
	tests := []struct {
		names []Name
		level slog.Level
	}{
		{[]Name{Hedge, HedgeDenied, HedgingStopped, HedgeWon, Retry, NotRetried, Rejected, Throttled, Outcome}, slog.LevelDebug},
		{[]Name{StateChange, Paused, SharedResumed}, slog.LevelInfo},
		{[]Name{GaveUp, SharedUnavailable, PanicDropped}, slog.LevelWarn},
	}
	for _, tt := range tests {
		for _, n := range tt.names {
			assert.Equal(t, tt.level, n.Level(), n)
			assert.NotEqual(t, string(n), n.Message(), "%s has a message of its own", n)
		}
	}
}

// text logs e through a TextHandler without time, as a line.
func text(e Event, level slog.Level) string {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}))
	Emit(context.Background(), logger, e)
	return buf.String()
}

func TestRecordAttributes(t *testing.T) {
	req, _ := http.NewRequest("GET", "https://API.example.com/v1/items?id=7", nil)
	tests := []struct {
		name string
		e    Event
		want string
	}{
		{"from the request", Event{Stage: StageRetry, Name: Retry, Request: req, Attempt: 1, Reason: ReasonBackoff,
			Wait: 1500 * time.Millisecond, Status: 503},
			`level=DEBUG msg=retrying stage=retry event=retry host=https://api.example.com:443 attempt=1 reason=backoff wait=1.5s status=503` + "\n"},
		{"key and error", Event{Stage: StageThrottle, Name: Rejected, Host: "http://a:8080", Request: req,
			Reason: ReasonGate, Err: errors.New("throttle: gate closed")},
			`level=DEBUG msg="refused unsent" stage=throttle event=rejected host=http://a:8080 reason=gate error="throttle: gate closed"` + "\n"},
		{"state change", Event{Stage: StageBreaker, Name: StateChange, Host: "http://a:80", Reason: ReasonFailures,
			From: "closed", To: "open", Failures: 5},
			`level=INFO msg="breaker state changed" stage=breaker event=state_change host=http://a:80 reason=failures from=closed to=open successes=0 failures=5` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, text(tt.e, slog.LevelDebug))
		})
	}
	assert.Empty(t, text(tests[0].e, slog.LevelInfo), "a Debug event below the logger's level is dropped")
}

func TestServerAddress(t *testing.T) {
	req, _ := http.NewRequest("GET", "http://Example.com/p", nil)
	tests := []struct {
		e    Event
		host string
		port int
	}{
		{Event{Request: req}, "example.com", 80},
		{Event{Host: "https://[::1]:8443", Request: req}, "::1", 8443},
		{Event{Host: "payments"}, "payments", 0},
		{Event{}, "", 0},
	}
	for _, tt := range tests {
		host, port := tt.e.ServerAddress()
		assert.Equal(t, tt.host, host)
		assert.Equal(t, tt.port, port)
	}
	lower, _ := http.NewRequest("GET", "http://example.com/p", nil)
	e := Event{Request: lower}
	assert.Zero(t, testing.AllocsPerRun(100, func() { e.ServerAddress() }))
}

type collect struct{ got []Event }

func (c *collect) Observe(_ context.Context, e Event) { c.got = append(c.got, e) }

func TestEnabledAndEmit(t *testing.T) {
	ctx := context.Background()
	dropping := slog.New(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	assert.False(t, Enabled(ctx, nil, Outcome))
	assert.False(t, Enabled(ctx, dropping, Outcome))
	assert.True(t, Enabled(ctx, dropping, GaveUp))

	c := &collect{}
	octx := WithObserver(ctx, c)
	assert.True(t, Enabled(octx, nil, Outcome), "an observer takes every event")
	Emit(octx, nil, Event{Name: Outcome, Reason: KindReason(0)})
	assert.Equal(t, []Event{{Name: Outcome, Reason: "success"}}, c.got)
	assert.Nil(t, ObserverFrom(ctx))

	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_ = Enabled(ctx, nil, Outcome) || Enabled(ctx, dropping, Retry)
	}))
}
