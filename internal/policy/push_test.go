package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/git-laminar/git-laminar/internal/config"
)

// pushed builds tags whose images share one creation time, as
// reproducible builds make them, and differ only in when the registry
// received them: "name@<duration ago>", or "name" for a push time the
// listing did not give.
func pushed(specs ...string) []Tag {
	built := now.Add(-1000 * time.Hour)
	out := make([]Tag, len(specs))
	for i, s := range specs {
		name, ago, ok := strings.Cut(s, "@")
		out[i] = Tag{Name: name, Digest: "sha256:" + name, Created: built}
		if ok {
			d, err := time.ParseDuration(ago)
			if err != nil {
				panic(err)
			}
			out[i].Pushed = now.Add(-d)
		}
	}
	return out
}

// newest-push ranks by push time alone: the creation times, all equal,
// would tie every tag under newest-build.
func TestNewestPush(t *testing.T) {
	tests := []struct {
		name    string
		u       config.Update
		current string
		tags    []string
		want    string
		err     string
		reason  string // a substring of Choice.Reason
		out     map[string]Outcome
	}{
		{name: "latest push wins", u: config.Update{Pattern: "glob:main-*", Order: "newest-push"},
			current: "main-aaa@3h", tags: []string{"main-aaa@3h", "main-ccc@1h", "main-bbb@2h"}, want: "main-ccc",
			reason: `"main-ccc" pushed 2025-06-01T11:00:00Z: newest by push time; newer than the current "main-aaa" (pushed 2025-06-01T09:00:00Z)`,
			out:    map[string]Outcome{"main-bbb": Older, "main-aaa": Current}},
		{name: "a tag pushed earlier stays", u: config.Update{Pattern: "glob:main-*", Order: "newest-push"},
			current: "main-ccc@1h", tags: []string{"main-aaa@3h", "main-ccc@1h"}, want: "main-ccc",
			out: map[string]Outcome{"main-aaa": Older}},
		{name: "ties by name", u: config.Update{Pattern: "glob:main-*", Order: "newest-push"},
			current: "main-aaa@3h", tags: []string{"main-zzz@1h", "main-bbb@1h"}, want: "main-bbb",
			out: map[string]Outcome{"main-zzz": Older}},
		{name: "min_age by push time", u: config.Update{Pattern: "glob:main-*", Order: "newest-push", MinAge: 90 * time.Minute},
			current: "main-aaa@3h", tags: []string{"main-ccc@1h", "main-bbb@2h"}, want: "main-bbb",
			out: map[string]Outcome{"main-ccc": TooYoung}},
		{name: "push time unknown", u: config.Update{Pattern: "glob:main-*", Order: "newest-push"},
			current: "main-aaa@3h", tags: []string{"main-ccc", "main-bbb@2h"}, want: "main-aaa",
			err: `cannot order "main-ccc": the registry's listing gives no push time for them`,
			out: map[string]Outcome{"main-ccc": Unordered}},
		{name: "push time unknown with min_age", u: config.Update{Pattern: "glob:main-*", Order: "newest-push", MinAge: time.Minute},
			current: "main-aaa@3h", tags: []string{"main-ccc", "main-bbb@2h"}, want: "main-bbb",
			out: map[string]Outcome{"main-ccc": TooYoung}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.u)
			cur := pushed(tt.current)[0]
			in := pushed(tt.tags...)
			ch := p.Select(cur, in, now)
			checkChoice(t, ch, selectCase{name: tt.name, u: tt.u, want: tt.want, err: tt.err, out: tt.out})
			if ch.Order != OrderNewestPush {
				t.Errorf("Order = %q", ch.Order)
			}
			if !strings.Contains(ch.Reason, tt.reason) {
				t.Errorf("Reason = %q, want it to contain %q", ch.Reason, tt.reason)
			}
			// The same tags ranked by build time tie: the push time is
			// what told them apart.
			if tt.err == "" && tt.u.MinAge == 0 {
				b := mustCompile(t, config.Update{Pattern: tt.u.Pattern, Order: OrderNewestBuild})
				if bc := b.Select(cur, in, now); bc.Changed {
					t.Errorf("newest-build chose %q among equal build times", bc.Tag)
				}
			}
		})
	}
}

// Only newest-push asks for push times, and it never asks for creation
// times, min_age included.
func TestNeedsPushed(t *testing.T) {
	push := mustCompile(t, config.Update{Pattern: "glob:*", Order: "newest-push", MinAge: time.Hour})
	build := mustCompile(t, config.Update{Pattern: "glob:*", Order: "newest-build"})
	if !push.NeedsPushed("a", []string{"a", "b"}) || push.NeedsPushed("a", []string{"a"}) {
		t.Error("newest-push: NeedsPushed wrong")
	}
	if push.NeedsCreated("a", []string{"a", "b"}) {
		t.Error("newest-push with min_age asks for creation times")
	}
	if build.NeedsPushed("a", []string{"a", "b"}) {
		t.Error("newest-build asks for push times")
	}
	if _, err := Compile(config.Update{Pattern: `regex:b-(\d+)`, Order: "newest-push", Extract: "$1"}); err == nil ||
		err.Error() != `extract "$1": order "newest-push" does not use it` {
		t.Errorf("extract with newest-push: %v", err)
	}
}

func TestPushTimesError(t *testing.T) {
	err := &PushTimesError{Image: "registry.example.com/acme/app", API: "oci"}
	want := `order "newest-push" cannot rank the tags of registry.example.com/acme/app: it ranks by when the registry received each tag, and registry.example.com/acme/app is listed through the distribution API's tag list (api = "oci"), which does not say it`
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got  %s\nwant %s...", err, want)
	}
	err = &PushTimesError{Image: "docker.io/acme/app", API: "oci", FellBack: "dockerhub"}
	if !strings.Contains(err.Error(), `(api = "oci"), since its own API ("dockerhub", chosen by the host's name) refused the listing`) {
		t.Errorf("fallback not named: %s", err)
	}
}
