package lab

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"
)

// Series is one line of a CDF plot.
type Series struct {
	Name   string
	Sorted []time.Duration // ascending
	Dashed bool            // e.g. for a simulated ideal
}

// Plot geometry, in SVG user units.
const (
	plotW, plotH             = 900, 460
	marginL, marginR         = 70, 300
	marginT, marginB         = 46, 56
	innerW, innerH           = plotW - marginL - marginR, plotH - marginT - marginB
	plotPoints               = 400 // per series, evenly spaced on the y axis
	maxNines         float64 = 4   // 99.99%
)

var palette = []string{"#7f7f7f", "#1f77b4", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"}

// WriteCDF writes a latency CDF as a standalone SVG: latency on a log x
// axis, and the percentile on a "nines" y axis (50%, 90%, 99%, 99.9% equally
// spaced), where tails differ. A linear y axis would squeeze everything that
// matters about hedging into the top pixel.
func WriteCDF(w io.Writer, title string, series []Series) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	nines := 1.0
	for _, s := range series {
		if len(s.Sorted) == 0 {
			continue
		}
		lo = min(lo, ms(s.Sorted[0]))
		hi = max(hi, ms(s.Sorted[len(s.Sorted)-1]))
		nines = max(nines, min(maxNines, math.Floor(math.Log10(float64(len(s.Sorted))))))
	}
	if math.IsInf(lo, 0) {
		lo, hi = 1, 10
	}
	x0 := math.Floor(math.Log10(max(lo, 0.01)))
	x1 := math.Ceil(math.Log10(max(hi, 0.01)))
	if x1 <= x0 {
		x1 = x0 + 1
	}
	xpos := func(v float64) float64 {
		return marginL + (math.Log10(max(v, 0.01))-x0)/(x1-x0)*innerW
	}
	ypos := func(n float64) float64 { return marginT + innerH - n/nines*innerH }

	b := bufio.NewWriter(w)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", plotW, plotH, plotW, plotH)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="white"/>`+"\n", plotW, plotH)
	fmt.Fprintf(b, `<text x="%d" y="24" font-size="15" font-weight="bold">%s</text>`+"\n", marginL, html.EscapeString(title))

	// Grid: decades (labelled) and 2..9 within each.
	for d := x0; d <= x1; d++ {
		x := xpos(math.Pow(10, d))
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#bbb"/>`+"\n", x, marginT, x, marginT+innerH)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, marginT+innerH+18, msLabel(math.Pow(10, d)))
		if d == x1 {
			break
		}
		for k := 2; k <= 9; k++ {
			x := xpos(float64(k) * math.Pow(10, d))
			fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`+"\n", x, marginT, x, marginT+innerH)
		}
	}
	for n := 0.0; n <= nines; n++ {
		y := ypos(n)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#bbb"/>`+"\n", marginL, y, marginL+innerW, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", marginL-6, y+4, ninesLabel(n))
	}
	y50 := ypos(math.Log10(2))
	fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", marginL, y50, marginL+innerW, y50)
	fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">50%%</text>`+"\n", marginL-6, y50+4)
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", marginL, marginT, innerW, innerH)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">latency (log scale)</text>`+"\n", marginL+innerW/2, plotH-14)
	fmt.Fprintf(b, `<text transform="translate(16 %d) rotate(-90)" text-anchor="middle">percentile</text>`+"\n", marginT+innerH/2)

	for i, s := range series {
		if len(s.Sorted) == 0 {
			continue
		}
		color := palette[i%len(palette)]
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2"%s points="`, color, dash)
		for k := 0; k <= plotPoints; k++ {
			n := nines * float64(k) / plotPoints
			q := 1 - math.Pow(10, -n)
			v := ms(Percentile(s.Sorted, max(q, 1e-9)))
			if k > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(b, "%.1f,%.1f", xpos(v), ypos(n))
		}
		b.WriteString("\"/>\n")
		ly := marginT + 10 + 22*i
		lx := marginL + innerW + 16
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", lx, ly, lx+28, ly, color, dash)
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`+"\n", lx+34, ly+4, html.EscapeString(s.Name))
	}
	b.WriteString("</svg>\n")
	return b.Flush()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msLabel(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%g s", v/1000)
	case v >= 1:
		return fmt.Sprintf("%g ms", v)
	default:
		return fmt.Sprintf("%g µs", v*1000)
	}
}

func ninesLabel(n float64) string {
	switch n {
	case 0:
		return "0%"
	case 1:
		return "90%"
	case 2:
		return "99%"
	case 3:
		return "99.9%"
	default:
		return "99.99%"
	}
}

// ValidXML reports whether s is well-formed XML, as a browser needs an
// SVG to be: the plot writers' tests check their output with it.
func ValidXML(s string) error {
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
