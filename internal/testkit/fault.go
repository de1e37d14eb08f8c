package testkit

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind names one way a [FaultServer] can misbehave on a request.
type FaultKind uint8

const (
	// FaultNone answers normally: the fault's Status (200 if zero) with a
	// small body and a correct Content-Length.
	FaultNone FaultKind = iota
	// FaultResetBeforeHeaders reads the whole request, then resets the
	// connection (TCP RST; RST_STREAM on HTTP/2) before writing anything.
	// The server has seen the request: it is "maybe sent", never "unsent".
	FaultResetBeforeHeaders
	// FaultResetMidBody sends a 200 with headers and half of the promised
	// body, then resets the connection (RST_STREAM on HTTP/2).
	FaultResetMidBody
	// FaultBlackHole reads the request and never answers, until the client
	// gives up or the server is closed.
	FaultBlackHole
	// FaultSlowHeaders waits Delay (ctx-aware) before answering normally.
	FaultSlowHeaders
	// FaultTruncatedBody sends a 200 whose Content-Length is twice the bytes
	// sent, then closes the connection cleanly (FIN): reading the body ends
	// in io.ErrUnexpectedEOF. On HTTP/2 the stream is reset instead, since an
	// HTTP/2 server cannot end a stream short of its Content-Length.
	FaultTruncatedBody
	// FaultStalledBody sends the fault's Status (200 if zero) with its
	// headers and a Content-Length, then no body at all until the client
	// gives up or the server is closed: an error page whose upstream hung
	// after the headers. A client that drains it without a time bound
	// hangs.
	FaultStalledBody
)

var faultNames = [...]string{
	FaultNone:               "ok",
	FaultResetBeforeHeaders: "reset-before-headers",
	FaultResetMidBody:       "reset-mid-body",
	FaultBlackHole:          "black-hole",
	FaultSlowHeaders:        "slow-headers",
	FaultTruncatedBody:      "truncated-body",
	FaultStalledBody:        "stalled-body",
}

// String returns the kind's name as used in the X-Fault header.
func (k FaultKind) String() string {
	if int(k) < len(faultNames) {
		return faultNames[k]
	}
	return "FaultKind(" + strconv.Itoa(int(k)) + ")"
}

// Fault is what a [FaultServer] does with one request. The zero Fault
// answers 200 OK.
type Fault struct {
	Kind FaultKind
	// Status is the status code of a normal answer (FaultNone and
	// FaultSlowHeaders); 0 means 200.
	Status int
	// RetryAfter, when non-empty, is sent verbatim as the Retry-After header
	// of a normal answer.
	RetryAfter string
	// Delay is how long FaultSlowHeaders waits before the headers.
	Delay time.Duration
}

// FaultHeader is the request header naming a fault for that request; it
// wins over [FaultServerOptions.Script]. Its value is [Fault.String]'s form,
// parsed by [ParseFault].
const FaultHeader = "X-Fault"

// FaultOK answers 200 with a short body.
func FaultOK() Fault { return Fault{} }

// FaultStatus answers status with a short, readable body ("fault: 503").
func FaultStatus(status int) Fault { return Fault{Status: status} }

// FaultThrottle answers 429 with the given Retry-After value, sent
// verbatim (see [RetryAfterForms]); an empty value sends no header.
func FaultThrottle(retryAfter string) Fault {
	return Fault{Status: 429, RetryAfter: retryAfter}
}

// FaultSlow answers 200 after d.
func FaultSlow(d time.Duration) Fault { return Fault{Kind: FaultSlowHeaders, Delay: d} }

// FaultOf returns the fault of kind k with no parameters.
func FaultOf(k FaultKind) Fault { return Fault{Kind: k} }

// String returns f in the X-Fault header syntax: "ok", "503",
// "429;retry-after=120", "slow-headers;delay=50ms", "black-hole", ...
func (f Fault) String() string {
	var b strings.Builder
	if f.Kind == FaultNone && f.Status != 0 && f.Status != 200 {
		b.WriteString(strconv.Itoa(f.Status))
	} else {
		b.WriteString(f.Kind.String())
		if f.Status != 0 && f.Status != 200 {
			b.WriteString(";status=" + strconv.Itoa(f.Status))
		}
	}
	if f.RetryAfter != "" {
		b.WriteString(";retry-after=" + f.RetryAfter)
	}
	if f.Delay != 0 {
		b.WriteString(";delay=" + f.Delay.String())
	}
	return b.String()
}

