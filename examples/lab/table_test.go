package lab

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestWriteTable(t *testing.T) {
	rs := []Result{
		{Name: "no hedging", Summary: Summary{P50: 10 * time.Millisecond, P99: time.Second, Max: time.Second}, Errors: 1},
		{Name: "hedged", Summary: Summary{P99: 20 * time.Millisecond}, Extra: 0.052},
	}
	ref := Result{Summary: Summary{P99: 20 * time.Millisecond}}
	var buf bytes.Buffer
	if err := WriteTable(&buf, rs, &ref, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"no hedging", "10.0ms", "1.00s", "5.2%", "50.00×", "1.00×", "p99 / ideal"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := WriteTable(&buf, rs, nil, true); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[1], "|---|") {
		t.Errorf("markdown table:\n%s", buf.String())
	}
}

func TestWriteRows(t *testing.T) {
	rows := [][]string{{"arm", "goodput"}, {"tailguard throttle", "99.1%"}, {"plain", "100.3%"}}
	var buf bytes.Buffer
	if err := WriteRows(&buf, rows, false); err != nil {
		t.Fatal(err)
	}
	want := "arm                 goodput\ntailguard throttle    99.1%\nplain                100.3%\n"
	if buf.String() != want {
		t.Errorf("plain table:\n%s\nwant:\n%s", buf.String(), want)
	}
	buf.Reset()
	if err := WriteRows(&buf, rows, true); err != nil {
		t.Fatal(err)
	}
	if want := "| arm | goodput |\n|---|---|\n| tailguard throttle | 99.1% |\n| plain | 100.3% |\n"; buf.String() != want {
		t.Errorf("markdown table:\n%s", buf.String())
	}
}
