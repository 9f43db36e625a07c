// Package deploy_test checks the Kubernetes manifests in this directory:
// each decodes strictly into the API types, and what they reference (the
// image, the binary's flags, the server's probe paths, the Secret's keys,
// the fleet file's variables and paths, the shard wiring) exists.
package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/BurntSushi/toml"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

const (
	image    = "ghcr.io/git-laminar/git-laminar"
	nameKey  = "app.kubernetes.io/name"
	appName  = "git-laminar"
	uid      = 65532
	stateDir = "/var/lib/laminar"
	shardEnv = "LAMINAR_SHARD"
)

// manifests holds every object of every *.yaml file here, decoded.
type manifests struct {
	deployments  []*appsv1.Deployment
	statefulSets []*appsv1.StatefulSet
	cronJobs     []*batchv1.CronJob
	services     []*corev1.Service
	secrets      []*corev1.Secret
	configMaps   []*corev1.ConfigMap
	pvcs         []*corev1.PersistentVolumeClaim
	metas        []metav1.ObjectMeta
}

// workload is a pod template with where it came from.
type workload struct {
	where string
	spec  corev1.PodSpec
	meta  metav1.ObjectMeta
	// claims are the volumeClaimTemplates of a StatefulSet.
	claims []string
}

func (m *manifests) workloads() []workload {
	var ws []workload
	for _, d := range m.deployments {
		ws = append(ws, workload{"Deployment " + d.Name, d.Spec.Template.Spec, d.Spec.Template.ObjectMeta, nil})
	}
	for _, s := range m.statefulSets {
		var claims []string
		for _, c := range s.Spec.VolumeClaimTemplates {
			claims = append(claims, c.Name)
		}
		ws = append(ws, workload{"StatefulSet " + s.Name, s.Spec.Template.Spec, s.Spec.Template.ObjectMeta, claims})
	}
	for _, c := range m.cronJobs {
		ws = append(ws, workload{"CronJob " + c.Name, c.Spec.JobTemplate.Spec.Template.Spec, c.Spec.JobTemplate.Spec.Template.ObjectMeta, nil})
	}
	return ws
}

// servers are the workloads that run git laminar serve.
func (m *manifests) servers() []workload {
	var ws []workload
	for _, w := range m.workloads() {
		if !strings.HasPrefix(w.where, "CronJob") {
			ws = append(ws, w)
		}
	}
	return ws
}

var loaded struct {
	sync.Once
	m   *manifests
	err error
}

func load(t *testing.T) *manifests {
	t.Helper()
	loaded.Do(func() { loaded.m, loaded.err = decodeAll() })
	if loaded.err != nil {
		t.Fatal(loaded.err)
	}
	return loaded.m
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

func decodeAll() (*manifests, error) {
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no manifests")
	}
	m := &manifests{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for i, doc := range docSep.Split(string(data), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			if err := m.decode([]byte(doc)); err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", f, i+1, err)
			}
		}
	}
	return m, nil
}

