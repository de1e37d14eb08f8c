package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(nil, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	s := out.String()
	for _, want := range []string{
		"throttled: one 429 with Retry-After pauses every request to its host",
		"0 of 3 other requests to the host reached it during the 1s pause one 429 asked for",
		"Retry-After: 1 → the host's gate closes for 1s",
		"0 reached the upstream during the pause",
		"GMT", "Retry-After: 3600",
		"caller gets the 429 Too Many Requests without a retry",
		"the host's gate is closed for 5m0s",
		"not sent: gate closed, could go in 5m0s (errors.Is ErrThrottled: true)",
		"3 pauses",
		"2 retries, 1 stopped",
		"pipeline.New(hedge, retry, throttle, breaker)",
		"never shorter",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	// Lower bounds only: a loaded machine makes waits longer, never shorter.
	if !regexp.MustCompile(`attempt 2: 200, (1\.\d\d)s after the 429`).MatchString(s) {
		t.Errorf("the retry must wait the 1 s asked for:\n%s", s)
	}
	if !regexp.MustCompile(`waited [12]\.\d\ds: the header asked for`).MatchString(s) {
		t.Errorf("the date form must be waited for 1–2 s:\n%s", s)
	}
	// The hedges the timer launched for requests held by the throttle
	// were all refused there: none reached the paused upstream.
	if m := regexp.MustCompile(`(\d+) hedges, (\d+) refused by the throttle`).FindStringSubmatch(s); m == nil || m[1] != m[2] {
		t.Errorf("every hedge must be refused by the throttle:\n%s", s)
	}
	for _, wrong := range []string{"no jitter", "no shortening"} {
		if strings.Contains(s, wrong) {
			t.Errorf("the retry stage spreads Retry-After waits (retry.RetryAfterSpread); the output says %q:\n%s", wrong, s)
		}
	}
	if m := regexp.MustCompile(`the header asked for (\d\.\d\d)s; the retry stage drew (\d\.\d\d)s`).FindStringSubmatch(s); m == nil || m[1] != "1.00" || m[2] < "1.00" || m[2] > "1.20" {
		t.Errorf("the seconds form: the header's 1 s, and the draw in [1 s, 1.2 s]:\n%s", s)
	}
	arrived := regexp.MustCompile(`they arrived (\d+\.\d\d)s, (\d+\.\d\d)s, (\d+\.\d\d)s after`).FindStringSubmatch(s)
	if arrived == nil || arrived[1] < "1.00" || arrived[1] == arrived[3] {
		t.Errorf("the browse requests must arrive after the pause, spread out:\n%s", s)
	}
}
