package lab

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestWriteCDF(t *testing.T) {
	fast := []time.Duration{time.Millisecond, 2 * time.Millisecond, 10 * time.Millisecond, time.Second}
	var buf bytes.Buffer
	err := WriteCDF(&buf, "d1 <test>", []Series{{Name: "bare", Sorted: fast}, {Name: "ideal", Sorted: fast, Dashed: true}, {Name: "empty"}})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if err := ValidXML(out); err != nil {
		t.Fatalf("invalid SVG: %v", err)
	}
	for _, want := range []string{"<svg", "d1 &lt;test&gt;", ">1 ms<", ">1 s<", ">90%<", "stroke-dasharray", ">bare<", ">ideal<"} {
		if !strings.Contains(out, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	if n := strings.Count(out, "<polyline"); n != 2 {
		t.Errorf("%d polylines, want 2 (empty series skipped)", n)
	}
}

func TestValidXML(t *testing.T) {
	if err := ValidXML(`<svg><text>a &lt; b</text></svg>`); err != nil {
		t.Errorf("well-formed: %v", err)
	}
	for _, bad := range []string{`<svg><text>a < b</text></svg>`, `<svg><g></svg>`} {
		if ValidXML(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
