package history

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFromMessage(t *testing.T) {
	msg := `Promote 2 images: api, app

- r.example.com/acme/app: develop-1 -> develop-2

Laminar-Promote: r.example.com/acme/app develop-1 -> develop-2
Laminar-Digest: r.example.com/acme/app sha256:2222222222222222222222222222222222222222222222222222222222222222
Laminar-Rule: r.example.com/acme/app dev
Laminar-Promote: r.example.com/acme/api 1.0.0 -> 1.1.0
Laminar-Promote: not a promotion
Signed-off-by: Dana <dana@example.com>
`
	got := FromMessage(msg)
	want := []Record{
		{Kind: Promote, Image: "r.example.com/acme/app", From: "develop-1", To: "develop-2", Digest: "sha256:2222222222222222222222222222222222222222222222222222222222222222", Rule: "dev"},
		{Kind: Promote, Image: "r.example.com/acme/api", From: "1.0.0", To: "1.1.0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A body line that looks like a trailer, outside the last paragraph, is not one.
	if got := FromMessage("Subject\n\nLaminar-Promote: r.example.com/a 1 -> 2\n\nJust text.\n"); len(got) != 0 {
		t.Errorf("trailer outside the last paragraph read: %+v", got)
	}
}

func TestFromMessageRollbackHoldRelease(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef01234567"
	msg := "Roll back app to develop-1\n\nLaminar-Promote: r.example.com/acme/app develop-2 -> develop-1\n" +
		"Laminar-Rollback-Of: " + id + "\nLaminar-Hold: r.example.com/acme/app\nLaminar-Release: r.example.com/acme/api\n" +
		"Laminar-Hold: not an image:tag\n"
	want := []Record{
		{Kind: Rollback, Image: "r.example.com/acme/app", From: "develop-2", To: "develop-1", RollbackOf: id},
		{Kind: Hold, Image: "r.example.com/acme/app"},
		{Kind: Release, Image: "r.example.com/acme/api"},
	}
	if diff := cmp.Diff(want, FromMessage(msg)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A malformed Rollback-Of makes no rollback.
	got := FromMessage("S\n\nLaminar-Promote: r.example.com/a 1 -> 2\nLaminar-Rollback-Of: abc\n")
	if len(got) != 1 || got[0].Kind != Promote {
		t.Errorf("malformed Rollback-Of: %+v", got)
	}
}

func TestFilterMatches(t *testing.T) {
	tests := []struct {
		filter, image string
		want          bool
	}{
		{"", "r.example.com/acme/app", true},
		{"app", "r.example.com/acme/app", true},
		{"acme/app", "r.example.com/acme/app", true},
		{"cme/app", "r.example.com/acme/app", false},
		{"r.example.com/acme/app", "r.example.com/acme/app", true},
		{"ap", "r.example.com/acme/app", false},
		{"nginx", "docker.io/library/nginx", true},
		{"docker.io/library/nginx", "docker.io/library/nginx", true},
		{"library/nginx", "docker.io/library/nginx", true},
		{"app", "r.example.com/acme/api", false},
	}
	for _, tt := range tests {
		if got := (Filter{Image: tt.filter}).matches(tt.image); got != tt.want {
			t.Errorf("Filter{%q}.matches(%q) = %v, want %v", tt.filter, tt.image, got, tt.want)
		}
	}
}