// ParseFault parses the X-Fault header syntax of [Fault.String]: a kind
// name or a status code, then optional ";key=value" parameters (status,
// retry-after, delay). A Retry-After value may not contain ';'.
func ParseFault(s string) (Fault, error) {
	parts := strings.Split(s, ";")
	var f Fault
	head := strings.TrimSpace(parts[0])
	if code, err := strconv.Atoi(head); err == nil {
		if code < 100 || code > 999 {
			return Fault{}, fmt.Errorf("testkit: fault status %d out of range", code)
		}
		f.Status = code
	} else {
		found := false
		for k, name := range faultNames {
			if name == head {
				f.Kind, found = FaultKind(k), true
				break
			}
		}
		if !found {
			return Fault{}, fmt.Errorf("testkit: unknown fault %q", head)
		}
	}
	for _, p := range parts[1:] {
		key, val, ok := strings.Cut(p, "=")
		if !ok {
			return Fault{}, fmt.Errorf("testkit: fault parameter %q is not key=value", p)
		}
		switch strings.TrimSpace(key) {
		case "status":
			code, err := strconv.Atoi(val)
			if err != nil || code < 100 || code > 999 {
				return Fault{}, fmt.Errorf("testkit: bad fault status %q", val)
			}
			f.Status = code
		case "retry-after":
			f.RetryAfter = val
		case "delay":
			d, err := time.ParseDuration(val)
			if err != nil {
				return Fault{}, fmt.Errorf("testkit: bad fault delay: %w", err)
			}
			f.Delay = d
		default:
			return Fault{}, fmt.Errorf("testkit: unknown fault parameter %q", key)
		}
	}
	return f, nil
}

// FaultSequence returns a script that plays faults in order, one per
// request, and then answers 200 forever: FaultSequence(FaultStatus(503),
// FaultStatus(503)) is "503, 503, then 200".
func FaultSequence(faults ...Fault) func(n int, r *http.Request) Fault {
	return func(n int, _ *http.Request) Fault {
		if n-1 < len(faults) {
			return faults[n-1]
		}
		return FaultOK()
	}
}

// FaultSequenceBy is [FaultSequence] played separately for each value of
// the request header named header: with a test setting "X-Call: 1",
// "X-Call: 2", … on its logical requests, every logical request (and all
// of its retries and hedges, which carry the same header) sees "503, 503,
// then 200" on its own. Safe for concurrent use.
func FaultSequenceBy(header string, faults ...Fault) func(n int, r *http.Request) Fault {
	var mu sync.Mutex
	seen := make(map[string]int)
	return func(_ int, r *http.Request) Fault {
		mu.Lock()
		k := r.Header.Get(header)
		seen[k]++
		i := seen[k]
		mu.Unlock()
		if i-1 < len(faults) {
			return faults[i-1]
		}
		return FaultOK()
	}
}

// FaultAlways returns a script that answers every request with f.
func FaultAlways(f Fault) func(n int, r *http.Request) Fault {
	return func(int, *http.Request) Fault { return f }
}

// RetryAfterForm is one way a server may write Retry-After, and what a
// correct parser makes of it.
type RetryAfterForm struct {
	Name  string
	Value string
	// Valid is whether RFC 9110 §10.2.3 accepts Value.
	Valid bool
	// Delay is the delay Value asks for, relative to the now given to
	// [RetryAfterForms] (dates have one-second resolution, so allow 1 s).
	// It is meaningless when Valid is false.
	Delay time.Duration
}

// RetryAfterForms returns Retry-After values in every form the fault suite
// exercises, relative to now: delay-seconds, the three HTTP-date layouts
// (IMF-fixdate, RFC 850, asctime) in the future, a past date (delay 0), a
// negative number and garbage (both invalid), and 10^9 seconds (valid but
// absurd: a stage must cap it, go-retryablehttp #247).
func RetryAfterForms(now time.Time) []RetryAfterForm {
	at := now.UTC().Truncate(time.Second).Add(2 * time.Second)
	return []RetryAfterForm{
		{Name: "seconds", Value: "1", Valid: true, Delay: time.Second},
		{Name: "zero", Value: "0", Valid: true, Delay: 0},
		{Name: "imf-fixdate", Value: at.Format(http1123), Valid: true, Delay: at.Sub(now)},
		{Name: "rfc850", Value: at.Format(rfc850), Valid: true, Delay: at.Sub(now)},
		{Name: "asctime", Value: at.Format(time.ANSIC), Valid: true, Delay: at.Sub(now)},
		{Name: "past-date", Value: now.UTC().Add(-time.Hour).Format(http1123), Valid: true, Delay: 0},
		{Name: "negative", Value: "-5", Valid: false},
		{Name: "garbage", Value: "soon, maybe", Valid: false},
		{Name: "1e9-seconds", Value: "1000000000", Valid: true, Delay: 1_000_000_000 * time.Second},
	}
}

// Layouts of RFC 9110 §5.6.7 (http.TimeFormat is IMF-fixdate).
const (
	http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"
	rfc850   = "Monday, 02-Jan-06 15:04:05 GMT"
)
