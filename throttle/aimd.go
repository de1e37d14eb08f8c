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
	// AIMDBareDecrease replaces AIMDDecrease for a 429 that asks for no
	// pause (a bare 429, as nginx's limit_req sends) and comes after at
	// least a second's worth of successes at the current rate: a probe
	// past a limit that the rate had met. What a cut should save is what
	// the next probe costs: after a 429 that closes the gate, a second
	// with nothing sent; after a bare one, the one request it refused. So
	// the rate stays close below a bare host's limit and probes it more
	// often: in the quota lab 10% off cost 2 points of goodput (98.1%)
	// while the rate climbed back, 3% off costs none (100.0%) for 4 429s
	// per 1,000 requests sent, against 1.6. The same cut cost the
	// Retry-After host 5 points (a 1 s pause every 6 s instead of every
	// 20 s). A bare 429 sooner than that says the last cut was not enough
	// (a first estimate above the limit): it cuts by AIMDDecrease, and
	// over loopback reached the quota lab's limit in a second instead of
	// 20 s of 429s.
	AIMDBareDecrease = 0.97
	// AIMDBackoff multiplies the rate on a 429 when more requests were
	// throttled than succeeded since the last cut: the rate is still
	// clearly too high (a client sending ten times the limit), so halve
	// it, as TCP does on a timeout. It also bounds a cut to what the host
	// admitted (see aimd.throttled).
	AIMDBackoff = 0.5
	// AIMDFirstDecrease multiplies the rate the client was sending at when
	// the first 429 came. That rate was not paced, only measured over a
	// moment, so it errs high: a tenth off, and the quota lab's
	// Retry-After-only host refused the next second too, costing a second
	// pause; a fifth off, and the rate starts near the host's limit, from
	// where it grows slowly (the cut's rate is the first ceiling).
	AIMDFirstDecrease = 0.8
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

// pausedShare is the share of the time since the last cut that pauses
// must have taken for a cut to go down to what the host admitted in the
// last second (see aimd.throttled): when the host keeps its clients
// waiting most of the time, what it lets through between pauses is what it
// admits, and a rate above that only earns the next pause. A 429 that
// comes right after a short pause (a quota refilling continuously, whose
// burst the release overdrew) is not such a case: the host admitted more
// than its last second shows, and a deep cut would cost more than the
// pause it saves.
const pausedShare = 0.75

// aimdSpan is the shortest span the send rate is measured over for the
// first cut: 16 requests sent in the first millisecond are not a rate of
// 16,000/s.
const aimdSpan = 100 * time.Millisecond

// aimd is the additive-increase, multiplicative-decrease estimate of one
// host's rate. Its methods are pure: time enters through their arguments.
// The zero aimd imposes no rate. It is not safe for concurrent use; the
// pacer guards it.
type aimd struct {
	rate      float64       // requests per second; 0 while AIMD does not pace the host
	ceiling   float64       // the rate the last cut was made from
	cutAt     time.Time     // when the last cut happened
	grewAt    time.Time     // the last increase (or cut, or the end of a pause)
	successes int           // successes since the last cut
	throttles int           // throttled responses since the last cut
	pausedFor time.Duration // how long the host's gate was closed since the last cut
	pauseEnd  time.Time     // the end of the latest pause counted in pausedFor
}

// throttled records a throttled response at now to a request that took
// its turn in the pace at pacedAt, and reports whether the rate changed.
// sendRate, the host's recent send rate, is read only for the first cut;
// admitted, the host's successes over the last second, when pauses took
// most of the time since the last cut. bare says the response asked for no
// pause (see AIMDBareDecrease for when that matters).
//
// A response to a request that took its turn before the last cut says
// nothing about the new rate: it was scheduled at the old one, even if it
// was sent after the cut (TCP cuts once per window for the same reason).
// Neither does a 429 before anything succeeded at the new rate: a host
// whose quota was overdrawn keeps refusing until it has refilled, whatever
// the client does now. Both are ignored, so a burst of 429s costs one cut,
// not one per 429.
//
// A host that pauses its clients (Retry-After) refills while they wait: a
// fixed window of 20 requests a second answering "Retry-After: 2" let 20
// requests through after every pause, whatever the rate, and refused the
// next, so each step of AIMDDecrease cost a two-second pause (41.6/s after
// 10 s). When pauses took most of the time since the last cut
// (pausedShare), the rate therefore comes down at once to what got through
// in the last second, but by no more than AIMDBackoff.
func (a *aimd) throttled(now, pacedAt time.Time, sendRate, admitted float64, bare bool) bool {
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
	if bare && float64(a.successes) >= a.rate {
		factor = AIMDBareDecrease
	}
	if a.throttles > a.successes {
		factor = AIMDBackoff
	}
	first := base == 0
	if first {
		// The first 429: the host's limit is somewhere below what the
		// client was sending. Later cuts start from the estimate, which
		// the pacing has enforced since.
		base, factor = sendRate, AIMDFirstDecrease
	}
	if base == 0 {
		base = 1 // a 429 to the very first request: start from 1/s
	}
	next := base * factor
	if !first && factor != AIMDBackoff && a.pausedFor >= time.Duration(pausedShare*float64(now.Sub(a.cutAt))) {
		next = min(next, max(admitted, base*AIMDBackoff))
	}
	a.ceiling = base
	if first {
		a.ceiling = next
	}
	a.rate = max(next, AIMDMinRate)
	a.cutAt, a.grewAt = now, now
	a.successes, a.throttles, a.pausedFor = 0, 0, 0
	return true
}

// paused records that the host's gate is closed from now until until: the
// pause counts towards pausedFor once, however many responses extend it,
// and growth resumes only after it (a paused host is not sent to, so
// nothing is learnt about its rate meanwhile).
func (a *aimd) paused(now, until time.Time) {
	if a.rate == 0 || !until.After(now) {
		return
	}
	from := now
	if a.pauseEnd.After(from) {
		from = a.pauseEnd
	}
	if until.After(from) {
		a.pausedFor += until.Sub(from)
		a.pauseEnd = until
	}
	if until.After(a.grewAt) {
		a.grewAt = until
	}
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
