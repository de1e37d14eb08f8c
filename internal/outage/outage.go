// Package outage logs the outages of a store that stages share state
// through (Redis, for a fleet): once when the store stops answering and the
// stage falls back to its local state, and once when it answers again,
// however many requests meet it in between.
package outage

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// Log tracks whether a stage's shared store is answering and logs each
// change once. The zero value is a store that answers. It is safe for
// concurrent use; while the store answers, [Log.Up] is one atomic load.
type Log struct {
	down atomic.Bool
}

// Down records a failed call to the store; the first one after the store
// answered is logged at Warn with its error. A nil logger logs nothing.
func (l *Log) Down(ctx context.Context, logger *slog.Logger, stage, key string, err error) {
	if !l.down.CompareAndSwap(false, true) || logger == nil {
		return
	}
	logger.LogAttrs(ctx, slog.LevelWarn, "shared state unavailable; using local state until it answers",
		slog.String("stage", stage), slog.String("event", "shared_unavailable"),
		slog.String("host", key), slog.String("error", err.Error()))
}

// Up records a call the store answered; the first one after a failure is
// logged at Info.
func (l *Log) Up(ctx context.Context, logger *slog.Logger, stage, key string) {
	if !l.down.Load() || !l.down.CompareAndSwap(true, false) || logger == nil {
		return
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "shared state answering again; sharing resumed",
		slog.String("stage", stage), slog.String("event", "shared_resumed"), slog.String("host", key))
}
