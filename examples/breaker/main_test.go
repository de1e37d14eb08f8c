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
