package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dockerfile is what the tests read of ../Dockerfile.
type dockerfile struct {
	args       map[string]string // ARG defaults
	froms      []string
	buildEnv   map[string]string // ENV of the build stage
	goBuild    []string          // the go build command, as words
	runtimeRun []string          // the RUN lines of the last stage
	copyFrom   string            // the source of COPY --from=build
	user       string
	entrypoint []string
	cmd        []string
	volumes    []string
	expose     []string
}

// logicalLines joins continued lines and drops comments.
func logicalLines(text string) []string {
	var lines []string
	var cur strings.Builder
	for line := range strings.SplitSeq(text, "\n") {
		t := strings.TrimSpace(line)
		if cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\") + " ")
			continue
		}
		cur.WriteString(t)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	return lines
}

// words splits a shell command line as sh would for plain words and
// quotes; $ stays as written.
func words(s string) []string {
	var ws []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				j = len(s) - i - 1
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				ws = append(ws, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		ws = append(ws, w.String())
	}
	return ws
}

func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	df := dockerfile{args: map[string]string{}, buildEnv: map[string]string{}}
	stage := -1
	for _, line := range logicalLines(string(b)) {
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		exec := func() []string {
			var v []string
			if err := json.Unmarshal([]byte(rest), &v); err != nil {
				t.Fatalf("Dockerfile: %s %s: not the exec form: %v", instr, rest, err)
			}
			return v
		}
		switch strings.ToUpper(instr) {
		case "ARG":
			k, v, _ := strings.Cut(rest, "=")
			df.args[k] = v
		case "FROM":
			stage++
			df.froms = append(df.froms, rest)
		case "ENV":
			if stage == 0 {
				k, v, _ := strings.Cut(rest, "=")
				df.buildEnv[k] = v
			}
		case "RUN":
			if i := strings.Index(rest, "go build "); i >= 0 && stage == 0 {
				df.goBuild = words(rest[i:])
			}
			if stage > 0 {
				df.runtimeRun = append(df.runtimeRun, rest)
			}
		case "COPY":
			if from, ok := strings.CutPrefix(rest, "--from=build "); ok {
				df.copyFrom = words(from)[0]
			}
		case "USER":
			df.user = rest
		case "ENTRYPOINT":
			df.entrypoint = exec()
		case "CMD":
			df.cmd = exec()
		case "VOLUME":
			df.volumes = exec()
		case "EXPOSE":
			df.expose = append(df.expose, rest)
		}
	}
	return df
}

// makeBuild is the go build of make build, its variables expanded.
func makeBuild(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	varRE := regexp.MustCompile(`^([A-Z_]+)\s*(?::=|\?=|=)\s*(.*)$`)
	var build string
	inBuild := false
	for _, line := range logicalLines(string(b)) {
		if m := varRE.FindStringSubmatch(line); m != nil {
			vars[m[1]] = m[2]
		}
		switch {
		case line == "build:":
			inBuild = true
		case inBuild && strings.Contains(line, "build "):
			build = line
			inBuild = false
		}
	}
	if build == "" {
		t.Fatal("Makefile: no go build under build:")
	}
	// Expand $(VAR) until nothing changes; $(VERSION) is left as the
	// marker both sides are compared with.
	expand := func(s string) string {
		for range 5 {
			s = regexp.MustCompile(`\$\(([A-Z_]+)\)`).ReplaceAllStringFunc(s, func(m string) string {
				name := m[2 : len(m)-1]
				if name == "VERSION" {
					return "@VERSION@"
				}
				return vars[name]
			})
		}
		return s
	}
	ws := words(expand(build))
	if ws[0] != "go" {
		t.Fatalf("Makefile: build runs %q, not go", ws[0])
	}
	return ws
}

// buildFlags is a go build command without its output path: the flags,
// ldflags split into words, and the package.
func buildFlags(t *testing.T, ws []string) (flags []string, ldflags []string, pkg string, out string) {
	t.Helper()
	for i := 2; i < len(ws); i++ {
		switch w := ws[i]; {
		case w == "-ldflags":
			ldflags = strings.Fields(ws[i+1])
			i++
		case w == "-o":
			out = ws[i+1]
			i++
		case strings.HasPrefix(w, "-"):
			flags = append(flags, w)
		default:
			pkg = w
		}
	}
	return
}

