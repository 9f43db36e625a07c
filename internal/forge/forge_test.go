package forge_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/git-laminar/git-laminar/internal/forge"
	"github.com/git-laminar/git-laminar/internal/forge/forgetest"
)

const token = "s3cret-t0ken"

func client(t *testing.T, s *forgetest.Server, tok string) forge.Forge {
	t.Helper()
	f, err := forge.New(forge.Config{Forge: s.Kind, APIURL: s.APIURL(), Repository: s.Owner + "/" + s.Repo, Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestEachForgeOpensFindsUpdatesAndCloses(t *testing.T) {
	for _, kind := range []string{"github", "gitlab", "gitea"} {
		t.Run(kind, func(t *testing.T) {
			s := forgetest.New(kind, token, "acme", "deploy")
			defer s.Close()
			s.Labels = []string{"bug", "deps"}
			s.Users = []string{"alice"}
			f := client(t, s, token)
			ctx := context.Background()

			if r, err := f.Find(ctx, "laminar/api", "main"); err != nil || r != nil {
				t.Fatalf("Find before any: %v, %v", r, err)
			}
			r, err := f.Create(ctx, forge.Spec{Head: "laminar/api", Base: "main", Title: "Promote api", Body: "| a |",
				Labels: []string{"deps"}, Reviewers: []string{"alice"}, Draft: true, AutoMerge: true})
			if err != nil {
				t.Fatal(err)
			}
			if r.Number != 1 || r.URL == "" {
				t.Fatalf("created %+v", r)
			}
			got, err := f.Find(ctx, "laminar/api", "main")
			if err != nil || got == nil || got.Number != 1 {
				t.Fatalf("Find: %+v, %v", got, err)
			}
			if other, err := f.Find(ctx, "laminar/web", "main"); err != nil || other != nil {
				t.Fatalf("Find of another branch: %+v, %v", other, err)
			}
			if err := f.Update(ctx, got, "Promote api to 1.2", "new body"); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(ctx, got, "no longer needed"); err != nil {
				t.Fatal(err)
			}
			pulls := s.Pulls()
			if len(pulls) != 1 {
				t.Fatalf("%d requests, want 1", len(pulls))
			}
			p := pulls[0]
			if p.State != "closed" || p.Body != "new body" || !strings.HasSuffix(p.Title, "Promote api to 1.2") || !slices.Equal(p.Comments, []string{"no longer needed"}) {
				t.Errorf("request after update and close: %+v", p)
			}
			if !p.Draft || !p.AutoMerge || !slices.Equal(p.Labels, []string{"deps"}) {
				t.Errorf("draft, auto-merge or labels not set: %+v", p)
			}
			if kind == "gitlab" {
				if !slices.Equal(p.ReviewerIDs, []int{1}) {
					t.Errorf("reviewer ids %v", p.ReviewerIDs)
				}
			} else if !slices.Equal(p.Reviewers, []string{"alice"}) {
				t.Errorf("reviewers %v", p.Reviewers)
			}
			if f, _ := f.Find(ctx, "laminar/api", "main"); f != nil {
				t.Errorf("a closed request was found: %+v", f)
			}
		})
	}
}

func TestWrongTokenIsTheForgesRefusalWithoutTheToken(t *testing.T) {
	for _, kind := range []string{"github", "gitlab", "gitea"} {
		t.Run(kind, func(t *testing.T) {
			s := forgetest.New(kind, token, "acme", "deploy")
			defer s.Close()
			wrong := "wr0ng-" + token
			_, err := client(t, s, wrong).Find(context.Background(), "laminar/api", "main")
			var ae *forge.APIError
			if !errors.As(err, &ae) || ae.Status != 401 {
				t.Fatalf("err = %v, want a 401", err)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("the token is in the error: %v", err)
			}
			want := map[string]string{"github": "Bad credentials", "gitlab": "401 Unauthorized", "gitea": "token is required"}[kind]
			if !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want the forge's message %q", err, want)
			}
		})
	}
}

// The stand-ins refuse a request without a token as each forge does.
func TestStandInsRefuseAMissingToken(t *testing.T) {
	for kind, path := range map[string]string{"github": "/repos/acme/deploy/pulls", "gitlab": "/projects/acme%2Fdeploy/merge_requests", "gitea": "/repos/acme/deploy/pulls"} {
		s := forgetest.New(kind, token, "acme", "deploy")
		resp, err := http.Get(s.APIURL() + path)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		s.Close()
		if resp.StatusCode != 401 || body["message"] == nil {
			t.Errorf("%s: %d %v, want 401 with a message", kind, resp.StatusCode, body)
		}
	}
}

func TestGiteaFindsOnALaterPage(t *testing.T) {
	s := forgetest.New("gitea", token, "acme", "deploy")
	defer s.Close()
	f := client(t, s, token)
	ctx := context.Background()
	for i := 0; i < 120; i++ {
		if _, err := f.Create(ctx, forge.Spec{Head: "feature-" + strconv.Itoa(i), Base: "main", Title: "t"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Create(ctx, forge.Spec{Head: "laminar/api", Base: "main", Title: "ours"}); err != nil {
		t.Fatal(err)
	}
	r, err := f.Find(ctx, "laminar/api", "main")
	if err != nil || r == nil || r.Title != "ours" {
		t.Fatalf("Find on page 3: %+v, %v", r, err)
	}
	pages := 0
	for _, req := range s.Requests() {
		if req == "GET /api/v1/repos/acme/deploy/pulls" {
			pages++
		}
	}
	if pages != 3 {
		t.Errorf("read %d pages, want 3", pages)
	}
}

// hostile answers with what a compromised or impostor forge might send.
func hostile(t *testing.T, h http.HandlerFunc) forge.Forge {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f, err := forge.New(forge.Config{Forge: "github", APIURL: srv.URL, Repository: "acme/deploy", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestHostileForgeAnswers(t *testing.T) {
	ctx := context.Background()
	t.Run("error text is escaped", func(t *testing.T) {
		f := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(422)
			w.Write([]byte(`{"message":"bad\u001b[2J\nforged line"}`))
		})
		_, err := f.Find(ctx, "b", "main")
		if err == nil || strings.ContainsAny(err.Error(), "\x1b\n") || !strings.Contains(err.Error(), `\x1b[2J\nforged line`) {
			t.Fatalf("err = %q", err)
		}
	})
	t.Run("oversized answer", func(t *testing.T) {
		f := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("["))
			chunk := []byte(strings.Repeat(`{"number":1},`, 1000))
			for n := 0; n <= forge.MaxResponse; n += len(chunk) {
				w.Write(chunk)
			}
		})
		_, err := f.Find(ctx, "b", "main")
		if err == nil || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("redirect is not followed with the token", func(t *testing.T) {
		var leaked []string
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			leaked = append(leaked, r.Header.Get("Authorization"))
			w.Write([]byte("[]"))
		}))
		defer other.Close()
		f := hostile(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
		})
		_, err := f.Find(ctx, "b", "main")
		if err == nil || !strings.Contains(err.Error(), "redirect") {
			t.Fatalf("err = %v", err)
		}
		if len(leaked) > 0 {
			t.Fatalf("the redirect was followed: %q", leaked)
		}
	})
	t.Run("answer that is not JSON", func(t *testing.T) {
		f := hostile(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>\x1b")) })
		_, err := f.Find(ctx, "b", "main")
		if err == nil || strings.Contains(err.Error(), "\x1b") {
			t.Fatalf("err = %q", err)
		}
	})
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, c := range []forge.Config{
		{Forge: "github", APIURL: "ftp://x", Repository: "a/b", Token: "t"},
		{Forge: "github", APIURL: "https://x", Repository: "ab", Token: "t"},
		{Forge: "github", APIURL: "https://x", Repository: "a/b"},
		{Forge: "bitbucket", APIURL: "https://x", Repository: "a/b", Token: "t"},
	} {
		if _, err := forge.New(c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
}

// A request opened bare, then asked for labels, reviewers, draft and
// auto-merge, gets them once: what people added stays, who reviewed is not
// asked again, and settling again writes nothing.
func TestSettleAddsWhatIsMissingOnce(t *testing.T) {
	for _, kind := range []string{"github", "gitlab", "gitea"} {
		t.Run(kind, func(t *testing.T) {
			s := forgetest.New(kind, token, "acme", "deploy")
			defer s.Close()
			s.Labels = []string{"bug", "deps"}
			s.Users = []string{"alice", "bob", "carol"}
			f := client(t, s, token)
			ctx := context.Background()
			if _, err := f.Create(ctx, forge.Spec{Head: "laminar/api", Base: "main", Title: "Promote api", Body: "b"}); err != nil {
				t.Fatal(err)
			}
			// Someone labels it and asks carol, who then reviews.
			r, err := f.Find(ctx, "laminar/api", "main")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Settle(ctx, r, forge.Spec{Labels: []string{"bug"}, Reviewers: []string{"carol"}}); err != nil {
				t.Fatal(err)
			}
			s.Review(1, "carol")

			want := forge.Spec{Labels: []string{"deps", "bug"}, Reviewers: []string{"alice", "Carol"}, Draft: true, AutoMerge: true}
			settle := func() {
				t.Helper()
				r, err := f.Find(ctx, "laminar/api", "main")
				if err != nil || r == nil {
					t.Fatalf("Find: %+v, %v", r, err)
				}
				if err := f.Settle(ctx, r, want); err != nil {
					t.Fatal(err)
				}
			}
			settle()
			p := s.Pulls()[0]
			if !slices.Equal(p.Labels, []string{"bug", "deps"}) || !p.AutoMerge || !strings.HasSuffix(p.Title, "Promote api") {
				t.Errorf("after settling: labels %v, auto-merge %v, title %q", p.Labels, p.AutoMerge, p.Title)
			}
			if !p.Draft {
				t.Errorf("not a draft: %q", p.Title)
			}
			if kind == "gitlab" {
				// GitLab keeps reviewers who reviewed; reviewer_ids must not drop carol.
				if !slices.Equal(p.ReviewerIDs, []int{3, 1}) {
					t.Errorf("reviewer ids %v, want [3 1]", p.ReviewerIDs)
				}
			} else if !slices.Equal(p.Reviewers, []string{"alice"}) {
				t.Errorf("requested reviewers %v, want alice only (carol reviewed)", p.Reviewers)
			}

			before := len(s.Requests())
			settle()
			for _, req := range s.Requests()[before:] {
				if strings.HasPrefix(req, "GET ") {
					continue
				}
				// Gitea's pull request does not say it is set to merge:
				// asking again is answered 409 and changes nothing.
				if kind == "gitea" && req == "POST /api/v1/repos/acme/deploy/pulls/1/merge" {
					continue
				}
				t.Errorf("settling again sent %s", req)
			}
			if again := s.Pulls()[0]; !slices.Equal(again.Labels, p.Labels) || !slices.Equal(again.Reviewers, p.Reviewers) ||
				!slices.Equal(again.ReviewerIDs, p.ReviewerIDs) || again.Title != p.Title {
				t.Errorf("settling again changed %+v to %+v", p, again)
			}
		})
	}
}
