package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-open", "100ms"}, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	s := out.String()
	if !strings.HasPrefix(s, "breaker: a host goes down and comes back") {
		t.Errorf("output does not start with what it shows:\n%s", s)
	}
	if i, j := strings.Index(s, "During the outage 3 of 13 requests failed fast"), strings.Index(s, "The host is up."); i < 0 || i > j {
		t.Errorf("the summing-up line must come before the timeline:\n%s", s)
	}
	for _, want := range []string{
		"breaker closed → open", "fast-fail in", "host not contacted (open; retry in",
		"breaker open → half-open", "breaker half-open → open", "503 Service Unavailable, reached the host (the half-open probe)",
		"breaker half-open → closed", "200 OK, reached the host (the half-open probe)",
		"13 requests, 10 reached the host", ": closed\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "fast-fail"); n != 3 {
		t.Errorf("%d fast-fails, want 3:\n%s", n, s)
	}
}
