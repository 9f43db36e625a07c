package archtest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/git-laminar/git-laminar/"

// allowed lists, for each internal package, the internal packages its
// non-test code may import. Imports point down the pipeline only.
var allowed = map[string][]string{
	"cmd/git-laminar":                {"internal/cli"},
	"internal/cli":                   {"*"},
	"internal/app":                   {"internal/commitmsg", "internal/config", "internal/gitrepo", "internal/history", "internal/imageref", "internal/metrics", "internal/notify", "internal/policy", "internal/promote", "internal/pullreq", "internal/registry", "internal/trailer"},
	"internal/promote":               {"internal/printable", "internal/config", "internal/scan", "internal/registry", "internal/policy", "internal/plan", "internal/edit", "internal/gitrepo", "internal/imageref", "internal/trailer", "internal/trust", "internal/commitmsg", "internal/execaction", "internal/truststore", "internal/rules"},
	"internal/rules":                 {"internal/config", "internal/imageref", "internal/policy", "internal/scan"},
	"internal/truststore":            {"internal/config", "internal/gitrepo", "internal/trust"},
	"internal/execaction":            {"internal/config", "internal/edit", "internal/gitrepo", "internal/plan", "internal/printable", "internal/trust"},
	"internal/commitmsg":             {"internal/msgtemplate", "internal/plan", "internal/trailer"},
	"internal/config":                {"internal/printable", "internal/msgtemplate"},
	"internal/msgtemplate":           {},
	"internal/trust":                 {"internal/config", "internal/printable"},
	"internal/imageref":              {},
	"internal/scan":                  {"internal/imageref", "internal/config"},
	"internal/registry":              {"internal/imageref", "internal/printable"},
	"internal/registry/registrytest": {},
	"internal/policy":                {"internal/config", "internal/imageref"},
	"internal/plan":                  {"internal/scan", "internal/policy", "internal/imageref"},
	"internal/edit":                  {"internal/plan", "internal/scan"},
	"internal/diff":                  {},
	"internal/trailer":               {},
	"internal/gitrepo":               {"internal/printable"},
	"internal/history":               {"internal/gitrepo", "internal/trailer"},
	"internal/hookinstall":           {"internal/gitrepo", "hooks"},
	"internal/initconfig":            {"internal/config", "internal/imageref", "internal/policy", "internal/scan"},
	"internal/check":                 {"internal/printable", "internal/config", "internal/gitrepo", "internal/imageref", "internal/policy", "internal/promote", "internal/registry", "internal/rules", "internal/scan", "internal/trailer"},
	"internal/notify":                {"internal/printable"},
	"internal/forge":                 {"internal/printable"},
	"internal/pullreq":               {"internal/config", "internal/forge", "internal/gitrepo", "internal/printable", "internal/promote"},
	"internal/forge/forgetest":       {},
	"internal/printable":             {},
	"internal/metrics":               {},
	"internal/webhook":               {"internal/imageref"},
	"internal/fleet":                 {"internal/printable"},
	// The service owns the registry clients its runs share.
	"internal/server":   {"internal/app", "internal/config", "internal/fleet", "internal/metrics", "internal/printable", "internal/registry", "internal/webhook"},
	"internal/bench":    {"internal/registry", "internal/registry/registrytest"},
	"internal/demo":     {"internal/registry/registrytest"},
	"internal/archtest": {},
	"internal/e2e":      {},
	"hooks":             {},
	// Only tests: the Kubernetes manifests, the Dockerfile and .dockerignore.
	"deploy": {},
}

// owners names the only packages allowed to import each library.
var owners = map[string][]string{
	"github.com/go-git/go-git/v5": {"internal/gitrepo"},
	// The benchmark lists tags with go-containerregistry directly: that is its lower bound.
	"github.com/google/go-containerregistry": {"internal/imageref", "internal/registry", "internal/registry/registrytest", "internal/bench"},
	"github.com/BurntSushi/toml":             {"internal/config", "internal/fleet"},
	"github.com/urfave/cli/v2":               {"internal/cli"},
	"github.com/sergi/go-diff":               {"internal/diff"},
	"github.com/Masterminds/semver/v3":       {"internal/policy"},
}

type pkg struct {
	ImportPath string
	Imports    []string
}

func TestImportsPointDown(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		self := strings.TrimPrefix(p.ImportPath, module)
		rules, ok := allowed[self]
		if !ok {
			t.Errorf("%s: a new package; add its allowed imports to the table in this test", self)
			continue
		}
		for _, imp := range p.Imports {
			if dep, ok := strings.CutPrefix(imp, module); ok {
				if !permits(rules, dep) {
					t.Errorf("%s imports %s, which the layering does not allow", self, dep)
				}
				continue
			}
			for lib, who := range owners {
				if (imp == lib || strings.HasPrefix(imp, lib+"/")) && !permits(who, self) {
					t.Errorf("%s imports %s; only %v may", self, imp, who)
				}
			}
		}
		for _, bad := range []string{"util", "common", "types"} {
			if strings.HasSuffix(self, "/"+bad) {
				t.Errorf("%s: no %s packages", self, bad)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list saw only %d packages", seen)
	}
}

func permits(list []string, p string) bool {
	for _, x := range list {
		if x == "*" || x == p {
			return true
		}
	}
	return false
}
