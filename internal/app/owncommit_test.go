package app

import (
	"testing"

	"github.com/git-laminar/git-laminar/internal/gitrepo"
)

func TestOwnCommit(t *testing.T) {
	one := []string{"1111111111111111111111111111111111111111"}
	promote := "Promote app to develop-2\n\n- r.example/acme/app: develop-1 -> develop-2\n  in app.yaml\n\n" +
		"Laminar-Promote: r.example/acme/app develop-1 -> develop-2\nLaminar-Digest: r.example/acme/app sha256:" +
		"0000000000000000000000000000000000000000000000000000000000000000\nLaminar-Rule: r.example/acme/app dev\n"
	for _, tc := range []struct {
		name    string
		msg     string
		parents []string
		want    bool
	}{
		{"promotion", promote, one, true},
		{"merge", promote, append(one, "2222222222222222222222222222222222222222"), false},
		{"set", "Set app to develop-2\n\nLaminar-Promote: r.example/acme/app develop-1 -> develop-2\n", one, false},
		{"hold", "Promote app to develop-2\n\nLaminar-Promote: r.example/acme/app develop-1 -> develop-2\nLaminar-Hold: r.example/acme/app\n", one, false},
		{"rollback", "Promote app to develop-1\n\nLaminar-Promote: a 2 -> 1\nLaminar-Rollback-Of: 3333333333333333333333333333333333333333\n", one, false},
		{"no trailers", "Promote the new layout\n", one, false},
		{"human", "Scale up\n", one, false},
	} {
		if got := OwnCommit(gitrepo.Commit{Message: tc.msg, Parents: tc.parents}, false); got != tc.want {
			t.Errorf("%s: OwnCommit = %v, want %v", tc.name, got, tc.want)
		}
	}
	// With a message template, the subject is the template's.
	templated := "deploy: app develop-2\n\nLaminar-Promote: r.example/acme/app develop-1 -> develop-2\n"
	for _, tc := range []struct {
		name string
		msg  string
		want bool
	}{
		{"templated promotion", templated, true},
		{"promotion", promote, true},
		{"set", "Set app to develop-2\n\nLaminar-Promote: r.example/acme/app develop-1 -> develop-2\n", false},
		{"hold", "deploy\n\nLaminar-Promote: r.example/acme/app develop-1 -> develop-2\nLaminar-Hold: r.example/acme/app\n", false},
		{"human", "Scale up\n", false},
	} {
		if got := OwnCommit(gitrepo.Commit{Message: tc.msg, Parents: one}, true); got != tc.want {
			t.Errorf("templated %s: OwnCommit = %v, want %v", tc.name, got, tc.want)
		}
	}
}
