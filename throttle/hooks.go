package throttle

import (
	"net/http"
	"time"
)

// Event describes one request the throttle delayed or rejected, as passed
// to Config.OnThrottle.
//
// OnThrottle is called at most once per request that passes through the
// stage, on that request's goroutine, with no lock held: after its wait,
// just before it is sent, or just before its rejection is returned. A
// request admitted at once does not call it. A slow hook delays the
// request; a hook that panics panics the caller (the request is not sent,
// and the throttle's state is left consistent).
type Event struct {
	// Request is the request. It must not be modified.
	Request *http.Request
	// Host is the host's key, such as "https://api.example.com:443".
	Host string
	// Reason is what delayed the request longest, or what rejected it.
	Reason Reason
	// Wait is how long the request waited in the throttle.
	Wait time.Duration
	// Rejected reports that the request was refused, unsent, with Err.
	Rejected bool
	// Err is the rejection, an [*Error], when Rejected.
	Err error
}
