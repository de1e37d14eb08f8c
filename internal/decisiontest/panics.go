package decisiontest

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/tailguard/tailguard/decision"
)

// PanicLog is a [slog.Handler] and a [decision.Observer] with a bug: it
// panics with [PanicLogValue] recording the Nth decision event named Event
// (every one when Nth is 0), for tests of what a stage does when its
// logger or observer panics. Use it by pointer.
type PanicLog struct {
	Event decision.Name
	Nth   int32

	seen atomic.Int32
}

// PanicLogValue is the value a [PanicLog] panics with.
const PanicLogValue = "logger bug"

func (p *PanicLog) hit(name string) {
	if name == string(p.Event) && (p.seen.Add(1) == p.Nth || p.Nth == 0) {
		panic(PanicLogValue)
	}
}

// Enabled implements [slog.Handler]: every level.
func (p *PanicLog) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements [slog.Handler].
func (p *PanicLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "event" {
			p.hit(a.Value.String())
		}
		return true
	})
	return nil
}

// WithAttrs implements [slog.Handler]; it returns p.
func (p *PanicLog) WithAttrs([]slog.Attr) slog.Handler { return p }

// WithGroup implements [slog.Handler]; it returns p.
func (p *PanicLog) WithGroup(string) slog.Handler { return p }

// Observe implements [decision.Observer].
func (p *PanicLog) Observe(_ context.Context, e decision.Event) { p.hit(string(e.Name)) }
