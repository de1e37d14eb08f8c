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
		"Retry-After: 1\n", "GMT", "Retry-After: 3600",
		"attempt 2: 200 → caller gets 200 OK",
		"caller gets the 429 Too Many Requests at once",
		"3 requests, 2 retries, 1 stopped",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if n := len(regexp.MustCompile(`waited [12]\.\d\ds`).FindAllString(s, -1)); n != 2 {
		t.Errorf("want two waits of 1–2 s, got %d:\n%s", n, s)
	}
}
