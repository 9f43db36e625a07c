package scan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const dg = "sha256:fd8d9aa63ba2f0982b5304e1ee8d3b90a210bc1ffb5314d980eb6962f1a9715d"

// found is the readable summary of a match used by the table tests:
// "line:col kind ref" where ref is Ref.Original, and tag/digest as read
// back from the content through the spans.
func found(content string, ms []Match) []string {
	var out []string
	for _, m := range ms {
		s := fmt.Sprintf("%d:%d %s %s", m.Line, m.Column, m.Kind, m.Ref.Original)
		if m.Tag != none {
			s += " tag=" + content[m.Tag.Start:m.Tag.End]
		}
		if m.Digest != none {
			s += " digest=" + content[m.Digest.Start:m.Digest.End]
		}
		out = append(out, s)
	}
	return out
}

type fileCase struct {
	name    string
	path    string
	content string
	want    []string
}

func runCases(t *testing.T, cases []fileCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.path
			if p == "" {
				p = "deploy/app.yaml"
			}
			ms := File(p, []byte(tc.content))
			for _, m := range ms {
				if err := validMatch([]byte(tc.content), m); err != nil {
					t.Errorf("%+v: %v", m, err)
				}
				if m.Path != p {
					t.Errorf("path %q, want %q", m.Path, p)
				}
			}
			if diff := cmp.Diff(tc.want, found(tc.content, ms)); diff != "" {
				t.Errorf("File(%s) (-want +got):\n%s", p, diff)
			}
		})
	}
}

func TestYAMLImageKeys(t *testing.T) {
	runCases(t, []fileCase{
		{name: "plain", content: "containers:\n- name: web\n  image: nginx:1.25\n",
			want: []string{"3:10 inline nginx:1.25 tag=1.25"}},
		{name: "untagged", content: "image: nginx\n", want: []string{"1:8 inline nginx"}},
		{name: "list item", content: "  - image: ghcr.io/org/app:v1.2.3\n",
			want: []string{"1:12 inline ghcr.io/org/app:v1.2.3 tag=v1.2.3"}},
		{name: "double quoted", content: `image: "registry.example.com:5000/acme/app:develop-1"` + "\n",
			want: []string{"1:9 inline registry.example.com:5000/acme/app:develop-1 tag=develop-1"}},
		{name: "single quoted", content: "image: 'argoproj/argosay:v2'\n",
			want: []string{"1:9 inline argoproj/argosay:v2 tag=v2"}},
		{name: "tag and digest", content: "image: busybox:1.38.0@" + dg + "\n",
			want: []string{"1:8 inline busybox:1.38.0@" + dg + " tag=1.38.0 digest=" + dg}},
		{name: "digest only", content: "image: gcr.io/x/y@" + dg + "\n",
			want: []string{"1:8 inline gcr.io/x/y@" + dg + " digest=" + dg}},
		{name: "trailing comment", content: "image: registry.k8s.io/redis:e2e # or just image: redis\n",
			want: []string{"1:8 inline registry.k8s.io/redis:e2e tag=e2e"}},
		{name: "flow map", content: "containers: [{name: a, image: nginx:1.25}, {image: 'redis:7'}]\n",
			want: []string{"1:31 inline nginx:1.25 tag=1.25", "1:53 inline redis:7 tag=7"}},
		{name: "CRLF", content: "a: b\r\nimage: nginx:1.25\r\n", want: []string{"2:8 inline nginx:1.25 tag=1.25"}},
		{name: "BOM", content: "\xef\xbb\xbfimage: nginx:1.25", want: []string{"1:11 inline nginx:1.25 tag=1.25"}},
		{name: "other image keys", content: "cacheImage: \"ghcr.io/containerd/busybox\"\ninitImage: busybox:1\n--sidecar-image: x\nsidecar-image: ghcr.io/a/sidecar\n",
			want: []string{"1:14 inline ghcr.io/containerd/busybox", "2:12 inline busybox:1 tag=1", "4:16 inline ghcr.io/a/sidecar"}},
		{name: "not image keys", content: "imagePullPolicy: Always\nimageRegistry: docker.io\nimages: nginx\nvmImage: ubuntu-latest\nmyimage: foo\n"},
		{name: "templated", content: strings.Join([]string{
			`image: "{{ .Values.image }}"`,
			`image: "{{inputs.parameters.image}}:{{inputs.parameters.tag}}"`,
			`image: ${IMAGE_NAME}:${DEMO_VERSION}-ad`,
			`image: $VOLUME_VIEWER_IMAGE`,
			`image: $(VAR)`,
			`image: registry.example.com/app:{{ .Values.tag }}`,
			`image: "{{ .Values.registry }}/app:1.2"`,
		}, "\n")},
		{name: "placeholders", content: "- image: IMAGE_URL\n- image: <YOUR-CONTAINER>\n- image: \"<image_url>\"\nimage: \"Placeholder for TensorFlow distributed training image\"\nimage: null\nimage: ~\nimage: \"\"\n"},
		{name: "commented", content: "#image: mysql:8\n  # image: mysql:8.0.27\n# value: ghcr.io/org/app:1.0\n"},
		{name: "several words", content: "image: nginx is great\n"},
	})
}

