package lab

import (
	"bytes"
	"strings"
	"testing"
)

func TestWriteTimeline(t *testing.T) {
	tl := Timeline{
		Title: "quota <lab>", XLabel: "seconds", YLabel: "per second", Columns: 2,
		Kinds:    []LineKind{{Name: "sent"}, {Name: "429s", Dashed: true}},
		Ref:      100,
		RefLabel: "quota",
		Panels: []Panel{
			{Title: "plain", Lines: [][]float64{{300, 310, 290}, {200, 210, 190}}},
			{Title: "throttle", Lines: [][]float64{{100, 99, 101}, nil}},
			{Title: "retry", Lines: [][]float64{{370, 360}, {270, 260}}},
		},
	}
	var buf bytes.Buffer
	if err := WriteTimeline(&buf, tl); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if err := ValidXML(out); err != nil {
		t.Fatalf("invalid SVG: %v", err)
	}
	for _, want := range []string{"quota &lt;lab&gt;", ">plain<", ">throttle<", ">retry<", ">sent<", ">429s<", ">quota<", ">500<", "stroke-dasharray"} {
		if !strings.Contains(out, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	// 5 series drawn (the nil one skipped), in 3 panels on 2 rows.
	if n := strings.Count(out, "<polyline"); n != 5 {
		t.Errorf("%d polylines, want 5", n)
	}
	if n := strings.Count(out, `<rect x=`); n != 3 {
		t.Errorf("%d panels, want 3", n)
	}
}

func TestNiceCeil(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{0, 1}, {-3, 1}, {1, 1}, {1.2, 2}, {3, 5}, {7, 10}, {100, 100}, {310, 500}, {0.03, 0.05},
	} {
		if got := niceCeil(c.in); got != c.want {
			t.Errorf("niceCeil(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
