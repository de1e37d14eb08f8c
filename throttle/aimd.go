package throttle

import "time"

// AIMD constants for hosts that throttle without saying their quota (a bare
// 429, as nginx's limit_req sends, or a 429 with only Retry-After). The
// pacing then learns the rate from the 429s themselves, as TCP learns a
// path's capacity from losses. The rate at which the last 429 arrived is
// the ceiling: growth is fast far below it (or once past it without a 429,
// when the ceiling is stale), and slow near it, where the host's limit
// probably is (TCP CUBIC's shape, simplified).
const (
	// AIMDDecrease multiplies the rate on a 429: the rate the client was
	// sending at for the first, the estimate for later ones (Netflix
	// concurrency-limits uses the same 0.9). The rate is then at the
	// bottom of the band around the ceiling, where it grows slowly. The
	// first cut is not deeper: in the quota lab, halving it cost a
	// header-less host 8 points of goodput while the rate crawled back.
	AIMDDecrease = 0.9
	// AIMDBackoff multiplies the rate on a 429 when more requests were
	// throttled than succeeded since the last cut: the rate is still
	// clearly too high (a client sending ten times the limit), so halve
	// it, as TCP does on a timeout.
	AIMDBackoff = 0.5
	// AIMDIncrease is how fast the rate grows within 10% of the ceiling,
	// while the pacing is what holds requests back and they succeed: this
	// fraction of the ceiling, per second. At 0.5%/s a rate cut by
	// AIMDDecrease takes 20 s to climb back to the ceiling, so a host at
	// its limit sees one short 429 episode every twenty-odd seconds.
	AIMDIncrease = 0.005
	// AIMDFastIncrease is the growth per second, as a fraction of the
	// current rate, outside the band: a rate cut by a one-off 429 from a
	// client sending far below the host's limit recovers within seconds,
	// not minutes.
	AIMDFastIncrease = 0.05
	// AIMDForget is how far past its ceiling the rate may grow without a
	// 429 before AIMD stops pacing the host altogether: the ceiling was a
	// passing episode, not the host's limit.
	AIMDForget = 4.0
	// AIMDMinRate is the floor of a learned rate, in requests per second:
	// one request every ten seconds keeps probing a host that throttles
	// everything.
	AIMDMinRate = 0.1
)

// aimdBand is the half-width of the band around the ceiling, as a fraction
// of it, in which the rate grows by AIMDIncrease rather than
// AIMDFastIncrease.
const aimdBand = 0.1

// aimdSpan is the shortest span the send rate is measured over for the
// first cut: 16 requests sent in the first millisecond are not a rate of
// 16,000/s.
const aimdSpan = 100 * time.Millisecond

// aimd is the additive-increase, multiplicative-decrease estimate of one
// host's rate. Its methods are pure: time enters through their arguments.
// The zero aimd imposes no rate. It is not safe for concurrent use; the
// pacer guards it.
type aimd struct {
	rate      float64   // requests per second; 0 while AIMD does not pace the host
	ceiling   float64   // the rate the last cut was made from
	cutAt     time.Time // when the last cut happened
	grewAt    time.Time // the last increase (or cut)
	successes int       // successes since the last cut
	throttles int       // throttled responses since the last cut
}

// throttled records a throttled response at now to a request that took
// its turn in the pace at pacedAt, and reports whether the rate changed.
// sendRate, the host's recent send rate, is read only for the first cut.
//
// A response to a request that took its turn before the last cut says
// nothing about the new rate: it was scheduled at the old one, even if it
// was sent after the cut (TCP cuts once per window for the same reason).
// Neither does a 429 before anything succeeded at the new rate: a host
// whose quota was overdrawn keeps refusing until it has refilled, whatever
// the client does now. Both are ignored, so a burst of 429s costs one cut,
// not one per 429.
func (a *aimd) throttled(now, pacedAt time.Time, sendRate float64) bool {
	if a.rate > 0 {
		if pacedAt.Before(a.cutAt) {
			return false
		}
		a.throttles++
		if a.successes == 0 {
			return false
		}
	}
	base, factor := a.rate, AIMDDecrease
	if a.throttles > a.successes {
		factor = AIMDBackoff
	}
	if base == 0 {
		// The first 429: the host's limit is somewhere below what the
		// client was sending. Later cuts start from the estimate, which
		// the pacing has enforced since.
		base = sendRate
	}
	if base == 0 {
		base = 1 // a 429 to the very first request: start from 1/s
	}
	a.ceiling = base
	a.rate = max(base*factor, AIMDMinRate)
	a.cutAt, a.grewAt = now, now
	a.successes, a.throttles = 0, 0
	return true
}

// succeeded records a successful response at now to a request that took
// its turn in the pace at pacedAt. limited says the request had to wait for the pacing, which shows
// that demand reached the rate: only then may the rate grow (a client
// sending less than its estimate learns nothing about the host's limit).
// It reports whether the rate changed. Growth accrues per second of
// successes, counted at most a second at a time, so an idle hour followed
// by one success grows the rate by one second's worth, not an hour's.
func (a *aimd) succeeded(now, pacedAt time.Time, limited bool) bool {
	if a.rate == 0 {
		return false
	}
	if !pacedAt.Before(a.cutAt) {
		a.successes++
	}
	dt := min(now.Sub(a.grewAt), time.Second).Seconds()
	if dt <= 0 {
		return false
	}
	a.grewAt = now
	if !limited {
		return false
	}
	if a.rate < (1-aimdBand)*a.ceiling || a.rate > (1+aimdBand)*a.ceiling {
		a.rate += a.rate * AIMDFastIncrease * dt
	} else {
		a.rate += a.ceiling * AIMDIncrease * dt
	}
	if a.rate > AIMDForget*a.ceiling {
		*a = aimd{}
	}
	return true
}
