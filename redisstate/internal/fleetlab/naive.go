package fleetlab

import (
	"errors"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// errNaiveRefused is a naive worker's refusal: its bucket had no token
// within MaxWait.
var errNaiveRefused = errors.New("fleetlab: naive pacing: no token within MaxWait")

// naive is the pacing of a process that knows only its configured quota,
// the baseline: a token bucket at Rate (x/time/rate, burst 1), a
// request waiting up to MaxWait for its token and refused unsent beyond.
// It learns nothing from the upstream and shares nothing, so N such
// processes send the quota N times over.
type naive struct {
	lim     *rate.Limiter
	maxWait time.Duration
	next    http.RoundTripper
}

func newNaive(w Worker, next http.RoundTripper) *naive {
	return &naive{lim: rate.NewLimiter(rate.Limit(w.Rate), max(w.Burst, 1)), maxWait: w.MaxWait, next: next}
}

func (n *naive) RoundTrip(req *http.Request) (*http.Response, error) {
	r := n.lim.Reserve()
	d := r.Delay()
	if d > n.maxWait {
		r.Cancel()
		return nil, errNaiveRefused
	}
	if err := sleepUntil(req.Context(), time.Now().Add(d)); err != nil {
		r.Cancel()
		return nil, err
	}
	return n.next.RoundTrip(req)
}
