package fleet

import (
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// locator finds the line of a table or key in the text, for messages.
// BurntSushi/toml keeps positions to itself, so this reads the lines: it
// knows standard tables, arrays of tables and bare or quoted keys, which
// is how fleet files are written; anything else gets line 0 (unknown) or
// the line of its table.
type locator struct {
	lines []string
}

func newLocator(data []byte) *locator {
	return &locator{lines: strings.Split(string(data), "\n")}
}

var headerRE = regexp.MustCompile(`^\s*(\[\[?)\s*([^\]]*?)\s*(\]\]?)\s*(#.*)?$`)

// header returns the table name a line opens, and whether it opens an
// array-of-tables element.
func header(line string) (name string, array, ok bool) {
	m := headerRE.FindStringSubmatch(line)
	if m == nil {
		return "", false, false
	}
	name = strings.ReplaceAll(m[2], " ", "")
	name = strings.ReplaceAll(name, `"`, "")
	return name, m[1] == "[[", true
}

// tableLine is the 1-based line of the i-th [[name]] header, else 0.
func (l *locator) tableLine(name string, i int) int {
	n := 0
	for j, line := range l.lines {
		if h, array, ok := header(line); ok && array && h == name {
			if n == i {
				return j + 1
			}
			n++
		}
	}
	return 0
}

// headerLine is the line of the [name] header, else 0.
func (l *locator) headerLine(name string) int {
	for j, line := range l.lines {
		if h, _, ok := header(line); ok && h == name {
			return j + 1
		}
	}
	return 0
}

func keyAt(line, key string) bool {
	t := strings.TrimSpace(line)
	for _, k := range []string{key, `"` + key + `"`, `'` + key + `'`} {
		if rest, ok := strings.CutPrefix(t, k); ok && strings.HasPrefix(strings.TrimSpace(rest), "=") {
			return true
		}
	}
	return false
}

// keyLineIn is the line of key inside the i-th [[table]] element, else 0.
func (l *locator) keyLineIn(table string, i int, key string) int {
	start := l.tableLine(table, i)
	if start == 0 {
		return 0
	}
	for j := start; j < len(l.lines); j++ {
		if _, _, ok := header(l.lines[j]); ok {
			return 0
		}
		if keyAt(l.lines[j], key) {
			return j + 1
		}
	}
	return 0
}

// topLine is the line of a key before the first table header, else 0.
func (l *locator) topLine(key string) int {
	for j, line := range l.lines {
		if _, _, ok := header(line); ok {
			return 0
		}
		if keyAt(line, key) {
			return j + 1
		}
	}
	return 0
}

// keyLine finds an undecoded key: its last part under the table its
// leading parts name, counting [[repository]] elements in order.
func (l *locator) keyLine(k toml.Key) int {
	if len(k) == 1 {
		return l.topLine(k[0])
	}
	table := strings.Join(k[:len(k)-1], ".")
	last := k[len(k)-1]
	in := false
	for j, line := range l.lines {
		if h, _, ok := header(line); ok {
			in = h == table
			if h == strings.Join(k, ".") {
				return j + 1
			}
			continue
		}
		if in && keyAt(line, last) {
			return j + 1
		}
	}
	return 0
}
