package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// APIGAR lists Google Artifact Registry's repositories (LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE) through
// its REST API (v1),
//
//	GET https://artifactregistry.googleapis.com/v1/projects/{project}/locations/{location}/repositories/{repository}/dockerImages?pageSize=1000&pageToken=
//
// instead of /v2/<name>/tags/list. The API lists every image of the
// Artifact Registry repository, whatever its name: an image's "uri"
// (HOST/PROJECT/REPOSITORY/IMAGE@DIGEST) says which one it is, and only
// the images of the listed name are read. Each names its digest, its tags,
// "uploadTime" (taken as the push time of its tags), and, for a single
// image, "buildTime" (its config's creation time). The pages follow one
// another by "nextPageToken", in no order of time: the tags are sorted
// newest push first once all pages are read, so that max_tags keeps the
// newest.
//
// The bearer token for the API is the password the keychain holds for
// the registry host: docker-credential-gcloud (gcloud auth
// configure-docker) and docker-credential-gcr hand out an OAuth access
// token so, under the user name oauth2accesstoken. A service account key
// (user _json_key) is no token, and is not sent. The token goes to
// artifactregistry.googleapis.com, or the host's user-level api_url, and
// nowhere else.

func init() {
	registerAPI(&api{name: APIGAR, pushTimes: true, list: (*Client).listGAR})
}

const (
	garAPIBase  = "https://artifactregistry.googleapis.com"
	garWhat     = "Artifact Registry's API"
	garPageSize = 1000
)

var garHostRE = regexp.MustCompile(`^([a-z0-9-]+)-docker\.pkg\.dev$`)

// listGAR lists repository r through Artifact Registry's dockerImages.
func (c *Client) listGAR(ctx context.Context, q *apiQuery) ([]string, bool, error) {
	r, source, apiURL, ls := q.r, q.source, q.apiURL, q.ls
	setting := q.named()
	host := r.RegistryStr()
	location := "-" // any location, as Google's APIs read it: for an api_url's host only
	if m := garHostRE.FindStringSubmatch(host); m != nil {
		location = m[1]
	} else if apiURL == "" {
		return nil, false, fmt.Errorf("%s, and Artifact Registry's API serves only LOCATION-docker.pkg.dev (or the host's api_url)", setting)
	}
	parts := strings.SplitN(r.RepositoryStr(), "/", 3)
	if len(parts) < 3 {
		return nil, false, fmt.Errorf("%s, and an Artifact Registry image is %s/<project>/<repository>/<image>", setting, host)
	}
	project, repo := parts[0], parts[1]
	ep, err := endpointFor(apiURL, garAPIBase)
	if err != nil {
		return nil, false, err
	}
	user, token, err := c.apiToken(ctx, r)
	if err != nil {
		return nil, false, err
	}
	switch {
	case user == "_json_key" || user == "_json_key_base64":
		return nil, false, &CredentialError{Source: source, Msg: fmt.Sprintf("%s, and the keychain holds a service account key for %s, which Artifact Registry's API does not take: "+
			"use gcloud's credential helper (gcloud auth configure-docker %s), which hands out access tokens", setting, host, host)}
	case token == "":
		return nil, false, &CredentialError{Source: source, Msg: fmt.Sprintf("%s, and Artifact Registry's API needs an access token: "+
			"use gcloud's credential helper (gcloud auth configure-docker %s)", setting, host)}
	}
	path := "/v1/projects/" + url.PathEscape(project) + "/locations/" + url.PathEscape(location) +
		"/repositories/" + url.PathEscape(repo) + "/dockerImages"
	image := strings.ToLower(host + "/" + r.RepositoryStr())
	col := newCollector(ls, "Artifact Registry image list")
	var all []apiTag
	query := url.Values{"pageSize": {fmt.Sprint(garPageSize)}}
	for {
		u, err := ep.url(path, query)
		if err != nil {
			return nil, false, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, false, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		body, _, err := c.apiDo(req, garWhat)
		if err != nil {
			return nil, false, garFailure(setting, project, repo, err)
		}
		if err := col.page(body); err != nil {
			return nil, false, err
		}
		tags, next, err := parseGARPage(body, image)
		if err != nil {
			return nil, false, fmt.Errorf("%s, but a page of its image list does not read as Artifact Registry's: %w", setting, err)
		}
		// The pages are in no order of time: all are read, within the
		// listing's limits, before any tag is kept.
		all = append(all, tags...)
		if len(all) > ls.limits.ListTags {
			return nil, false, &LimitError{What: col.what, Limit: fmt.Sprintf("%d tags", ls.limits.ListTags)}
		}
		if next == "" {
			break
		}
		if err := col.follow(next); err != nil {
			return nil, false, err
		}
		query.Set("pageToken", next)
	}
	slices.SortStableFunc(all, func(a, b apiTag) int { return -a.pushed.Compare(b.pushed) })
	col.add(all)
	return col.result(false)
}

// garFailure explains an answer other than 200; the cause stays in the
// chain for classification.
func garFailure(setting, project, repo string, err error) error {
	var aerr *APIError
	if !errors.As(err, &aerr) {
		return err
	}
	why := ""
	switch aerr.StatusCode {
	case http.StatusNotFound:
		why = fmt.Sprintf("; has project %s a repository %s there?", project, repo)
	case http.StatusUnauthorized:
		why = "; the access token was refused (they last an hour: is the credential helper the keychain's?)"
	case http.StatusForbidden:
		why = "; the account needs artifactregistry.dockerimages.list on the repository (roles/artifactregistry.reader), and the project the Artifact Registry API"
	}
	return fmt.Errorf("%s%s: %w", setting, why, err)
}

// garPage is the part of a dockerImages page that is read here.
type garPage struct {
	DockerImages []struct {
		URI        string   `json:"uri"`
		Tags       []string `json:"tags"`
		UploadTime string   `json:"uploadTime"`
		MediaType  string   `json:"mediaType"`
		BuildTime  string   `json:"buildTime"`
	} `json:"dockerImages"`
	NextPageToken string `json:"nextPageToken"`
}

// parseGARPage reads one page of dockerImages and returns the tags of
// the images of image ("host/project/repository/name", lower case), and
// the token of the next page. A page that is not a JSON object is an
// error; an image whose uri is not image@digest is passed over, and a
// time that does not parse is left out. A build time is kept only for a
// single image's manifest: an index's is not its own (see Info).
func parseGARPage(body []byte, image string) ([]apiTag, string, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, "", errors.New("not a JSON object")
	}
	var p garPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, "", err
	}
	out := []apiTag{}
	for _, im := range p.DockerImages {
		where, digest, ok := strings.Cut(im.URI, "@")
		if !ok || !strings.EqualFold(where, image) || apiDigest(digest) == "" {
			continue
		}
		pushed := apiTime(im.UploadTime)
		var created time.Time
		if types.MediaType(im.MediaType).IsImage() {
			created = apiTime(im.BuildTime)
		}
		for _, tag := range im.Tags {
			if tag != "" {
				out = append(out, apiTag{name: tag, digest: digest, pushed: pushed, created: created})
			}
		}
	}
	return out, p.NextPageToken, nil
}
