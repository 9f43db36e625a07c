package scan

import (
	"strings"
	"testing"
)

func TestKustomize(t *testing.T) {
	runCases(t, []fileCase{
		{name: "newTag", path: "overlays/prod/kustomization.yaml", content: strings.Join([]string{
			"resources: [deploy.yaml]",
			"images:",
			"- name: ghcr.io/kubeflow/kfp-api-server",
			"  newTag: 2.16.0",
			"  - name: nested-is-not-an-entry", // continuation garbage is ignored
			"- name: busybox",
			"  newName: ghcr.io/containerd/busybox",
			"- name: model-registry-ui",
			"  newName: ghcr.io/kubeflow/model-registry/ui",
			"  newTag: \"v0.3.8\"",
			"  digest: " + dg,
			"- name: prom/prometheus",
			"-  {name: nginx, newTag: '1.25'}",
			"- name: x",
			"  newName: CONTAINER_IMAGES_REGISTRY/x",
			"- name: y",
			"  newTag: ${TAG}",
		}, "\n"), want: []string{
			"3:9 kustomize ghcr.io/kubeflow/kfp-api-server:2.16.0 tag=2.16.0",
			"6:9 kustomize ghcr.io/containerd/busybox",
			"8:9 kustomize ghcr.io/kubeflow/model-registry/ui:v0.3.8@" + dg + " tag=v0.3.8 digest=" + dg,
			"12:9 kustomize prom/prometheus",
			"13:11 kustomize nginx:1.25 tag=1.25",
			// Placeholders in newName or newTag: the name is the literal
			// reference, what it becomes is unknown.
			"14:9 kustomize x",
			"16:9 kustomize y",
		}},
		{name: "indented list, other file", path: "flux/kustomization-app.yaml", content: strings.Join([]string{
			"spec:",
			"  images:",
			"    - name: ghcr.io/org/app",
			"      newTag: v1.2.3 # pinned",
			"    - name: only-a-name",
		}, "\n"), want: []string{"3:13 kustomize ghcr.io/org/app:v1.2.3 tag=v1.2.3"}},
		{name: "chart annotations are not kustomize", path: "Chart.yaml", content: strings.Join([]string{
			"annotations:",
			"  images: |",
			"    - name: redis",
			"      image: docker.io/bitnami/redis:8.2.1-debian-12-r0",
		}, "\n"), want: []string{"4:14 inline docker.io/bitnami/redis:8.2.1-debian-12-r0 tag=8.2.1-debian-12-r0"}},
	})
}

