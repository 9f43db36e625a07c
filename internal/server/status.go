package server

import (
	"html/template"
	"net/http"
	"time"
)

// Status is the service's state as /v1/status gives it and / shows it.
type Status struct {
	Shard        string             `json:"shard"`
	Ready        bool               `json:"ready"`
	Started      time.Time          `json:"started"`
	Repositories []RepositoryStatus `json:"repositories"`
}

// RepositoryStatus is one repository's part of Status.
type RepositoryStatus struct {
	Name        string        `json:"name"`
	URL         string        `json:"url"`
	Branch      string        `json:"branch,omitempty"`
	Interval    string        `json:"interval"`
	Running     string        `json:"running,omitempty"` // the trigger of the job in progress
	NextRun     time.Time     `json:"next_run,omitzero"`
	LastRun     *Outcome      `json:"last_run,omitempty"`
	LastSuccess time.Time     `json:"last_success,omitzero"`
	Images      []ImageStatus `json:"images"`
	History     []Event       `json:"history"`
	References  []string      `json:"references"`
	StatusError string        `json:"status_error,omitempty"`
	CloneError  string        `json:"clone_error,omitempty"`
}

// Snapshot is the current status.
func (s *Server) Snapshot() Status {
	ready, _ := s.ready()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Shard: s.opt.Shard.String(), Ready: ready, Started: s.started, Repositories: []RepositoryStatus{}}
	for _, r := range s.repos {
		rs := RepositoryStatus{
			Name: r.cfg.Name, URL: redact(r.cfg.URL), Branch: r.cfg.Branch, Interval: r.cfg.Interval.String(),
			Running: r.running, NextRun: r.next, LastSuccess: r.lastSuccess,
			Images: r.status.Images, History: r.status.History, References: r.refs,
			StatusError: r.statusErr, CloneError: r.cloneErr,
		}
		if r.last != nil {
			o := *r.last
			rs.LastRun = &o
		}
		if rs.Images == nil {
			rs.Images = []ImageStatus{}
		}
		if rs.History == nil {
			rs.History = []Event{}
		}
		if rs.References == nil {
			rs.References = []string{}
		}
		st.Repositories = append(st.Repositories, rs)
	}
	return st
}

func (s *Server) statusJSON(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Snapshot())
}

// statusPage is the HTML page: html/template escapes every value, since
// names, tags, reasons and errors come from files, registries and
// remotes; the policy forbids scripts outright.
func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.Header().Set("X-Frame-Options", "DENY")
	if err := pageTemplate.Execute(w, s.Snapshot()); err != nil {
		s.log.Warn("status page", "error", err.Error())
	}
}

func short(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{"short": short, "when": when}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="30">
<title>git-laminar serve</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.failed, .partial { color: #a00; }
.promoted { color: #070; }
code { font-size: 0.95em; }
</style>
</head>
<body>
<h1>git-laminar serve</h1>
<p id="summary">Shard {{.Shard}}, {{len .Repositories}} repositories, {{if .Ready}}ready{{else}}not ready{{end}}, up since {{when .Started}}.</p>
{{range .Repositories}}
<section class="repository" id="repo-{{.Name}}">
<h2>{{.Name}}</h2>
<p><code>{{.URL}}</code>{{if .Branch}} branch <code>{{.Branch}}</code>{{end}}, every {{.Interval}}{{if .Running}}; running now ({{.Running}}){{else if not .NextRun.IsZero}}; next run {{when .NextRun}}{{end}}.</p>
{{with .LastRun}}<p class="last-run">Last run: <span class="{{.Result}}">{{.Result}}</span> at {{when .Finished}} ({{.Trigger}}){{if .Commit}}, commit <code>{{short .Commit}}</code>{{end}}{{if .Error}}: <span class="error">{{.Error}}</span>{{end}}</p>
{{range .Failures}}<p class="failed">{{.Image}}: {{.Error}}</p>{{end}}{{else}}<p class="last-run">No run yet.</p>{{end}}
<p>Last success: {{when .LastSuccess}}.</p>
{{if .CloneError}}<p class="failed">Clone: {{.CloneError}}</p>{{end}}
{{if .StatusError}}<p class="failed">Status: {{.StatusError}}</p>{{end}}
{{if .Images}}<table class="images">
<tr><th>image</th><th>current</th><th>newest allowed</th><th>rule</th><th>why</th><th>hold</th></tr>
{{range .Images}}<tr><td><code>{{.Image}}</code></td><td><code>{{.Current}}</code></td><td><code>{{.Newest}}</code></td><td>{{.Rule}}</td><td>{{.Reason}}</td><td>{{.Held}}</td></tr>
{{end}}</table>{{end}}
{{if .History}}<table class="history">
<tr><th>when</th><th>what</th><th>image</th><th>from</th><th>to</th><th>commit</th><th>author</th></tr>
{{range .History}}<tr><td>{{when .Date}}</td><td>{{.Kind}}</td><td><code>{{.Image}}</code></td><td><code>{{.From}}</code></td><td><code>{{.To}}</code></td><td><code>{{short .Commit}}</code></td><td>{{.Author}}</td></tr>
{{end}}</table>{{end}}
</section>
{{end}}
</body>
</html>
`))
