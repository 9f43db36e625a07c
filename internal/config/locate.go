package config

import (
	"bytes"
	"strings"

	"github.com/BurntSushi/toml"
)

// locator finds the line of a table or key in TOML text. The decoder keeps
// key positions private, and error messages are only useful with a line, so
// we recover lines from the text itself: a line-oriented reading of table
// headers and "key =" lines is enough for the flat files laminar.toml is.
type locator struct {
	lines []string
}

func newLocator(data []byte) *locator {
	// A UTF-8 byte-order mark would hide a table header on the first line.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var lines []string
	for _, l := range bytes.Split(data, []byte("\n")) {
		lines = append(lines, strings.TrimSpace(string(l)))
	}
	return &locator{lines: lines}
}

// tableLine returns the line of the i-th [[name]] header (or of [name] when
// i < 0), or 0.
func (l *locator) tableLine(name string, i int) int {
	n := -1
	for idx, line := range l.lines {
		switch {
		case i >= 0 && headerName(line, true) == name:
			n++
			if n == i {
				return idx + 1
			}
		case i < 0 && headerName(line, false) == name:
			return idx + 1
		}
	}
	return 0
}

// keyLineIn returns the line where key is set inside the i-th [[table]]
// (or inside [table] when i < 0), or the table's header line when the key is
// not written there.
func (l *locator) keyLineIn(table string, i int, key string) int {
	start := l.tableLine(table, i)
	if start == 0 {
		return 0
	}
	for idx := start; idx < len(l.lines); idx++ {
		line := l.lines[idx]
		if strings.HasPrefix(line, "[") {
			break
		}
		if keyName(line) == key {
			return idx + 1
		}
	}
	return start
}

// keyLine returns the first line that sets the last element of k inside a
// table named by the element before it, for keys reported by the decoder.
func (l *locator) keyLine(k toml.Key) int {
	want := k[len(k)-1]
	table := ""
	if len(k) > 1 {
		table = strings.Join(k[:len(k)-1], ".")
	}
	current := ""
	for idx, line := range l.lines {
		if strings.HasPrefix(line, "[") {
			current = headerName(line, true)
			if current == "" {
				current = headerName(line, false)
			}
			if len(k) == 1 && current == want {
				return idx + 1
			}
			if table != "" && current == strings.Join(k, ".") {
				return idx + 1
			}
			continue
		}
		if current == table && keyName(line) == want {
			return idx + 1
		}
	}
	return 0
}

func headerName(line string, array bool) string {
	open, close := "[", "]"
	if array {
		open, close = "[[", "]]"
	}
	if !strings.HasPrefix(line, open) {
		return ""
	}
	if !array && strings.HasPrefix(line, "[[") {
		return ""
	}
	rest := line[len(open):]
	end := strings.Index(rest, close)
	if end < 0 {
		return ""
	}
	return strings.TrimSpace(rest[:end])
}

func keyName(line string) string {
	k, _, ok := strings.Cut(line, "=")
	if !ok || strings.HasPrefix(line, "#") {
		return ""
	}
	return strings.Trim(strings.TrimSpace(k), `"'`)
}
