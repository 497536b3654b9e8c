//go:build ignore

// render turns a `tmux capture-pane -e -p` dump (text with SGR colour
// escapes) into an HTML page that draws the terminal cell by cell, for
// headless Chromium to screenshot. make.sh runs it:
//
//	go run ./screenshots/render.go -cols 160 -rows 45 -o out.html capture.ansi
//
// Every glyph is placed at its own cell, so a fallback font (CJK, emoji,
// symbols) can never shift the columns after it, and box-drawing characters
// are drawn as lines so the pane borders join without gaps. Cell widths come
// from the C library's wcwidth, the same function tmux uses to lay out the
// pane, so the picture shows exactly the cells tmux holds. It needs cgo.
package main

/*
#define _XOPEN_SOURCE 700
#include <locale.h>
#include <wchar.h>
static int init_locale(void) { return setlocale(LC_CTYPE, "C.UTF-8") != 0; }
static int width(int r) { return wcwidth((wchar_t)r); }
*/
import "C"

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"log"
	"os"
	"strconv"
	"strings"
)

// Colours: a dark terminal (GitHub-dark-like, matching wsinspect's dark theme).
const (
	defaultFG = "#e6e6e6"
	defaultBG = "#0d1117"
)

var ansi16 = [16]string{
	"#484f58", "#ff7b72", "#3fb950", "#d29922", "#58a6ff", "#bc8cff", "#39c5cf", "#b1bac4",
	"#6e7681", "#ffa198", "#56d364", "#e3b341", "#79c0ff", "#d2a8ff", "#56d4dd", "#ffffff",
}

type style struct {
	fg, bg                                  string // "" = default
	bold, faint, italic, under, strike, rev bool
}

type cell struct {
	text  string // "" for the right half of a wide character
	width int
	st    style
}

func palette(n int) string {
	switch {
	case n < 16:
		return ansi16[n]
	case n < 232:
		n -= 16
		lv := func(v int) int {
			if v == 0 {
				return 0
			}
			return 55 + 40*v
		}
		return fmt.Sprintf("#%02x%02x%02x", lv(n/36), lv(n/6%6), lv(n%6))
	default:
		v := 8 + 10*(n-232)
		return fmt.Sprintf("#%02x%02x%02x", v, v, v)
	}
}

// sgr applies one SGR parameter list to st.
func sgr(st *style, params string) {
	if params == "" {
		*st = style{}
		return
	}
	ps := strings.FieldsFunc(params, func(r rune) bool { return r == ';' || r == ':' })
	num := func(i int) int {
		if i >= len(ps) {
			return 0
		}
		v, _ := strconv.Atoi(ps[i])
		return v
	}
	for i := 0; i < len(ps); i++ {
		p := num(i)
		switch {
		case p == 0:
			*st = style{}
		case p == 1:
			st.bold = true
		case p == 2:
			st.faint = true
		case p == 3:
			st.italic = true
		case p == 4:
			st.under = true
		case p == 7:
			st.rev = true
		case p == 9:
			st.strike = true
		case p == 22:
			st.bold, st.faint = false, false
		case p == 23:
			st.italic = false
		case p == 24:
			st.under = false
		case p == 27:
			st.rev = false
		case p == 29:
			st.strike = false
		case p >= 30 && p <= 37:
			st.fg = ansi16[p-30]
		case p >= 90 && p <= 97:
			st.fg = ansi16[p-90+8]
		case p >= 40 && p <= 47:
			st.bg = ansi16[p-40]
		case p >= 100 && p <= 107:
			st.bg = ansi16[p-100+8]
		case p == 39:
			st.fg = ""
		case p == 49:
			st.bg = ""
		case p == 38 || p == 48 || p == 58:
			var c string
			if num(i+1) == 5 {
				c = palette(num(i + 2))
				i += 2
			} else if num(i+1) == 2 {
				c = fmt.Sprintf("#%02x%02x%02x", num(i+2), num(i+3), num(i+4))
				i += 4
			}
			if p == 38 {
				st.fg = c
			} else if p == 48 {
				st.bg = c
			}
		}
	}
}

