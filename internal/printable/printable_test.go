package printable

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"registry.example.com/acme/app:1.2", "registry.example.com/acme/app:1.2"},
		{"déploiement/app.yaml — ok ✓ 日本", "déploiement/app.yaml — ok ✓ 日本"},
		{`back\slash`, `back\slash`},
		{"clear\x1b[2Jscreen", `clear\x1b[2Jscreen`},
		{"\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"a\r\nLaminar-Promote: evil 1 -> 2", `a\r\nLaminar-Promote: evil 1 -> 2`},
		{"tab\there", `tab\there`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"evil\u202eKCATTA", `evil\u202eKCATTA`},
		{"zero\u200bwidth\ufeff", `zero\u200bwidth\ufeff`},
		{"line\u2028sep", `line\u2028sep`},
		{"tag \U000E0041", `tag \U000e0041`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"cut \xe2\x80", `cut \xe2\x80`},
	} {
		if got := String(c.in); got != c.want {
			t.Errorf("String(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := Is(c.in); got != (c.in == c.want) {
			t.Errorf("Is(%q) = %v", c.in, got)
		}
	}
}

func TestTextKeepsOurLines(t *testing.T) {
	in := "exec action failed; its output:\n\tline one\x1b[2J\r\n\tline two\u202e"
	want := "exec action failed; its output:\n\tline one\\x1b[2J\\r\n\tline two\\u202e"
	if got := Text(in); got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

func TestErr(t *testing.T) {
	if Err(nil) != nil {
		t.Fatal("Err(nil) is not nil")
	}
	cause := &fs.PathError{Op: "open", Path: "a\nLaminar-Promote: x", Err: fs.ErrNotExist}
	err := Err(cause)
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("Err kept the newline: %q", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("Err lost the cause")
	}
}

func TestJSON(t *testing.T) {
	v := map[string]string{"msg": "\x1b[2J\x7f\u0085\u202e\U000E0041 é\n\"\\"}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	got := JSON(raw)
	for _, bad := range []string{"\x7f", "\u0085", "\u202e", "\U000E0041", "\x1b"} {
		if bytes.Contains(got, []byte(bad)) {
			t.Errorf("JSON left %q raw: %s", bad, got)
		}
	}
	if !bytes.Contains(got, []byte("é")) {
		t.Errorf("JSON escaped printable text: %s", got)
	}
	var back map[string]string
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatalf("not JSON any more: %v: %s", err, got)
	}
	if back["msg"] != v["msg"] {
		t.Errorf("decodes to %q, want %q", back["msg"], v["msg"])
	}
	plain := []byte(`{"a":"b"}`)
	if got := JSON(plain); &got[0] != &plain[0] {
		t.Error("JSON copied plain ASCII")
	}
}

// FuzzString holds the guarantee: whatever the input, the output is valid
// UTF-8 with nothing unsafe in it, a second pass changes nothing, and Text
// differs only in keeping newlines and tabs.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b[2J", "a\nb", "\u202e", "\xff", "\u0085", "\U000E0041"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if !utf8.ValidString(out) {
			t.Fatalf("String(%q) = %q is not UTF-8", s, out)
		}
		if !Is(out) {
			t.Fatalf("String(%q) = %q holds an unsafe character", s, out)
		}
		if again := String(out); again != out {
			t.Fatalf("String is not idempotent: %q then %q", out, again)
		}
		if Is(s) != (out == s) {
			t.Fatalf("Is(%q) = %v but String changed it to %q", s, Is(s), out)
		}
		text := Text(s)
		if strings.ReplaceAll(strings.ReplaceAll(text, "\n", `\n`), "\t", `\t`) != out {
			t.Fatalf("Text(%q) = %q is not String %q with lines kept", s, text, out)
		}
	})
}

// FuzzJSON: any string encoded by encoding/json and passed through JSON
// decodes to the same value and holds no character String would escape,
// other than the newlines of indentation.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{"", "\x7f", "\u202e", "\U000E0041", "\xff", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		raw, err := json.MarshalIndent([]string{s}, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		out := JSON(raw)
		if !Is(strings.ReplaceAll(string(out), "\n", "")) {
			t.Fatalf("JSON(%s) = %s holds an unsafe character", raw, out)
		}
		var a, b []string
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("JSON(%s) = %s: %v", raw, out, err)
		}
		if a[0] != b[0] {
			t.Fatalf("JSON changed the value: %q, then %q", a[0], b[0])
		}
	})
}

// What a scan of a large repository pays per reference it prints, and per
// byte of its JSON, when there is nothing to escape.
func BenchmarkStringPlain(b *testing.B) {
	s := "deploy/services/payments/values-production.yaml"
	for b.Loop() {
		_ = String(s)
	}
}

func BenchmarkJSONPlain(b *testing.B) {
	doc := bytes.Repeat([]byte(`{"file": "deploy/app.yaml", "line": 12, "image": "registry.example.com/acme/app"},`), 10000)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		_ = JSON(doc)
	}
}
