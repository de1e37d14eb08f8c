package lab

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
)

// Timeline is a grid of small charts ("small multiples") of rates over
// time that share both axes, so that panels compare at a glance: one
// panel per arm and scenario, say, each with a line per quantity.
type Timeline struct {
	// Title heads the plot.
	Title string
	// XLabel and YLabel name the axes, e.g. "seconds" and "per second".
	XLabel, YLabel string
	// Columns is the number of panels per row; if zero, all in one row.
	Columns int
	// Kinds names the line kinds, in the order every panel's Lines use
	// them: line i of each panel is drawn in kind i's color, and the legend
	// lists the kinds once.
	Kinds []LineKind
	// Ref, if positive, draws a dashed horizontal reference line at that
	// value in every panel (a quota, a target), labelled RefLabel.
	Ref      float64
	RefLabel string
	// Panels are laid out row by row.
	Panels []Panel
}

// LineKind is the look of one kind of line in a [Timeline].
type LineKind struct {
	Name   string
	Dashed bool
}

// Panel is one chart of a [Timeline].
type Panel struct {
	Title string
	// Lines holds one series per kind; Lines[i][t] is the value in the
	// t-th step (e.g. second) of the run. A nil series draws nothing.
	Lines [][]float64
}

// Timeline geometry, in SVG user units.
const (
	panelW, panelH     = 210, 130
	panelGapX          = 18
	panelGapY          = 44
	tlMarginL          = 56
	tlMarginT          = 64
	tlMarginR          = 16
	tlMarginB          = 40
	timelineMaxColumns = 12
)

// WriteTimeline writes tl as a standalone SVG. The y axis is linear from 0
// to the largest value of any panel, so heights compare across panels.
func WriteTimeline(w io.Writer, tl Timeline) error {
	cols := tl.Columns
	if cols <= 0 {
		cols = max(len(tl.Panels), 1)
	}
	cols = min(cols, timelineMaxColumns, max(len(tl.Panels), 1))
	rows := max((len(tl.Panels)+cols-1)/cols, 1)
	width := tlMarginL + cols*panelW + (cols-1)*panelGapX + tlMarginR
	height := tlMarginT + rows*panelH + (rows-1)*panelGapY + tlMarginB

	steps, top := 1, tl.Ref
	for _, p := range tl.Panels {
		for _, l := range p.Lines {
			steps = max(steps, len(l))
			for _, v := range l {
				top = max(top, v)
			}
		}
	}
	top = niceCeil(top)

	b := bufio.NewWriter(w)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="white"/>`+"\n", width, height)
	fmt.Fprintf(b, `<text x="%d" y="20" font-size="15" font-weight="bold">%s</text>`+"\n", tlMarginL, html.EscapeString(tl.Title))
	// Legend: one entry per kind, then the reference line.
	lx := tlMarginL
	for i, k := range tl.Kinds {
		fmt.Fprintf(b, `<line x1="%d" y1="38" x2="%d" y2="38" stroke="%s" stroke-width="2"%s/>`+"\n", lx, lx+24, kindColor(i), dashAttr(k.Dashed))
		fmt.Fprintf(b, `<text x="%d" y="42">%s</text>`+"\n", lx+30, html.EscapeString(k.Name))
		lx += 40 + 7*len(k.Name)
	}
	if tl.Ref > 0 {
		fmt.Fprintf(b, `<line x1="%d" y1="38" x2="%d" y2="38" stroke="#555" stroke-dasharray="2 3"/>`+"\n", lx, lx+24)
		fmt.Fprintf(b, `<text x="%d" y="42">%s</text>`+"\n", lx+30, html.EscapeString(tl.RefLabel))
	}

	for i, p := range tl.Panels {
		x0 := float64(tlMarginL + (i%cols)*(panelW+panelGapX))
		y0 := float64(tlMarginT + (i/cols)*(panelH+panelGapY))
		xpos := func(t float64) float64 { return x0 + t/float64(steps)*panelW }
		ypos := func(v float64) float64 { return y0 + panelH - v/top*panelH }
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-weight="bold">%s</text>`+"\n", x0, y0-6, html.EscapeString(p.Title))
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", x0, y0, panelW, panelH)
		for _, v := range []float64{top / 2, top} {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#eee"/>`+"\n", x0, ypos(v), x0+panelW, ypos(v))
		}
		if i%cols == 0 {
			for _, v := range []float64{0, top / 2, top} {
				fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end">%g</text>`+"\n", x0-4, ypos(v)+4, v)
			}
		}
		if i+cols >= len(tl.Panels) { // no panel below: label the time axis
			for _, t := range []int{0, steps / 2, steps} {
				fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%d</text>`+"\n", xpos(float64(t)), y0+panelH+14, t)
			}
		}
		if tl.Ref > 0 {
			fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555" stroke-dasharray="2 3"/>`+"\n", x0, ypos(tl.Ref), x0+panelW, ypos(tl.Ref))
		}
		for k, l := range p.Lines {
			if len(l) == 0 {
				continue
			}
			// A step plot: each value holds for its whole interval.
			fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.5"%s points="`, kindColor(k), dashAttr(k < len(tl.Kinds) && tl.Kinds[k].Dashed))
			for t, v := range l {
				if t > 0 {
					b.WriteByte(' ')
				}
				fmt.Fprintf(b, "%.1f,%.1f %.1f,%.1f", xpos(float64(t)), ypos(v), xpos(float64(t+1)), ypos(v))
			}
			b.WriteString("\"/>\n")
		}
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", tlMarginL+(width-tlMarginL-tlMarginR)/2, height-8, html.EscapeString(tl.XLabel))
	fmt.Fprintf(b, `<text transform="translate(14 %d) rotate(-90)" text-anchor="middle">%s</text>`+"\n", tlMarginT+rows*panelH/2, html.EscapeString(tl.YLabel))
	b.WriteString("</svg>\n")
	return b.Flush()
}

// kindColor skips the palette's gray, which the reference line uses.
func kindColor(i int) string { return palette[1+i%(len(palette)-1)] }

func dashAttr(dashed bool) string {
	if dashed {
		return ` stroke-dasharray="5 3"`
	}
	return ""
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, so axis labels
// are round numbers.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}