func stripComments(doc string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// decode reads one document into its API type strictly: an unknown field,
// one in the wrong case, a duplicate key or a value of the wrong type fails,
// as the API server's strict field validation does (which decodes with
// sigs.k8s.io/json, case-sensitively; encoding/json would take
// "targetport" for targetPort).
func (m *manifests) decode(doc []byte) error {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	var tm metav1.TypeMeta
	if err := json.UnmarshalCaseSensitivePreserveInts(js, &tm); err != nil {
		return err
	}
	strict := func(v any) error {
		strictErrs, err := json.UnmarshalStrict(js, v, json.DisallowDuplicateFields, json.DisallowUnknownFields)
		if err != nil {
			return err
		}
		return errors.Join(strictErrs...)
	}
	var meta metav1.ObjectMeta
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		var o appsv1.Deployment
		if err := strict(&o); err != nil {
			return err
		}
		m.deployments, meta = append(m.deployments, &o), o.ObjectMeta
	case "apps/v1 StatefulSet":
		var o appsv1.StatefulSet
		if err := strict(&o); err != nil {
			return err
		}
		m.statefulSets, meta = append(m.statefulSets, &o), o.ObjectMeta
	case "batch/v1 CronJob":
		var o batchv1.CronJob
		if err := strict(&o); err != nil {
			return err
		}
		m.cronJobs, meta = append(m.cronJobs, &o), o.ObjectMeta
	case "v1 Service":
		var o corev1.Service
		if err := strict(&o); err != nil {
			return err
		}
		m.services, meta = append(m.services, &o), o.ObjectMeta
	case "v1 Secret":
		var o corev1.Secret
		if err := strict(&o); err != nil {
			return err
		}
		m.secrets, meta = append(m.secrets, &o), o.ObjectMeta
	case "v1 ConfigMap":
		var o corev1.ConfigMap
		if err := strict(&o); err != nil {
			return err
		}
		m.configMaps, meta = append(m.configMaps, &o), o.ObjectMeta
	case "v1 PersistentVolumeClaim":
		var o corev1.PersistentVolumeClaim
		if err := strict(&o); err != nil {
			return err
		}
		m.pvcs, meta = append(m.pvcs, &o), o.ObjectMeta
	default:
		return fmt.Errorf("%s %s: not a kind this test knows", tm.APIVersion, tm.Kind)
	}
	if meta.Name == "" {
		return fmt.Errorf("%s without a name", tm.Kind)
	}
	m.metas = append(m.metas, meta)
	return nil
}

func TestStrictDecodingRefusesMistakes(t *testing.T) {
	// The decoding above is what the other tests rest on: it must fail on
	// the mistakes it is there to catch.
	for _, doc := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\nextra: 1\n",
		"apiVersion: v1\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 80, targetport: http}]}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nmetadata: {name: y}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: one}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n",
	} {
		if err := (&manifests{}).decode([]byte(doc)); err == nil {
			t.Errorf("decoded without error:\n%s", doc)
		}
	}
}

func TestManifestsDecode(t *testing.T) {
	m := load(t)
	if len(m.deployments) != 1 || len(m.statefulSets) != 1 || len(m.cronJobs) != 1 || len(m.secrets) != 1 {
		t.Errorf("want one Deployment, StatefulSet, CronJob and Secret; have %d, %d, %d, %d",
			len(m.deployments), len(m.statefulSets), len(m.cronJobs), len(m.secrets))
	}
	for _, meta := range m.metas {
		if meta.Labels[nameKey] != appName {
			t.Errorf("%s: label %s is %q, want %q", meta.Name, nameKey, meta.Labels[nameKey], appName)
		}
	}
}

func TestImages(t *testing.T) {
	m := load(t)
	var seen []string
	for _, w := range m.workloads() {
		for _, c := range append(w.spec.InitContainers, w.spec.Containers...) {
			repo, tag, ok := strings.Cut(c.Image, ":")
			if !ok || repo != image || tag == "" || tag == "latest" {
				t.Errorf("%s: container %s runs %q, want %s at a fixed tag", w.where, c.Name, c.Image, image)
			}
			seen = append(seen, c.Image)
		}
	}
	slices.Sort(seen)
	if len(slices.Compact(seen)) != 1 {
		t.Errorf("the manifests run different images: %v", seen)
	}
}

