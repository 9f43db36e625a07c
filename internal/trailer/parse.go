package trailer

import "strings"

// This file ports the parts of git 2.39 that decide which lines of a commit
// message are trailers (trailer.c: find_trailer_start, find_separator,
// trailer_info_get, parse_trailer, unfold_value; commit.c:
// ignore_non_trailer; wt-status.c: wt_status_locate_end). It keeps git's
// structure and quirks on purpose: a reader that is "more sensible" than git
// would disagree with `git log` about what a commit records. The tests run
// git itself on every case to hold the port to it.

const (
	commentChar = '#'
	// cutLine is the scissors line `git commit --verbose` writes; git ignores
	// it and everything after it when looking for trailers.
	cutLine = "# ------------------------ >8 ------------------------\n"
)

// gitGeneratedPrefixes start lines git itself writes. One of them lets a
// paragraph count as a trailer block when only 25% of its lines are
// trailers.
var gitGeneratedPrefixes = []string{"Signed-off-by: ", "(cherry picked from commit "}

// Parse returns the trailers of a commit message in order, by git's rules,
// so that it agrees with `git log --format=%(trailers)` and with
// `git interpret-trailers --parse --no-divider`:
//
//   - The message ends at its first NUL byte, as git reads C strings.
//   - Everything from a scissors line ("# ------------------------ >8
//     ------------------------") on is ignored, and so is a final run of
//     blank lines, comment lines (starting with '#') and an old-style
//     "Conflicts:" block.
//   - The trailer block is the last paragraph, the lines after the last
//     blank (or whitespace-only) line. The first paragraph, the subject, is
//     never a trailer block (comment lines do not end it), so a message
//     without a blank line has no trailers.
//   - A trailer line is a token of ASCII letters, digits and '-', optional
//     spaces or tabs, and ':'. A line starting with whitespace continues the
//     previous trailer. The paragraph is a trailer block if all its lines
//     are trailers or continuations, or if at least 25% are trailers and one
//     starts with "Signed-off-by: " or "(cherry picked from commit ".
//   - Key and value are trimmed of space, tab, CR and LF (git's isspace, so
//     a CRLF message keeps a CR inside a folded value); continuation lines
//     are unfolded to single spaces, as --parse does. Comment lines and
//     non-trailer lines inside the block are skipped.
//
// Parse does not stop at a "---" line: git does for patches (`git
// interpret-trailers` without --no-divider, `git am`) but not for commit
// messages (`git log`, `git commit`). Build never writes such a line, so for
// its messages both readings agree.
func Parse(message string) []Trailer {
	if i := strings.IndexByte(message, 0); i >= 0 {
		message = message[:i]
	}
	return parse(message)
}

// parse reads the trailers of msg, which has no NUL byte and ends where git
// stops reading (the patch divider, if that applies, is already cut off).
func parse(msg string) []Trailer {
	end := len(msg) - ignoreNonTrailer(msg)
	start := findTrailerStart(msg[:end])
	block := msg[start:end]

	// Join continuation lines to the trailer they continue.
	var items []string
	continuable := false
	for i := 0; i < len(block); {
		j := nextLine(block, i)
		line := block[i:j]
		i = j
		if continuable && isSpace(line[0]) {
			items[len(items)-1] += line
			continue
		}
		items = append(items, line)
		continuable = findSeparator(line) >= 1
	}

	var trailers []Trailer
	for _, item := range items {
		if item[0] == commentChar {
			continue
		}
		pos := findSeparator(item)
		if pos < 1 {
			continue // a non-trailer line inside a 25% block
		}
		trailers = append(trailers, Trailer{
			Key:   trim(item[:pos]),
			Value: unfold(trim(item[pos+1:])),
		})
	}
	return trailers
}

// isSpace is git's isspace: only space, tab, LF and CR; not VT or FF.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// trim is git's strbuf_trim.
func trim(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

// nextLine returns the offset just after the line that starts at i.
func nextLine(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(s)
}

// lastLine returns the start of the last line of s[:n], -1 if n is 0. A
// final newline belongs to the last line.
func lastLine(s string, n int) int {
	if n == 0 {
		return -1
	}
	for i := n - 2; i >= 0; i-- {
		if s[i] == '\n' {
			return i + 1
		}
	}
	return 0
}

// isBlankLine reports whether the line starting at i holds only whitespace.
func isBlankLine(s string, i int) bool {
	for i < len(s) && s[i] != '\n' && isSpace(s[i]) {
		i++
	}
	return i == len(s) || s[i] == '\n'
}

// findSeparator returns the offset of the ':' in a line of the form
// "<token><optional spaces or tabs>:", 0 if the line starts with ':', and -1
// otherwise.
func findSeparator(line string) int {
	whitespace := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ':':
			return i
		case !whitespace && (isAlnum(c) || c == '-'):
		case i > 0 && (c == ' ' || c == '\t'):
			whitespace = true
		default:
			return -1
		}
	}
	return -1
}

