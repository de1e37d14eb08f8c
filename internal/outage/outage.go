// Package outage logs the outages of a store that stages share state
// through (Redis, for a fleet): once when the store stops answering and the
// stage falls back to its local state, and once when it answers again,
// however many requests meet it in between, in the vocabulary of the
// [decision] package (shared_unavailable, shared_resumed).
package outage

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/tailguard/tailguard/decision"
)

// Log tracks whether a stage's shared store is answering and logs each
// change once. The zero value is a store that answers. It is safe for
// concurrent use; while the store answers, [Log.Up] is one atomic load.
type Log struct {
	down  atomic.Bool
	since atomic.Int64 // Unix ns of the failure that began the outage
}

// Down records a failed call to the store at now and returns how long the
// store has been failing: 0 for the first failure after it answered, which
// is logged at Warn with its error. A nil logger logs nothing.
func (l *Log) Down(ctx context.Context, logger *slog.Logger, stage, key string, err error, now time.Time) time.Duration {
	if !l.down.CompareAndSwap(false, true) {
		return max(0, time.Duration(now.UnixNano()-l.since.Load()))
	}
	l.since.Store(now.UnixNano())
	if decision.Enabled(ctx, logger, decision.SharedUnavailable) {
		decision.Emit(ctx, logger, decision.Event{Stage: decision.Stage(stage), Name: decision.SharedUnavailable,
			Host: key, Err: err})
	}
	return 0
}

// Up records a call the store answered; the first one after a failure is
// logged at Info.
func (l *Log) Up(ctx context.Context, logger *slog.Logger, stage, key string) {
	if !l.down.Load() || !l.down.CompareAndSwap(true, false) || !decision.Enabled(ctx, logger, decision.SharedResumed) {
		return
	}
	decision.Emit(ctx, logger, decision.Event{Stage: decision.Stage(stage), Name: decision.SharedResumed, Host: key})
}
