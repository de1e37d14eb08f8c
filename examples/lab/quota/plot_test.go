package quota

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tailguard/tailguard/examples/lab"
)

func TestWriteTimeline(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTimeline(&buf, "quota lab", [][]Result{sample, sample}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if err := lab.ValidXML(out); err != nil {
		t.Fatalf("invalid SVG: %v", err)
	}
	for _, want := range []string{">bare: plain<", ">bare: careful<", ">quota (100/s)<", ">429s<"} {
		if !strings.Contains(out, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if n := strings.Count(out, "<polyline"); n != 6 { // 3 lines for plain, twice; careful has none
		t.Errorf("%d polylines, want 6", n)
	}
}
