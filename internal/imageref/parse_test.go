package imageref

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	d256 = "sha256:fd8d9aa63ba2f0982b5304e1ee8d3b90a210bc1ffb5314d980eb6962f1a9715d"
	d512 = "sha512:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" +
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in    string
		want  Ref
		repo  string
		image string
	}{
		{"nginx:1.25", Ref{"nginx:1.25", "nginx", "index.docker.io", "library/nginx", "1.25", ""},
			"index.docker.io/library/nginx", "docker.io/library/nginx"},
		{"nginx", Ref{"nginx", "nginx", "index.docker.io", "library/nginx", "", ""},
			"index.docker.io/library/nginx", "docker.io/library/nginx"},
		{"docker.io/bitnami/redis:8.2.1-debian-12-r0", Ref{"docker.io/bitnami/redis:8.2.1-debian-12-r0", "docker.io/bitnami/redis", "index.docker.io", "bitnami/redis", "8.2.1-debian-12-r0", ""},
			"index.docker.io/bitnami/redis", "docker.io/bitnami/redis"},
		{"docker.io/redis", Ref{"docker.io/redis", "docker.io/redis", "index.docker.io", "library/redis", "", ""},
			"index.docker.io/library/redis", "docker.io/library/redis"},
		{"index.docker.io/library/nginx:latest", Ref{"index.docker.io/library/nginx:latest", "index.docker.io/library/nginx", "index.docker.io", "library/nginx", "latest", ""},
			"index.docker.io/library/nginx", "docker.io/library/nginx"},
		{"registry.example.com:5000/acme/app:develop-1@" + d256,
			Ref{"registry.example.com:5000/acme/app:develop-1@" + d256, "registry.example.com:5000/acme/app", "registry.example.com:5000", "acme/app", "develop-1", d256},
			"registry.example.com:5000/acme/app", "registry.example.com:5000/acme/app"},
		{"ghcr.io/org/x@" + d512, Ref{"ghcr.io/org/x@" + d512, "ghcr.io/org/x", "ghcr.io", "org/x", "", d512},
			"ghcr.io/org/x", "ghcr.io/org/x"},
		{"localhost/app:1", Ref{"localhost/app:1", "localhost/app", "localhost", "app", "1", ""},
			"localhost/app", "localhost/app"},
		{"localhost:5000/app", Ref{"localhost:5000/app", "localhost:5000/app", "localhost:5000", "app", "", ""},
			"localhost:5000/app", "localhost:5000/app"},
		{"gcr.io/knative-releases/knative.dev/eventing/cmd/broker/filter@" + d256,
			Ref{"gcr.io/knative-releases/knative.dev/eventing/cmd/broker/filter@" + d256, "gcr.io/knative-releases/knative.dev/eventing/cmd/broker/filter", "gcr.io", "knative-releases/knative.dev/eventing/cmd/broker/filter", "", d256},
			"gcr.io/knative-releases/knative.dev/eventing/cmd/broker/filter", "gcr.io/knative-releases/knative.dev/eventing/cmd/broker/filter"},
		{"my_org/a__b---c:V_1.x", Ref{"my_org/a__b---c:V_1.x", "my_org/a__b---c", "index.docker.io", "my_org/a__b---c", "V_1.x", ""},
			"index.docker.io/my_org/a__b---c", "docker.io/my_org/a__b---c"},
		{"[::1]:5000/app:v1", Ref{"[::1]:5000/app:v1", "[::1]:5000/app", "[::1]:5000", "app", "v1", ""},
			"[::1]:5000/app", "[::1]:5000/app"},
		{"Registry.Example.com/app", Ref{"Registry.Example.com/app", "Registry.Example.com/app", "Registry.Example.com", "app", "", ""},
			"Registry.Example.com/app", "Registry.Example.com/app"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
		}
		if got.Repo() != tt.repo {
			t.Errorf("Parse(%q).Repo() = %q, want %q", tt.in, got.Repo(), tt.repo)
		}
		if got.Image() != tt.image {
			t.Errorf("Parse(%q).Image() = %q, want %q", tt.in, got.Image(), tt.image)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{
		"", " nginx", "nginx ", "Nginx", "IMAGE_URL", "<YOUR-CONTAINER>", "nginx:", "nginx:.1",
		"nginx:-1", "nginx@", "nginx@sha256:abc", "nginx@sha256:" + strings.ToUpper(d256[7:]),
		"nginx@md5:0123456789abcdef0123456789abcdef", "a@" + d256 + "@" + d256,
		"http://host:8080/path", "https://ghcr.io/org/x:1", "host:8080/path/", "/abs/path",
		"./rel:1", "a//b", "-a", "a-", "a..b", "a___b", "a/.b", "{{ .Values.image }}",
		"${IMAGE}", "$(VAR)", "registry.example.com:/x", "registry.example.com:50x/x",
		"registry..com/x", "-reg.com/x", "[::1/x", "a:" + strings.Repeat("t", 129),
		"x/" + strings.Repeat("a", 256), "nginx:1.25 # comment", "10:30:00",
		"user@host:path", "golang.org/x/net@v0.1.0",
	} {
		if r, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %+v, want error", in, r)
		} else if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error %v does not wrap ErrInvalid", in, err)
		}
	}
}

