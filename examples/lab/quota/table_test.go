package quota

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var sample = []Result{
	{Name: "plain", Dialect: Bare, Quota: 100, Goodput: 1.003, Sent: 9000, Throttled: 6000, SentAfterWarmup: 7500, ThrottledAfterWarmup: 5000,
		P50: 10 * time.Millisecond, P99: 12 * time.Millisecond, Failed: 6000, Offered: 9000, Succeeded: 3000, MaxReleased: 310,
		SentPerSec: []float64{300, 300}, ThrottledPerSec: []float64{200, 200}, SucceededPerSec: []float64{100, 100}},
	{Name: "careful", Dialect: Bare, Quota: 100, Goodput: 0.95, Sent: 3100, Throttled: 10, SentAfterWarmup: 2500, ThrottledAfterWarmup: 1,
		P50: 2 * time.Second, P99: 5 * time.Second, Failed: 6100, Offered: 9000, Succeeded: 2900},
}

func TestWriteTable(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, sample, false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"429s/1k after 5s", "100.3%", "667", "0.4", "10.0ms", "5.00s", "3.00", "1.07", "3.10×", "0.34×", "–"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	sample[0].Dialect, sample[0].InPause = IETF, 42
	defer func() { sample[0].Dialect = Bare }()
	if err := WriteTable(&buf, sample[:1], true); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "| arm |") || !strings.Contains(buf.String(), "| 42 |") || !strings.Contains(buf.String(), "after 2s") {
		t.Errorf("markdown:\n%s", buf.String())
	}
}
