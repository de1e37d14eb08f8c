package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A short loopback smoke run of the command: every dialect, both tables'
// arms, and the plot.
func TestRunLoopback(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "q.svg")
	var out, errs bytes.Buffer
	err := run(context.Background(), []string{"-duration", "1s", "-offered", "60", "-quota", "20", "-burst", "2", "-callers", "4", "-timeout", "3s", "-svg", svg}, &out, &errs)
	if err != nil {
		t.Fatalf("%v\n%s", err, errs.String())
	}
	for _, want := range []string{"ietf (", "github (", "retry-after (", "bare (", "plain", "tailguard retry", "tailguard throttle", "targets for tailguard throttle:", "goodput", "wrote " + svg} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if b, err := os.ReadFile(svg); err != nil || !bytes.Contains(b, []byte("bare: tailguard retry")) {
		t.Errorf("plot: %v", err)
	}
}

func TestRunBadFlag(t *testing.T) {
	var out, errs bytes.Buffer
	if err := run(context.Background(), []string{"-dialect", "nginx"}, &out, &errs); err == nil {
		t.Error("unknown dialect accepted")
	}
}
