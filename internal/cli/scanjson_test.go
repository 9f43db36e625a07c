package cli

import (
	"bytes"
	"testing"

	"github.com/git-laminar/git-laminar/internal/printable"
)

// scan --json, appendScanJSON through printable.JSON, must print exactly
// what writeJSON prints.
func TestAppendScanJSONMatchesEncodingJSON(t *testing.T) {
	odd := []string{"", "a\"b", `back\slash`, "tab\tnew\nline\r", "\x00\x01\x1f\x7f", "<&>", "é ünï", "\u2028\u2029",
		"bad \xff utf8", "\b\f", "evil\u202e\u0085", "docker.io/library/nginx:1.25"}
	cases := [][]ScanEntry{
		nil,
		{},
		{{File: "a.yaml", Line: 1, Column: 12, Image: "nginx", Tag: "1.25", Kind: "yaml", Canonical: "docker.io/library/nginx:1.25"}},
		{
			{File: "dev/x.yaml", Line: 10, Column: 3, Image: "r/x", Tag: "v1", Digest: "sha256:" + string(bytes.Repeat([]byte("a"), 64)),
				Kind: "dockerfile", Canonical: "r/x:v1", Managed: true, Rule: "dev"},
			{File: "b", Line: -1, Column: 0, Rule: ""},
		},
	}
	var many []ScanEntry
	for i, s := range odd {
		many = append(many, ScanEntry{File: s, Line: i, Column: i * 7, Image: s, Tag: s, Digest: s, Kind: s, Canonical: s,
			Managed: i%2 == 0, Rule: s})
	}
	cases = append(cases, many)
	for i, entries := range cases {
		var want bytes.Buffer
		if err := writeJSON(&want, entries); err != nil {
			t.Fatal(err)
		}
		if got := printable.JSON(appendScanJSON(nil, entries)); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("case %d:\ngot  %q\nwant %q", i, got, want.Bytes())
		}
	}
}

func FuzzAppendScanJSON(f *testing.F) {
	f.Add("a.yaml", 3, "nginx", "1.2", "rule", true)
	f.Add("\xff\"<", -5, "\u2028", "\t", "", false)
	f.Fuzz(func(t *testing.T, file string, line int, image, tag, rule string, managed bool) {
		entries := []ScanEntry{{File: file, Line: line, Column: line / 2, Image: image, Tag: tag, Digest: tag, Kind: rule,
			Canonical: image, Managed: managed, Rule: rule}}
		var want bytes.Buffer
		if err := writeJSON(&want, entries); err != nil {
			t.Fatal(err)
		}
		if got := printable.JSON(appendScanJSON(nil, entries)); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("got  %q\nwant %q", got, want.Bytes())
		}
	})
}