func TestPodsRunAsTheImagesUserWithoutPrivileges(t *testing.T) {
	m := load(t)
	for _, w := range m.workloads() {
		psc := w.spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser != uid ||
			psc.FSGroup == nil || *psc.FSGroup != uid {
			t.Errorf("%s: pod securityContext %+v, want runAsNonRoot, runAsUser and fsGroup %d", w.where, psc, uid)
		}
		if w.spec.AutomountServiceAccountToken == nil || *w.spec.AutomountServiceAccountToken {
			t.Errorf("%s: the pod needs no Kubernetes API token", w.where)
		}
		for _, c := range w.spec.Containers {
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("%s/%s: securityContext %+v, want a read-only root, no privilege escalation, all capabilities dropped", w.where, c.Name, sc)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s/%s: resources %+v, want cpu and memory requests and a memory limit", w.where, c.Name, c.Resources)
			}
			// With a read-only root, everything written needs a volume:
			// the state or clone, $HOME and /tmp.
			for _, dir := range []string{stateDir, "/home/laminar", "/tmp"} {
				vm, ok := mountAt(c, dir)
				if !ok || vm.ReadOnly {
					t.Errorf("%s/%s: nothing writable mounted at %s", w.where, c.Name, dir)
				}
			}
			vm, _ := mountAt(c, stateDir)
			if !persistent(m, w, vm.Name) {
				t.Errorf("%s/%s: %s is on volume %q, which does not persist", w.where, c.Name, stateDir, vm.Name)
			}
		}
	}
}

func mountAt(c corev1.Container, dir string) (corev1.VolumeMount, bool) {
	for _, vm := range c.VolumeMounts {
		if vm.MountPath == dir {
			return vm, true
		}
	}
	return corev1.VolumeMount{}, false
}

func volume(w workload, name string) (corev1.Volume, bool) {
	for _, v := range w.spec.Volumes {
		if v.Name == name {
			return v, true
		}
	}
	return corev1.Volume{}, false
}

// persistent reports whether the volume name of w outlives its pod: a
// claim of the manifests, or a volumeClaimTemplate.
func persistent(m *manifests, w workload, name string) bool {
	if slices.Contains(w.claims, name) {
		return true
	}
	v, ok := volume(w, name)
	if !ok || v.PersistentVolumeClaim == nil {
		return false
	}
	for _, p := range m.pvcs {
		if p.Name == v.PersistentVolumeClaim.ClaimName {
			return true
		}
	}
	return false
}

func TestEveryMountHasItsVolume(t *testing.T) {
	m := load(t)
	for _, w := range m.workloads() {
		for _, c := range w.spec.Containers {
			for _, vm := range c.VolumeMounts {
				if _, ok := volume(w, vm.Name); !ok && !slices.Contains(w.claims, vm.Name) {
					t.Errorf("%s/%s: mount %s of volume %q, which is not declared", w.where, c.Name, vm.MountPath, vm.Name)
				}
			}
		}
	}
}

// TestSecretReferences: every key a workload takes from a Secret or a
// ConfigMap is in the template of that Secret or ConfigMap.
func TestSecretReferences(t *testing.T) {
	m := load(t)
	secretKeys := map[string][]string{}
	for _, s := range m.secrets {
		for k := range s.StringData {
			secretKeys[s.Name] = append(secretKeys[s.Name], k)
		}
		for k := range s.Data {
			secretKeys[s.Name] = append(secretKeys[s.Name], k)
		}
	}
	configKeys := map[string][]string{}
	for _, c := range m.configMaps {
		for k := range c.Data {
			configKeys[c.Name] = append(configKeys[c.Name], k)
		}
	}
	check := func(where, kind string, have map[string][]string, name, key string) {
		keys, ok := have[name]
		switch {
		case !ok:
			t.Errorf("%s: %s %q is not in the manifests", where, kind, name)
		case key != "" && !slices.Contains(keys, key):
			t.Errorf("%s: %s %q has no key %q (it has %v)", where, kind, name, key, keys)
		}
	}
	refs := 0
	for _, w := range m.workloads() {
		for _, c := range w.spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					check(w.where+" env "+e.Name, "Secret", secretKeys, r.Name, r.Key)
					refs++
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					check(w.where+" env "+e.Name, "ConfigMap", configKeys, r.Name, r.Key)
					refs++
				}
			}
		}
		for _, v := range w.spec.Volumes {
			if s := v.Secret; s != nil {
				check(w.where+" volume "+v.Name, "Secret", secretKeys, s.SecretName, "")
				for _, it := range s.Items {
					check(w.where+" volume "+v.Name, "Secret", secretKeys, s.SecretName, it.Key)
					refs++
				}
			}
			if c := v.ConfigMap; c != nil {
				check(w.where+" volume "+v.Name, "ConfigMap", configKeys, c.Name, "")
				for _, it := range c.Items {
					check(w.where+" volume "+v.Name, "ConfigMap", configKeys, c.Name, it.Key)
				}
				refs++
			}
		}
	}
	if refs < 10 {
		t.Errorf("only %d references checked", refs)
	}
	for _, s := range m.secrets {
		for k, v := range s.StringData {
			if !strings.Contains(v, "REPLACE-ME") && k != "config.json" {
				t.Errorf("Secret %s key %s: a template holds no real secret; write REPLACE-ME", s.Name, k)
			}
		}
	}
}

