package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// APIGitLab lists a GitLab container registry's repositories through
// GitLab's GraphQL API,
//
//	POST https://gitlab.com/api/graphql
//
// instead of /v2/<name>/tags/list. Two queries do it. The first finds the
// container repository: GitLab's image path is a project's full path
// followed by the image's name (empty for the project's own image), and
// where the project ends is not written in it, so one query asks every
// split at once (project(fullPath:) { containerRepositories(name:) }) and
// the repository whose path is the image's is taken. The second pages
// through its tags (containerRepository(id:) { tags(first: 100, after:) }),
// by pageInfo's endCursor while hasNextPage, each tag with its digest and
// publishedAt, the push time GitLab's registry records (an older GitLab
// refuses the field, and the listing fails with its message; a registry
// without the metadata database leaves it null). createdAt is not read: without the registry's metadata database
// it is the image's build time, with it the tag's creation. The tags come
// in name order: all pages are read, within the listing's limits, and
// sorted newest push first before max_tags applies.
//
// The API is the GitLab instance's: gitlab.com for registry.gitlab.com;
// for a self-managed registry, the host of the registry's token service
// (its 401 challenge names https://GITLAB/jwt/auth, where docker's
// credentials already go), over HTTPS only; or the host's user-level
// api_url. The password the keychain holds for the registry, a personal,
// project or group access token with read_api, is sent there as a bearer
// token, and nowhere else.

func init() {
	registerAPI(&api{name: APIGitLab, pushTimes: true, list: (*Client).listGitLab})
}

const (
	gitlabRegistryHost = "registry.gitlab.com"
	gitlabAPIBase      = "https://gitlab.com"
	gitlabWhat         = "GitLab's GraphQL API"
	gitlabPageSize     = 100 // the most GitLab serves of a connection
)

// listGitLab lists repository r through GitLab's GraphQL API.
func (c *Client) listGitLab(ctx context.Context, q *apiQuery) ([]string, bool, error) {
	r, source, apiURL, ls := q.r, q.source, q.apiURL, q.ls
	setting := q.named()
	path := r.RepositoryStr()
	if strings.Count(path, "/") < 1 {
		return nil, false, fmt.Errorf("%s, and a GitLab image is %s/<group>/<project>[/<name>]", setting, r.RegistryStr())
	}
	base, err := c.gitlabBase(ctx, r, apiURL)
	if err != nil {
		return nil, false, fmt.Errorf("%s, but %w", setting, err)
	}
	ep, err := endpointFor(base, "")
	if err != nil {
		return nil, false, err
	}
	_, token, err := c.apiToken(ctx, r)
	if err != nil {
		return nil, false, err
	}
	if token == "" {
		return nil, false, &CredentialError{Source: source, Msg: fmt.Sprintf("%s, and GitLab's API needs a token: "+
			"docker login %s with a personal, project or group access token that has read_api", setting, r.RegistryStr())}
	}
	col := newCollector(ls, "GitLab tag list")
	post := func(query string, vars map[string]any) ([]byte, error) {
		u, err := ep.url("/api/graphql", nil)
		if err != nil {
			return nil, err
		}
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		page, _, err := c.apiDo(req, gitlabWhat)
		if err != nil {
			return nil, gitlabFailure(setting, err)
		}
		if err := col.page(page); err != nil {
			return nil, err
		}
		return page, nil
	}

	find, vars := gitlabFindQuery(path)
	page, err := post(find, vars)
	if err != nil {
		return nil, false, err
	}
	id, err := parseGitLabRepositories(page, path)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", setting, err)
	}
	if id == "" {
		return nil, false, &gitlabNotFound{setting: setting, path: path}
	}
	var all []apiTag
	vars = map[string]any{"id": id, "first": gitlabPageSize, "after": nil}
	for {
		page, err := post(gitlabTagsQuery, vars)
		if err != nil {
			return nil, false, err
		}
		tags, next, err := parseGitLabTags(page)
		if err != nil {
			return nil, false, fmt.Errorf("%s, but a page of its tags does not read as GitLab's: %w", setting, err)
		}
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
		vars["after"] = next
	}
	slices.SortStableFunc(all, func(a, b apiTag) int { return -a.pushed.Compare(b.pushed) })
	col.add(all)
	return col.result(false)
}

// gitlabBase is where the GitLab instance of r's registry is: apiURL when
// set; gitlab.com for registry.gitlab.com; else the instance that issues
// the registry's tokens, as its challenge names it, over HTTPS only (the
// token would otherwise travel in the clear).
func (c *Client) gitlabBase(ctx context.Context, r name.Repository, apiURL string) (string, error) {
	switch {
	case apiURL != "":
		return apiURL, nil
	case r.RegistryStr() == gitlabRegistryHost:
		return gitlabAPIBase, nil
	}
	ch, err := transport.Ping(ctx, r.Registry, c.limiter)
	if err != nil {
		return "", fmt.Errorf("the registry could not be asked where its GitLab is: %w", err)
	}
	realm := ch.Parameters["realm"]
	u, err := url.Parse(realm)
	if !strings.EqualFold(ch.Scheme, "bearer") || realm == "" || err != nil {
		return "", errors.New("the registry names no token service, which is where its GitLab is; set api_url for the host in the user-level file")
	}
	p, ok := strings.CutSuffix(u.Path, "/jwt/auth")
	if !ok || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return "", fmt.Errorf("the registry's token service, %s://%s%s, is not a GitLab's over HTTPS; set api_url for the host in the user-level file", u.Scheme, u.Host, u.Path)
	}
	return "https://" + u.Host + p, nil
}

