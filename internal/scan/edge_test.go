package scan

import (
	"strings"
	"testing"
)

// TestYAMLValueForms covers image values that are not a plain word on the
// key's line: on the next line, in a block scalar, behind an anchor or a
// tag; and the forms that are not one scalar.
func TestYAMLValueForms(t *testing.T) {
	runCases(t, []fileCase{
		{name: "next line", content: strings.Join([]string{
			"a:",
			"  image:",
			"    nginx:1.25",
			"b:",
			"  image:",
			"    # the default image",
			"    \"busybox:1.36\"",
			"c:",
			"  image:",
			"    repository: redis",
			"    tag: \"7\"",
			"d:",
			"  image:",
			"  - not-a-scalar:1",
			"e:",
			"  image:",
			"    two words",
			"f:",
			"  image:",
			"    nginx:1",
			"    continued",
			"g:",
			"  image:",
			"h: alpine:3",
		}, "\n"), want: []string{
			"3:5 inline nginx:1.25 tag=1.25",
			"7:6 inline busybox:1.36 tag=1.36",
			"10:17 helm-values redis:7 tag=7",
		}},
		{name: "block scalars", content: strings.Join([]string{
			"image: >-",
			"  ghcr.io/a/b:1.0",
			"other:",
			"  image: |",
			"    nginx:1.25",
			"script:",
			"  image: |",
			"    nginx:1.25",
			"    redis:7",
		}, "\n"), want: []string{
			"2:3 inline ghcr.io/a/b:1.0 tag=1.0",
			"5:5 inline nginx:1.25 tag=1.25",
		}},
		{name: "anchors and tags", content: strings.Join([]string{
			"image: &img nginx:1.25",
			"again: *img",
			"tagged: {image: !!str redis:7}",
			"x:",
			"  image: !!str",
			"    alpine:3.19",
		}, "\n"), want: []string{
			"1:13 inline nginx:1.25 tag=1.25",
			"3:23 inline redis:7 tag=7",
			"6:5 inline alpine:3.19 tag=3.19",
		}},
		{name: "CRLF next line", content: "image:\r\n  nginx:1.25\r\nx: 1\r\n",
			want: []string{"2:3 inline nginx:1.25 tag=1.25"}},
	})
}

// TestImageLists covers lists of plain image strings under an images key,
// as tool configurations write them (kind, k3d, preload lists, JSON).
func TestImageLists(t *testing.T) {
	runCases(t, []fileCase{
		{name: "yaml block", path: "preload.yaml", content: strings.Join([]string{
			"images:",
			"- nginx:1.25",
			"- \"redis\"",
			"- ghcr.io/a/b@" + dg,
			"extraImages:",
			"  - alpine:3.19",
			"names:",
			"  - not-an-image:1",
			"status:",
			"  images:",
			"  - names: [registry.k8s.io/pause:3.9]",
			"    sizeBytes: 1",
		}, "\n"), want: []string{
			"2:3 inline nginx:1.25 tag=1.25",
			"3:4 inline redis",
			"4:3 inline ghcr.io/a/b@" + dg + " digest=" + dg,
			"6:5 inline alpine:3.19 tag=3.19",
			"11:13 inline registry.k8s.io/pause:3.9 tag=3.9",
		}},
		{name: "flow", path: "tool.yaml", content: "preload:\n  images: [alpine:3.19, 'busybox', 7, true]\n",
			want: []string{"2:12 inline alpine:3.19 tag=3.19", "2:26 inline busybox"}},
		{name: "json multi-line", path: "cfg.json", content: strings.Join([]string{
			"{",
			"  \"images\": [",
			"    \"nginx:1.25\",",
			"    \"redis\"",
			"  ],",
			"  \"other\": [\"not-an-image\"],",
			"  \"PRELOAD_IMAGES\": [{\"name\": \"x\"}, \"alpine\"]",
			"}",
		}, "\n"), want: []string{
			"3:6 inline nginx:1.25 tag=1.25",
			"4:6 inline redis",
			"7:38 inline alpine",
		}},
		{name: "hcl", path: "main.tf", content: "images = [\n  \"nginx:1.25\",\n  var.other,\n]\n",
			want: []string{"2:4 inline nginx:1.25 tag=1.25"}},
	})
}

