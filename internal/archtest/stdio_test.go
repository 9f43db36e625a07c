package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// quiet are the packages that serve both the command line and the
// service: they return reports and errors, and never read flags, touch
// the process's standard streams or exit.
var quiet = []string{"internal/app"}

// stdio are the selectors a quiet package may not use.
var stdio = map[string][]string{
	"os":  {"Stdin", "Stdout", "Stderr", "Exit", "Args"},
	"fmt": {"Print", "Printf", "Println", "Scan", "Scanf", "Scanln"},
}

// banned are imports a quiet package may not have.
var banned = []string{"flag", "log", "github.com/urfave/cli/v2"}

func TestQuietPackagesDoNoStdio(t *testing.T) {
	for _, p := range quiet {
		out, err := exec.Command("go", "list", "-f", "{{.Dir}}\n{{range .GoFiles}}{{.}}\n{{end}}", module+p).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", p, err)
		}
		lines := strings.Fields(string(out))
		if len(lines) < 2 {
			t.Fatalf("%s: no Go files", p)
		}
		dir := lines[0]
		for _, name := range lines[1:] {
			path := filepath.Join(dir, name)
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, msg := range stdioUses(f) {
				t.Errorf("%s/%s: %s", p, name, msg)
			}
		}
	}
}

// stdioUses lists f's imports of banned packages and its uses of stdio.
func stdioUses(f *ast.File) []string {
	var out []string
	names := map[string]string{} // local name → import path
	for _, imp := range f.Imports {
		path := strings.Trim(imp.Path.Value, `"`)
		if slices.Contains(banned, path) {
			out = append(out, "imports "+path)
		}
		local := filepath.Base(path)
		if imp.Name != nil {
			local = imp.Name.Name
		}
		names[local] = path
	}
	ast.Inspect(f, func(n ast.Node) bool {
		sel, ok := n.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		id, ok := sel.X.(*ast.Ident)
		if !ok {
			return true
		}
		if slices.Contains(stdio[names[id.Name]], sel.Sel.Name) {
			out = append(out, "uses "+names[id.Name]+"."+sel.Sel.Name)
		}
		return true
	})
	return out
}

func TestStdioCheckSeesUses(t *testing.T) {
	src := "package x\nimport (\n\tstdfmt \"fmt\"\n\t\"os\"\n\t\"log\"\n)\nfunc f() { stdfmt.Println(); os.Exit(1); log.Print(); _ = os.Getenv }\n"
	f, err := parser.ParseFile(token.NewFileSet(), "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := stdioUses(f)
	want := []string{"imports log", "uses fmt.Println", "uses os.Exit"}
	if !slices.Equal(got, want) {
		t.Errorf("stdioUses = %q, want %q", got, want)
	}
}

// The command line goes through the use cases, and nothing below them
// reaches up.
func TestCLIUsesApp(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{join .Imports \"\\n\"}}", module+"internal/cli").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if !slices.Contains(strings.Fields(string(out)), module+"internal/app") {
		t.Errorf("internal/cli does not import internal/app")
	}
	for self, deps := range allowed {
		if slices.Contains(deps, "internal/app") && self != "internal/cli" && self != "internal/server" && self != "cmd/git-laminar" {
			t.Errorf("%s may import internal/app, which is above it", self)
		}
	}
}
