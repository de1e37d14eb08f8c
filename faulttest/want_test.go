package faulttest_test

import (
	"fmt"
	"strconv"
	"strings"
)

// want is the expected outcome of one cell of the matrix, for each of its
// calls.
type want struct {
	// status is the final status the caller gets, with a body it can read
	// whole (a 200's body is exactly what the server sent, an error
	// status's body is "fault: <code>"). 0 means the call fails.
	status int
	// errs are the documented causes the call's error may match; with a
	// non-zero status, the call may end either way (a race decides).
	errs []cause
	// body, if set, is how reading a response body must fail: the headers
	// came, the body broke afterwards (no stage buffers bodies).
	body []cause
	// sent is the inclusive range of requests the server received, over
	// all the cell's calls.
	sent [2]int
	// opens is the inclusive range of breaker openings, checked only in
	// arrangements with a breaker.
	opens [2]int
	// tries, if set, is the inclusive range of attempts that reached the
	// base transport: what "sent" cannot see when nothing listens.
	tries [2]int
}

// unset reports whether w is the zero want: a row that gives no
// expectation for an arrangement.
func (w want) unset() bool {
	return w.status == 0 && w.errs == nil && w.body == nil && w.sent == [2]int{} && w.opens == [2]int{} && w.tries == [2]int{}
}

func ok(sent int) want { return want{status: 200, sent: [2]int{sent, sent}} }

func answers(status, sent int) want { return want{status: status, sent: [2]int{sent, sent}} }

func fails(sent int, cs ...cause) want { return want{errs: cs, sent: [2]int{sent, sent}} }

// upTo widens the number of requests sent to [sent, hi]: a race (a hedge
// timer against a quick retry, a canceled hedge against the server
// reading it) decides whether one more request gets out.
func (w want) upTo(hi int) want { w.sent[1] = hi; return w }

// opening sets the range of breaker openings.
func (w want) opening(lo, hi int) want { w.opens = [2]int{lo, hi}; return w }

// trying sets the range of attempts reaching the base transport.
func (w want) trying(lo, hi int) want { w.tries = [2]int{lo, hi}; return w }

// bodyFails expects the response body read to fail with one of cs.
func (w want) bodyFails(cs ...cause) want { w.body = cs; return w }

// orFails lets the call fail with one of cs instead of answering.
func (w want) orFails(cs ...cause) want { w.errs = cs; return w }

// describe renders w for the docs/reliability.md table; withBreaker adds the openings.
func (w want) describe(withBreaker bool) string {
	var b strings.Builder
	switch {
	case w.status != 0 && len(w.errs) > 0:
		fmt.Fprintf(&b, "%d or %s", w.status, causeNames(w.errs))
	case w.status != 0:
		b.WriteString(strconv.Itoa(w.status))
	default:
		b.WriteString(causeNames(w.errs))
	}
	if len(w.body) > 0 {
		b.WriteString(", body read fails " + causeNames(w.body))
	}
	if w.tries != [2]int{} {
		b.WriteString(" · tried " + span(w.tries))
	} else {
		b.WriteString(" · sent " + span(w.sent))
	}
	if withBreaker && w.opens != [2]int{} {
		b.WriteString(" · opens " + span(w.opens))
	}
	return b.String()
}

func span(r [2]int) string {
	if r[0] == r[1] {
		return strconv.Itoa(r[0])
	}
	return strconv.Itoa(r[0]) + "–" + strconv.Itoa(r[1])
}