func TestUnderPrefix(t *testing.T) {
	tests := []struct {
		ref, prefix string
		want        bool
	}{
		{"registry.example.com:5000/acme/app:1", "registry.example.com:5000/acme", true},
		{"registry.example.com:5000/acme/app:1", "registry.example.com:5000/acme/", true},
		{"registry.example.com:5000/acme/app:1", "registry.example.com:5000/acme/app", true},
		{"registry.example.com:5000/acmex/app:1", "registry.example.com:5000/acme", false},
		{"registry.example.com:5000/acme/app:1", "registry.example.com/acme", false},
		{"registry.example.com:5000/acme/app:1", "registry.example.com:5000", true},
		{"registry.example.com:5000/acme/app:1", "REGISTRY.example.com:5000/acme", true},
		{"nginx:1.25", "docker.io/library", true},
		{"nginx:1.25", "index.docker.io/library/nginx", true},
		{"nginx:1.25", "docker.io", true},
		{"nginx:1.25", "nginx", true},
		{"nginx:1.25", "library/nginx", true},
		{"nginx:1.25", "ngin", false},
		{"bitnami/redis", "bitnami", true},
		{"docker.io/bitnami/redis", "docker.io/bitnami", true},
		{"bitnami/redis", "docker.io/bitnamix", false},
		{"ghcr.io/org/x", "ghcr.io", true},
		{"ghcr.io/org/x", "ghcr.io/org", true},
		{"ghcr.io/org/x", "ghcr.io/or", false},
		{"ghcr.io/org/x", "docker.io/org", false},
		{"ghcr.io/org/x", "org", false},
		{"ghcr.io/org/x", "", false},
		{"ghcr.io/org/x", "ghcr.io/org:1", false},
		{"ghcr.io/org/x", "ghcr.io/org@" + d256, false},
		{"localhost:5000/app", "localhost:5000", true},
		{"localhost:5000/app", "localhost", false},
	}
	for _, tt := range tests {
		r, err := Parse(tt.ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := UnderPrefix(r, tt.prefix); got != tt.want {
			t.Errorf("UnderPrefix(%q, %q) = %v, want %v", tt.ref, tt.prefix, got, tt.want)
		}
	}
	if UnderPrefix(Ref{}, "docker.io") {
		t.Error("zero Ref is under a prefix")
	}
}

func TestValidTag(t *testing.T) {
	for s, want := range map[string]bool{
		"1.25": true, "latest": true, "_x": true, "V1.0-rc.1_b": true, strings.Repeat("a", 128): true,
		"": false, ".x": false, "-x": false, "a/b": false, "a:b": false, "a b": false, strings.Repeat("a", 129): false,
		"é": false,
	} {
		if got := ValidTag(s); got != want {
			t.Errorf("ValidTag(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidDigest(t *testing.T) {
	for s, want := range map[string]bool{
		d256: true, d512: true,
		d256[:len(d256)-1]: false, d256 + "0": false, "sha256:" + strings.ToUpper(d256[7:]): false,
		"sha384:" + d512[7:7+96]: false, "sha256": false, "": false, "sha512:" + d256[7:]: false,
	} {
		if got := ValidDigest(s); got != want {
			t.Errorf("ValidDigest(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"nginx", "nginx:1.25", "registry.example.com:5000/acme/app:develop-1@" + d256,
		"ghcr.io/org/x@" + d512, "localhost/a", "[::1]:5000/a:b", "a:b:c", "http://x/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		if r.Original != s {
			t.Fatalf("Original %q != input %q", r.Original, s)
		}
		re := r.Name
		if r.Tag != "" {
			re += ":" + r.Tag
		}
		if r.Digest != "" {
			re += "@" + r.Digest
		}
		if re != s {
			t.Fatalf("reassembled %q != input %q", re, s)
		}
		if r.Registry == "" || r.Repository == "" {
			t.Fatalf("empty registry or repository: %+v", r)
		}
		if r.Tag != "" && !ValidTag(r.Tag) || r.Digest != "" && !ValidDigest(r.Digest) {
			t.Fatalf("invalid parts accepted: %+v", r)
		}
		if !UnderPrefix(r, r.Repo()) || !UnderPrefix(r, r.Image()) {
			t.Fatalf("%+v is not under its own repository", r)
		}
		if len(r.Repository) > 255 {
			return // the implicit "library/" made it too long to spell out
		}
		r2, err := Parse(r.Image())
		if err != nil || r2.Repo() != r.Repo() {
			t.Fatalf("Image() %q does not parse back to %q: %v", r.Image(), r.Repo(), err)
		}
	})
}