// fileIn is the file a path inside a container comes from: the volume
// mounted at its directory and the key of that volume's Secret or
// ConfigMap that lands at its name.
func fileIn(w workload, c corev1.Container, p string) (kind, name, key string, ok bool) {
	vm, found := mountAt(c, path.Dir(p))
	if !found {
		return "", "", "", false
	}
	v, found := volume(w, vm.Name)
	if !found {
		return "", "", "", false
	}
	base := path.Base(p)
	keyOf := func(items []corev1.KeyToPath) string {
		if len(items) == 0 {
			return base
		}
		for _, it := range items {
			if it.Path == base {
				return it.Key
			}
		}
		return ""
	}
	switch {
	case v.Secret != nil:
		return "Secret", v.Secret.SecretName, keyOf(v.Secret.Items), true
	case v.ConfigMap != nil:
		return "ConfigMap", v.ConfigMap.Name, keyOf(v.ConfigMap.Items), true
	}
	return "", "", "", false
}

func (m *manifests) has(kind, name, key string) bool {
	switch kind {
	case "Secret":
		for _, s := range m.secrets {
			if s.Name == name {
				_, a := s.StringData[key]
				_, b := s.Data[key]
				return a || b
			}
		}
	case "ConfigMap":
		for _, c := range m.configMaps {
			if c.Name == name {
				_, ok := c.Data[key]
				return ok
			}
		}
	}
	return false
}

// fleetFile is what this test reads of the fleet file.
type fleetFile struct {
	TokenEnv   string `toml:"token_env"`
	Repository []struct {
		Name       string   `toml:"name"`
		SSHKey     string   `toml:"ssh_key"`
		KnownHosts []string `toml:"known_hosts"`
	} `toml:"repository"`
	Webhooks map[string]struct {
		SecretEnv string `toml:"secret_env"`
	} `toml:"webhooks"`
}

// serveArgs reads the flags of a serve container's args.
func serveArgs(t *testing.T, where string, args []string) map[string]string {
	t.Helper()
	if len(args) == 0 || args[0] != "serve" {
		t.Fatalf("%s: args %q do not start with serve", where, args)
	}
	flags := map[string]string{}
	for i := 1; i < len(args); i++ {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok || i+1 == len(args) {
			t.Fatalf("%s: args %q: %q is not a --flag with a value", where, args, args[i])
		}
		flags[name] = args[i+1]
		i++
	}
	return flags
}

