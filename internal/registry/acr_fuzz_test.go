package registry

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A page of ACR's tag list is whatever the registry sends.
func FuzzACRPage(f *testing.F) {
	f.Add([]byte(`{"registry":"r.azurecr.io","imageName":"acme/app","tags":[{"name":"v1","digest":"sha256:` + strings.Repeat("a", 64) +
		`","createdTime":"2024-05-01T12:00:00.1234567Z","lastUpdateTime":"2024-05-02T12:00:00Z","signed":false,` +
		`"changeableAttributes":{"deleteEnabled":true,"writeEnabled":true,"readEnabled":true,"listEnabled":true}}]}`))
	f.Add([]byte(`{"tags":[]}`))
	f.Add([]byte(`{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}`))
	f.Add([]byte(`{"tags":[{"name":"x","digest":"latest","lastUpdateTime":"1969-12-31T23:59:59Z"}]}`))
	f.Fuzz(func(t *testing.T, page []byte) {
		tags, err := parseACRPage(page)
		checkAPITags(t, tags, err)
	})
}

// A tag's push time is its lastUpdateTime, else its createdTime.
func TestParseACRPage(t *testing.T) {
	a := "sha256:" + strings.Repeat("a", 64)
	created := time.Date(2024, 5, 1, 12, 0, 0, 123456700, time.UTC)
	updated := time.Date(2024, 5, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		page    string
		want    []apiTag
		wantErr bool
	}{
		{"both times", `{"tags":[{"name":"v1","digest":"` + a + `","createdTime":"2024-05-01T12:00:00.1234567Z","lastUpdateTime":"2024-05-02T12:00:00Z"}]}`,
			[]apiTag{{name: "v1", digest: a, pushed: updated}}, false},
		{"created only", `{"tags":[{"name":"v1","digest":"` + a + `","createdTime":"2024-05-01T12:00:00.1234567Z","lastUpdateTime":"soon"}]}`,
			[]apiTag{{name: "v1", digest: a, pushed: created}}, false},
		{"no digest", `{"tags":[{"name":"v1","digest":"sha256:short"}]}`, []apiTag{{name: "v1"}}, false},
		{"no tags", `{"registry":"r","imageName":"i"}`, []apiTag{}, false},
		{"empty name", `{"tags":[{"name":""}]}`, []apiTag{}, false},
		{"tags not a list", `{"tags":{"name":"v1"}}`, nil, true},
		{"not an object", `[{"name":"v1"}]`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseACRPage([]byte(tt.page))
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want one: %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(apiTag{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
