package decision

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/tailguard/tailguard/internal/hostkey"
)

// Event is one decision of one stage. Stages fill in what applies to the
// decision and leave the rest zero; the package documentation's table says
// which fields each event sets.
//
// An Event is passed by value and holds no reference a stage keeps
// changing: an [Observer] may keep it.
type Event struct {
	Stage  Stage
	Name   Name
	Reason Reason

	// Host is the upstream's key as the breaker and the throttle name it,
	// "scheme://host:port" (or the key Config.Key returned). Stages that
	// decide about a request and keep no per-host key leave it empty and
	// set Request; [Event.HostKey] derives the key from it. A hedge sent
	// to another replica of the service (hedge.Replicas) names that
	// replica here.
	Host string
	// Request is the request decided about, nil for a per-key event (a
	// breaker's state change). It must not be modified.
	Request *http.Request

	// Attempt is the attempt the event is about, 1 for the first: the
	// hedge sent, the failed attempt a retry follows, the attempt that
	// won or was returned. 0 when no attempt applies.
	Attempt int
	// Wait is how long: the retry's wait, the throttle's wait, the pause
	// asked for, the time since the request started when a hedge was sent,
	// how long a refused request would have had to wait (0 if unknown).
	Wait time.Duration
	// Status is the HTTP status of the response decided about; 0 for none.
	Status int
	// Err is the error decided about; nil for none.
	Err error

	// From and To are a [StateChange]'s states ("closed", "half-open",
	// "open"); Successes and Failures the key's counts as it changed.
	From, To            string
	Successes, Failures int
}

// HostKey returns e.Host, or, when it is empty, the key of e.Request's URL
// in the same "scheme://host:port" form. It allocates when it derives the
// key, so observers on a hot path should prefer [Event.ServerAddress].
func (e *Event) HostKey() string {
	if e.Host != "" || e.Request == nil || e.Request.URL == nil {
		return e.Host
	}
	return hostkey.FromURL(e.Request.URL).String()
}

// ServerAddress returns the upstream's host name, without scheme or port,
// as the OpenTelemetry attribute server.address wants it, and its port (0
// if unknown). It does not allocate. For a user-defined breaker or
// throttle key that is not "scheme://host:port" it returns the key and 0.
func (e *Event) ServerAddress() (string, int) {
	if e.Host == "" && e.Request != nil && e.Request.URL != nil {
		k := hostkey.FromURL(e.Request.URL)
		return k.Host, int(k.Port)
	}
	if k, ok := hostkey.Parse(e.Host); ok {
		return k.Host, int(k.Port)
	}
	return e.Host, 0
}

// attrs returns e as log attributes, in the vocabulary's order: stage,
// event, host, attempt, reason, wait, status, error, then a state
// change's from, to, successes and failures. Zero fields are left out,
// except that a state change always has its counts.
func (e *Event) attrs(buf []slog.Attr) []slog.Attr {
	a := append(buf, slog.String("stage", string(e.Stage)), slog.String("event", string(e.Name)))
	if h := e.HostKey(); h != "" {
		a = append(a, slog.String("host", h))
	}
	if e.Attempt != 0 {
		a = append(a, slog.Int("attempt", e.Attempt))
	}
	if e.Reason != "" {
		a = append(a, slog.String("reason", string(e.Reason)))
	}
	if e.Wait != 0 {
		a = append(a, slog.Duration("wait", e.Wait))
	}
	if e.Status != 0 {
		a = append(a, slog.Int("status", e.Status))
	}
	if e.Err != nil {
		a = append(a, slog.String("error", e.Err.Error()))
	}
	if e.Name == StateChange {
		a = append(a, slog.String("from", e.From), slog.String("to", e.To),
			slog.Int("successes", e.Successes), slog.Int("failures", e.Failures))
	}
	return a
}

// log writes e to logger at its level, if the logger takes it.
func (e *Event) log(ctx context.Context, logger *slog.Logger) {
	if logger == nil || !logger.Enabled(ctx, e.Name.Level()) {
		return
	}
	var buf [12]slog.Attr
	logger.LogAttrs(ctx, e.Name.Level(), e.Name.Message(), e.attrs(buf[:0])...)
}