func TestServeWiring(t *testing.T) {
	m := load(t)
	for _, w := range m.servers() {
		c := w.spec.Containers[0]
		flags := serveArgs(t, w.where, c.Args)
		if len(c.Command) != 0 {
			t.Errorf("%s: command %q replaces the image's entrypoint", w.where, c.Command)
		}

		// --fleet is a key of a mounted ConfigMap, and that fleet file's
		// variables and paths are what the pod provides.
		kind, name, key, ok := fileIn(w, c, flags["fleet"])
		if !ok || kind != "ConfigMap" || !m.has(kind, name, key) {
			t.Fatalf("%s: --fleet %s is not a key of a mounted ConfigMap", w.where, flags["fleet"])
		}
		var fleet fleetFile
		for _, cm := range m.configMaps {
			if cm.Name == name {
				if _, err := toml.Decode(cm.Data[key], &fleet); err != nil {
					t.Fatalf("ConfigMap %s key %s: %v", name, key, err)
				}
			}
		}
		env := map[string]bool{}
		for _, e := range c.Env {
			env[e.Name] = true
		}
		if fleet.TokenEnv == "" || !env[fleet.TokenEnv] {
			t.Errorf("%s: the fleet's token_env %q is not set: serve listens on 0.0.0.0 only with a token", w.where, fleet.TokenEnv)
		}
		if len(fleet.Webhooks) == 0 {
			t.Errorf("%s: the fleet file configures no webhook", w.where)
		}
		for source, wh := range fleet.Webhooks {
			if !env[wh.SecretEnv] {
				t.Errorf("%s: webhooks.%s.secret_env %q is not set", w.where, source, wh.SecretEnv)
			}
		}
		for _, r := range fleet.Repository {
			for _, p := range append([]string{r.SSHKey}, r.KnownHosts...) {
				if kind, name, key, ok := fileIn(w, c, p); !ok || !m.has(kind, name, key) {
					t.Errorf("%s: repository %s reads %s, which no mounted Secret provides", w.where, r.Name, p)
				}
			}
		}

		// --listen's port is the container's, which the probes and the
		// Services use; --state is the persistent volume.
		_, port, _ := strings.Cut(flags["listen"], ":")
		if len(c.Ports) != 1 || strconv.Itoa(int(c.Ports[0].ContainerPort)) != port || !strings.HasPrefix(flags["listen"], "0.0.0.0:") {
			t.Errorf("%s: --listen %s and ports %+v disagree", w.where, flags["listen"], c.Ports)
		}
		if flags["state"] != stateDir {
			t.Errorf("%s: --state %s, want %s", w.where, flags["state"], stateDir)
		}
		for probe, p := range map[string]*corev1.Probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != probe || p.HTTPGet.Port.String() != c.Ports[0].Name {
				t.Errorf("%s: want a probe of %s on port %s; have %+v", w.where, probe, c.Ports[0].Name, p)
			}
		}
	}
}

