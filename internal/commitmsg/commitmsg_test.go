package commitmsg

import (
	"fmt"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/plan"
	"github.com/git-laminar/git-laminar/internal/trailer"
)

// TestMessageManyFiles: a promotion across 10,000 files names five of them
// in the body, so the message stays small, and its trailers are whole.
func TestMessageManyFiles(t *testing.T) {
	paths := make([]string, 10000)
	for i := range paths {
		paths[i] = fmt.Sprintf("apps/service-%05d/deployment.yaml", i)
	}
	p := plan.Plan{Promotions: []plan.Promotion{{Image: "registry.example.com/acme/app", From: "1.0", To: "1.1", Rule: "prod", Paths: paths}}}
	msg, err := Bump(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(msg) > 1024 {
		t.Errorf("message is %d bytes; want it short:\n%s", len(msg), msg)
	}
	if !strings.Contains(msg, "  in apps/service-00000/deployment.yaml, apps/service-00001/deployment.yaml, apps/service-00002/deployment.yaml, apps/service-00003/deployment.yaml, apps/service-00004/deployment.yaml and 9995 more\n") {
		t.Errorf("message does not name five files and the rest's count:\n%s", msg)
	}
	got, err := trailer.Promotions(trailer.Parse(msg))
	if err != nil || len(got) != 1 || got[0].To != "1.1" {
		t.Errorf("trailers read back as %v, %v", got, err)
	}
}

// TestTemplateMessage: the template writes subject and body; the trailers
// are Message's, whatever the template says.
func TestTemplateMessage(t *testing.T) {
	p := plan.Plan{Promotions: []plan.Promotion{
		{Image: "registry.example.com/acme/app", From: "1.0", To: "1.1", Rule: "prod", Paths: []string{"a.yaml", "b.yaml"}},
	}}
	def, err := Bump(p)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := Template("\n\n  deploy {{range .Promotions}}{{.Name}}@{{.To}}{{end}}\n\n{{range .Promotions}}{{range .Files}}- {{.}}\n{{end}}{{end}}", p)
	if err != nil {
		t.Fatal(err)
	}
	want := "deploy app@1.1\n\n- a.yaml\n- b.yaml\n\n"
	if !strings.HasPrefix(msg, want) {
		t.Errorf("Template = %q; want it to start with %q", msg, want)
	}
	_, defTrailers, _ := strings.Cut(def, "\n\n- registry.example.com/acme/app: 1.0 -> 1.1\n  in a.yaml, b.yaml\n\n")
	if !strings.HasSuffix(msg, "\n\n"+defTrailers) || defTrailers == "" {
		t.Errorf("Template trailers differ from Bump's:\n%s\n---\n%s", msg, def)
	}
	for _, text := range []string{
		"deploy\n\nLaminar-Promote: registry.example.com/acme/app 1.0 -> 9.9",
		"deploy\n---\nmore",
		"",
		"{{range .Promotions}}\n{{end}}",
	} {
		if msg, err := Template(text, p); err == nil {
			t.Errorf("Template(%q) = %q; want an error", text, msg)
		}
	}
}