func TestDockerfileBuildsAsMakeBuilds(t *testing.T) {
	df := parseDockerfile(t)
	if df.goBuild == nil {
		t.Fatal("Dockerfile: no go build in the build stage")
	}
	for i, w := range df.goBuild {
		df.goBuild[i] = strings.ReplaceAll(w, "${VERSION}", "@VERSION@")
	}
	mFlags, mLd, mPkg, _ := buildFlags(t, makeBuild(t))
	dFlags, dLd, dPkg, dOut := buildFlags(t, df.goBuild)
	if !slices.Equal(mFlags, dFlags) {
		t.Errorf("go build flags: make %q, Dockerfile %q", mFlags, dFlags)
	}
	if !slices.Equal(mLd, dLd) || !slices.Contains(dLd, "github.com/git-laminar/git-laminar/internal/cli.Version=@VERSION@") {
		t.Errorf("ldflags: make %q, Dockerfile %q", mLd, dLd)
	}
	if mPkg != dPkg || dPkg != "./cmd/git-laminar" {
		t.Errorf("package: make %q, Dockerfile %q", mPkg, dPkg)
	}
	if df.buildEnv["CGO_ENABLED"] != "0" {
		t.Errorf("Dockerfile: the build stage does not set CGO_ENABLED=0 (%v): the binary would need the builder's libc", df.buildEnv)
	}
	if df.copyFrom != dOut {
		t.Errorf("Dockerfile: copies %q from the build stage, which writes %q", df.copyFrom, dOut)
	}
}

func TestDockerfileGoVersionIsGoMods(t *testing.T) {
	df := parseDockerfile(t)
	b, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod: no go line")
	}
	if df.args["GO_VERSION"] != string(m[1]) {
		t.Errorf("Dockerfile GO_VERSION %q, go.mod says go %s", df.args["GO_VERSION"], m[1])
	}
	if len(df.froms) != 2 || !strings.HasPrefix(df.froms[0], "golang:${GO_VERSION}") || !strings.HasSuffix(df.froms[0], " AS build") {
		t.Errorf("Dockerfile stages %q, want golang:${GO_VERSION} AS build and a runtime stage", df.froms)
	}
}

func TestDockerfileRuntime(t *testing.T) {
	df := parseDockerfile(t)
	installs := strings.Join(df.runtimeRun, " ")
	for _, pkg := range []string{"git", "openssh-client", "ca-certificates"} {
		if !slices.Contains(words(installs), pkg) {
			t.Errorf("Dockerfile: the runtime stage does not install %s", pkg)
		}
	}
	if df.user != "65532:65532" {
		t.Errorf("Dockerfile: USER %q, want 65532:65532 as the manifests' runAsUser", df.user)
	}
	if !slices.Equal(df.entrypoint, []string{"git-laminar"}) {
		t.Errorf("Dockerfile: ENTRYPOINT %q", df.entrypoint)
	}
	flags := serveArgs(t, "Dockerfile CMD", df.cmd)
	if flags["listen"] != "0.0.0.0:8080" || flags["state"] != stateDir || !slices.Contains(df.volumes, stateDir) {
		t.Errorf("Dockerfile: CMD %q and VOLUME %q: want --listen 0.0.0.0:8080 and --state on the volume %s", df.cmd, df.volumes, stateDir)
	}
	if !slices.Equal(df.expose, []string{"8080"}) {
		t.Errorf("Dockerfile: EXPOSE %q", df.expose)
	}
}

// TestDockerignore: the build context keeps what the build compiles,
// embedded files included.
func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, l)
		}
	}
	ignored := func(p string) bool {
		for _, pat := range patterns {
			if ok, _ := filepath.Match(pat, p); ok {
				return true
			}
			// "**/x" matches x at any depth; a directory pattern covers
			// everything under it.
			if rest, ok := strings.CutPrefix(pat, "**/"); ok {
				for _, part := range strings.Split(p, "/") {
					if m, _ := filepath.Match(rest, part); m {
						return true
					}
				}
			}
			if strings.HasPrefix(p, pat+"/") {
				return true
			}
		}
		return false
	}
	if !ignored(".git") || !ignored("bin/git-laminar") {
		t.Error(".dockerignore: .git and bin/ belong outside the build context")
	}
	needed := []string{"go.mod", "go.sum", "cmd/git-laminar/main.go", "internal/cli/app.go"}
	embedRE := regexp.MustCompile(`(?m)^//go:embed (.+)$`)
	err = filepath.WalkDir("..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("..", p)
		if d.IsDir() && (rel == ".git" || rel == "bin") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range embedRE.FindAllStringSubmatch(string(src), -1) {
			for _, f := range strings.Fields(m[1]) {
				needed = append(needed, filepath.ToSlash(filepath.Join(filepath.Dir(rel), f)))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(needed) < 5 {
		t.Fatalf("found no go:embed file: %q", needed)
	}
	for _, p := range needed {
		if ignored(p) {
			t.Errorf(".dockerignore leaves %s out of the build", p)
		}
	}
}
