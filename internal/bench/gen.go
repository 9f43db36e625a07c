package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The tag catalogue of every bench repository, the same shape in each:
// tag i was built at base+i minutes, so tags are distinct in time within
// a repository and the T images are shared between repositories (seeding
// then costs one manifest PUT per tag). By i%10:
//
//	0-1  develop-<hex8>        (glob:develop-*, ranked by creation time)
//	2    main-<hex8>           (glob:main-*, order newest-build)
//	3-7  1.<i/10>.<i%10-3>     (semver:^1)
//	8    1.<i/10>.5-rc.1       (a pre-release: not in ^1)
//	9    2.<i/20>.0 or sha256-<hex64>.sig, alternately (never chosen)
//
// So a fifth of the tags of a repository are candidates of the dev rule
// and a tenth of the staging rule, each needing its creation time.
var base = time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)

func created(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }

// mix is a bijection on uint32 (an xorshift-multiply hash), so that the
// hex names of distinct (repo, index) pairs never collide.
func mix(x uint32) uint32 {
	x ^= x >> 16
	x *= 0x7feb352d
	x ^= x >> 15
	x *= 0x846ca68b
	x ^= x >> 16
	return x
}

func hex8(r, i, t int) string { return fmt.Sprintf("%08x", mix(uint32(r*t+i))) }

func tagName(r, i, t int) string {
	switch i % 10 {
	case 0, 1:
		return "develop-" + hex8(r, i, t)
	case 2:
		return "main-" + hex8(r, i, t)
	case 3, 4, 5, 6, 7:
		return fmt.Sprintf("1.%d.%d", i/10, i%10-3)
	case 8:
		return fmt.Sprintf("1.%d.5-rc.1", i/10)
	default:
		if (i/10)%2 == 0 {
			return fmt.Sprintf("2.%d.0", i/20)
		}
		h := hex8(r, i, t)
		return "sha256-" + strings.Repeat(h, 8) + ".sig"
	}
}

// Catalogue indices (mod 10) of the tags new builds get in the newest
// phase: a develop-* and a main-* tag.
const (
	newDevelop = 0
	newMain    = 2
)

// The environments of the manifests repository and the rule of each.
const (
	envDev     = "dev"
	envStaging = "staging"
	envProd    = "prod"
)

// currentIndex is the catalogue index of the tag that (repo, env) is at in
// the manifests: one of the oldest quarter, so that every rule has
// something newer to promote to. variant 1 is a second, staler reference
// (a forgotten CronJob).
func currentIndex(r int, env string, variant, t int) int {
	rounds := max(1, t/10/4)
	h := int(mix(uint32(r*7+variant*131+len(env))) >> 1)
	k := h % rounds
	if variant == 1 {
		k = 0
	}
	var i int
	switch env {
	case envDev:
		i = 10*k + h%2
	case envStaging:
		i = 10*k + 2
	default:
		i = 10*k + 3 + h%5
	}
	if i >= t { // a tiny catalogue: take the first tag of the kind
		i = i % 10
	}
	return i
}

// genConfig describes the manifests repository to generate.
type genConfig struct {
	Files, Repos, Tags int
	Seed               uint64
	Host               string // registry host "127.0.0.1:PORT"
	RegistrySettings   string // more keys of the [[registry]] table
}

// Prefix is the managed prefix: host + "/bench".
func (g genConfig) Prefix() string { return g.Host + "/bench" }

func repoPath(r int) string { return fmt.Sprintf("bench/svc-%03d", r) }

// genResult is what was generated, for checking the tool's scan.
type genResult struct {
	Files         int            // files written, laminar.toml included
	FilesByKind   map[string]int // by template
	ManagedRefs   int            // references under the managed prefix (with a rule)
	UnmanagedRefs int            // every other reference
	Referenced    []string       // managed repositories referenced, "bench/svc-000"
	Bytes         int64
}

// unmanaged images: other registries, none of which is listed.
var unmanaged = []string{
	"docker.io/library/nginx:1.25.3",
	"nginx:1.27-alpine",
	"ghcr.io/acme-platform/envoy-proxy:v1.31.2",
	"ghcr.io/open-telemetry/opentelemetry-collector-releases/opentelemetry-collector-contrib:0.110.0",
	"quay.io/prometheus/node-exporter:v1.8.2",
	"quay.io/jetstack/cert-manager-controller:v1.15.3",
	"gcr.io/distroless/static-debian12:nonroot",
	"registry.k8s.io/pause:3.10",
	"public.ecr.aws/docker/library/busybox:1.36.1",
	"busybox:1.36",
}

