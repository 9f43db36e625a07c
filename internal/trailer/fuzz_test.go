package trailer

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzPromotionRoundTrip: a promotion that validates survives String,
// ParsePromotion, Build and Parse unchanged; one that does not is refused
// by ParsePromotion and by Build, so no message records something other
// than what was asked for. Seeds are in testdata/fuzz.
func FuzzPromotionRoundTrip(f *testing.F) {
	f.Fuzz(func(t *testing.T, image, from, to string) {
		p := Promotion{Image: image, From: from, To: to}
		valid := p.Validate() == nil
		q, perr := ParsePromotion(p.String())
		switch {
		case valid && perr != nil:
			t.Fatalf("valid %#v: ParsePromotion(%q): %v", p, p.String(), perr)
		case valid && q != p:
			t.Fatalf("ParsePromotion(%q) = %#v; want %#v", p.String(), q, p)
		case !valid && perr == nil:
			t.Fatalf("invalid %#v, yet ParsePromotion(%q) accepted it as %#v", p, p.String(), q)
		}

		ts := []Trailer{p.Trailer(), {KeyRule, image + " develop"}}
		msg, err := Build("Promote "+image, "From "+from+" to "+to+".", ts)
		if !valid {
			if err == nil {
				t.Fatalf("Build accepted invalid %#v:\n%s", p, msg)
			}
			return
		}
		if err != nil {
			t.Fatalf("Build(%#v): %v", p, err)
		}
		if diff := cmp.Diff(ts, Parse(msg)); diff != "" {
			t.Fatalf("Parse(Build(...)) mismatch (-want +got):\n%s\nmessage:\n%s", diff, msg)
		}
		got, err := Promotions(Parse(msg))
		if err != nil || len(got) != 1 || got[0] != p {
			t.Fatalf("Promotions(Parse(msg)) = %v, %v; want [%v]", got, err, p)
		}
	})
}

// FuzzBuild: whatever it is given, Build either refuses or writes a message
// whose trailers read back exactly as given, with no patch divider in it.
func FuzzBuild(f *testing.F) {
	f.Fuzz(func(t *testing.T, subject, body, key, value string) {
		ts := []Trailer{{key, value}, {KeyHold, "app"}}
		msg, err := Build(subject, body, ts)
		if err != nil {
			return
		}
		if diff := cmp.Diff(ts, Parse(msg)); diff != "" {
			t.Fatalf("Parse(Build(...)) mismatch (-want +got):\n%s\nmessage: %q", diff, msg)
		}
		if findPatchStart(msg) != len(msg) {
			t.Fatalf("message has a patch divider: %q", msg)
		}
		if !strings.HasSuffix(msg, "\n") || strings.HasSuffix(msg, "\n\n") {
			t.Fatalf("message does not end in a single newline: %q", msg)
		}
	})
}

// FuzzParse: Parse never panics, and what it returns has the shape git
// gives trailers: keys are tokens, values one trimmed line.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, message string) {
		for _, tr := range Parse(message) {
			if tr.Key == "" || strings.Trim(tr.Key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") != "" {
				t.Errorf("key %q is not a token", tr.Key)
			}
			if strings.Contains(tr.Value, "\n") || trim(tr.Value) != tr.Value {
				t.Errorf("value %q is not one trimmed line", tr.Value)
			}
		}
	})
}
