package diff

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var errBinaryPatch = errors.New("binary patch")

var hunkRE = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(?: .*)?\n$`)

// applyPatch is a strict applier for one file's unified diff, independent
// of the code under test: every context and removed line must match old
// exactly at the position the hunk header names, the counts in the header
// must match the body, and "\ No newline at end of file" removes the
// newline of the line before it.
func applyPatch(old, patch []byte) ([]byte, error) {
	if len(patch) == 0 {
		return old, nil
	}
	oldLines := splitLines(old)
	pl := splitLines(patch)
	i := 0
	for i < len(pl) && !bytes.HasPrefix(pl[i], []byte("@@")) {
		if bytes.HasPrefix(pl[i], []byte("Binary files ")) {
			return nil, errBinaryPatch
		}
		i++
	}
	if i == len(pl) {
		return nil, fmt.Errorf("no hunks in patch")
	}
	var out []byte
	cursor := 0 // next old line to copy
	newCount := 0
	for i < len(pl) {
		m := hunkRE.FindSubmatch(pl[i])
		if m == nil {
			return nil, fmt.Errorf("line %d: bad hunk header %q", i+1, pl[i])
		}
		num := func(b []byte, def int) int {
			if b == nil {
				return def
			}
			n, _ := strconv.Atoi(string(b))
			return n
		}
		s1, c1, s2, c2 := num(m[1], 0), num(m[2], 1), num(m[3], 0), num(m[4], 1)
		if c1 == 0 && len(m[2]) == 0 || c2 == 0 && len(m[4]) == 0 {
			return nil, fmt.Errorf("line %d: implicit count 1 must not be 0", i+1)
		}
		pos1, pos2 := s1-1, s2-1
		if c1 == 0 {
			pos1 = s1
		}
		if c2 == 0 {
			pos2 = s2
		}
		if pos1 < cursor || pos1 > len(oldLines) {
			return nil, fmt.Errorf("line %d: hunk starts at old line %d, cursor at %d", i+1, pos1, cursor)
		}
		for ; cursor < pos1; cursor++ {
			out = append(out, oldLines[cursor]...)
			newCount++
		}
		if pos2 != newCount {
			return nil, fmt.Errorf("line %d: hunk starts at new line %d, expected %d", i+1, pos2, newCount)
		}
		i++
		n1, n2 := 0, 0
		for i < len(pl) && !bytes.HasPrefix(pl[i], []byte("@@")) {
			l := pl[i]
			if len(l) < 2 || l[len(l)-1] != '\n' {
				return nil, fmt.Errorf("line %d: malformed %q", i+1, l)
			}
			body := l[1:]
			if i+1 < len(pl) && bytes.HasPrefix(pl[i+1], []byte(`\`)) {
				if string(pl[i+1]) != noNewline+"\n" {
					return nil, fmt.Errorf("line %d: bad marker %q", i+2, pl[i+1])
				}
				body = body[:len(body)-1]
			}
			switch l[0] {
			case ' ', '-':
				if cursor >= len(oldLines) || !bytes.Equal(oldLines[cursor], body) {
					return nil, fmt.Errorf("line %d: %q does not match old line %d", i+1, l, cursor+1)
				}
				cursor++
				n1++
				if l[0] == ' ' {
					out = append(out, body...)
					n2++
					newCount++
				}
			case '+':
				out = append(out, body...)
				n2++
				newCount++
			case '\\':
				if i == 0 || pl[i-1][0] == '\\' {
					return nil, fmt.Errorf("line %d: stray marker", i+1)
				}
			default:
				return nil, fmt.Errorf("line %d: unknown line %q", i+1, l)
			}
			i++
		}
		if n1 != c1 || n2 != c2 {
			return nil, fmt.Errorf("hunk @@ -%d,%d +%d,%d @@ has %d/%d lines", s1, c1, s2, c2, n1, n2)
		}
	}
	for ; cursor < len(oldLines); cursor++ {
		out = append(out, oldLines[cursor]...)
	}
	return out, nil
}

// checkRoundTrip asserts the properties every diff must have: applying it
// to old gives new, colour is only added escape codes, and equal inputs
// give no output.
func checkRoundTrip(t *testing.T, old, new []byte, ctx int) {
	t.Helper()
	f := File{Path: "f", Old: old, New: new, Mode: "100644"}
	opt := ctxOptions(ctx)
	var plain, colored bytes.Buffer
	if err := Unified(&plain, f, opt); err != nil {
		t.Fatalf("-U%d: %v", ctx, err)
	}
	opt.Color = true
	if err := Unified(&colored, f, opt); err != nil {
		t.Fatalf("-U%d colour: %v", ctx, err)
	}
	if !bytes.Equal(stripANSI(colored.Bytes()), plain.Bytes()) {
		t.Fatalf("-U%d: colour output without escapes differs from plain:\n%s", ctx, cmp.Diff(plain.String(), string(stripANSI(colored.Bytes()))))
	}
	if bytes.Equal(old, new) {
		if plain.Len() != 0 {
			t.Fatalf("-U%d: equal inputs gave %q", ctx, plain.Bytes())
		}
		return
	}
	got, err := applyPatch(old, plain.Bytes())
	if errors.Is(err, errBinaryPatch) {
		if !isBinary(old) && !isBinary(new) {
			t.Fatalf("-U%d: text input gave a binary patch", ctx)
		}
		return
	}
	if err != nil {
		t.Fatalf("-U%d: %v\npatch:\n%s", ctx, err, plain.Bytes())
	}
	if !bytes.Equal(got, new) {
		t.Fatalf("-U%d: applying the patch gave %q, want %q\npatch:\n%s", ctx, got, new, plain.Bytes())
	}
}

func FuzzUnified(f *testing.F) {
	for _, tc := range diffCases() {
		f.Add([]byte(tc.old), []byte(tc.new))
	}
	f.Fuzz(func(t *testing.T, old, new []byte) {
		for _, ctx := range []int{0, 1, 3} {
			checkRoundTrip(t, old, new, ctx)
		}
	})
}

func TestApplyPatchRejects(t *testing.T) {
	old := []byte("a\nb\nc\n")
	for name, patch := range map[string]string{
		"wrong context": "@@ -1,2 +1,2 @@\n x\n-b\n+B\n",
		"wrong count":   "@@ -1,3 +1,3 @@\n a\n-b\n+B\n",
		"wrong start":   "@@ -1 +2 @@\n-a\n+A\n",
	} {
		if _, err := applyPatch(old, []byte(patch)); err == nil {
			t.Errorf("%s: applied", name)
		}
	}
}
