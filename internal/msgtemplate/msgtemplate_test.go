package msgtemplate

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

var data = Data{Promotions: []Promotion{
	{Image: "registry.example.com/acme/app", Name: "app", From: "develop-1", To: "develop-2", Rule: "dev", Digest: "sha256:" + strings.Repeat("ab", 32), Files: []string{"dev/app.yaml", "compose.yaml"}},
	{Image: "nginx", Name: "nginx", From: "1.25", To: "1.27", Files: []string{"web.yaml"}},
}}

func TestExecute(t *testing.T) {
	tests := []struct{ text, want string }{
		{"Promote {{len .Promotions}} images", "Promote 2 images"},
		{"{{range $i, $p := .Promotions}}{{if $i}}, {{end}}{{$p.Name}} {{$p.To}}{{end}}", "app develop-2, nginx 1.27"},
		{"{{range .Promotions}}{{.Image}}:{{range .Files}} {{.}}{{end}};{{end}}", "registry.example.com/acme/app: dev/app.yaml compose.yaml;nginx: web.yaml;"},
		{"{{range .Promotions}}{{range $.Promotions}}x{{end}}{{end}}", "xxxx"},
		{"{{with index .Promotions 0}}{{.Rule}} {{slice .Digest 0 13}}{{end}}", "dev sha256:ababab"},
		{`{{printf "%s->%s" (index .Promotions 1).From (index .Promotions 1).To}}`, "1.25->1.27"},
		{"{{range .Promotions}}{{if eq .Name \"nginx\"}}{{break}}{{end}}{{.Name}}{{end}}", "app"},
		// The example of laminar.toml.example and the man page.
		{"deploy: {{range $i, $p := .Promotions}}{{if $i}}, {{end}}{{$p.Name}} {{$p.To}}{{end}}\n\n{{range .Promotions}}{{.Image}}: {{.From}} -> {{.To}} ({{len .Files}} files)\n{{end}}",
			"deploy: app develop-2, nginx 1.27\n\nregistry.example.com/acme/app: develop-1 -> develop-2 (2 files)\nnginx: 1.25 -> 1.27 (1 files)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			tm, err := Parse(tc.text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := tm.Execute(data)
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if got != tc.want {
				t.Errorf("Execute = %q; want %q", got, tc.want)
			}
		})
	}
}

// TestParseRefuses: what could recurse, loop without data or reach
// outside is refused when the template is read, with the line.
func TestParseRefuses(t *testing.T) {
	tests := []struct{ text, want string }{
		{"{{range .Promotions}", "line 1: bad character"},
		{"ok\n{{range 1000000000}}{{end}}", "line 2: {{range}} goes only over a list"},
		{"{{$n := 1000000000}}{{range $n}}{{end}}", "{{range}} goes only over a list"},
		{"{{with 1000000000}}{{range .}}{{end}}{{end}}", "{{range}} goes only over a list"},
		{"{{range (len .Promotions)}}{{end}}", "{{range}} goes only over a list"},
		{"{{range .Promotions}}{{range .Files}}{{range $.Promotions}}{{end}}{{end}}{{end}}", "nested more than 2 deep"},
		{"{{if true}}{{range .Promotions}}{{with .}}{{range .Files}}{{range .Files}}{{end}}{{end}}{{end}}{{end}}{{end}}", "nested more than 2 deep"},
		{`{{define "x"}}{{template "x"}}{{end}}`, "{{define}} and {{block}} are not allowed"},
		{`{{block "x" .}}{{template "x" .}}{{end}}`, "{{define}} and {{block}} are not allowed"},
		{`a{{template "x"}}`, "line 1: {{template}} is not allowed"},
		{`{{readFile "/etc/passwd"}}`, `function "readFile" not defined`},
		{`{{env "HOME"}}`, `function "env" not defined`},
		{`{{exec "id"}}`, `function "exec" not defined`},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			_, err := Parse(tc.text)
			if err == nil {
				t.Fatalf("Parse accepted %q; want an error containing %q", tc.text, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: %v; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestExecuteRefuses(t *testing.T) {
	many := Data{}
	for i := range 2000 {
		many.Promotions = append(many.Promotions, Promotion{Image: fmt.Sprintf("img%d", i), Files: []string{"a.yaml"}})
	}
	tests := []struct {
		text string
		d    Data
		want string
	}{
		{"{{.Nope}}", data, "line 1:2: at <.Nope>: can't evaluate field Nope in type Data"},
		{"{{call .Promotions}}", data, "call is not available"},
		{`{{printf "%0900000d" 0}}`, data, ErrTooLong.Error()},
		{"{{range .Promotions}}{{range $.Promotions}}{{.Image}}{{end}}{{end}}", many, ErrTooLong.Error()},
		{"{{index .Promotions 5}}", data, "index out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			tm, err := Parse(tc.text)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := tm.Execute(tc.d)
			if err == nil {
				t.Fatalf("Execute = %d bytes; want an error containing %q", len(got), tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Execute: %v; want it to contain %q", err, tc.want)
			}
		})
	}
	// Exactly MaxOutput is fine; one byte more is not.
	exact, err := Parse(strings.Repeat("x", MaxOutput))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exact.Execute(data); err != nil || len(out) != MaxOutput {
		t.Errorf("a message of MaxOutput bytes: %d bytes, %v", len(out), err)
	}
	over, err := Parse(strings.Repeat("x", MaxOutput+1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := over.Execute(data); !errors.Is(err, ErrTooLong) {
		t.Errorf("a message of MaxOutput+1 bytes: %v; want ErrTooLong", err)
	}
}

// FuzzTemplate: whatever the text, Parse and Execute return (no panic, no
// endless run over this data) and the output stays within MaxOutput. Seeds
// are in testdata/fuzz.
func FuzzTemplate(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string) {
		tm, err := Parse(text)
		if err != nil {
			return
		}
		out, err := tm.Execute(data)
		if err == nil && len(out) > MaxOutput {
			t.Fatalf("Execute wrote %d bytes, more than MaxOutput", len(out))
		}
	})
}
