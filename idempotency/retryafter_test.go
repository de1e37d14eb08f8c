package idempotency

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	// Friday, 2 January 2026, 15:04:05 UTC.
	now := time.Date(2026, time.January, 2, 15, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"seconds", "120", 120 * time.Second, true},
		{"zero", "0", 0, true},
		{"leading zeros", "007", 7 * time.Second, true},
		{"spaces trimmed", "  5 ", 5 * time.Second, true},
		{"tab trimmed", "\t5\t", 5 * time.Second, true},
		{"one billion seconds", "1000000000", 1_000_000_000 * time.Second, true},
		{"largest exact", "9223372036", 9223372036 * time.Second, true},
		{"just past the largest", "9223372037", maxDuration, true},
		{"huge clamps", "99999999999999999999", maxDuration, true},
		{"very long clamps", "1" + strings.Repeat("0", 40), maxDuration, true},
		{"empty", "", 0, false},
		{"only spaces", "   ", 0, false},
		{"plus sign", "+5", 0, false},
		{"minus sign", "-1", 0, false},
		{"fraction", "5.5", 0, false},
		{"hex", "0x10", 0, false},
		{"inner space", "1 0", 0, false},
		{"unit", "5s", 0, false},
		{"huge then garbage", "99999999999999999999x", 0, false},
		{"list", "5, 10", 0, false},
		{"IMF-fixdate", "Fri, 02 Jan 2026 15:04:35 GMT", 30 * time.Second, true},
		{"RFC 850", "Friday, 02-Jan-26 15:04:35 GMT", 30 * time.Second, true},
		{"asctime", "Fri Jan  2 15:04:35 2026", 30 * time.Second, true},
		{"date trimmed", " Fri, 02 Jan 2026 15:05:05 GMT ", time.Minute, true},
		{"date now", "Fri, 02 Jan 2026 15:04:05 GMT", 0, true},
		{"date in the past", "Thu, 01 Jan 2026 00:00:00 GMT", 0, true},
		{"far past", "Mon, 01 Jan 0001 00:00:00 GMT", 0, true},
		{"far future clamps", "Fri, 31 Dec 9999 23:59:59 GMT", maxDuration, true},
		{"garbage", "soon", 0, false},
		{"date without zone", "Fri, 02 Jan 2026 15:04:35", 0, false},
		{"ISO 8601", "2026-01-02T15:04:35Z", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseRetryAfter(tt.value, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseRetryAfter(%q) = (%v, %v), want (%v, %v)", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		resp   *http.Response
		want   time.Duration
		wantOK bool
	}{
		{"nil response", nil, 0, false},
		{"nil header", &http.Response{StatusCode: 429}, 0, false},
		{"absent", &http.Response{Header: http.Header{}}, 0, false},
		{"seconds", &http.Response{Header: http.Header{"Retry-After": {"3"}}}, 3 * time.Second, true},
		{"first value only", &http.Response{Header: http.Header{"Retry-After": {"3", "60"}}}, 3 * time.Second, true},
		{"invalid first value", &http.Response{Header: http.Header{"Retry-After": {"x", "60"}}}, 0, false},
		{"past date", &http.Response{Header: http.Header{"Retry-After": {"Thu, 01 Jan 1970 00:00:00 GMT"}}}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := RetryAfter(tt.resp)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("RetryAfter = (%v, %v), want (%v, %v)", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// TestRetryAfterFutureDate uses the wall clock only through RetryAfter's
// time.Now, with a date far enough ahead that the test cannot race it.
func TestRetryAfterFutureDate(t *testing.T) {
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	got, ok := RetryAfter(&http.Response{Header: http.Header{"Retry-After": {date}}})
	if !ok || got < 58*time.Minute || got > time.Hour {
		t.Errorf("RetryAfter(%q) = (%v, %v), want about an hour", date, got, ok)
	}
}