type generator struct {
	g       genConfig
	rnd     *rand.Rand
	res     genResult
	counter map[string]int // round robin over repositories per environment
	refd    map[int]bool
	root    string
	taken   map[string]bool
}

// generate writes the manifests repository into root (which must not
// exist or be empty) and laminar.toml with the given extra TOML appended.
func generate(root string, g genConfig, extraTOML string) (genResult, error) {
	gen := &generator{
		g:       g,
		rnd:     rand.New(rand.NewPCG(g.Seed, 0x6c616d696e6172)),
		res:     genResult{FilesByKind: map[string]int{}},
		counter: map[string]int{},
		refd:    map[int]bool{},
		root:    root,
		taken:   map[string]bool{},
	}
	if err := gen.run(extraTOML); err != nil {
		return genResult{}, err
	}
	for r := range gen.refd {
		gen.res.Referenced = append(gen.res.Referenced, repoPath(r))
	}
	slices.Sort(gen.res.Referenced)
	return gen.res, nil
}

func (gen *generator) write(rel, content string) error {
	p := filepath.Join(gen.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	gen.res.Files++
	gen.res.Bytes += int64(len(content))
	return os.WriteFile(p, []byte(content), 0o644)
}

// ref picks the next managed repository for env (round robin, so every
// repository is referenced) and returns its reference at the current tag.
func (gen *generator) ref(env string) (r int, image, tag string) {
	n := gen.g.Repos
	c := gen.counter[env]
	gen.counter[env] = c + 1
	r = c % n
	if env == envStaging {
		// newest-build manages a quarter of the repositories.
		sub := (n + 3) / 4
		r = (c % sub) * 4
	}
	variant := 0
	if env == envDev && gen.rnd.IntN(10) == 0 {
		variant = 1
	}
	gen.refd[r] = true
	gen.res.ManagedRefs++
	return r, gen.g.Prefix() + "/" + fmt.Sprintf("svc-%03d", r), tagName(r, currentIndex(r, env, variant, gen.g.Tags), gen.g.Tags)
}

func (gen *generator) other() string {
	gen.res.UnmanagedRefs++
	return unmanaged[gen.rnd.IntN(len(unmanaged))]
}

// kinds and their weights (percent of files).
var kinds = []struct {
	name   string
	weight int
}{
	{"configmap", 15}, {"service", 10}, {"doc", 15}, // 40%: no image
	{"deployment", 20}, {"cronjob", 7}, {"helm", 10}, {"kustomize", 7},
	{"compose", 6}, {"dockerfile", 5}, {"env", 5},
}

func (gen *generator) pickKind() string {
	n := gen.rnd.IntN(100)
	for _, k := range kinds {
		if n < k.weight {
			return k.name
		}
		n -= k.weight
	}
	return kinds[0].name
}

func (gen *generator) pickEnv() string {
	switch n := gen.rnd.IntN(100); {
	case n < 45:
		return envDev
	case n < 60:
		return envStaging
	default:
		return envProd
	}
}

// path returns a path for a file of kind in app's directory, unique in
// the repository.
func (gen *generator) path(dir, name string) string {
	p := dir + "/" + name
	for i := 2; gen.taken[p]; i++ {
		ext := filepath.Ext(name)
		stem := strings.TrimSuffix(name, ext)
		switch {
		case strings.HasPrefix(name, "Dockerfile"):
			p = fmt.Sprintf("%s/Dockerfile.v%d", dir, i)
		case name == ".env":
			p = fmt.Sprintf("%s/.env.v%d", dir, i)
		default:
			p = fmt.Sprintf("%s/%s-%d%s", dir, stem, i, ext)
		}
	}
	gen.taken[p] = true
	return p
}

// semverConfig is the generated laminar.toml with the semver rule alone.
func semverConfig(g genConfig, extraTOML string) string {
	return fmt.Sprintf(`# The prod rule of the bench repository alone.
[[registry]]
name = "bench"
prefix = %q
%s
[[update]]
name = "prod"
pattern = "semver:^1"
files = ["prod/"]
%s`, g.Prefix(), g.RegistrySettings, extraTOML)
}

func (gen *generator) run(extraTOML string) error {
	cfg := fmt.Sprintf(`# Rules of the generated bench repository (git-laminar internal/bench).
[[registry]]
name = "bench"
prefix = %q
%s
[[update]]
name = "dev"
pattern = "glob:develop-*"
files = ["dev/"]

[[update]]
name = "staging"
pattern = "glob:main-*"
order = "newest-build"
files = ["staging/"]

[[update]]
name = "prod"
pattern = "semver:^1"
files = ["prod/"]
%s`, gen.g.Prefix(), gen.g.RegistrySettings, extraTOML)
	if err := gen.write("laminar.toml", cfg); err != nil {
		return err
	}
	if err := gen.write("README.md", "# Manifests\n\nGenerated by `go run ./internal/bench`. Every environment has a folder.\n"); err != nil {
		return err
	}
	const filesPerApp = 6
	var (
		env, dir string
		app      int
	)
	for i := range max(0, gen.g.Files-2) {
		if i%filesPerApp == 0 {
			app = i / filesPerApp
			env = gen.pickEnv()
			dir = fmt.Sprintf("%s/team-%02d/app-%05d", env, app%37, app)
		}
		kind := gen.pickKind()
		gen.res.FilesByKind[kind]++
		name := fmt.Sprintf("app-%05d", app)
		var rel, content string
		switch kind {
		case "configmap":
			rel, content = gen.path(dir, "configmap.yaml"), gen.configMap(name)
		case "service":
			rel, content = gen.path(dir, "service.yaml"), gen.service(name)
		case "doc":
			rel, content = gen.path(fmt.Sprintf("docs/team-%02d", app%37), name+".md"), gen.doc(name)
		case "deployment":
			rel, content = gen.path(dir, "deployment.yaml"), gen.deployment(name, env)
		case "cronjob":
			rel, content = gen.path(dir, "cronjob.yaml"), gen.cronJob(name, env)
		case "helm":
			rel, content = gen.path(dir, "values.yaml"), gen.helmValues(name, env)
		case "kustomize":
			rel, content = gen.path(dir, "kustomization.yaml"), gen.kustomization(name, env)
		case "compose":
			rel, content = gen.path(dir, "compose.yaml"), gen.compose(name, env)
		case "dockerfile":
			rel, content = gen.path(dir, "Dockerfile"), gen.dockerfile(name, env)
		case "env":
			rel, content = gen.path(dir, ".env"), gen.envFile(name, env)
		}
		if err := gen.write(rel, content); err != nil {
			return err
		}
	}
	return nil
}

func (gen *generator) configMap(name string) string {
	return fmt.Sprintf(`# Configuration of %[1]s. Reviewed like code.
apiVersion: v1
kind: ConfigMap
metadata:
  name: %[1]s-config
  labels:
    app.kubernetes.io/name: %[1]s
data:
  LOG_LEVEL: info
  CACHE_ADDR: redis-cart:6379
  MAINTENANCE_WINDOW: "10:30"
  ROLE: role:readonly
  UPSTREAM_URL: http://api.internal:8080/v1/%[1]s
  config.yaml: |
    server:
      port: 8080
      readTimeout: 15s
    features:
      newCheckout: %[2]t
      shards: %[3]d
`, name, gen.rnd.IntN(2) == 0, 1+gen.rnd.IntN(16))
}

func (gen *generator) service(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
spec:
  selector:
    app.kubernetes.io/name: %[1]s
  ports:
    - name: http
      port: 80
      targetPort: 8080
    - name: metrics
      port: 9090
`, name)
}

func (gen *generator) doc(name string) string {
	return fmt.Sprintf(`# Runbook: %[1]s

Owner: team %[2]d. Pager rotation in the team wiki.

## Deploying

Promotions are made by CI through pull requests; check the rollout with
kubectl rollout status and the dashboards. Never edit a tag by hand in
production: open a pull request instead.

## Alerts

- High latency: check the upstream dependencies first, then the cache.
- Crash loops: read the previous container's logs, then roll back.
`, name, gen.rnd.IntN(40))
}

func (gen *generator) deployment(name, env string) string {
	_, img, tag := gen.ref(env)
	var b strings.Builder
	fmt.Fprintf(&b, `# Deployment of %[1]s (%[2]s).
# Tags are promoted by git laminar; do not edit them by hand.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  labels:
    app.kubernetes.io/name: %[1]s
    app.kubernetes.io/part-of: %[2]s
spec:
  replicas: %[3]d
  selector:
    matchLabels:
      app.kubernetes.io/name: %[1]s
  template:
    metadata:
      labels:
        app.kubernetes.io/name: %[1]s
      annotations:
        prometheus.io/scrape: "true"
        prometheus.io/port: "9090"
    spec:
      serviceAccountName: %[1]s
`, name, env, 1+gen.rnd.IntN(5))
	if gen.rnd.IntN(4) == 0 {
		_, mimg, mtag := gen.ref(env)
		fmt.Fprintf(&b, `      initContainers:
        - name: migrate
          image: %s:%s
          args: ["migrate", "--to=latest"]
`, mimg, mtag)
	}
	fmt.Fprintf(&b, `      containers:
        - name: app
          image: %s:%s # promoted by CI
          imagePullPolicy: IfNotPresent
          ports:
            - containerPort: 8080
              name: http
          env:
            - name: LOG_LEVEL
              value: info
            - name: UPSTREAM
              value: http://api.internal:8080/v1
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
          readinessProbe:
            httpGet: {path: /healthz, port: http}
`, img, tag)
	for j := range gen.rnd.IntN(3) {
		fmt.Fprintf(&b, `        - name: sidecar-%d
          image: %s   # not managed here
          args: ["--port=%d"]
`, j, gen.other(), 9100+j)
	}
	if gen.rnd.IntN(50) == 0 {
		// Same host, a prefix that only looks like the managed one.
		gen.res.UnmanagedRefs++
		fmt.Fprintf(&b, `        - name: debug
          image: %s/benchtools/debug:1.0
`, gen.g.Host)
	}
	fmt.Fprintf(&b, "        # - name: old\n        #   image: %s:%s   (commented out: not a reference)\n", img, tagName(0, 0, gen.g.Tags))
	return b.String()
}

func (gen *generator) cronJob(name, env string) string {
	_, img, tag := gen.ref(env)
	return fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: %[1]s-nightly
spec:
  schedule: "%[2]d 3 * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: "%[3]s:%[4]s"
              command: ["/app", "report", "--since=24h"]
            - name: wait
              image: %[5]s
              command: ["sh", "-c", "sleep 5"]
`, name, gen.rnd.IntN(60), img, tag, gen.other())
}

