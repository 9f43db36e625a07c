package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docSubstitutes are example commands a test cannot run as written, and
// the command a script runs in their place.
var docSubstitutes = map[string]string{
	// /var/lib is not the test's to write.
	"git laminar run --log-format json --metrics-file /var/lib/node_exporter/textfile/laminar.prom": "git laminar run --log-format json --metrics-file $WORK/laminar.prom",
	// /etc is not the test's either.
	"git laminar serve --fleet /etc/git-laminar/fleet.toml --listen 0.0.0.0:8080 --log-format json": "git laminar serve --fleet $WORK/fleet.toml --listen 0.0.0.0:8080 --log-format json",
}

// TestDocExamplesRun: every git laminar command line in the README's code
// blocks and the man page's indented examples is run, as written, by a
// script in testdata (script/doc_examples.txtar holds most of them).
func TestDocExamplesRun(t *testing.T) {
	examples := append(docCommands(t, "../../README.md", true), docCommands(t, "../../man/git-laminar.1.md", false)...)
	if len(examples) < 10 {
		t.Fatalf("found only %d example commands; has the documentation's layout changed?", len(examples))
	}
	run := scriptCommands(t)
	for _, ex := range examples {
		want := ex.cmd
		if sub, ok := docSubstitutes[want]; ok {
			want = sub
		}
		if !run[want] {
			t.Errorf("%s: no script runs the example %q", ex.where, want)
		}
	}
}

type docExample struct{ where, cmd string }

// docCommands reads the example commands of a Markdown file: the lines of
// fenced code blocks (fenced) or of blocks indented by four spaces.
func docCommands(t *testing.T, path string, fenced bool) []docExample {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []docExample
	in := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if fenced && strings.HasPrefix(line, "```") {
			in = !in
			continue
		}
		if fenced && !in || !fenced && !strings.HasPrefix(line, "    ") {
			continue
		}
		if cmd := exampleCommand(line); cmd != "" {
			out = append(out, docExample{where: filepath.Base(path) + ":" + itoa(n), cmd: cmd})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// exampleCommand is the git laminar command of a shell line, without what
// the shell does around it: a cron schedule and "cd ... &&" before it, a
// comment, redirections and pipes after it.
func exampleCommand(line string) string {
	i := strings.Index(line, "git laminar")
	if i < 0 || strings.Contains(line[:i], "`") {
		return ""
	}
	cmd := line[i:]
	for _, stop := range []string{" #", " >", " 2>", " |", " &&", " ;"} {
		if j := strings.Index(cmd, stop); j >= 0 {
			cmd = cmd[:j]
		}
	}
	return strings.Join(strings.Fields(cmd), " ")
}

var scriptExec = regexp.MustCompile(`^(?:\[[^]]*\]\s*)*!?\s*exec\s+(git laminar\b.*)$`)

// scriptCommands is the set of git laminar commands the scripts execute.
func scriptCommands(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("testdata/*/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	run := map[string]bool{}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "-- ") {
				break // the archive's files
			}
			if m := scriptExec.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
				run[strings.Join(strings.Fields(m[1]), " ")] = true
			}
		}
	}
	return run
}

func itoa(n int) string { return strconv.Itoa(n) }
