package idempotency

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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

// FuzzClassify drives the classifier over arbitrary status codes,
// Retry-After values, methods, idempotency keys, extra headers and body
// kinds, checking it against its specification: a response's kind depends
// only on its status and Retry-After (and, for a 403, on
// X-RateLimit-Remaining), never on the request or on other headers, and
// replayability follows the method, the key and the body.
func FuzzClassify(f *testing.F) {
	for _, seed := range []struct {
		code       int
		retryAfter string
		method     string
		key        string
		name, val  string
		body       uint8
	}{
		{200, "", "GET", "", "", "", 0}, {304, "", "HEAD", "", "", "", 0}, {404, "", "DELETE", "", "", "", 0},
		{408, "", "PUT", "", "", "", 1}, {409, "", "POST", "k1", "", "", 1}, {425, "", "PATCH", " ", "", "", 1},
		{429, "", "POST", "", "", "", 2}, {429, "5", "OPTIONS", "", "X-A", "b", 0},
		{500, "", "TRACE", "", "", "", 0}, {501, "", "get", "", "", "", 0}, {503, "", "", "", "", "", 2},
		{503, "120", "GET", "", "retry-after", "x", 0}, {503, "-1", "PUT", "key", "", "", 2},
		{503, "Fri, 02 Jan 2026 15:04:35 GMT", "GET", "", "", "", 0}, {503, "0", "GET", "", "", "", 0},
		{403, "60", "GET", "", "", "", 0}, {403, "", "GET", "", "x-ratelimit-remaining", " 0", 0},
		{505, "", "CONNECT", "", "X-Idempotency-Key", "k", 1}, {0, "", "", "", "", "", 0}, {999, "1", "BAD METHOD", "", "", "", 0},
	} {
		f.Add(seed.code, seed.retryAfter, seed.method, seed.key, seed.name, seed.val, seed.body)
	}
	withStatus := WithStatus(nil, map[int]Kind{409: Transient})

	f.Fuzz(func(t *testing.T, code int, retryAfter, method, key, name, val string, body uint8) {
		code = ((code % 1000) + 1000) % 1000 // 0..999, as net/http parses 3 digits
		resp := &http.Response{StatusCode: code, Header: http.Header{"Retry-After": {retryAfter}}}
		before := time.Now()
		got := Default.Classify(nil, resp, nil)
		after := time.Now()
		if !got.Kind.valid() {
			t.Fatalf("Classify(%d, %q) = invalid kind %d", code, retryAfter, got.Kind)
		}
		if got.NeverSent {
			t.Fatalf("Classify(%d, %q): a response cannot be never-sent", code, retryAfter)
		}
		want := StatusKind(code)
		if code == http.StatusServiceUnavailable || code == http.StatusForbidden {
			// A 503 (or a 403) is a throttle when its Retry-After asks for
			// a pause.
			// A date may pass between before and after: either answer is
			// then right.
			_, ok := ParseRetryAfter(retryAfter, time.Now())
			early, _ := ParseRetryAfter(retryAfter, before)
			late, _ := ParseRetryAfter(retryAfter, after)
			switch {
			case ok && late > 0:
				want = Throttled
			case ok && early > 0 && got.Kind == Throttled:
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

		req := fuzzRequest(method, key, body)
		other := http.CanonicalHeaderKey(name)
		if other != "Retry-After" && name != "" {
			resp.Header[other] = append(resp.Header[other], val)
		}
		wantWithReq := got
		if code == http.StatusForbidden && other == "X-Ratelimit-Remaining" && strings.TrimSpace(val) == "0" {
			// The one other header that matters: a 403 saying nothing is
			// left is a rate limit (GitHub's secondary limits).
			wantWithReq.Kind = Throttled
		}
		if withReq := Default.Classify(req, resp, nil); withReq != wantWithReq {
			t.Fatalf("Classify with %s request and header %q: %+v, want %+v", method, name, withReq, wantWithReq)
		}

		keyed := strings.TrimSpace(key) != ""
		bodyOK := body%3 != 2 // 0: no body, 1: body with GetBody, 2: body without
		wantReplay := (IdempotentMethod(method) || keyed) && bodyOK
		if r := Replayable(req); r != wantReplay {
			t.Fatalf("Replayable(%q, key %q, body kind %d) = %v, want %v", method, key, body%3, r, wantReplay)
		}
		if (method == http.MethodPost || method == http.MethodPatch) && !keyed && Replayable(req) {
			t.Fatalf("%s without a key is replayable", method)
		}
	})
}

// fuzzRequest builds a request with the given method, Idempotency-Key and
// body kind (body%3: 0 none, 1 a body with GetBody, 2 a body without).
func fuzzRequest(method, key string, body uint8) *http.Request {
	req := &http.Request{Method: method, URL: &url.URL{Scheme: "http", Host: "example.test", Path: "/"}, Header: http.Header{}}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	switch body % 3 {
	case 1:
		req.Body = io.NopCloser(strings.NewReader("x"))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("x")), nil }
	case 2:
		req.Body = io.NopCloser(strings.NewReader("x"))
	}
	return req
}

func isDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
