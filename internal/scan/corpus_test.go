package scan

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/corpus")

// corpusRoot holds manifests from public repositories, one folder each. It
// lives outside the module and is read in place, never copied.
const corpusRoot = "../../../shared/corpus"

func corpusFolders(t testing.TB) []string {
	t.Helper()
	ents, err := os.ReadDir(corpusRoot)
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	var dirs []string
	for _, e := range ents {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) == 0 {
		t.Skip("corpus is empty")
	}
	return dirs
}

// listFiles returns the folder's files as slash-separated relative paths,
// as git ls-files would.
func listFiles(t testing.TB, root string) []string {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			paths = append(paths, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

func scanCorpus(t testing.TB, folder string) []Match {
	t.Helper()
	root := filepath.Join(corpusRoot, folder)
	ms, err := Files(context.Background(), root, listFiles(t, root), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// golden renders matches one per line: path:line kind image tag digest.
func golden(ms []Match) []byte {
	var b bytes.Buffer
	for _, m := range ms {
		tag, dig := m.Ref.Tag, m.Ref.Digest
		if tag == "" {
			tag = "-"
		}
		if dig == "" {
			dig = "-"
		}
		fmt.Fprintf(&b, "%s:%d %s %s %s %s\n", m.Path, m.Line, m.Kind, m.Ref.Image(), tag, dig)
	}
	return b.Bytes()
}

func TestCorpusGolden(t *testing.T) {
	for _, folder := range corpusFolders(t) {
		t.Run(folder, func(t *testing.T) {
			ms := scanCorpus(t, folder)
			checkSpans(t, filepath.Join(corpusRoot, folder), ms)
			got := golden(ms)
			file := filepath.Join("testdata", "corpus", folder+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/scan -update)", err)
			}
			if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
				t.Errorf("%s differs (-want +got):\n%s", file, diff)
			}
		})
	}
}

// checkSpans verifies every match against the bytes of its file.
func checkSpans(t *testing.T, root string, ms []Match) {
	t.Helper()
	cache := map[string][]byte{}
	for _, m := range ms {
		b, ok := cache[m.Path]
		if !ok {
			var err error
			b, err = os.ReadFile(filepath.Join(root, filepath.FromSlash(m.Path)))
			if err != nil {
				t.Fatal(err)
			}
			cache[m.Path] = b
		}
		if err := validMatch(b, m); err != nil {
			t.Errorf("%s:%d: %v", m.Path, m.Line, err)
		}
	}
}

// TestCorpusKnown checks references picked by reading the corpus files, of
// every kind, and values that must not be reported.
func TestCorpusKnown(t *testing.T) {
	corpusFolders(t)
	type ref struct {
		folder, at, image, tag, digest string
		kind                           Kind
	}
	present := []ref{
		{"stefanprodan__podinfo", "deploy/bases/frontend/deployment.yaml:27", "ghcr.io/stefanprodan/podinfo", "6.14.1", "", Inline},
		{"stefanprodan__podinfo", "charts/podinfo/values.yaml:10", "ghcr.io/stefanprodan/podinfo", "6.14.1", "", HelmValues},
		{"stefanprodan__podinfo", "charts/podinfo/values.yaml:173", "docker.io/library/redis", "8.8.0", "", HelmValues},
		{"stefanprodan__podinfo", "otel/docker-compose.yaml:40", "docker.io/jaegertracing/all-in-one", "1.57.0", "", Inline},
		{"fluxcd__flux2-kustomize-helm-example", "apps/base/podinfo/release.yaml:26", "public.ecr.aws/docker/library/redis", "8.6.2", "", HelmValues},
		{"bitnami__charts", "bitnami/redis/values.yaml:116", "docker.io/bitnami/redis", "8.2.1-debian-12-r0", "", HelmValues},
		{"bitnami__charts", "bitnami/harbor/values.yaml:2726", "docker.io/bitnami/harbor-registry", "2.13.2-debian-12-r2", "", HelmValues},
		{"bitnami__charts", "bitnami/redis/Chart.yaml:7", "docker.io/bitnami/kubectl", "1.33.4-debian-12-r0", "", Inline},
		{"kubeflow__manifests", "applications/pipeline/upstream/base/pipeline/kustomization.yaml:46", "ghcr.io/kubeflow/kfp-api-server", "2.16.0", "", Kustomize},
		{"kubeflow__manifests", "applications/kserve/models-web-app/base/kustomization.yaml:8", "ghcr.io/kserve/models-web-app", "0.16.1", "", Kustomize},
		{"kubeflow__manifests", "common/istio/istio-install/base/kustomization.yaml:22", "ghcr.io/containerd/busybox", "", "", Kustomize},
		{"kubeflow__manifests", "applications/model-registry/upstream/overlays/db/kustomization.yaml:24", "docker.io/library/mysql", "8.3", "", Kustomize},
		{"kubeflow__manifests", "applications/pipeline/upstream/base/pipeline/ml-pipeline-apiserver-deployment.yaml:129", "ghcr.io/kubeflow/kfp-driver", "2.16.0", "", Inline},
		{"kubeflow__manifests", "applications/jupyter/jupyter-web-app/upstream/base/configs/spawner_ui_config.yaml:45", "ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-pytorch-full", "v1.10.0", "", Inline},
		{"kubeflow__manifests", "common/knative/knative-eventing/base/upstream/in-memory-channel.yaml:182", "gcr.io/knative-releases/knative.dev/eventing/cmd/in_memory/channel_dispatcher", "", "sha256:77340f4be4cd33d920538c490e9d1ff9052702da23ce019ca2c15bb4c0e1532b", Inline},
		{"kubeflow__manifests", "applications/pipeline/upstream/base/installs/generic/pipeline-install-config.yaml:67", "ghcr.io/containerd/busybox", "", "", Inline},
		{"kubeflow__manifests", "applications/pipeline/upstream/third-party/argo/base/workflow-controller-deployment-patch.yaml:19", "quay.io/argoproj/argoexec", "v3.7.3", "", Inline},
		{"kubeflow__manifests", "applications/tensorboard/tensorboard-controller/upstream/base/kustomization.yaml:9", "docker.io/tensorflow/tensorflow", "2.5.1", "", Inline},
		{"GoogleCloudPlatform__microservices-demo", "kubernetes-manifests/loadgenerator.yaml:67", "docker.io/library/busybox", "1.38.0", "sha256:fd8d9aa63ba2f0982b5304e1ee8d3b90a210bc1ffb5314d980eb6962f1a9715d", Inline},
		{"GoogleCloudPlatform__microservices-demo", "kubernetes-manifests/frontend.yaml:47", "docker.io/library/frontend", "", "", Inline},
		{"GoogleCloudPlatform__microservices-demo", "cloudbuild.yaml:30", "gcr.io/k8s-skaffold/skaffold", "v2.16.1", "", Inline},
		{"GoogleCloudPlatform__microservices-demo", ".deploystack/test.yaml:19", "docker.io/library/bash", "", "", Inline},
		{"GoogleCloudPlatform__microservices-demo", "kustomize/base/cartservice.yaml:118", "docker.io/library/redis", "alpine", "", Inline},
		{"argoproj__argo-workflows", "examples/sidecar-dind.yaml:18", "docker.io/library/debian", "latest", "", Inline},
		{"argoproj__argo-workflows", "examples/loops-maps.yaml:27", "docker.io/library/debian", "8.9", "", HelmValues},
		{"argoproj__argo-workflows", "examples/loops-param-argument.yaml:24", "docker.io/library/ubuntu", "17.10", "", HelmValues},
		{"argoproj__argo-workflows", "examples/buildkit-template.yaml:42", "docker.io/alexcollinsintuit/argosay", "v2", "", Inline},
		{"open-telemetry__opentelemetry-demo", ".env:16", "docker.io/grafana/grafana", "13.1.0", "", Inline},
		{"open-telemetry__opentelemetry-demo", ".env:19", "docker.io/library/postgres", "18.4", "", Inline},
		{"kubernetes__examples", "_archived/meteor/mongo-pod.json:24", "docker.io/library/mongo", "latest", "", Inline},
		{"kubernetes__examples", "web/guestbook/legacy/redis-master-controller.yaml:20", "registry.k8s.io/redis", "e2e", "", Inline},
		{"kubernetes__examples", "_archived/volumes/rbd/rbd.yaml:7", "docker.io/kubernetes/pause", "", "", Inline},
		{"istio__istio", "samples/bookinfo/platform/kube/bookinfo.yaml:325", "registry.istio.io/release/examples-bookinfo-productpage-v1", "1.20.3", "", Inline},
		{"docker__awesome-compose", "wasmedge-kafka-mysql/compose.yml:3", "docker.redpanda.com/vectorized/redpanda", "v22.2.2", "", Inline},
		// A tagged oci:// artifact is a registry reference like an image.
		{"kubeflow__manifests", "applications/model-registry/upstream/options/catalog/overlays/demo/dev-community-mcp-servers.yaml:62", "ghcr.io/pab1it0/prometheus-mcp-server", "v1.5.1", "", Inline},
		{"kubeflow__manifests", "applications/model-registry/upstream/options/catalog/overlays/rh-mcp/mcp-servers.yaml:96", "quay.io/containers/kubernetes_mcp_server", "latest", "", Inline},
		{"kubeflow__manifests", "applications/model-registry/upstream/options/catalog/overlays/demo/dev-validated-models.yaml:84", "registry.example.com/certified/production-llm-8b", "validated-v1.0", "", Inline},
		// A kustomize entry whose newName is a placeholder: the name.
		{"GoogleCloudPlatform__microservices-demo", "kustomize/components/container-images-registry/kustomization.yaml:18", "us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo/adservice", "", "", Kustomize},
		{"GoogleCloudPlatform__microservices-demo", "kustomize/components/container-images-registry/kustomization.yaml:40", "docker.io/library/redis", "", "", Kustomize},
		{"GoogleCloudPlatform__microservices-demo", "skaffold.yaml:106", "docker.io/library/loadgenerator", "", "", Inline},
		{"open-telemetry__opentelemetry-demo", ".env:3", "ghcr.io/open-telemetry/demo", "", "", Inline},
		{"bitnami__charts", "bitnami/redis/values.yaml:1790", "docker.io/bitnami/redis-exporter", "1.76.0-debian-12-r0", "", HelmValues},
	}
	// absent lists positions that hold something that is not a reference.
	absent := []struct{ folder, at, why string }{
		{"argoproj__argo-workflows", "examples/ci.yaml:80", "templated {{inputs.parameters.os-image}}"},
		{"argoproj__argo-workflows", "examples/k8s-resource-log-selector.yaml:50", "placeholder prose"},
		{"argoproj__argo-workflows", "examples/hdfs-artifact.yaml:38", "host:port"},
		{"open-telemetry__opentelemetry-demo", "compose.yaml:33", "${IMAGE_NAME}:${DEMO_VERSION}-ad"},
		{"open-telemetry__opentelemetry-demo", "compose.yaml:821", "${COLLECTOR_CONTRIB_IMAGE}"},
		{"open-telemetry__opentelemetry-demo", "compose.extras.yaml:17", "commented out"},
		{"docker__awesome-compose", "nginx-flask-mysql/compose.yaml:6", "commented out"},
		{"docker__awesome-compose", "gitea-postgres/compose.yaml:6", "DB_HOST=db:5432"},
		{"docker__awesome-compose", "nginx-flask-mysql/compose.yaml:35", "port mapping 8000:8000"},
		{"kubernetes__examples", "_archived/spark/spark-ui-proxy-controller.yaml:23", "spark-master:8080"},
		{"kubernetes__examples", "_archived/volumes/rbd/rbd.yaml:20", "Ceph RBD image"},
		{"kubernetes__examples", "_archived/nodesjs-mongodb/web-controller.yaml:17", "<YOUR-CONTAINER>"},
		{"kubeflow__manifests", "applications/jupyter/notebook-controller/upstream/default/manager_image_patch.yaml:11", "IMAGE_URL"},
		{"kubeflow__manifests", "applications/volumes-web-app/upstream/base/viewer-spec.yaml:10", "$VOLUME_VIEWER_IMAGE"},
		{"kubeflow__manifests", "common/istio/profile.yaml:19", "hub: gcr.io/istio-release"},
		{"kubeflow__manifests", "applications/model-registry/upstream/options/controller/overlays/base/params.env:1", "label key"},
		{"kubeflow__manifests", "common/oauth2-proxy/base/deployment.yaml:28", "--http-address=0.0.0.0:4180"},
		{"kubeflow__manifests", "applications/model-registry/upstream/options/catalog/overlays/demo/dev-organization-models.yaml:253", "python: image = Image.open"},
		{"GoogleCloudPlatform__microservices-demo", "helm-chart/values.yaml:20", "registry prefix for many images"},
		{"GoogleCloudPlatform__microservices-demo", "kustomize/components/container-images-registry/kustomization.yaml:19", "newName placeholder"},
		{"GoogleCloudPlatform__microservices-demo", "kustomize/components/container-images-tag-suffix/kustomization.yaml:19", "tagSuffix placeholder"},
		{"fluxcd__flux2-kustomize-helm-example", "infrastructure/controllers/envoy-gateway.yaml:16", "untagged oci:// chart repository"},
		{"fluxcd__flux2-kustomize-helm-example", "infrastructure/controllers/cert-manager.yaml:16", "untagged oci:// chart repository"},
		{"kubeflow__manifests", "applications/model-registry/upstream/options/catalog/overlays/demo/dev-community-mcp-servers.yaml:222", "untagged oci:// artifact"},
		{"kubeflow__manifests", "applications/model-registry/upstream/options/catalog/overlays/demo/dev-organization-models.yaml:5", "data:image/svg+xml URL"},
		{"bitnami__charts", "bitnami/argo-cd/values.yaml:642", "'## image: your-image' Markdown in a comment"},
		{"bitnami__charts", "bitnami/redis/values.schema.json:158", "REPOSITORY_NAME/redis schema default"},
		{"open-telemetry__opentelemetry-demo", "src/frontend-proxy/envoy.tmpl.yaml:197", "name: image-provider"},
		{"open-telemetry__opentelemetry-demo", ".env:2", "IMAGE_VERSION=3.0.0 alone"},
		{"docker__awesome-compose", "react-express-mysql/compose.yaml:22", "volume ./backend/src:/code/src:ro"},
		{"GoogleCloudPlatform__microservices-demo", "cloudbuild.yaml:36", "--default-repo=gcr.io/$PROJECT_ID"},
		{"bitnami__charts", "bitnami/redis/Chart.yaml:22", "oci:// chart repository"},
		{"bitnami__charts", "bitnami/nginx/values.yaml:535", "git repository"},
	}
	byFolder := map[string]map[string][]Match{}
	get := func(folder string) map[string][]Match {
		if m, ok := byFolder[folder]; ok {
			return m
		}
		m := map[string][]Match{}
		for _, x := range scanCorpus(t, folder) {
			at := fmt.Sprintf("%s:%d", x.Path, x.Line)
			m[at] = append(m[at], x)
		}
		byFolder[folder] = m
		return m
	}
	for _, r := range present {
		ms := get(r.folder)[r.at]
		ok := false
		for _, m := range ms {
			if m.Ref.Image() == r.image && m.Ref.Tag == r.tag && m.Ref.Digest == r.digest && m.Kind == r.kind {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s/%s: want %s %s:%s@%s, got %+v", r.folder, r.at, r.kind, r.image, r.tag, r.digest, ms)
		}
	}
	for _, a := range absent {
		if ms := get(a.folder)[a.at]; len(ms) > 0 {
			t.Errorf("%s/%s (%s): want nothing, got %+v", a.folder, a.at, a.why, ms)
		}
	}
}
