package testkit

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// Logs is a [slog.Handler] that keeps every record it takes, for tests of
// a stage's decision log. Attribute values are kept as their
// slog.Value.String() forms ("503", "1.5s"), so tests compare exact text.
type Logs struct {
	level slog.Level

	mu   sync.Mutex // guards recs
	recs []LogRecord
}

// LogRecord is one record as [Logs] kept it.
type LogRecord struct {
	Level   slog.Level
	Message string
	Attrs   map[string]string
}

// NewLogs returns a logger writing to a new Logs that takes records at
// level and above.
func NewLogs(level slog.Level) (*slog.Logger, *Logs) {
	l := &Logs{level: level}
	return slog.New(l), l
}

// Enabled implements [slog.Handler].
func (l *Logs) Enabled(_ context.Context, level slog.Level) bool { return level >= l.level }

// Handle implements [slog.Handler].
func (l *Logs) Handle(_ context.Context, r slog.Record) error {
	rec := LogRecord{Level: r.Level, Message: r.Message, Attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	l.recs = append(l.recs, rec)
	l.mu.Unlock()
	return nil
}

// WithAttrs and WithGroup are not needed by the stages; they return l.
func (l *Logs) WithAttrs([]slog.Attr) slog.Handler { return l }

// WithGroup implements [slog.Handler]; see WithAttrs.
func (l *Logs) WithGroup(string) slog.Handler { return l }

// Records returns the records taken so far, in order.
func (l *Logs) Records() []LogRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]LogRecord(nil), l.recs...)
}

// Lines returns each record as one line of its attributes in the
// vocabulary's order, "key=value" separated by spaces, leaving out keys
// it lacks: "retry attempt=1 reason=backoff wait=1ms status=503". The
// event comes first, bare; stage and host are left out unless with says
// to keep them.
func (l *Logs) Lines(with ...string) []string {
	keys := append(with, "attempt", "reason", "wait", "status", "error", "from", "to", "successes", "failures")
	var out []string
	for _, r := range l.Records() {
		parts := []string{r.Attrs["event"]}
		for _, k := range keys {
			if v, ok := r.Attrs[k]; ok {
				parts = append(parts, k+"="+v)
			}
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}
