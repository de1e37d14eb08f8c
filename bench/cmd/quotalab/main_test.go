package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A short loopback smoke run: every arm, two dialects.
func TestRunSmoke(t *testing.T) {
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{"-dialect", "ietf,bare", "-duration", "1s", "-offered", "60", "-quota", "20",
		"-burst", "2", "-callers", "4", "-timeout", "2s"}, &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	for _, want := range []string{"ietf (", "bare (", "plain", "retryablehttp", "failsafe retry", "failsafe retry+limiter", "tailguard retry", "tailguard throttle", "targets for tailguard throttle:", "vs retryablehttp"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunBadFlag(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-burst", "0"}, &out, &out); err == nil {
		t.Error("-burst 0 accepted")
	}
}