// isPatchDivider reports whether the line starting s is "---" followed by
// whitespace, where `git interpret-trailers` and `git am` take a patch to
// begin.
func isPatchDivider(s string) bool {
	return len(s) > 3 && strings.HasPrefix(s, "---") && isSpace(s[3])
}

// findPatchStart returns the offset of the first patch divider line, or
// len(s).
func findPatchStart(s string) int {
	for i := 0; i < len(s); i = nextLine(s, i) {
		if isPatchDivider(s[i:]) {
			return i
		}
	}
	return len(s)
}

// locateEnd returns where the scissors line starts, or len(s).
func locateEnd(s string) int {
	if strings.HasPrefix(s, cutLine) {
		return 0
	}
	if i := strings.Index(s, "\n"+cutLine); i >= 0 {
		return i + 1
	}
	return len(s)
}

// ignoreNonTrailer returns how many bytes at the end of s are not part of
// the message proper: everything from the scissors line on, and a final run
// of blank lines, comment lines and "Conflicts:" blocks. Like git, it treats
// a run that starts at offset 0 as no run at all.
func ignoreNonTrailer(s string) int {
	boc, inConflicts := 0, false
	cutoff := locateEnd(s)
	for bol := 0; bol < cutoff; bol = nextLine(s, bol) {
		switch {
		case s[bol] == commentChar || s[bol] == '\n':
			if boc == 0 {
				boc = bol
			}
		case strings.HasPrefix(s[bol:], "Conflicts:\n"):
			inConflicts = true
			if boc == 0 {
				boc = bol
			}
		case inConflicts && s[bol] == '\t':
			// a path in the conflicts block
		case boc != 0:
			boc, inConflicts = 0, false
		}
	}
	if boc != 0 {
		return len(s) - boc
	}
	return len(s) - cutoff
}

// findTrailerStart returns the offset of the trailer block in s, or len(s)
// when the last paragraph is not one.
func findTrailerStart(s string) int {
	// The first paragraph is the title and cannot be trailers.
	endOfTitle := 0
	for endOfTitle < len(s) {
		if s[endOfTitle] != commentChar && isBlankLine(s, endOfTitle) {
			break
		}
		endOfTitle = nextLine(s, endOfTitle)
	}

	onlySpaces, recognized := true, false
	trailerLines, nonTrailerLines := 0, 0
	// Lines starting with whitespace count as continuations of a trailer
	// above them, or as non-trailers if a non-trailer is above them.
	possibleContinuations := 0
	for l := lastLine(s, len(s)); l >= endOfTitle; l = lastLine(s, l) {
		line := s[l:]
		if line[0] == commentChar {
			nonTrailerLines += possibleContinuations
			possibleContinuations = 0
			continue
		}
		if isBlankLine(s, l) {
			if onlySpaces {
				continue
			}
			nonTrailerLines += possibleContinuations
			if recognized && trailerLines*3 >= nonTrailerLines {
				return nextLine(s, l)
			}
			if trailerLines > 0 && nonTrailerLines == 0 {
				return nextLine(s, l)
			}
			return len(s)
		}
		onlySpaces = false

		if hasGitGeneratedPrefix(line) {
			trailerLines++
			possibleContinuations = 0
			recognized = true
			continue
		}
		switch {
		case findSeparator(line) >= 1 && !isSpace(line[0]):
			trailerLines++
			possibleContinuations = 0
			// git also recognises configured trailer.<token> keys here;
			// this package assumes none are configured.
		case isSpace(line[0]):
			possibleContinuations++
		default:
			nonTrailerLines += 1 + possibleContinuations
			possibleContinuations = 0
		}
	}
	return len(s)
}

func hasGitGeneratedPrefix(line string) bool {
	for _, p := range gitGeneratedPrefixes {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// unfold joins a folded value: each newline and the whitespace after it
// become one space, as `git interpret-trailers --unfold` does.
func unfold(v string) string {
	if !strings.Contains(v, "\n") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); {
		c := v[i]
		i++
		if c != '\n' {
			b.WriteByte(c)
			continue
		}
		for i < len(v) && isSpace(v[i]) {
			i++
		}
		b.WriteByte(' ')
	}
	return trim(b.String())
}
