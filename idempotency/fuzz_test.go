package idempotency

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func FuzzParseRetryAfter(f *testing.F) {
	for _, seed := range []string{
		"", "0", "120", " 5 ", "+5", "-1", "5.5", "0x10", "9223372036", "9223372037",
		"99999999999999999999", "Fri, 02 Jan 2026 15:04:35 GMT", "Friday, 02-Jan-26 15:04:35 GMT",
		"Fri Jan  2 15:04:35 2026", "Mon, 01 Jan 0001 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "soon",
	} {
		f.Add(seed, int64(1767366245)) // 2026-01-02T15:04:05Z
	}
	f.Add("Thu, 01 Jan 1970 00:00:00 GMT", int64(-62135596800))
	f.Add("Fri, 31 Dec 9999 23:59:59 GMT", int64(253402300799))

	f.Fuzz(func(t *testing.T, value string, unix int64) {
		now := time.Unix(unix, 0)
		d, ok := ParseRetryAfter(value, now)
		if d < 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, negative", value, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = (%v, false), want 0 when invalid", value, d)
		}
		// delay-seconds round-trips: a string of digits parses to that many
		// seconds, clamped at the maximum Duration, and so does its
		// canonical form.
		if isDigits(value) {
			want := maxDuration
			if n, err := strconv.ParseUint(value, 10, 64); err == nil && n <= uint64(maxDuration/time.Second) {
				want = time.Duration(n) * time.Second
				if back, ok := ParseRetryAfter(strconv.FormatUint(n, 10), now); back != want || !ok {
					t.Fatalf("canonical %d parsed to (%v, %v), want (%v, true)", n, back, ok, want)
				}
			}
			if d != want || !ok {
				t.Fatalf("ParseRetryAfter(%q) = (%v, %v), want (%v, true)", value, d, ok, want)
			}
		}
	})
}

func FuzzClassify(f *testing.F) {
	for _, seed := range []struct {
		code       int
		retryAfter string
	}{
		{200, ""}, {304, ""}, {404, ""}, {408, ""}, {409, ""}, {425, ""}, {429, ""}, {429, "5"},
		{500, ""}, {501, ""}, {503, ""}, {503, "120"}, {503, "-1"}, {503, "Fri, 02 Jan 2026 15:04:35 GMT"},
		{505, ""}, {0, ""}, {999, "1"},
	} {
		f.Add(seed.code, seed.retryAfter)
	}
	withStatus := WithStatus(nil, map[int]Kind{409: Transient})

	f.Fuzz(func(t *testing.T, code int, retryAfter string) {
		code = ((code % 1000) + 1000) % 1000 // 0..999, as net/http parses 3 digits
		resp := &http.Response{StatusCode: code, Header: http.Header{"Retry-After": {retryAfter}}}
		got := Default.Classify(nil, resp, nil)
		if !got.Kind.valid() {
			t.Fatalf("Classify(%d, %q) = invalid kind %d", code, retryAfter, got.Kind)
		}
		if got.NeverSent {
			t.Fatalf("Classify(%d, %q): a response cannot be never-sent", code, retryAfter)
		}
		want := StatusKind(code)
		if code == http.StatusServiceUnavailable {
			if _, ok := ParseRetryAfter(retryAfter, time.Now()); ok {
				want = Throttled
			}
		}
		if got.Kind != want {
			t.Fatalf("Classify(%d, %q) = %v, want %v", code, retryAfter, got.Kind, want)
		}
		if code != 409 {
			if ws := withStatus.Classify(nil, resp, nil); ws != got {
				t.Fatalf("WithStatus(409) changed unlisted %d: %+v vs %+v", code, ws, got)
			}
		}
	})
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
