package outage

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestOncePerOutage: a blip (failures shorter than LogAfter, then an
// answer) logs nothing; failures that last LogAfter log one Warn, and the
// answer after them one Info, from any number of goroutines at once.
func TestOncePerOutage(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	var l Log
	ctx := context.Background()
	burst := func(f func()) {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 100 {
					f()
				}
			})
		}
		wg.Wait()
	}
	t0 := time.Unix(100, 0)
	down := func(err string, at time.Duration) func() {
		return func() { l.Down(ctx, logger, "throttle", "h", errors.New(err), t0.Add(at)) }
	}
	up := func() { l.Up(ctx, logger, "throttle", "h") }
	burst(up)
	burst(down("blip", 0)) // a stalled process: its calls in flight fail together
	burst(down("blip", LogAfter-time.Millisecond))
	burst(up)
	if buf.Len() != 0 {
		t.Errorf("a blip logged:\n%s", buf.String())
	}
	burst(down("dial tcp: connection refused", time.Second))
	burst(down("dial tcp: connection refused", time.Second+LogAfter))
	burst(up)
	burst(down("timeout", 5*time.Second))
	burst(down("timeout", 6*time.Second))
	want := `level=WARN msg="shared state unavailable; using local state until it answers" stage=throttle event=shared_unavailable host=h error="dial tcp: connection refused"
level=INFO msg="shared state answering again; sharing resumed" stage=throttle event=shared_resumed host=h
level=WARN msg="shared state unavailable; using local state until it answers" stage=throttle event=shared_unavailable host=h error=timeout
`
	if got := buf.String(); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
	var nilLog Log // a nil logger: state still tracked, nothing written
	nilLog.Down(ctx, nil, "throttle", "h", errors.New("x"), t0)
	nilLog.Down(ctx, nil, "throttle", "h", errors.New("x"), t0.Add(time.Second))
	if !nilLog.failing.Load() || !nilLog.logged || strings.Contains(buf.String(), "x\n") {
		t.Error("nil logger")
	}
}

// TestUpIsFree: while the store answers, Up allocates nothing.
func TestUpIsFree(t *testing.T) {
	var l Log
	logger := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	ctx := context.Background()
	if n := testing.AllocsPerRun(1000, func() { l.Up(ctx, logger, "throttle", "h") }); n != 0 {
		t.Errorf("Up allocates %v per call", n)
	}
}

// TestDownFor: Down reports how long the store has been failing.
func TestDownFor(t *testing.T) {
	var l Log
	t0 := time.Unix(100, 0)
	ctx := context.Background()
	err := errors.New("x")
	if d := l.Down(ctx, nil, "throttle", "h", err, t0); d != 0 {
		t.Errorf("first failure: %v", d)
	}
	if d := l.Down(ctx, nil, "throttle", "h", err, t0.Add(time.Second)); d != time.Second {
		t.Errorf("a second later: %v", d)
	}
	l.Up(ctx, nil, "throttle", "h")
	if d := l.Down(ctx, nil, "throttle", "h", err, t0.Add(5*time.Second)); d != 0 {
		t.Errorf("first failure of a new outage: %v", d)
	}
}

// TestFailing: a streak of failures is open from the first failed call to
// the next answered one.
func TestFailing(t *testing.T) {
	var l Log
	ctx := context.Background()
	if l.Failing() {
		t.Error("the zero Log is failing")
	}
	l.Down(ctx, nil, "throttle", "k", errors.New("down"), time.Now())
	if !l.Failing() {
		t.Error("not failing after a failed call")
	}
	l.Up(ctx, nil, "throttle", "k")
	if l.Failing() {
		t.Error("failing after an answered call")
	}
}