func TestHelmValues(t *testing.T) {
	runCases(t, []fileCase{
		{name: "bitnami", path: "values.yaml", content: strings.Join([]string{
			"## @param image.registry [default: REGISTRY_NAME] image registry",
			"image:",
			"  registry: docker.io",
			"  repository: bitnami/redis",
			"  ## comment between",
			"  tag: 8.2.1-debian-12-r0",
			"  digest: \"\"",
			"  pullPolicy: IfNotPresent",
			"sentinel:",
			"  image:",
			"    registry: docker.io",
			"    repository: bitnami/redis-sentinel",
			"    tag: \"8.2.1\"",
			"    digest: \"" + dg + "\"",
		}, "\n"), want: []string{
			"4:15 helm-values docker.io/bitnami/redis:8.2.1-debian-12-r0 tag=8.2.1-debian-12-r0",
			"12:17 helm-values docker.io/bitnami/redis-sentinel:8.2.1@" + dg + " tag=8.2.1 digest=" + dg,
		}},
		{name: "repository and tag", path: "values.yaml", content: strings.Join([]string{
			"image:",
			"  repository: ghcr.io/stefanprodan/podinfo",
			"  tag: 6.14.1",
			"redis:",
			"  enabled: true",
			"  repository: docker.io/redis",
			"  tag: 8.8.0",
			"controller:",
			"  image: {repository: quay.io/org/ctl, tag: 'v2'}",
			"untagged:",
			"  image:",
			"    repository: nginx",
			"    tag: \"\"",
			"images:",
			"  repository: us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo",
			"  tag: \"\"",
			"git:",
			"  repository: \"\"",
			"templated:",
			"  image:",
			"    repository: app",
			"    tag: \"{{ .Chart.AppVersion }}\"",
		}, "\n"), want: []string{
			"2:15 helm-values ghcr.io/stefanprodan/podinfo:6.14.1 tag=6.14.1",
			"6:15 helm-values docker.io/redis:8.8.0 tag=8.8.0",
			"9:23 helm-values quay.io/org/ctl:v2 tag=v2",
			"12:17 helm-values nginx",
		}},
		{name: "image and tag items", path: "wf.yaml", content: strings.Join([]string{
			"withItems:",
			"- { image: 'debian', tag: '9.1' }",
			"- image: alpine",
			"  tag: \"3.6\"",
			"value: |",
			"  [{ \"image\": \"ubuntu\", \"tag\": \"17.10\" }]",
		}, "\n"), want: []string{
			"2:13 helm-values debian:9.1 tag=9.1",
			"3:10 helm-values alpine:3.6 tag=3.6",
			"6:16 helm-values ubuntu:17.10 tag=17.10",
		}},
		{name: "named values", path: "deploy.yaml", content: strings.Join([]string{
			"env:",
			"- name: BUSYBOX_IMAGE",
			"  value: busybox:1.36",
			"- name: OTHER",
			"  value: busybox:1.36",
			"- {name: image, value: \"alpine:3.6\"}",
		}, "\n"), want: []string{"3:10 inline busybox:1.36 tag=1.36", "6:25 inline alpine:3.6 tag=3.6"}},
		{name: "rbd volume", path: "pod.yaml", content: strings.Join([]string{
			"containers:",
			"- image: kubernetes/pause",
			"volumes:",
			"- rbd:",
			"    monitors:",
			"    - '10.16.154.78:6789'",
			"    pool: kube",
			"    image: foo",
		}, "\n"), want: []string{"2:10 inline kubernetes/pause"}},
		{name: "cloud build", path: "cloudbuild.yaml", content: strings.Join([]string{
			"steps:",
			"- name: 'bash'",
			"  id: creds",
			"  args: ['-c', 'echo']",
			"- name: gcr.io/cloud-builders/docker",
			"  args: [build, .]",
			"templates:",
			"- name: hello",
			"  steps:",
			"  - - name: step1",
			"      template: whalesay",
			"  - name: checkout",
			"    uses: actions/checkout@v4",
		}, "\n"), want: []string{"2:10 inline bash", "5:9 inline gcr.io/cloud-builders/docker"}},
	})
}