// parse lays the capture out on a cols×rows grid.
func parse(data string, cols, rows int) ([][]cell, []string) {
	grid := make([][]cell, rows)
	var warnings []string
	lines := strings.Split(strings.TrimSuffix(data, "\n"), "\n")
	var st style // tmux -e carries attributes over from one line to the next
	for y := 0; y < rows; y++ {
		row := make([]cell, cols)
		for x := range row {
			row[x] = cell{text: " ", width: 1}
		}
		grid[y] = row
		if y >= len(lines) {
			continue
		}
		line := lines[y]
		x, last := 0, -1
		for i := 0; i < len(line); {
			if line[i] == 0x1b {
				j := i + 1
				if j < len(line) && line[j] == '[' {
					k := j + 1
					for k < len(line) && (line[k] < 0x40 || line[k] > 0x7e) {
						k++
					}
					if k < len(line) && line[k] == 'm' {
						sgr(&st, line[j+1:k])
					}
					i = k + 1
					continue
				}
				i = j + 1 // other escapes: skip ESC and the next byte
				continue
			}
			r, size := []rune(line[i : i+utf8Len(line[i])])[0], utf8Len(line[i])
			s := line[i : i+size]
			i += size
			w := int(C.width(C.int(r)))
			if w < 0 {
				w = 1 // tmux treats unknown widths as 1
			}
			if w == 0 {
				if last >= 0 {
					row[last].text += s
				}
				continue
			}
			if x+w > cols {
				warnings = append(warnings, fmt.Sprintf("row %d: wider than %d columns", y+1, cols))
				break
			}
			row[x] = cell{text: s, width: w, st: st}
			for k := 1; k < w; k++ {
				row[x+k] = cell{text: "", width: 0, st: st}
			}
			last = x
			x += w
		}
		// Cells past the text stay default: tmux trims only trailing
		// blanks of the default colour.
		_ = x
	}
	return grid, warnings
}

func utf8Len(b byte) int {
	switch {
	case b < 0x80:
		return 1
	case b>>5 == 0x6:
		return 2
	case b>>4 == 0xe:
		return 3
	case b>>3 == 0x1e:
		return 4
	}
	return 1
}

// colours returns the effective foreground and background of st.
func colours(st style) (fg, bg string) {
	fg, bg = st.fg, st.bg
	if fg == "" {
		fg = defaultFG
	}
	if bg == "" {
		bg = defaultBG
	}
	if st.rev {
		fg, bg = bg, fg
	}
	return fg, bg
}

// arms of the box-drawing characters drawn as lines: left, right, up, down;
// 1 light, 2 heavy. Rounded corners are marked with round.
type box struct {
	l, r, u, d int
	round      bool
}

var boxes = map[string]box{
	"─": {1, 1, 0, 0, false}, "│": {0, 0, 1, 1, false},
	"━": {2, 2, 0, 0, false}, "┃": {0, 0, 2, 2, false},
	"┌": {0, 1, 0, 1, false}, "┐": {1, 0, 0, 1, false},
	"└": {0, 1, 1, 0, false}, "┘": {1, 0, 1, 0, false},
	"╭": {0, 1, 0, 1, true}, "╮": {1, 0, 0, 1, true},
	"╰": {0, 1, 1, 0, true}, "╯": {1, 0, 1, 0, true},
	"├": {0, 1, 1, 1, false}, "┤": {1, 0, 1, 1, false},
	"┬": {1, 1, 0, 1, false}, "┴": {1, 1, 1, 0, false},
	"┼": {1, 1, 1, 1, false},
	"╴": {1, 0, 0, 0, false}, "╶": {0, 1, 0, 0, false},
	"╵": {0, 0, 1, 0, false}, "╷": {0, 0, 0, 1, false},
}

func main() {
	cols := flag.Int("cols", 160, "terminal columns")
	rows := flag.Int("rows", 45, "terminal rows")
	cw := flag.Float64("cw", 9, "cell width in px")
	ch := flag.Float64("ch", 19, "cell height in px")
	fontSize := flag.Float64("font", 15, "font size in px")
	pad := flag.Float64("pad", 14, "padding around the terminal in px")
	out := flag.String("o", "", "output HTML file")
	cursor := flag.String("cursor", "", "x,y of a block cursor to draw (tmux's cursor_x,cursor_y), or empty")
	flag.Parse()
	if flag.NArg() != 1 || *out == "" {
		log.Fatal("usage: render [-cols N -rows N] -o out.html capture.ansi")
	}
	if C.init_locale() == 0 {
		log.Fatal("render: the C.UTF-8 locale is missing")
	}
	data, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	grid, warnings := parse(string(data), *cols, *rows)
	for _, w := range warnings {
		fmt.Fprintf(os.Stderr, "render: %s: %s\n", flag.Arg(0), w)
	}
	if *cursor != "" {
		var x, y int
		if _, err := fmt.Sscanf(*cursor, "%d,%d", &x, &y); err != nil {
			log.Fatalf("render: bad -cursor %q", *cursor)
		}
		if y >= 0 && y < len(grid) && x >= 0 && x < len(grid[y]) {
			c := &grid[y][x]
			if c.width == 0 && x > 0 {
				c = &grid[y][x-1]
			}
			c.st.rev = !c.st.rev
		}
	}

	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriter(f)
	W, H := float64(*cols)**cw, float64(*rows)**ch
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><style>
html,body{margin:0;padding:0;background:%s}
#t{position:relative;width:%.0fpx;height:%.0fpx;margin:%.0fpx;overflow:hidden;
 font-family:"DejaVu Sans Mono","Noto Sans Mono CJK SC","Noto Color Emoji","DejaVu Sans","Symbola",monospace;
 font-size:%.1fpx;line-height:%.0fpx;font-variant-ligatures:none;-webkit-font-smoothing:antialiased}
