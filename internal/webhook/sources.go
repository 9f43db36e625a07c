package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// decode reads body as one JSON value into v. A type that does not fit, or
// anything after the value, makes the payload bad.
func decode(body []byte, v any, strict bool) *failure {
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return badPayload("not the JSON this source sends: %s", jsonProblem(err))
	}
	if dec.More() {
		return badPayload("not the JSON this source sends: more than one value")
	}
	return nil
}

// jsonProblem says what is wrong with a payload in our words: the decoder's
// own message can repeat the payload.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "a syntax error at byte " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		return "field " + quote(typ.Field) + " has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "an unknown field " + quote(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "it ends too soon"
	}
	return "it cannot be read"
}

// splitHost splits "host[:port]/path" where the first element is a
// registry host (it holds '.' or ':' or is "localhost", as imageref and
// docker read it). A payload that should name a registry but names none
// would otherwise be read as a Docker Hub image.
func splitHost(name string) (host, path string, ok bool) {
	host, path, ok = strings.Cut(name, "/")
	if !ok || path == "" || !(host == "localhost" || strings.ContainsAny(host, ".:")) {
		return "", "", false
	}
	return strings.ToLower(host), path, true
}

// cutTag splits "name:tag" where the tag follows the last ':' after the
// last '/'. The tag may be empty.
func cutTag(s string) (name, tag string) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.Contains(s[i:], "/") {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// The envelope of the CNCF distribution registry's notifications, also
// what GitLab's container registry sends. Only a manifest push with a tag
// names one: blob pushes and pushes by digest carry no tag.
type envelope struct {
	Events *[]struct {
		Action string `json:"action"`
		Target struct {
			Repository string `json:"repository"`
			Tag        string `json:"tag"`
			URL        string `json:"url"`
		} `json:"target"`
		Request struct {
			Host string `json:"host"`
		} `json:"request"`
	} `json:"events"`
}

func parseEnvelope(_ *http.Request, body []byte, hs *hints) *failure {
	var env envelope
	if err := decode(body, &env, false); err != nil {
		return err
	}
	if env.Events == nil {
		return badPayload("no events list")
	}
	for _, ev := range *env.Events {
		if ev.Action != "push" || ev.Target.Tag == "" {
			continue
		}
		// The host the client pushed to; the target's URL has it too when
		// a registry behind a proxy leaves the request's host out.
		host := ev.Request.Host
		if host == "" {
			if u, err := url.Parse(ev.Target.URL); err == nil {
				host = u.Host
			}
		}
		h, _, ok := splitHost(host + "/" + ev.Target.Repository)
		if !ok || strings.Contains(host, "/") {
			continue
		}
		hs.add(h+"/"+ev.Target.Repository, ev.Target.Tag)
	}
	return nil
}

// Docker Hub's payload: one tag pushed to one repository, always on Docker
// Hub.
type dockerHubPayload struct {
	PushData *struct {
		Tag string `json:"tag"`
	} `json:"push_data"`
	Repository *struct {
		RepoName string `json:"repo_name"`
	} `json:"repository"`
}

func parseDockerHub(_ *http.Request, body []byte, hs *hints) *failure {
	var p dockerHubPayload
	if err := decode(body, &p, false); err != nil {
		return err
	}
	if p.PushData == nil || p.Repository == nil {
		return badPayload("no push_data or repository")
	}
	// A name with a registry host is not one Docker Hub sends.
	if _, _, hosted := splitHost(p.Repository.RepoName); hosted {
		return nil
	}
	hs.add(p.Repository.RepoName, p.PushData.Tag)
	return nil
}

// Harbor's default payload format. The registry host is only in each
// resource's URL.
type harborPayload struct {
	Type      string `json:"type"`
	EventData *struct {
		Resources []struct {
			Tag         string `json:"tag"`
			ResourceURL string `json:"resource_url"`
		} `json:"resources"`
		Repository struct {
			RepoFullName string `json:"repo_full_name"`
		} `json:"repository"`
	} `json:"event_data"`
}

func parseHarbor(_ *http.Request, body []byte, hs *hints) *failure {
	var p harborPayload
	if err := decode(body, &p, false); err != nil {
		return err
	}
	if p.Type == "" || p.EventData == nil {
		return badPayload("no type or event_data")
	}
	if p.Type != "PUSH_ARTIFACT" {
		return nil
	}
	full := p.EventData.Repository.RepoFullName
	for _, res := range p.EventData.Resources {
		name, _, _ := strings.Cut(res.ResourceURL, "@")
		name, urlTag := cutTag(name)
		host, path, ok := splitHost(name)
		// The URL and the repository must agree on the name.
		if !ok || (full != "" && path != full) {
			continue
		}
		tag := res.Tag
		if tag == "" {
			tag = urlTag
		}
		hs.add(host+"/"+path, tag)
	}
	return nil
}

// Quay's repository push notification. updated_tags is a list of tags; an
// older form maps each tag to an image ID.
type quayPayload struct {
	DockerURL   string          `json:"docker_url"`
	UpdatedTags json.RawMessage `json:"updated_tags"`
}

func parseQuay(_ *http.Request, body []byte, hs *hints) *failure {
	var p quayPayload
	if err := decode(body, &p, false); err != nil {
		return err
	}
	if p.DockerURL == "" || p.UpdatedTags == nil {
		return badPayload("no docker_url or updated_tags")
	}
	var tags []string
	if err := json.Unmarshal(p.UpdatedTags, &tags); err != nil {
		var byTag map[string]json.RawMessage
		if json.Unmarshal(p.UpdatedTags, &byTag) != nil {
			return badPayload("updated_tags is neither a list nor an object")
		}
		for t := range byTag {
			tags = append(tags, t)
		}
		slices.Sort(tags)
	}
	host, path, ok := splitHost(p.DockerURL)
	if !ok {
		return nil
	}
	for _, t := range tags {
		hs.add(host+"/"+path, t)
	}
	return nil
}

// GitHub's package and registry_package events share the package object.
type githubPackage struct {
	Name        string `json:"name"`
	PackageType string `json:"package_type"`
	Ecosystem   string `json:"ecosystem"`
	Owner       struct {
		Login string `json:"login"`
	} `json:"owner"`
	PackageVersion struct {
		PackageURL        string `json:"package_url"`
		ContainerMetadata struct {
			Tag struct {
				Name string `json:"name"`
			} `json:"tag"`
		} `json:"container_metadata"`
	} `json:"package_version"`
	Registry struct {
		Type string `json:"type"`
	} `json:"registry"`
}

type githubPayload struct {
	Action          string         `json:"action"`
	Package         *githubPackage `json:"package"`
	RegistryPackage *githubPackage `json:"registry_package"`
}

func parseGitHub(r *http.Request, body []byte, hs *hints) *failure {
	var pkg **githubPackage
	var p githubPayload
	switch r.Header.Get(githubEventHeader) {
	case "package":
		pkg = &p.Package
	case "registry_package":
		pkg = &p.RegistryPackage
	default:
		// ping and every other event: signed, so answered, but no hint.
		return nil
	}
	if err := decode(body, &p, false); err != nil {
		return err
	}
	if *pkg == nil {
		return badPayload("no package object for a %s event", quote(r.Header.Get(githubEventHeader)))
	}
	if p.Action != "published" && p.Action != "updated" {
		return nil
	}
	g := *pkg
	if !isContainer(g.PackageType) && !isContainer(g.Ecosystem) && !isContainer(g.Registry.Type) {
		return nil
	}
	// package_url is "ghcr.io/Owner/name:tag"; the container registry
	// spells names in lowercase whatever the owner's case.
	name, urlTag := cutTag(g.PackageVersion.PackageURL)
	if name == "" && g.Owner.Login != "" && g.Name != "" {
		name = "ghcr.io/" + g.Owner.Login + "/" + g.Name
	}
	host, path, ok := splitHost(name)
	if !ok {
		return nil
	}
	tag := g.PackageVersion.ContainerMetadata.Tag.Name
	if tag == "" {
		tag = urlTag
	}
	hs.add(host+"/"+strings.ToLower(path), tag)
	return nil
}

func isContainer(s string) bool {
	return strings.EqualFold(s, "container") || strings.EqualFold(s, "docker")
}

// The generic source's payload, ours: one image and a tag. The tag may
// instead be written on the image. Being ours, it is read strictly and a
// bad name is an error the sender sees.
type genericPayload struct {
	Image string `json:"image"`
	Tag   string `json:"tag"`
}

func parseGeneric(_ *http.Request, body []byte, hs *hints) *failure {
	var p genericPayload
	if err := decode(body, &p, true); err != nil {
		return err
	}
	name, tag := cutTag(p.Image)
	switch {
	case p.Image == "":
		return badPayload("no image")
	case strings.Contains(p.Image, "@"):
		return badPayload("image %s has a digest; give a tag", quote(p.Image))
	case tag != "" && p.Tag != "" && tag != p.Tag:
		return badPayload("image %s and tag %s disagree", quote(p.Image), quote(p.Tag))
	case p.Tag != "":
		tag = p.Tag
	}
	if tag == "" {
		return badPayload("no tag")
	}
	n := len(hs.list)
	hs.add(lowerHost(name), tag)
	if len(hs.list) == n {
		return badPayload("image %s with tag %s is not a valid reference", quote(name), quote(tag))
	}
	return nil
}