func TestOtherSyntaxes(t *testing.T) {
	runCases(t, []fileCase{
		{name: "env", path: ".env", content: strings.Join([]string{
			"# Dependent images",
			"IMAGE_VERSION=3.0.0",
			"IMAGE_NAME=ghcr.io/open-telemetry/demo",
			"GRAFANA_IMAGE=grafana/grafana:13.1.0",
			"POSTGRES_IMAGE=postgres:18.4",
			"export APP_IMAGE=\"registry.example.com:5000/acme/app:develop-1\"",
			"#REDIS_IMAGE=redis:7",
			"DB_HOST=db:5432",
			"IMAGE_PROVIDER_PORT=8081",
			"NAMESPACE_LABEL=modelregistry.kubeflow.org/namespace",
		}, "\n"), want: []string{
			"3:12 inline ghcr.io/open-telemetry/demo",
			"4:15 inline grafana/grafana:13.1.0 tag=13.1.0",
			"5:16 inline postgres:18.4 tag=18.4",
			"6:19 inline registry.example.com:5000/acme/app:develop-1 tag=develop-1",
		}},
		{name: "json", path: "pod.json", content: strings.Join([]string{
			`{"spec": {"containers": [`,
			`  {"name": "a", "image": "mongo:latest"},`,
			`  {"image":"chees/meteor-gke-example:latest","ports":[{"containerPort": 8080}]},`,
			`  {"image": "{{ .Values.image }}"},`,
			`  {"url": "http://host:8080/path"}`,
			`]}}`,
		}, "\n"), want: []string{
			"2:27 inline mongo:latest tag=latest",
			"3:13 inline chees/meteor-gke-example:latest tag=latest",
		}},
		{name: "jsonnet", path: "app.jsonnet", content: strings.Join([]string{
			"local img = 'ghcr.io/org/app:1.2.3';",
			"{",
			"  image: 'nginx:1.25',",
			"  sidecar:: { image: \"envoyproxy/envoy:v1.30.0\" },",
			"  // image: 'commented:1',",
			"  # image: 'hash-commented:1',",
			"  /* image: 'block:1',",
			"     image: 'block:2', */",
			"  url: 'https://ghcr.io/org/app:1',",
			"}",
		}, "\n"), want: []string{
			"1:14 inline ghcr.io/org/app:1.2.3 tag=1.2.3",
			"3:11 inline nginx:1.25 tag=1.25",
			"4:23 inline envoyproxy/envoy:v1.30.0 tag=v1.30.0",
		}},
		{name: "hcl", path: "main.tf", content: strings.Join([]string{
			`resource "docker_container" "web" {`,
			`  image = "nginx:1.25"`,
			`  # image = "hash:1"`,
			`  // image = "slash:1"`,
			`  container_image = "gcr.io/project/app@` + dg + `"`,
			`  image_tag = "1.0"`,
			`  image = "${var.registry}/app:${var.tag}"`,
			`}`,
		}, "\n"), want: []string{
			"2:12 inline nginx:1.25 tag=1.25",
			"5:22 inline gcr.io/project/app@" + dg + " digest=" + dg,
		}},
		{name: "shell", path: "scripts/deploy.sh", content: strings.Join([]string{
			"#!/bin/sh",
			"docker pull registry.example.com/acme/app:1.0",
			"docker run --rm -p 80:80 -e A=b nginx:1.25 nginx -g 'daemon off;'",
			"podman run -it alpine",
			"# docker run commented:1",
			"mydocker run notthis:1",
			"docker run \"$IMAGE\"",
		}, "\n"), want: []string{
			"2:13 inline registry.example.com/acme/app:1.0 tag=1.0",
			"3:33 inline nginx:1.25 tag=1.25",
			"4:16 inline alpine",
		}},
	})
}

func TestMarker(t *testing.T) {
	runCases(t, []fileCase{
		{name: "yaml", content: strings.Join([]string{
			`app:`,
			`  tag: "1.4.2"  # laminar: registry.example.com/app`,
			`  version: v2 # laminar: ghcr.io/org/x`,
			`  pinned: ` + dg + ` # laminar: ghcr.io/org/y`,
			`  bad: "not a tag!" # laminar: ghcr.io/org/z`,
			`  withtag: "1" # laminar: ghcr.io/org/z:1`,
			`- 2.0.1 # laminar: ghcr.io/org/list`,
		}, "\n"), want: []string{
			"2:9 marker registry.example.com/app:1.4.2 tag=1.4.2",
			"3:12 marker ghcr.io/org/x:v2 tag=v2",
			"4:11 marker ghcr.io/org/y@" + dg + " digest=" + dg,
			"7:3 marker ghcr.io/org/list:2.0.1 tag=2.0.1",
		}},
		{name: "env and hcl", path: "versions.tf", content: strings.Join([]string{
			`app_version = "1.4.2" // laminar: registry.example.com/app`,
			`other = "2.0" # laminar: registry.example.com/other`,
		}, "\n"), want: []string{
			"1:16 marker registry.example.com/app:1.4.2 tag=1.4.2",
			"2:10 marker registry.example.com/other:2.0 tag=2.0",
		}},
		{name: "marker wins over split", path: "values.yaml", content: strings.Join([]string{
			"image:",
			"  repository: ghcr.io/org/app",
			"  tag: 1.0.0 # laminar: ghcr.io/org/other",
		}, "\n"), want: []string{"3:8 marker ghcr.io/org/other:1.0.0 tag=1.0.0"}},
		{name: "ignore", content: strings.Join([]string{
			"image: nginx:1.25 # laminar:ignore",
			"value: ghcr.io/org/app:1.0   # laminar: ignore (a fixture)",
			"image: nginx:1.26",
		}, "\n"), want: []string{"3:8 inline nginx:1.26 tag=1.26"}},
	})
}
