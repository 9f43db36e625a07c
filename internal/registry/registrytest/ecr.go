package registrytest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// With ServerOptions.ECR the server answers, besides the registry API,
// AWS ECR's DescribeImages as the SDKs call it: the JSON 1.1 protocol,
//
//	POST /
//	X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.DescribeImages
//	Content-Type: application/x-amz-json-1.1
//
// with a body {"repositoryName", "registryId", "maxResults", "nextToken",
// "filter": {"tagStatus"}}, signed with SigV4 (the stand-in checks that
// an AWS4-HMAC-SHA256 Authorization header names the ecr service, not the
// signature). It answers {"imageDetails": [...], "nextToken"} from what the
// server notes of manifests pushed under a tag (see ListTimes): one image
// per digest with all its tags, imagePushedAt the first push of the digest
// in seconds since the epoch, in pages of maxResults (1 to 1000, default
// 100; PageSize caps it), and a nextToken while more follow. Errors are
// ECR's: status 400 and {"__type": "RepositoryNotFoundException",
// "message"} and so on. Fail and Respond apply as to every request (see
// ECRError); the registry's basic auth does not.

// ECRTarget is the X-Amz-Target of DescribeImages.
const ECRTarget = "AmazonEC2ContainerRegistry_V20150921.DescribeImages"

// ECRImage is an image detail as the stand-in serves it.
type ECRImage struct {
	RegistryID             string   `json:"registryId"`
	RepositoryName         string   `json:"repositoryName"`
	ImageDigest            string   `json:"imageDigest"`
	ImageTags              []string `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64    `json:"imageSizeInBytes"`
	ImagePushedAt          float64  `json:"imagePushedAt"`
	ImageManifestMediaType string   `json:"imageManifestMediaType"`
	ArtifactMediaType      string   `json:"artifactMediaType,omitempty"`
}

// ECRAccount is the registryId the stand-in answers with when asked for
// none.
const ECRAccount = "123456789012"

const ecrMaxResults = 1000

func isECRRequest(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/" && r.Header.Get("X-Amz-Target") != ""
}

// ECRError answers r with an ECR error: status 400 (or what is given) and
// a JSON 1.1 error body of the exception named, such as
// "ThrottlingException" or "AccessDeniedException".
func ECRError(w http.ResponseWriter, status int, exception, msg string) {
	w.Header().Set("X-Amzn-ErrorType", exception)
	body, _ := json.Marshal(map[string]string{"__type": exception, "message": msg})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func (s *Server) serveECR(w http.ResponseWriter, r *http.Request, opt ServerOptions) {
	if r.Header.Get("X-Amz-Target") != ECRTarget {
		ECRError(w, http.StatusBadRequest, "UnknownOperationException", "the stand-in serves DescribeImages only")
		return
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !strings.Contains(auth, "/ecr/aws4_request") {
		ECRError(w, http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	}
	var in struct {
		RegistryID     string `json:"registryId"`
		RepositoryName string `json:"repositoryName"`
		MaxResults     *int   `json:"maxResults"`
		NextToken      string `json:"nextToken"`
		Filter         struct {
			TagStatus string `json:"tagStatus"`
		} `json:"filter"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.RepositoryName == "" {
		ECRError(w, http.StatusBadRequest, "InvalidParameterException", "repositoryName is required")
		return
	}
	n := 100
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > ecrMaxResults {
			ECRError(w, http.StatusBadRequest, "InvalidParameterException", "maxResults must be between 1 and 1000")
			return
		}
		n = *in.MaxResults
	}
	if opt.PageSize > 0 {
		n = min(n, opt.PageSize)
	}
	account := cmp.Or(in.RegistryID, ECRAccount)
	all, ok := s.ecrImages(account, in.RepositoryName)
	if !ok {
		ECRError(w, http.StatusBadRequest, "RepositoryNotFoundException",
			"The repository with name '"+in.RepositoryName+"' does not exist in the registry with id '"+account+"'")
		return
	}
	if in.Filter.TagStatus == "UNTAGGED" {
		all = nil // every noted image is tagged
	}
	from := 0
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		i, err2 := strconv.Atoi(strings.TrimPrefix(string(b), "offset:"))
		if err != nil || err2 != nil || i < 0 || i > len(all) {
			ECRError(w, http.StatusBadRequest, "InvalidParameterException", "Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'")
			return
		}
		from = i
	}
	to := min(from+n, len(all))
	out := map[string]any{"imageDetails": all[from:to]}
	if to < len(all) {
		out["nextToken"] = base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(to)))
	}
	body, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// ecrImages describes the tagged images of repo as DescribeImages lists
// them: one per digest, in the order their first push was noted.
func (s *Server) ecrImages(account, repo string) ([]ECRImage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	notes, ok := s.pushed[repo]
	if !ok {
		return nil, false
	}
	type group struct {
		img   ECRImage
		first int64
	}
	groups := map[string]*group{}
	for tag, pm := range notes {
		g, ok := groups[pm.Digest]
		if !ok {
			g = &group{img: ECRImage{RegistryID: account, RepositoryName: repo, ImageDigest: pm.Digest, ImageSizeInBytes: pm.Size,
				ImageManifestMediaType: pm.MediaType, ArtifactMediaType: pm.ConfigMediaType}, first: pm.Seq}
			g.img.ImagePushedAt = seconds(pm.Uploaded)
			groups[pm.Digest] = g
		}
		if p := seconds(pm.Uploaded); p < g.img.ImagePushedAt {
			g.img.ImagePushedAt = p
		}
		g.first = min(g.first, pm.Seq)
		g.img.ImageTags = append(g.img.ImageTags, tag)
	}
	all := make([]*group, 0, len(groups))
	for _, g := range groups {
		slices.Sort(g.img.ImageTags)
		all = append(all, g)
	}
	slices.SortFunc(all, func(a, b *group) int { return cmp.Compare(a.first, b.first) })
	out := make([]ECRImage, len(all))
	for i, g := range all {
		out[i] = g.img
	}
	return out, true
}

// seconds is t as the JSON 1.1 protocol writes a timestamp: seconds since
// the epoch, with a fraction.
func seconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}