// TestContinuedLines covers commands and instructions continued with a
// trailing backslash.
func TestContinuedLines(t *testing.T) {
	runCases(t, []fileCase{
		{name: "dockerfile", path: "Dockerfile", content: strings.Join([]string{
			"FROM \\",
			"  --platform=linux/amd64 \\",
			"  nginx:1.25 AS web",
			"FROM web",
			"RUN apt-get update && \\",
			"    # a comment inside the instruction \\",
			"    docker pull \\",
			"      busybox:1.36",
			"COPY --from=web \\",
			"  /a /b",
			"ARG BASE=alpine",
			"FROM ${BASE} \\",
			"  AS base",
			"FROM $REGISTRY/app:1",
		}, "\n"), want: []string{
			"3:3 inline nginx:1.25 tag=1.25",
			"8:7 inline busybox:1.36 tag=1.36",
		}},
		{name: "shell", path: "run.sh", content: strings.Join([]string{
			"docker run \\",
			"  --rm -v a:b \\",
			"  -e X=1 \\",
			"  nginx:1.25 nginx -g 'daemon off;'",
			"docker build -t ghcr.io/a/b:1.0 -t app:dev .",
			"docker tag app:dev registry.example.com/app:2",
			"docker push registry.example.com/app:2",
			"podman run -it fedora:39 bash",
			"kubectl run x --image=busybox:1.36",
			"docker run \"$IMAGE\"",
		}, "\n"), want: []string{
			"4:3 inline nginx:1.25 tag=1.25",
			"5:17 inline ghcr.io/a/b:1.0 tag=1.0",
			"5:36 inline app:dev tag=dev",
			"6:12 inline app:dev tag=dev",
			"6:20 inline registry.example.com/app:2 tag=2",
			"7:13 inline registry.example.com/app:2 tag=2",
			"8:16 inline fedora:39 tag=39",
			"9:23 inline busybox:1.36 tag=1.36",
		}},
	})
}

// TestMarkdown: a literal reference in a Markdown file is one, in prose,
// inline code or a fenced block; '#' is a heading outside a fence and a
// comment inside one.
func TestMarkdown(t *testing.T) {
	runCases(t, []fileCase{{name: "readme", path: "README.md", content: strings.Join([]string{
		"# Deploy ghcr.io/org/app:1.0",
		"",
		"Run `docker run -p 80:80 nginx:1.25` or:",
		"",
		"```sh",
		"docker run --rm \\",
		"  ghcr.io/org/b:2.0",
		"# docker run old/commented:1",
		"```",
		"",
		"```yaml",
		"image: redis:7",
		"```",
		"Version v1.2.3 listens on example.com:8080, see http://x.io/a:1 and nginx:1.25.",
	}, "\n"), want: []string{
		"1:10 inline ghcr.io/org/app:1.0 tag=1.0",
		"3:26 inline nginx:1.25 tag=1.25",
		"7:3 inline ghcr.io/org/b:2.0 tag=2.0",
		"12:8 inline redis:7 tag=7",
	}}})
}

// TestOCI: a tagged oci:// reference names an artifact in a registry and
// is reported without its scheme; an untagged one is a location.
func TestOCI(t *testing.T) {
	runCases(t, []fileCase{{name: "oci", content: strings.Join([]string{
		"artifacts:",
		"- uri: oci://ghcr.io/org/mcp-server:1.2.0",
		"- uri: oci://registry.example.com/models/llm@" + dg,
		"chart: oci://ghcr.io/org/charts/app",
		"url: oci://docker.io/envoyproxy/gateway-helm",
		"repository: oci://registry-1.docker.io/bitnamicharts",
		"bad: oci://Upper/Case:1",
	}, "\n"), want: []string{
		"2:14 inline ghcr.io/org/mcp-server:1.2.0 tag=1.2.0",
		"3:14 inline registry.example.com/models/llm@" + dg + " digest=" + dg,
	}}})
}

// TestTriggers checks the whole-file pre-filter on the forms each rule
// starts from.
func TestTriggers(t *testing.T) {
	for _, tc := range []struct {
		text string
		want triggers
	}{
		{"", triggers{}},
		{"image: nginx", triggers{image: true}},
		{"\"Image\" : \"x\"", triggers{image: true}},
		{"export APP_IMAGE=x", triggers{image: true}},
		{"- name: BUSYBOX_IMAGE", triggers{image: true}},
		{"images:\n- nginx", triggers{image: true}},
		{"an image of a cat", triggers{}},
		{"repository: bitnami/redis", triggers{split: true}},
		{"steps:\n- name: x", triggers{split: true}},
		{"tag: 1.2 # laminar: ghcr.io/a/b", triggers{marker: true}},
		{"x: ghcr.io/a/b:1.0", triggers{strong: true}},
		{"x: oci://ghcr.io/a/b:1.0", triggers{strong: true}},
		{"x: https://ghcr.io/a/b:1.0", triggers{}},
		{"x@" + dg, triggers{strong: true}},
		{"run: docker run nginx", triggers{runners: true}},
		{"podman pull a", triggers{runners: true}},
		{"sudo nerdctl run a", triggers{runners: true}},
		{"github.com/org/module v0.1.2 h1:abc=\nfunc main() {}\n", triggers{}},
	} {
		if got := scanTriggers([]byte(tc.text), true); got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.text, got, tc.want)
		}
	}
}
