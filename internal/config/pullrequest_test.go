package config

import (
	"slices"
	"strings"
	"testing"
)

func TestPullRequestParsed(t *testing.T) {
	text := "[pull_request]\nenabled = true\nforge = \"gitlab\"\nrepository = \"group/sub/project\"\nbranch = \"laminar/all\"\n" +
		"base = \"main\"\ntitle = \"Promote {{len .Promotions}} images\"\nlabels = [\"deps\"]\nreviewers = [\"alice\"]\ndraft = true\nauto_merge = true\n"
	cfg, err := Parse("laminar.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.PullRequest
	if !p.Enabled || p.Forge != "gitlab" || p.Repository != "group/sub/project" || p.Branch != "laminar/all" || p.Base != "main" ||
		!p.Draft || !p.AutoMerge || !slices.Equal(p.Labels, []string{"deps"}) || !slices.Equal(p.Reviewers, []string{"alice"}) || p.Line != 1 {
		t.Errorf("parsed %+v", p)
	}
}

func TestPullRequestErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"[pull_request]\nforge = \"bitbucket\"\n", `laminar.toml:2: pull_request.forge: "bitbucket" is not one of github, gitlab, gitea`},
		{"[pull_request]\nforge = \"github\"\nreviewer = [\"a\"]\n", `laminar.toml:3: pull_request.reviewer: unknown key; did you mean "reviewers"?`},
		{"[pull_request]\nrepository = \"../x\"\n", `laminar.toml:2: pull_request.repository: "../x" is not owner/name`},
		{"[pull_request]\nbranch = \"-x\"\n", `laminar.toml:2: pull_request.branch: "-x" is not a branch name`},
		{"[pull_request]\nbranch = \"production\"\n", `laminar.toml:2: pull_request.branch: "production": the branch is force-pushed, so it must start with "laminar/"`},
		{"[pull_request]\nbase = \"a..b\"\n", `laminar.toml:2: pull_request.base: "a..b" is not a branch name`},
		{"[pull_request]\n\ntitle = \"{{.Promotions\"\n", `laminar.toml:3: pull_request.title: not a Go template`},
		{"[pull_request]\nlabels = [\"a,b\"]\n", `laminar.toml:2: pull_request.labels: "a,b": a name without spaces`},
		{"[pull_request]\nreviewers = [\"a\\nb\"]\n", `laminar.toml:2: pull_request.reviewers: "a\nb"`},
		// Where the token goes, and which secret it is, are the machine owner's.
		{"[pull_request]\nforge = \"github\"\napi_url = \"https://evil.example.com\"\n", "laminar.toml:3: pull_request.api_url: reads a secret or presents a credential, so it is not taken from laminar.toml"},
		{"[pull_request]\nforge = \"github\"\ntoken_env = \"AWS_SECRET_ACCESS_KEY\"\n", "laminar.toml:3: pull_request.token_env: reads a secret"},
	}
	for _, tt := range tests {
		_, err := Parse("laminar.toml", []byte(tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q): %v, want %q", tt.text, err, tt.want)
		}
	}
}

func TestPullRequestUserLevel(t *testing.T) {
	u, err := ParseUser("config.toml", []byte("[pull_request]\napi_url = \"https://gitea.example.com/api/v1/\"\ntoken_env = \"LAMINAR_GITEA_TOKEN\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if u.PullRequest.APIURL != "https://gitea.example.com/api/v1" || u.PullRequest.TokenEnv != "LAMINAR_GITEA_TOKEN" {
		t.Errorf("user-level %+v", u.PullRequest)
	}
	for _, bad := range []string{"api_url = \"https://user:pw@x.example.com\"", "api_url = \"file:///etc\"", "token_env = \"ghp_abc-def\""} {
		if _, err := ParseUser("config.toml", []byte("[pull_request]\n"+bad+"\n")); err == nil || !strings.Contains(err.Error(), "config.toml:2: pull_request.") {
			t.Errorf("ParseUser(%q): %v", bad, err)
		}
	}
	repo := PullRequest{Forge: "gitea", Repository: "acme/deploy", Branch: "b"}
	m := repo.Merge(u.PullRequest)
	if m.APIURL != "https://gitea.example.com/api/v1" || m.TokenEnv != "LAMINAR_GITEA_TOKEN" || m.Branch != "b" || m.Forge != "gitea" {
		t.Errorf("merged %+v", m)
	}
	cfg := &Config{PullRequest: repo}
	if env := SecretEnv(cfg, u); !slices.Contains(env, "LAMINAR_GITEA_TOKEN") || !slices.Contains(env, "GITEA_TOKEN") {
		t.Errorf("SecretEnv = %v, want the forge token's variables", env)
	}
}
