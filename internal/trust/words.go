package trust

import (
	"path"
	"slices"
	"strings"
)

// A candidate is a repository path an exec command may run: a word of the
// command, or a makefile make would read. Cover keeps those that are
// tracked.
type candidate struct {
	path string
	kind string // KindCommand or KindMakefile
}

// maxDirs bounds the folders a command may cd into that are tried as the
// base of its relative words.
const maxDirs = 16

// candidates lists the repository paths that the shell command cmd names,
// as the shell would run it from the repository root. It reads as much of
// the shell grammar as finding file names needs (quotes, escapes,
// separators, cd, make's -f and -C, the string of sh -c and eval); where
// it cannot tell, it errs towards
// naming more: every word is a candidate, relative to the root and to each
// folder the command cd's into, and so is every run of plain characters in
// the raw text (which finds names inside "$(...)"). Naming a path that is
// not a file costs nothing: Cover keeps only tracked paths. root is the
// absolute top of the working tree, so "$LAMINAR_REPO_ROOT/x" and
// "/srv/repo/x" name x.
func candidates(cmd, root string) []candidate {
	r := &reader{root: root, seen: map[candidate]bool{}}
	r.read(cmd, []string{""}, 0)
	return r.out
}

// maxDepth bounds how deep sh -c and eval strings are read as commands.
const maxDepth = 4

type reader struct {
	root string
	seen map[candidate]bool
	out  []candidate
}

func (r *reader) add(p, kind string) {
	c := candidate{p, kind}
	if !r.seen[c] {
		r.seen[c] = true
		r.out = append(r.out, c)
	}
}

// read adds what cmd names when run from each of dirs.
func (r *reader) read(cmd string, dirs []string, depth int) {
	root, add := r.root, r.add
	dirs = slices.Clip(dirs) // a cd in here is not the caller's
	for _, words := range simpleCommands(cmd) {
		for _, w := range words {
			for _, v := range variants(w) {
				for _, d := range dirs {
					if p, ok := repoPath(d, v, root); ok {
						add(p, KindCommand)
					}
				}
			}
		}
		args := commandArgs(words)
		if len(args) == 0 {
			continue
		}
		switch name := path.Base(args[0]); {
		case name == "cd" && len(args) > 1:
			target := args[len(args)-1]
			var next []string
			for _, d := range dirs {
				if p, ok := repoDir(d, target, root); ok && len(dirs)+len(next) < maxDirs {
					next = append(next, p)
				}
			}
			dirs = append(dirs, next...)
		case name == "make" || name == "gmake":
			for _, d := range dirs {
				for _, p := range makefiles(d, args[1:], root) {
					add(p, KindMakefile)
				}
			}
		case shells[name] && depth < maxDepth:
			// sh -c 'cd charts && make': the string is a command of its own.
			for i, a := range args[1:] {
				if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "c") && i+2 < len(args) {
					r.read(args[i+2], dirs, depth+1)
					break
				}
			}
		case name == "eval" && depth < maxDepth:
			r.read(strings.Join(args[1:], " "), dirs, depth+1)
		}
	}
	for _, tok := range rawTokens(cmd) {
		for _, d := range dirs {
			if p, ok := repoPath(d, tok, root); ok {
				add(p, KindCommand)
			}
		}
	}
}

// variants are the spellings of a word that may name a file: the word, and
// what follows its first "=" (FOO=./x.sh, --values=charts/v.yaml).
func variants(w string) []string {
	out := []string{w}
	if _, v, ok := strings.Cut(w, "="); ok && v != "" {
		out = append(out, v)
	}
	return out
}

// rootVars are the spellings of the repository root a command may use:
// LAMINAR_REPO_ROOT is set to it, and the commands run there.
var rootVars = []string{"$LAMINAR_REPO_ROOT/", "${LAMINAR_REPO_ROOT}/", "$PWD/", "${PWD}/"}

// repoPath resolves the word w, relative to the repository folder dir, to a
// clean repository path, if it names one inside the repository.
func repoPath(dir, w, root string) (string, bool) {
	if w == "" || strings.ContainsRune(w, 0) {
		return "", false
	}
	for _, v := range rootVars {
		if rest, ok := strings.CutPrefix(w, v); ok {
			w, dir = rest, ""
			break
		}
	}
	if strings.HasPrefix(w, "/") {
		if root == "" || !strings.HasPrefix(w, strings.TrimSuffix(root, "/")+"/") {
			return "", false
		}
		w, dir = strings.TrimPrefix(w, strings.TrimSuffix(root, "/")+"/"), ""
	}
	p := path.Clean(path.Join(dir, w))
	if p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
		return "", false
	}
	return p, true
}

