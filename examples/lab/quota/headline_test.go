package quota

import (
	"bytes"
	"testing"
)

func TestWriteHeadline(t *testing.T) {
	var buf bytes.Buffer
	writeHeadline(&buf, []Result{{Name: ArmPlain}, {Name: "peer"}})
	if buf.Len() != 0 {
		t.Errorf("no throttle arm, yet:\n%s", buf.String())
	}
	writeHeadline(&buf, []Result{
		{Name: ArmPlain, Sent: 300, Succeeded: 100, Throttled: 200},
		{Name: ArmThrottle, Sent: 100, Succeeded: 97, Throttled: 1, Goodput: 0.969},
	})
	want := "Requests sent per success 3.00 (plain) → 1.03 (tailguard throttle); 429s per 1,000 sent 667 → 10.0; goodput 96.9% of the quota.\n"
	if buf.String() != want {
		t.Errorf("headline:\n%s\nwant:\n%s", buf.String(), want)
	}
}