// TestProbePathsAreServed: the probes ask for what internal/server serves.
func TestProbePathsAreServed(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "internal", "server", "*.go"))
	if len(files) == 0 {
		t.Skip("internal/server is not in this tree")
	}
	served := map[string]bool{}
	route := regexp.MustCompile(`"GET (/[a-z/]*)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range route.FindAllSubmatch(b, -1) {
			served[string(m[1])] = true
		}
	}
	for _, w := range load(t).servers() {
		for _, c := range w.spec.Containers {
			for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
				if p != nil && p.HTTPGet != nil && !served[p.HTTPGet.Path] {
					t.Errorf("%s: probe of %s, which internal/server does not serve (it serves %v)", w.where, p.HTTPGet.Path, served)
				}
			}
		}
	}
}

var binary struct {
	sync.Once
	path string
	err  error
}

// serveHelp is git laminar serve --help from a binary built from this tree.
func serveHelp(t *testing.T) string {
	t.Helper()
	binary.Do(func() {
		dir, err := os.MkdirTemp("", "laminar-deploy")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "git-laminar")
		out, err := exec.Command("go", "build", "-o", binary.path, "../cmd/git-laminar").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	out, err := exec.Command(binary.path, "serve", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--listen") {
		t.Skipf("git laminar serve is not in this build: %v\n%s", err, out)
	}
	return string(out)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.path != "" {
		os.RemoveAll(filepath.Dir(binary.path))
	}
	os.Exit(code)
}

func TestServeFlagsExist(t *testing.T) {
	help := serveHelp(t)
	flagRE := regexp.MustCompile(`--([a-z][a-z-]*)`)
	known := map[string]bool{}
	for _, m := range flagRE.FindAllStringSubmatch(help, -1) {
		known[m[1]] = true
	}
	m := load(t)
	for _, w := range m.servers() {
		for flag := range serveArgs(t, w.where, w.spec.Containers[0].Args) {
			if !known[flag] {
				t.Errorf("%s: --%s is not a flag of git laminar serve", w.where, flag)
			}
		}
	}
	// The Dockerfile's default command too.
	df := parseDockerfile(t)
	for flag := range serveArgs(t, "Dockerfile CMD", df.cmd) {
		if !known[flag] {
			t.Errorf("Dockerfile CMD: --%s is not a flag of git laminar serve", flag)
		}
	}
	if !strings.Contains(help, shardEnv) {
		t.Errorf("serve --help does not mention %s, which the StatefulSet sets", shardEnv)
	}
}

// TestShards: each pod of the StatefulSet takes its own shard, the shard
// count is the number of replicas, and the single Deployment takes all.
func TestShards(t *testing.T) {
	m := load(t)
	if len(m.statefulSets) == 0 {
		t.Fatal("no StatefulSet")
	}
	for _, s := range m.statefulSets {
		c := s.Spec.Template.Spec.Containers[0]
		idx := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "POD_INDEX" })
		sh := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == shardEnv })
		if idx < 0 || sh < 0 {
			t.Fatalf("StatefulSet %s: POD_INDEX and %s must both be set", s.Name, shardEnv)
		}
		// Kubernetes expands $(VAR) only from variables defined before.
		if idx > sh {
			t.Errorf("StatefulSet %s: POD_INDEX comes after %s, so $(POD_INDEX) stays as written", s.Name, shardEnv)
		}
		from := c.Env[idx].ValueFrom
		if from == nil || from.FieldRef == nil || from.FieldRef.FieldPath != "metadata.labels['apps.kubernetes.io/pod-index']" {
			t.Errorf("StatefulSet %s: POD_INDEX is %+v, want the pod-index label", s.Name, c.Env[idx])
		}
		replicas := int32(1)
		if s.Spec.Replicas != nil {
			replicas = *s.Spec.Replicas
		}
		i, n, ok := strings.Cut(c.Env[sh].Value, "/")
		count, err := strconv.Atoi(n)
		if !ok || i != "$(POD_INDEX)" || err != nil || int32(count) != replicas || replicas < 2 {
			t.Errorf("StatefulSet %s: %s=%q with %d replicas, want $(POD_INDEX)/replicas", s.Name, shardEnv, c.Env[sh].Value, replicas)
		}
		if s.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
			t.Errorf("StatefulSet %s: shards need not wait for each other; want Parallel", s.Name)
		}
		if _, ok := serveArgs(t, s.Name, c.Args)["shard"]; ok {
			t.Errorf("StatefulSet %s: --shard would override %s", s.Name, shardEnv)
		}
	}
	for _, d := range m.deployments {
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			if e.Name == shardEnv {
				t.Errorf("Deployment %s sets %s: the single instance takes the whole fleet", d.Name, shardEnv)
			}
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("Deployment %s: want one replica, recreated: two would promote the same repositories", d.Name)
		}
	}
}

// TestSelectors: each workload selects its own pods, each Service the pods
// of one workload, on a port they have.
func TestSelectors(t *testing.T) {
	m := load(t)
	type sel struct {
		where    string
		selector *metav1.LabelSelector
		tmpl     metav1.ObjectMeta
		spec     corev1.PodSpec
	}
	var sels []sel
	for _, d := range m.deployments {
		sels = append(sels, sel{"Deployment " + d.Name, d.Spec.Selector, d.Spec.Template.ObjectMeta, d.Spec.Template.Spec})
	}
	for _, s := range m.statefulSets {
		sels = append(sels, sel{"StatefulSet " + s.Name, s.Spec.Selector, s.Spec.Template.ObjectMeta, s.Spec.Template.Spec})
		found := false
		for _, svc := range m.services {
			found = found || (svc.Name == s.Spec.ServiceName && svc.Spec.ClusterIP == corev1.ClusterIPNone)
		}
		if !found {
			t.Errorf("StatefulSet %s: no headless Service %q", s.Name, s.Spec.ServiceName)
		}
	}
	for _, s := range sels {
		ls, err := metav1.LabelSelectorAsSelector(s.selector)
		if err != nil || !ls.Matches(labels.Set(s.tmpl.Labels)) {
			t.Errorf("%s: selector %v does not select its own pods (%v)", s.where, s.selector, err)
		}
	}
	for _, svc := range m.services {
		var matched []sel
		for _, s := range sels {
			if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(s.tmpl.Labels)) {
				matched = append(matched, s)
			}
		}
		if len(matched) != 1 {
			t.Errorf("Service %s selects the pods of %d workloads, want 1", svc.Name, len(matched))
			continue
		}
		for _, p := range svc.Spec.Ports {
			ok := false
			for _, c := range matched[0].spec.Containers {
				for _, cp := range c.Ports {
					ok = ok || cp.Name == p.TargetPort.String() || strconv.Itoa(int(cp.ContainerPort)) == p.TargetPort.String()
				}
			}
			if !ok {
				t.Errorf("Service %s: targetPort %s is no port of %s", svc.Name, p.TargetPort.String(), matched[0].where)
			}
		}
	}
}

// TestCronJobRunsInAClone: the CronJob runs git laminar run in a clone on
// its own volume, with the user-level file where run looks for it.
func TestCronJobRunsInAClone(t *testing.T) {
	m := load(t)
	for _, cj := range m.cronJobs {
		w := workload{where: "CronJob " + cj.Name, spec: cj.Spec.JobTemplate.Spec.Template.Spec}
		if cj.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
			t.Errorf("%s: concurrencyPolicy %q, want Forbid", w.where, cj.Spec.ConcurrencyPolicy)
		}
		c := w.spec.Containers[0]
		script := strings.Join(append(slices.Clone(c.Command), c.Args...), " ")
		if !regexp.MustCompile(`(?m)^\s*exec git laminar run\b`).MatchString(script) {
			t.Errorf("%s: the script does not end in exec git laminar run:\n%s", w.where, script)
		}
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		kind, name, key, ok := fileIn(w, c, env["XDG_CONFIG_HOME"]+"/git-laminar/config.toml")
		if !ok || !m.has(kind, name, key) {
			t.Fatalf("%s: no config.toml at $XDG_CONFIG_HOME/git-laminar", w.where)
		}
		var user struct {
			Git struct {
				SSHKey     string `toml:"ssh_key"`
				KnownHosts string `toml:"known_hosts"`
			} `toml:"git"`
		}
		for _, cm := range m.configMaps {
			if cm.Name == name {
				md, err := toml.Decode(cm.Data[key], &user)
				if err != nil || len(md.Undecoded()) > 0 {
					t.Fatalf("%s: config.toml: %v %v", w.where, err, md.Undecoded())
				}
			}
		}
		for _, p := range []string{user.Git.SSHKey, user.Git.KnownHosts} {
			if kind, name, key, ok := fileIn(w, c, p); !ok || !m.has(kind, name, key) {
				t.Errorf("%s: config.toml names %q, which no mounted Secret provides", w.where, p)
			}
		}
		for _, f := range []string{"-i /etc/laminar/ssh/id_ed25519", "UserKnownHostsFile=/etc/laminar/ssh/known_hosts", "StrictHostKeyChecking=yes"} {
			if !strings.Contains(env["GIT_SSH_COMMAND"], f) {
				t.Errorf("%s: GIT_SSH_COMMAND lacks %s", w.where, f)
			}
		}
		if !bytes.Contains([]byte(script), []byte(`"$REPO_URL"`)) || env["REPO_URL"] == "" {
			t.Errorf("%s: the clone's URL comes from REPO_URL, quoted", w.where)
		}
	}
}