func TestYAMLInline(t *testing.T) {
	runCases(t, []fileCase{
		{name: "env value", content: "env:\n- name: DRIVER\n  value: ghcr.io/kubeflow/kfp-driver:2.16.0\n",
			want: []string{"3:10 inline ghcr.io/kubeflow/kfp-driver:2.16.0 tag=2.16.0"}},
		{name: "namespaced", content: "value: alexcollinsintuit/argosay:v2\n",
			want: []string{"1:8 inline alexcollinsintuit/argosay:v2 tag=v2"}},
		{name: "list of images", content: "options:\n- ghcr.io/a/b:v1\n- 'ghcr.io/a/c:v2'\n",
			want: []string{"2:3 inline ghcr.io/a/b:v1 tag=v1", "3:4 inline ghcr.io/a/c:v2 tag=v2"}},
		{name: "argument", content: "args: [\"--executor-image=quay.io/argoproj/argoexec:v3.7.3\", \"-v\"]\n",
			want: []string{"1:26 inline quay.io/argoproj/argoexec:v3.7.3 tag=v3.7.3"}},
		{name: "env style", content: "- TENSORBOARD_IMAGE=tensorflow/tensorflow:2.5.1\n- POSTGRES_IMAGE=postgres:18\n",
			want: []string{"1:21 inline tensorflow/tensorflow:2.5.1 tag=2.5.1", "2:18 inline postgres:18 tag=18"}},
		{name: "digest pinned", content: "value: gcr.io/knative-releases/x/y@" + dg + "\n",
			want: []string{"1:8 inline gcr.io/knative-releases/x/y@" + dg + " digest=" + dg}},
		{name: "docker run", content: "args: [\"until docker ps; do sleep 3; done; docker run --rm -v a:/b debian:latest cat /etc/os-release\"]\n",
			want: []string{"1:68 inline debian:latest tag=latest"}},
		{name: "not images", content: strings.Join([]string{
			"url: http://host:8080/path",
			"url: https://ghcr.io/org/app:1",
			"endpoint: my-minio-endpoint.default:9000",
			"- spark-master:8080",
			"- 10.16.154.78:6789",
			"- 8080:8080",
			"time: 10:30",
			"at: 2024-01-01T10:30:00Z",
			"name: foo",
			"policy: role:readonly",
			"- --log_output_level=default:info",
			"- DB_HOST=db:5432",
			"apiVersion: networking.k8s.io/v1",
			"type: kubernetes.io/service-account-token",
			"NAMESPACE_LABEL: modelregistry.kubeflow.org/namespace",
			"- ./data:/data:ro",
			"- db-data:/var/lib/mysql",
			"hub: gcr.io/istio-release",
			"repository: oci://registry-1.docker.io/bitnamicharts",
			"- --default-repo=gcr.io/$PROJECT_ID",
			"go: golang.org/x/net@v0.1.0",
			"git: git@github.com:org/repo.git",
			"key: a+ghcr.io/a/b:1",
			"key: $(X)ghcr.io/a/b:1",
			"key: ghcr.io/a/b:1+x",
			"key: ghcr.io/a/b:1%",
			"chart: oci://ghcr.io/org/charts/app",
			"key: ${REGISTRY}/app:1.2",
			"key: {{ .Values.registry }}/app:1.2",
			"sidecar.istio.io/inject: \"false\"",
			"key: ghcr.io/a/b:{{ .Values.tag }}",
		}, "\n")},
	})
}

func TestDockerfile(t *testing.T) {
	df := strings.Join([]string{
		"# syntax=docker/dockerfile:1",
		"ARG BASE_IMAGE=registry.example.com/base:1.0",
		"FROM --platform=$BUILDPLATFORM golang:1.22-alpine AS build",
		"# FROM commented:1",
		"RUN --mount=type=cache,target=/root/.cache --mount=type=bind,from=ghcr.io/org/tools:v2,target=/t go build",
		"FROM build AS test",
		"from Build as other",
		"FROM scratch",
		"FROM ${BASE_IMAGE}",
		"COPY --from=build /out /out",
		"COPY --from=0 /a /a",
		"COPY --from=nginx:1.25 /etc/nginx /etc/nginx",
		"FROM gcr.io/distroless/static@" + dg,
		"FROM alpine",
	}, "\n")
	for _, p := range []string{"Dockerfile", "build/Dockerfile.prod", "app.Dockerfile", "Containerfile"} {
		runCases(t, []fileCase{{name: p, path: p, content: df, want: []string{
			"1:10 inline docker/dockerfile:1 tag=1",
			"2:16 inline registry.example.com/base:1.0 tag=1.0",
			"3:32 inline golang:1.22-alpine tag=1.22-alpine",
			"5:67 inline ghcr.io/org/tools:v2 tag=v2",
			"12:13 inline nginx:1.25 tag=1.25",
			"13:6 inline gcr.io/distroless/static@" + dg + " digest=" + dg,
			"14:6 inline alpine",
		}}})
	}
}
