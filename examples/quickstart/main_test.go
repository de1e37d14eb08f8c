package main

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run([]string{"-n", "60"}, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	s := out.String()
	for _, want := range []string{"quickstart: tailguard's recommended pipeline", "60 GET requests", "Failed requests ", "extra attempts.", "http.Client", "pipeline.New(hedge, retry, breaker)", "retries (after a 503)", "the breaker stayed closed"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Index(s, "Failed requests ") > strings.Index(s, "http.Client ") {
		t.Errorf("the headline comes after the table:\n%s", s)
	}
	// The plain client fails some requests; tailguard retries them. (All
	// three attempts of one request can fail, 0.15³ ≈ 0.3%, so not "none".)
	rows := regexp.MustCompile(`(?m)^(http\.Client|pipeline\.New\(hedge, retry, breaker\))\s+(\d+)\s+(\d+)`).FindAllStringSubmatch(s, -1)
	if len(rows) != 2 {
		t.Fatalf("table rows not found:\n%s", s)
	}
	plainFailed, _ := strconv.Atoi(rows[0][3])
	guardedFailed, _ := strconv.Atoi(rows[1][3])
	if plainFailed < 3 || guardedFailed > 2 {
		t.Errorf("failed: plain %d, tailguard %d; want several, then at most two:\n%s", plainFailed, guardedFailed, s)
	}
}