#t div,#t span{position:absolute;white-space:pre;height:%.0fpx}
#t span{overflow:visible}
svg{position:absolute;left:0;top:0}
</style></head><body><div id="t">
`, defaultBG, W, H, *pad, *fontSize, *ch, *ch)

	// Backgrounds, merged into runs.
	for y, row := range grid {
		for x := 0; x < len(row); {
			_, bg := colours(row[x].st)
			x0 := x
			for x < len(row) {
				if _, b := colours(row[x].st); b != bg {
					break
				}
				x++
			}
			if bg != defaultBG {
				fmt.Fprintf(w, `<div style="left:%.0fpx;top:%.0fpx;width:%.0fpx;background:%s"></div>`+"\n",
					float64(x0)**cw, float64(y)**ch, float64(x-x0)**cw, bg)
			}
		}
	}
	// Glyphs, one element per cell; lines for box drawing.
	var lines strings.Builder
	for y, row := range grid {
		for x, c := range row {
			if c.width == 0 || c.text == " " {
				continue
			}
			fg, _ := colours(c.st)
			if c.st.faint {
				fg = fg + "99"
			}
			left, top := float64(x)**cw, float64(y)**ch
			if b, ok := boxes[c.text]; ok {
				drawBox(&lines, b, left, top, *cw, *ch, fg)
				continue
			}
			var css strings.Builder
			fmt.Fprintf(&css, "left:%.0fpx;top:%.0fpx;width:%.0fpx;color:%s", left, top, float64(c.width)**cw, fg)
			if c.st.bold {
				css.WriteString(";font-weight:bold")
			}
			if c.st.italic {
				css.WriteString(";font-style:italic")
			}
			var deco []string
			if c.st.under {
				deco = append(deco, "underline")
			}
			if c.st.strike {
				deco = append(deco, "line-through")
			}
			if len(deco) > 0 {
				css.WriteString(";text-decoration:" + strings.Join(deco, " "))
			}
			if c.width > 1 {
				css.WriteString(";text-align:center")
			}
			fmt.Fprintf(w, `<span style="%s">%s</span>`+"\n", css.String(), html.EscapeString(c.text))
		}
	}
	fmt.Fprintf(w, `<svg width="%.0f" height="%.0f" shape-rendering="crispEdges">%s</svg>`+"\n", W, H, lines.String())
	fmt.Fprintln(w, `</div></body></html>`)
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// drawBox draws one box-drawing cell as SVG lines through the cell centre.
func drawBox(sb *strings.Builder, b box, left, top, cw, ch float64, colour string) {
	cx := left + float64(int(cw/2)) + 0.5
	cy := top + float64(int(ch/2)) + 0.5
	right, bottom := left+cw, top+ch
	seg := func(x1, y1, x2, y2 float64, weight int) {
		fmt.Fprintf(sb, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%d"/>`,
			x1, y1, x2, y2, colour, weight)
	}
	if b.round {
		// A quarter circle from the horizontal arm to the vertical arm.
		r := cw / 2
		var path string
		switch {
		case b.r > 0 && b.d > 0: // ╭
			path = fmt.Sprintf("M%.1f %.1f H%.1f A%.1f %.1f 0 0 0 %.1f %.1f V%.1f", right, cy, cx+r, r, r, cx, cy+r, bottom)
		case b.l > 0 && b.d > 0: // ╮
			path = fmt.Sprintf("M%.1f %.1f H%.1f A%.1f %.1f 0 0 1 %.1f %.1f V%.1f", left, cy, cx-r, r, r, cx, cy+r, bottom)
		case b.r > 0 && b.u > 0: // ╰
			path = fmt.Sprintf("M%.1f %.1f V%.1f A%.1f %.1f 0 0 0 %.1f %.1f H%.1f", cx, top, cy-r, r, r, cx+r, cy, right)
		case b.l > 0 && b.u > 0: // ╯
			path = fmt.Sprintf("M%.1f %.1f V%.1f A%.1f %.1f 0 0 1 %.1f %.1f H%.1f", cx, top, cy-r, r, r, cx-r, cy, left)
		}
		fmt.Fprintf(sb, `<path d="%s" fill="none" stroke="%s" stroke-width="1" shape-rendering="geometricPrecision"/>`, path, colour)
		return
	}
	if b.l > 0 {
		seg(left, cy, cx, cy, b.l)
	}
	if b.r > 0 {
		seg(cx, cy, right, cy, b.r)
	}
	if b.u > 0 {
		seg(cx, top, cx, cy, b.u)
	}
	if b.d > 0 {
		seg(cx, cy, cx, bottom, b.d)
	}
}
