package config

import (
	"strings"
	"testing"
)

func TestImagesErrors(t *testing.T) {
	head := "[[registry]]\nprefix = \"registry.example.com/acme\"\n[[update]]\nname = \"app\"\npattern = \"glob:*\"\n"
	for _, tt := range []struct{ name, images, want string }{
		{"empty entry", `[""]`, `laminar.toml:6: update "app".images: "": an empty pattern matches no image`},
		{"bare negation", `["!"]`, `laminar.toml:6: update "app".images: "!": an empty pattern`},
		{"tag", `["nginx:1.25"]`, `"nginx:1.25": write the image name without tag`},
		{"digest", `["app@sha256:abc"]`, "without tag or digest"},
		{"uppercase", `["Registry.example.com/App"]`, "image names are lowercase"},
		{"space", `["app web"]`, `' ' cannot be part of an image name`},
		{"scheme", `["https://registry.example.com/app"]`, "without a scheme"},
		{"not a list", `"app"`, "laminar.toml:6: "},
		{"control character", `["a\u001b[2J"]`, `cannot be part of an image name`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("laminar.toml", []byte(head+"images = "+tt.images+"\n"))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\n\x1b") {
				t.Errorf("error %q holds a raw control character", err)
			}
		})
	}
}

func TestManagesImage(t *testing.T) {
	text := "[[registry]]\nprefix = \"registry.example.com\"\n" +
		"[[update]]\nname = \"some\"\npattern = \"glob:*\"\n" +
		"images = [\"app\", \"registry.example.com/acme/*\", \"!*/legacy-*\"]\n" +
		"[[update]]\nname = \"not-legacy\"\npattern = \"glob:*\"\nimages = [\"!*/legacy-*\"]\n" +
		"[[update]]\nname = \"all\"\npattern = \"glob:*\"\n" +
		"[[update]]\nname = \"port\"\npattern = \"glob:*\"\nimages = [\"localhost:5000/a?c\"]\n"
	cfg, err := Parse("laminar.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	some, notLegacy, all, port := cfg.Updates[0], cfg.Updates[1], cfg.Updates[2], cfg.Updates[3]
	if got := some.KeyLines["images"]; got != 6 {
		t.Errorf("images line %d, want 6", got)
	}
	for _, tt := range []struct {
		u     Update
		names []string
		want  bool
	}{
		{some, []string{"docker.io/library/app", "app"}, true},
		{some, []string{"registry.example.com/acme/web", "registry.example.com/acme/web"}, true},
		{some, []string{"registry.example.com/acme/team/web", "registry.example.com/acme/team/web"}, true},
		{some, []string{"registry.example.com/acme/legacy-api", "registry.example.com/acme/legacy-api"}, false},
		{some, []string{"registry.example.com/acmex/web", "registry.example.com/acmex/web"}, false},
		{some, []string{"docker.io/library/application", "application"}, false},
		{some, []string{"registry.example.com/other/app", "registry.example.com/other/app"}, false},
		{notLegacy, []string{"registry.example.com/x/web", "web"}, true},
		{notLegacy, []string{"registry.example.com/x/legacy-web", "x/legacy-web"}, false},
		{all, []string{"anything", "anything"}, true},
		{port, []string{"localhost:5000/abc", "localhost:5000/abc"}, true},
		{port, []string{"localhost:5000/abbc", "localhost:5000/abbc"}, false},
	} {
		if got := tt.u.ManagesImage(tt.names...); got != tt.want {
			t.Errorf("rule %s on %v: %v, want %v", tt.u.Name, tt.names, got, tt.want)
		}
	}
}

func TestGlobMatchHostile(t *testing.T) {
	// Backtracking patterns stay linear: this would take ages if the
	// matcher recursed on every '*'.
	g := strings.Repeat("*a", 30) + "*b"
	name := strings.Repeat("a", 5000)
	if globMatch(g, name) {
		t.Error("matched")
	}
	if !globMatch(g, name+"b") {
		t.Error("did not match")
	}
}