func (gen *generator) helmValues(name, env string) string {
	r, img, tag := gen.ref(env)
	var image string
	if gen.rnd.IntN(2) == 0 {
		image = fmt.Sprintf(`image:
  registry: %s
  repository: bench/svc-%03d
  tag: "%s"
  pullPolicy: IfNotPresent`, gen.g.Host, r, tag)
	} else {
		image = fmt.Sprintf(`image:
  repository: %s
  tag: %s
  pullPolicy: IfNotPresent`, img, tag)
	}
	other := gen.other()
	repo, otag, _ := strings.Cut(other, ":")
	return fmt.Sprintf(`# Default values for %[1]s.
replicaCount: %[2]d

%[3]s

metrics:
  enabled: true
  exporter:
    image:
      repository: %[4]s
      tag: %[5]s

service:
  type: ClusterIP
  port: 80

ingress:
  enabled: false
  hosts:
    - host: %[1]s.example.internal
      paths: ["/"]

resources:
  limits:
    memory: 256Mi
`, name, 1+gen.rnd.IntN(4), image, repo, otag)
}

func (gen *generator) kustomization(name, env string) string {
	_, img, tag := gen.ref(env)
	gen.res.UnmanagedRefs++
	return fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: %[1]s
resources:
  - deployment.yaml
  - service.yaml
  - configmap.yaml
images:
  - name: app
    newName: %[2]s
    newTag: %[3]s
  - name: nginx
    newTag: 1.27.%[4]d
`, name, img, tag, gen.rnd.IntN(3))
}

func (gen *generator) compose(name, env string) string {
	_, img, tag := gen.ref(env)
	return fmt.Sprintf(`# Local stack for %[1]s.
services:
  app:
    image: %[2]s:%[3]s
    ports: ["8080:8080"]
    environment:
      - LOG_LEVEL=debug
    depends_on: [db, cache]
  db:
    image: %[4]s
    environment:
      POSTGRES_PASSWORD: example
  cache:
    image: %[5]s
`, name, img, tag, gen.other(), gen.other())
}

func (gen *generator) dockerfile(name, env string) string {
	_, img, tag := gen.ref(env)
	return fmt.Sprintf(`# syntax=docker/dockerfile:1
# Build of %[1]s on the team's base image.
FROM %[2]s AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app ./cmd/app

FROM %[3]s:%[4]s
COPY --from=build /out/app /usr/local/bin/app
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/app"]
`, name, gen.other(), img, tag)
}

func (gen *generator) envFile(name, env string) string {
	_, img, tag := gen.ref(env)
	return fmt.Sprintf(`# Environment for local runs of %[1]s
APP_IMAGE=%[2]s:%[3]s
DB_IMAGE=%[4]s
LOG_LEVEL=debug
PORT=8080
`, name, img, tag, gen.other())
}