// repoDir is repoPath for a folder; the root itself is "".
func repoDir(dir, w, root string) (string, bool) {
	if w == "." || w == "./" {
		return dir, true
	}
	if strings.TrimSuffix(w, "/") == strings.TrimSuffix(root, "/") && root != "" {
		return "", true
	}
	return repoPath(dir, w, root)
}

// commandArgs drops what comes before the program of a simple command:
// variable assignments, and keywords and wrappers that run the words
// after them (if, then, !, env, exec, command, time, nice, nohup).
func commandArgs(words []string) []string {
	for len(words) > 0 {
		w := words[0]
		switch {
		case isAssignment(w):
		case wrappers[w]:
		default:
			return words
		}
		words = words[1:]
	}
	return nil
}

var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "ash": true}

var wrappers = map[string]bool{
	"{": true, "!": true, "if": true, "then": true, "else": true, "elif": true, "do": true,
	"while": true, "until": true, "env": true, "exec": true, "command": true, "time": true,
	"nice": true, "nohup": true,
}

func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" {
		return false
	}
	for i, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// makefiles lists the makefiles make reads when run in the repository
// folder dir with args: every -f FILE (--file, --makefile), taken from the
// folder the -C options lead to; without -f, the GNUmakefile, makefile and
// Makefile of that folder, since make reads the first that exists.
func makefiles(dir string, args []string, root string) []string {
	var files []string
	ok := true
	chdir := func(d string) {
		if !ok {
			return
		}
		dir, ok = repoDir(dir, d, root)
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch {
		case a == "--":
			i = len(args)
		case a == "--file" || a == "--makefile":
			files = append(files, next())
		case a == "--directory":
			chdir(next())
		case strings.HasPrefix(a, "--file="), strings.HasPrefix(a, "--makefile="):
			_, v, _ := strings.Cut(a, "=")
			files = append(files, v)
		case strings.HasPrefix(a, "--directory="):
			_, v, _ := strings.Cut(a, "=")
			chdir(v)
		case strings.HasPrefix(a, "--") || !strings.HasPrefix(a, "-"):
		default:
			// A cluster of short options: -sf FILE, -Cdir, -kj4.
			for k := 1; k < len(a); k++ {
				v := a[k+1:]
				switch a[k] {
				case 'f', 'C':
					if v == "" {
						v = next()
					}
					if a[k] == 'f' {
						files = append(files, v)
					} else {
						chdir(v)
					}
				case 'I', 'o', 'W', 'E':
					if v == "" {
						next()
					}
				default:
					continue
				}
				break
			}
		}
	}
	if !ok {
		return nil
	}
	if len(files) == 0 {
		files = []string{"GNUmakefile", "makefile", "Makefile"}
	}
	var out []string
	for _, f := range files {
		if f == "-" {
			continue
		}
		if p, ok := repoPath(dir, f, root); ok {
			out = append(out, p)
		}
	}
	return out
}

// simpleCommands splits a shell command into its simple commands, each a
// list of words with quoting removed. Separators (newline ; & | && || ( )
// and the backquote) and the start of "$(" end a simple command, so that
// the command substituted inside is read as one of its own; redirections
// end a word.
func simpleCommands(s string) [][]string {
	var cmds [][]string
	var words []string
	var cur strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			words = append(words, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, words)
			words = nil
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 < len(s) {
				i++
				if s[i] != '\n' {
					cur.WriteByte(s[i])
					inWord = true
				}
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`\n", s[i+1]) >= 0 {
					i++
					if s[i] != '\n' {
						cur.WriteByte(s[i])
					}
					continue
				}
				cur.WriteByte(s[i])
			}
		case c == '#' && !inWord:
			for i+1 < len(s) && s[i+1] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\r':
			endWord()
		case c == '<' || c == '>':
			endWord()
			if i+1 < len(s) && (s[i+1] == '&' || s[i+1] == '|') {
				i++ // 2>&1, >|
			}
		case c == '&' && i+1 < len(s) && s[i+1] == '>':
			endWord() // &> file
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			endCmd()
			i++
		case c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '`':
			endCmd()
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds
}

// rawTokens are the runs of characters of s that are not whitespace,
// quotes or shell punctuation: a second, grammar-free reading that finds
// names the first one may miss.
func rawTokens(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return strings.ContainsRune(" \t\r\n;&|()<>'\"`$={}\\", r)
	})
}