// gitlabFindQuery asks, for every split of path into a project (two
// elements at least) and an image name, for the project's container
// repositories of that name.
func gitlabFindQuery(path string) (string, map[string]any) {
	parts := strings.Split(path, "/")
	var params, fields []string
	vars := map[string]any{}
	for i := len(parts); i >= 2; i-- {
		k := strconv.Itoa(len(parts) - i)
		params = append(params, "$p"+k+": ID!", "$n"+k+": String")
		fields = append(fields, "p"+k+": project(fullPath: $p"+k+") { containerRepositories(name: $n"+k+", first: 100) { nodes { id path } } }")
		vars["p"+k] = strings.Join(parts[:i], "/")
		vars["n"+k] = strings.Join(parts[i:], "/")
	}
	return "query(" + strings.Join(params, ", ") + ") { " + strings.Join(fields, " ") + " }", vars
}

const gitlabTagsQuery = `query($id: ContainerRepositoryID!, $first: Int, $after: String) { containerRepository(id: $id) { ` +
	`tags(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { name digest publishedAt } } } }`

// gitlabNotFound is a path no project's container repository has.
type gitlabNotFound struct{ setting, path string }

func (e *gitlabNotFound) Error() string {
	return fmt.Sprintf("%s, and no GitLab project the token may read has a container repository %s", e.setting, e.path)
}

// Is makes the failure ErrNotFound's kind.
func (e *gitlabNotFound) Is(target error) bool { return target == ErrNotFound }

// gitlabFailure explains an answer other than 200; the cause stays in
// the chain for classification.
func gitlabFailure(setting string, err error) error {
	var aerr *APIError
	if !errors.As(err, &aerr) {
		return err
	}
	why := ""
	switch aerr.StatusCode {
	case http.StatusUnauthorized:
		why = "; GitLab did not accept the token the keychain holds for the registry"
	case http.StatusForbidden:
		why = "; the token needs the read_api scope"
	case http.StatusNotFound:
		why = "; is api_url a GitLab's address?"
	}
	return fmt.Errorf("%s%s: %w", setting, why, err)
}

// gitlabErrors is GraphQL's list of errors, which GitLab answers with 200.
type gitlabErrors []struct {
	Message string `json:"message"`
}

func (e gitlabErrors) err() error {
	if len(e) == 0 {
		return nil
	}
	msg := e[0].Message
	if len(msg) > maxAPIMessage {
		msg = msg[:maxAPIMessage] + "..."
	}
	return fmt.Errorf("GitLab's GraphQL API answered with %d error(s): %q", len(e), msg)
}

// parseGitLabRepositories reads the answer to gitlabFindQuery and returns
// the id of the container repository whose path is path ("" if none).
func parseGitLabRepositories(body []byte, path string) (string, error) {
	var a struct {
		Data map[string]*struct {
			ContainerRepositories struct {
				Nodes []struct {
					ID   string `json:"id"`
					Path string `json:"path"`
				} `json:"nodes"`
			} `json:"containerRepositories"`
		} `json:"data"`
		Errors gitlabErrors `json:"errors"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return "", fmt.Errorf("its answer does not read as GraphQL's: %w", err)
	}
	if err := a.Errors.err(); err != nil {
		return "", err
	}
	for _, p := range a.Data {
		if p == nil {
			continue // no such project, or one the token may not read
		}
		for _, n := range p.ContainerRepositories.Nodes {
			if strings.EqualFold(n.Path, path) && strings.HasPrefix(n.ID, "gid://gitlab/ContainerRepository/") {
				return n.ID, nil
			}
		}
	}
	return "", nil
}

// parseGitLabTags reads one page of a container repository's tags and
// the cursor of the next page ("" at the end). An answer without the
// repository's tags is an error; a digest or time that does not parse is
// left out, the tag kept.
func parseGitLabTags(body []byte) ([]apiTag, string, error) {
	var a struct {
		Data *struct {
			ContainerRepository *struct {
				Tags *struct {
					PageInfo struct {
						HasNextPage bool   `json:"hasNextPage"`
						EndCursor   string `json:"endCursor"`
					} `json:"pageInfo"`
					Nodes []*struct {
						Name        string `json:"name"`
						Digest      string `json:"digest"`
						PublishedAt string `json:"publishedAt"`
					} `json:"nodes"`
				} `json:"tags"`
			} `json:"containerRepository"`
		} `json:"data"`
		Errors gitlabErrors `json:"errors"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, "", err
	}
	if err := a.Errors.err(); err != nil {
		return nil, "", err
	}
	if a.Data == nil || a.Data.ContainerRepository == nil || a.Data.ContainerRepository.Tags == nil {
		return nil, "", errors.New("no tags of the container repository in it")
	}
	t := a.Data.ContainerRepository.Tags
	out := make([]apiTag, 0, len(t.Nodes))
	for _, n := range t.Nodes {
		if n == nil || n.Name == "" {
			continue
		}
		out = append(out, apiTag{name: n.Name, digest: apiDigest(n.Digest), pushed: apiTime(n.PublishedAt)})
	}
	next := ""
	if t.PageInfo.HasNextPage {
		if t.PageInfo.EndCursor == "" {
			return nil, "", errors.New("hasNextPage without an endCursor")
		}
		next = t.PageInfo.EndCursor
	}
	return out, next, nil
}
