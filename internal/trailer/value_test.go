package trailer

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePromotion(t *testing.T) {
	valid := []Promotion{
		{"registry.example.com:5000/acme/app", "develop-52af76b8", "develop-b2ee56fd"},
		{"nginx", "1.25", "1.27"},
		{"library/nginx", NoTag, "latest"},
		{"ghcr.io/acme/app", sha256Digest, sha512Digest},
		{"localhost:5000/a", "_", "A"},
		{"[::1]:5000/a", "v1", "v2"},
		{"[fe80::1]/a", "v1", "v2"},
		{"Registry.Example.COM/a.b/c_d/e__f/g---h", "v1", "v2"},
		{"a", strings.Repeat("x", 128), "v2"},
		{"a/" + strings.Repeat("b", 253), "1", "2"},
	}
	for _, p := range valid {
		t.Run(p.String(), func(t *testing.T) {
			got, err := ParsePromotion(p.String())
			if err != nil {
				t.Fatalf("ParsePromotion: %v", err)
			}
			if diff := cmp.Diff(p, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}

	invalid := []struct{ value, want string }{
		{"", "want \"<image> <from> -> <to>\""},
		{"app v1 -> v2 extra", "single spaces"},
		{"app  v1 -> v2", "single spaces"},
		{"app v1 => v2", "single spaces"},
		{"app v1 -> ", "to: empty"},
		{"app  -> v2", "from: empty"},
		{"app v1 -> v1", "the same"},
		{"app v1 -> -", "to: tag \"-\" must start"},
		{"App v1 -> v2", `path component "App"`},
		{"app:v0 v1 -> v2", "without tag or digest"},
		{"app@" + sha256Digest + " v1 -> v2", "without tag or digest"},
		{"localhost:5000 v1 -> v2", "without tag or digest"},
		{"a//b v1 -> v2", `path component ""`},
		{"a/-b v1 -> v2", `path component "-b"`},
		{"a/b. v1 -> v2", `path component "b."`},
		{"a/b___c v1 -> v2", `path component "b___c"`},
		{"-host.com/a v1 -> v2", `path component "-host.com"`},
		{"a/" + strings.Repeat("b", 254) + " 1 -> 2", "at most 255"},
		{"app .v1 -> v2", "must start with a letter"},
		{"app v1 -> v2+build", `"+" is not allowed`},
		{"app v1 -> " + strings.Repeat("x", 129), "at most 128"},
		{"app sha256:abc -> v2", "64 lowercase hex"},
		{"app " + strings.ToUpper(sha256Digest) + " -> v2", "want sha256"},
		{"app md5:0123 -> v2", "want sha256"},
		{"app v1 -> v2\n", "not allowed"},
	}
	for _, tc := range invalid {
		t.Run(tc.value, func(t *testing.T) {
			_, err := ParsePromotion(tc.value)
			if err == nil {
				t.Fatalf("ParsePromotion(%q) succeeded; want error containing %q", tc.value, tc.want)
			}
			var te *Error
			if !errors.As(err, &te) || te.Key != KeyPromote {
				t.Errorf("error %v does not name %s", err, KeyPromote)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q; want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		t    Trailer
		want string // "" means valid
	}{
		{Trailer{KeyPromote, promo}, ""},
		{Trailer{KeyDigest, "nginx " + sha256Digest}, ""},
		{Trailer{KeyDigest, "nginx"}, `want "<image> <digest>"`},
		{Trailer{KeyDigest, "nginx v1"}, `digest "v1"`},
		{Trailer{KeyDigest, "nginx " + sha256Digest + " x"}, "64 lowercase hex"},
		{Trailer{KeyRule, "nginx develop"}, ""},
		{Trailer{KeyRule, "nginx stable 1.x branch"}, ""},
		{Trailer{KeyRule, "nginx  develop"}, "starts with whitespace"},
		{Trailer{KeyRule, "Nginx develop"}, `path component "Nginx"`},
		{Trailer{KeyRollback, commitID}, ""},
		{Trailer{KeyRollback, strings.Repeat("ab", 32)}, ""},
		{Trailer{KeyRollback, "0a0a0a0"}, "full commit id"},
		{Trailer{KeyRollback, strings.ToUpper(commitID)}, "full commit id"},
		{Trailer{KeyHold, "registry.example.com/acme/app"}, ""},
		{Trailer{KeyHold, "app:v1"}, "without tag"},
		{Trailer{KeyRelease, "app"}, ""},
		{Trailer{KeyRelease, ""}, "image is empty"},
		{Trailer{"laminar-promote", promo}, "spell the key Laminar-Promote"},
		{Trailer{"Laminar-Promotes", promo}, "unknown Laminar trailer"},
		{Trailer{"Signed-off-by", "anything at all\n"}, ""},
		{Trailer{"Laminar", "x"}, ""},
		{Trailer{"", "x"}, "key must be"},
		{Trailer{"-x", "x"}, "key must be"},
		{Trailer{"Ä", "x"}, "key must be"},
	}
	for _, tc := range tests {
		t.Run(tc.t.String(), func(t *testing.T) {
			err := Validate(tc.t)
			if tc.want == "" {
				if err != nil {
					t.Errorf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate succeeded; want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.t.Key) {
				t.Errorf("error %q; want it to name the key and contain %q", err, tc.want)
			}
		})
	}
}

func TestErrorQuotesHostileValues(t *testing.T) {
	err := Validate(Trailer{KeyHold, "app\x1b]0;pwned\x07"})
	if err == nil || strings.ContainsAny(err.Error(), "\x1b\x07") {
		t.Errorf("error %q shows raw control characters", err)
	}
}

func TestValuesAndPromotions(t *testing.T) {
	ts := []Trailer{
		{KeyPromote, "a 1 -> 2"},
		{"laminar-promote", "b 1 -> 2"},
		{"Signed-off-by", "x"},
		{KeyPromote, "broken"},
		{"Laminar-Promote-Extra", "c 1 -> 2"},
	}
	if diff := cmp.Diff([]string{"a 1 -> 2", "b 1 -> 2", "broken"}, Values(ts, "LAMINAR-PROMOTE")); diff != "" {
		t.Errorf("Values mismatch (-want +got):\n%s", diff)
	}
	got, err := Promotions(ts)
	if diff := cmp.Diff([]Promotion{{"a", "1", "2"}, {"b", "1", "2"}}, got); diff != "" {
		t.Errorf("Promotions mismatch (-want +got):\n%s", diff)
	}
	if err == nil || !strings.Contains(err.Error(), `"broken"`) {
		t.Errorf("Promotions error %v; want it to report the broken value", err)
	}
}
