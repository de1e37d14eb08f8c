package breaker

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/tailguard/tailguard/decision"
	"github.com/tailguard/tailguard/internal/testkit"
)

// TestDecisionLog walks a key through open, half-open (noticed by StateOf,
// outside any request), a failed probe and a recovery, and checks each
// record exactly, counts included.
func TestDecisionLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logger, logs := testkit.NewLogs(slog.LevelDebug)
		stub := newStatusStub(500)
		b := New(Config{ConsecutiveFailures: 3, FailureRatio: -1, OpenTimeout: 5 * time.Second, Logger: logger})
		rt := b.Wrap(stub)
		for range 3 {
			send(t.Context(), rt, "http://a.test/")
		}
		send(t.Context(), rt, "http://a.test/") // refused
		time.Sleep(5*time.Second + time.Millisecond)
		b.StateOf(hostA)                        // open → half-open, noticed here
		send(t.Context(), rt, "http://a.test/") // the probe fails
		time.Sleep(5*time.Second + time.Millisecond)
		stub.status.Store(200)
		send(t.Context(), rt, "http://a.test/") // the probe succeeds
		assert.Equal(t, []string{
			"state_change reason=failures from=closed to=open successes=0 failures=3",
			"rejected reason=open wait=5s error=breaker: open for http://a.test:80, next probe in 5s",
			"state_change reason=open_timeout from=open to=half-open successes=0 failures=0",
			"state_change reason=probe_failed from=half-open to=open successes=0 failures=1",
			"state_change reason=open_timeout from=open to=half-open successes=0 failures=0",
			"state_change reason=probes_succeeded from=half-open to=closed successes=1 failures=0",
		}, logs.Lines())
		levels := map[string]slog.Level{"state_change": slog.LevelInfo, "rejected": slog.LevelDebug}
		for _, r := range logs.Records() {
			assert.Equal(t, "breaker", r.Attrs["stage"])
			assert.Equal(t, hostA, r.Attrs["host"])
			assert.Equal(t, levels[r.Attrs["event"]], r.Level)
		}
	})
}

// observed collects what an observer receives.
type observed struct {
	mu     sync.Mutex
	events []decision.Event
}

func (o *observed) Observe(_ context.Context, e decision.Event) {
	o.mu.Lock()
	o.events = append(o.events, e)
	o.mu.Unlock()
}

func (o *observed) names() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, e := range o.events {
		out = append(out, string(e.Name)+" "+e.To+string(e.Reason))
	}
	return out
}

// TestDecisionObserverOutsideRequests: a transition noticed by StateOf, with
// no request to carry an observer, reaches the observer of the requests
// that went through the breaker; the user's hook still sees every
// transition.
func TestDecisionObserverOutsideRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := &observed{}
		var hooked []StateChange
		b := New(Config{ConsecutiveFailures: 1, FailureRatio: -1, OpenTimeout: time.Second,
			OnStateChange: func(c StateChange) { hooked = append(hooked, c) }})
		rt := b.Wrap(newStatusStub(500))
		ctx := decision.WithObserver(t.Context(), o)
		send(ctx, rt, "http://a.test/")
		time.Sleep(time.Second + time.Millisecond)
		b.Snapshot()
		assert.Equal(t, []string{"state_change openfailures", "state_change half-openopen_timeout"}, o.names())
		assert.Len(t, hooked, 2)
	})
}

// TestSilentLogAllocs: refusing requests costs no allocation with a nil
// logger or one whose level drops the records.
func TestSilentLogAllocs(t *testing.T) {
	if testkit.RaceEnabled || testing.Short() {
		t.Skip("allocation counts are not exact under the race detector")
	}
	dropping := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError}))
	for _, logger := range []*slog.Logger{nil, dropping} {
		b := New(Config{ConsecutiveFailures: 1, FailureRatio: -1, OpenTimeout: time.Hour, Logger: logger})
		rt := b.Wrap(newStatusStub(500))
		send(context.Background(), rt, "http://a.test/")
		req, _ := http.NewRequest("GET", "http://a.test/", nil)
		assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = rt.RoundTrip(req) }))
	}
}
