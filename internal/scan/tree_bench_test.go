//go:build unix

package scan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchTreeFiles is the size of the generated repository BenchmarkFiles
// scans; LAMINAR_BENCH_FILES overrides it (20000 for the release check).
func benchTreeFiles() int {
	if v := os.Getenv("LAMINAR_BENCH_FILES"); v != "" {
		var n int
		if _, err := fmt.Sscan(v, &n); err == nil && n > 0 {
			return n
		}
	}
	return 2000
}

// genTree writes a repository of n files with the mix of a manifests
// repository: Kubernetes manifests with and without images, Helm values
// with long comments, kustomizations, compose files, Dockerfiles, .env
// files, JSON, and large text that is not a manifest (docs, source, logs,
// lock files). It returns the root and the repository-relative paths.
func genTree(tb testing.TB, n int) (string, []string) {
	tb.Helper()
	root := tb.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	var paths []string
	var b bytes.Buffer
	for i := range n {
		b.Reset()
		var p string
		switch k := i % 20; {
		case k < 6: // workloads
			p = fmt.Sprintf("apps/team-%d/svc-%d/deployment.yaml", i%37, i)
			for d := range 1 + rng.IntN(3) {
				fmt.Fprintf(&b, deploymentTmpl, i, d, i%50, rng.IntN(9), rng.IntN(30))
			}
		case k < 10: // manifests without images
			p = fmt.Sprintf("apps/team-%d/svc-%d/service.yaml", i%37, i)
			for d := range 2 + rng.IntN(4) {
				fmt.Fprintf(&b, serviceTmpl, i, d, i, d)
			}
		case k < 12: // Helm values: long, mostly comments
			p = fmt.Sprintf("charts/chart-%d/values.yaml", i)
			for s := range 20 + rng.IntN(40) {
				fmt.Fprintf(&b, valuesTmpl, s, s, s, s, i%40, rng.IntN(20))
			}
		case k == 12:
			p = fmt.Sprintf("apps/team-%d/svc-%d/kustomization.yaml", i%37, i)
			fmt.Fprintf(&b, kustomizationTmpl, i%50, rng.IntN(9), i%30)
		case k == 13:
			p = fmt.Sprintf("compose/stack-%d/compose.yaml", i)
			fmt.Fprintf(&b, composeTmpl, rng.IntN(20), i, rng.IntN(9))
		case k == 14:
			p = fmt.Sprintf("images/img-%d/Dockerfile", i)
			fmt.Fprintf(&b, dockerfileTmpl, rng.IntN(5), i)
		case k == 15:
			p = fmt.Sprintf("env/env-%d/.env", i)
			fmt.Fprintf(&b, envTmpl, i, rng.IntN(9), i)
		case k == 16:
			p = fmt.Sprintf("dashboards/dash-%d.json", i)
			for range 50 + rng.IntN(200) {
				fmt.Fprintf(&b, `{"title": "panel %d", "targets": [{"expr": "rate(http_requests_total{job=\"svc-%d\"}[5m])"}], "gridPos": {"h": 8, "w": 12}},`+"\n", rng.IntN(1000), i)
			}
		case k == 17: // documentation
			p = fmt.Sprintf("docs/guide-%d.md", i)
			for range 100 + rng.IntN(400) {
				b.WriteString("The operator reconciles the desired state of each release; see the runbook for the rollback procedure and the on-call rota.\n")
			}
		case k == 18: // source code
			p = fmt.Sprintf("tools/cmd-%d/main.go", i)
			for f := range 100 + rng.IntN(300) {
				fmt.Fprintf(&b, "func handler%d(w http.ResponseWriter, r *http.Request) {\n\tfmt.Fprintf(w, \"ok %%d\", %d)\n}\n", f, f)
			}
		default: // a large lock file or log
			p = fmt.Sprintf("vendor/lock-%d.txt", i)
			for l := range 2000 + rng.IntN(4000) {
				fmt.Fprintf(&b, "github.com/org/module-%d v0.%d.%d h1:%x=\n", l, l%30, l%7, rng.Uint64())
			}
		}
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(full, b.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
		paths = append(paths, p)
	}
	return root, paths
}

const deploymentTmpl = `---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc-%[1]d-%[2]d
  labels:
    app.kubernetes.io/name: svc-%[1]d
    app.kubernetes.io/part-of: shop
spec:
  replicas: 2
  selector:
    matchLabels:
      app: svc-%[1]d
  template:
    metadata:
      annotations:
        sidecar.istio.io/inject: "true"
    spec:
      initContainers:
      - name: init
        image: busybox:1.36
      containers:
      - name: server
        image: registry.example.com:5000/acme/service-%[3]d:1.%[4]d.%[5]d
        ports:
        - containerPort: 8080
        env:
        - name: REDIS_ADDR
          value: "redis-cart:6379"
        - name: DRIVER_IMAGE
          value: ghcr.io/acme/driver:2.16.0
        resources:
          requests:
            cpu: 100m
            memory: 64Mi
        readinessProbe:
          httpGet:
            path: /healthz
            port: 8080
`

const serviceTmpl = `---
apiVersion: v1
kind: Service
metadata:
  name: svc-%d-%d
spec:
  type: ClusterIP
  selector:
    app: svc-%d
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-%d
data:
  LOG_LEVEL: info
  ENDPOINT: http://collector.monitoring:4318
`

const valuesTmpl = `## @section Component %d parameters
##
## @param component%d.enabled Enable the component
## @param component%d.replicaCount Number of replicas
## ref: https://kubernetes.io/docs/concepts/workloads/controllers/deployment/
##
component%d:
  enabled: true
  replicaCount: 1
  ## Component image
  ## @param component.image.registry [default: REGISTRY_NAME] image registry
  ##
  image:
    registry: docker.io
    repository: bitnami/component-%d
    tag: 1.%d.0-debian-12-r0
    digest: ""
    pullPolicy: IfNotPresent
  resources: {}
  podAnnotations: {}
  nodeSelector: {}
  tolerations: []
`

const kustomizationTmpl = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- deployment.yaml
- service.yaml
images:
- name: registry.example.com:5000/acme/service-%d
  newTag: 1.%d.0
- name: busybox
  newName: ghcr.io/containerd/busybox
  newTag: "1.%d"
`

const composeTmpl = `services:
  web:
    image: nginx:1.%d
    ports:
      - "8080:80"
  app:
    build: ./app
    image: app-%d
    environment:
      - DB_HOST=db:5432
  db:
    image: postgres:16.%d
    volumes:
      - db-data:/var/lib/postgresql/data
volumes:
  db-data: {}
`

const dockerfileTmpl = `# syntax=docker/dockerfile:1
FROM --platform=$BUILDPLATFORM golang:1.2%d-alpine AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app-%d ./cmd/app
FROM gcr.io/distroless/static:nonroot
COPY --from=build /out /
ENTRYPOINT ["/app"]
`

const envTmpl = `APP_NAME=app-%d
APP_IMAGE=ghcr.io/acme/app:2.%d.0
APP_PORT=8080
DATABASE_URL=postgres://app:secret@db:5432/app-%d
`

// BenchmarkFiles scans a generated repository and, in the same run, times
// git grep for the lines the scanner starts from ('image' or 'FROM'), the
// yardstick the scan must stay within 2x of. Compare the medians of
// -count=5 of the two sub-benchmarks.
func BenchmarkFiles(b *testing.B) {
	root, paths := genTree(b, benchTreeFiles())
	var size int64
	for _, p := range paths {
		fi, err := os.Stat(filepath.Join(root, p))
		if err != nil {
			b.Fatal(err)
		}
		size += fi.Size()
	}
	b.Run("scan", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		var n int
		cpu0 := cpuTime()
		for b.Loop() {
			ms, err := Files(context.Background(), root, paths, Options{})
			if err != nil {
				b.Fatal(err)
			}
			n = len(ms)
		}
		b.ReportMetric(float64(n), "matches")
		b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
	})
	b.Run("git-grep", func(b *testing.B) {
		if _, err := exec.LookPath("git"); err != nil {
			b.Skip("git not installed")
		}
		git := func(args ...string) []byte {
			cmd := exec.Command("git", args...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+root, "GIT_OPTIONAL_LOCKS=0")
			out, err := cmd.Output()
			if err != nil {
				b.Fatalf("git %s: %v", strings.Join(args, " "), err)
			}
			return out
		}
		if _, err := os.Stat(filepath.Join(root, ".git")); err != nil {
			git("init", "-q")
			git("add", "-A")
		}
		b.SetBytes(size)
		var lines int
		var cpu time.Duration
		for b.Loop() {
			cmd := exec.Command("git", "grep", "-nE", "image|FROM")
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+root, "GIT_OPTIONAL_LOCKS=0")
			out, err := cmd.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			c := &lineCounter{}
			if _, err := io.Copy(c, out); err != nil {
				b.Fatal(err)
			}
			if err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
			lines = c.n
			cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		b.ReportMetric(float64(lines), "lines")
		b.ReportMetric(float64(cpu)/1e6/float64(b.N), "cpu-ms/op")
	})
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type lineCounter struct{ n int }

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n += bytes.Count(p, []byte("\n"))
	return len(p), nil
}
