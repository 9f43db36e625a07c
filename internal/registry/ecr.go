package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/smithy-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// AWS ECR lists a repository's images through DescribeImages, an AWS API
// call (the JSON 1.1 protocol, signed with SigV4) to
// api.ecr.<region>.amazonaws.com rather than to the registry's host. One
// page holds up to 1,000 images, each with its digest, all its tags
// (imageTags) and imagePushedAt, when the image was pushed; a nextToken
// asks for the next. The filter tagStatus = TAGGED leaves untagged images
// out.
//
// The call is made with AWS's own SDK (aws-sdk-go-v2/service/ecr): SigV4,
// the default credential chain (environment, shared files and profiles,
// SSO, web identity, ECS and EC2 roles) and endpoint resolution are large
// and exacting, and the SDK is what AWS keeps right. The credentials are
// AWS's, found as every AWS tool finds them, and go only to AWS's API
// endpoint for the region in the registry's host name
// (<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]), or where the
// machine's owner points it: AWS_ENDPOINT_URL_ECR (or AWS_ENDPOINT_URL),
// read by the SDK, or the host's user-level api_url. A host that is not
// ECR's has no API to ask unless the owner named one. Requests pass
// through the client's limiter like every other (per-host limits,
// timeouts, the repository's budget, Stats); the SDK retries throttling
// (ThrottlingException, a 400) with the client's backoff.
//
// imagePushedAt belongs to the image, not the tag: a tag moved to an image
// pushed before has that image's time. The docker credentials for the
// registry (docker-credential-ecr-login) are not used here: they are a
// registry token, which the API does not take.

const ecrMaxResults = 1000

func init() {
	registerAPI(&api{name: APIECR, pushTimes: true, list: (*Client).listECR})
}

// ecrClients holds one SDK client per region and endpoint, made on first
// use: loading the shared configuration reads files.
type ecrClients struct {
	mu      sync.Mutex
	clients map[string]*ecr.Client
}

func (c *Client) listECR(ctx context.Context, q *apiQuery) ([]string, bool, error) {
	account, region, fips := "", "", false
	if m := ecrHost.FindStringSubmatch(strings.ToLower(q.r.RegistryStr())); m != nil {
		account, region, fips = strings.SplitN(m[0], ".", 2)[0], m[2], m[1] != ""
	} else if q.apiURL == "" && c.getenv("AWS_ENDPOINT_URL_ECR") == "" && c.getenv("AWS_ENDPOINT_URL") == "" {
		return nil, false, fmt.Errorf("%s it is not an ECR registry (<account>.dkr.ecr.<region>.amazonaws.com): there is no ECR API to ask for it; leave api out, or name the API's endpoint with AWS_ENDPOINT_URL_ECR or the user-level api_url", q.setting())
	}
	client, err := c.ecrClient(ctx, q, region, fips)
	if err != nil {
		return nil, false, err
	}
	in := &ecr.DescribeImagesInput{
		RepositoryName: aws.String(q.r.RepositoryStr()),
		Filter:         &ecrtypes.DescribeImagesFilter{TagStatus: ecrtypes.TagStatusTagged},
		MaxResults:     aws.Int32(ecrMaxResults),
	}
	if account != "" {
		in.RegistryId = aws.String(account)
	}
	// Credentials first: none found is the usual refusal, and says so
	// better than the call would.
	if creds := client.Options().Credentials; creds == nil {
		return nil, false, &noCredentialsError{api: APIECR, err: fmt.Errorf("%s no AWS credentials are configured", q.setting())}
	} else if _, err := creds.Retrieve(ctx); err != nil {
		return nil, false, &noCredentialsError{api: APIECR, err: fmt.Errorf("%s AWS credentials could not be had (environment, ~/.aws, SSO, an instance or task role): %w", q.setting(), err)}
	}
	ctx = context.WithValue(ctx, apiPageKey{}, true)
	seen := map[string]bool{}
	tokens := map[string]bool{}
	tags := []string{}
	more := true
	for page := 1; more; page++ {
		out, err := client.DescribeImages(ctx, in, func(o *ecr.Options) { o.HTTPClient = ecrHTTP{c: c, q: q} })
		if err != nil {
			return nil, false, ecrFailure(q, err)
		}
		fresh := false
		for _, d := range out.ImageDetails {
			li := listedImage{}
			if d.ImageDigest != nil {
				if _, err := v1.NewHash(*d.ImageDigest); err == nil {
					li.digest = *d.ImageDigest
				}
			}
			if d.ImagePushedAt != nil {
				li.pushed = plausible(*d.ImagePushedAt)
			}
			for _, tag := range d.ImageTags {
				fresh = fresh || !seen[tag]
				if tag != "" && q.ls.keep(&tags, seen, tag) {
					q.ls.listed.put(tag, li)
				}
			}
		}
		more = out.NextToken != nil && *out.NextToken != ""
		if more {
			if tokens[*out.NextToken] || !fresh {
				return nil, false, &LimitError{Msg: fmt.Sprintf("ECR's DescribeImages gave page %d a nextToken that leads back, or lists nothing new, and would be followed for ever", page)}
			}
			tokens[*out.NextToken] = true
			in.NextToken = out.NextToken
		}
		if len(tags) >= q.ls.maxTags {
			break
		}
	}
	return q.ls.done(tags, more)
}

// ecrClient is the SDK client for region: the default configuration
// (credential chain, AWS_ENDPOINT_URL_ECR), the host's api_url as its
// endpoint when set, the client's backoff for throttling.
func (c *Client) ecrClient(ctx context.Context, q *apiQuery, region string, fips bool) (*ecr.Client, error) {
	key := region + "\x00" + q.apiURL + fmt.Sprint(fips)
	c.ecr.mu.Lock()
	defer c.ecr.mu.Unlock()
	if cl, ok := c.ecr.clients[key]; ok {
		return cl, nil
	}
	var opts []func(*awsconfig.LoadOptions) error
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, &noCredentialsError{api: APIECR, err: fmt.Errorf("reading the AWS configuration: %w", err)}
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("%s the region is neither in the host's name nor in the AWS configuration (AWS_REGION)", q.setting())
	}
	cl := ecr.NewFromConfig(cfg, func(o *ecr.Options) {
		if q.apiURL != "" {
			o.BaseEndpoint = aws.String(q.apiURL)
		}
		if fips {
			o.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
		}
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = max(c.opt.Backoff.Steps, 1)
			so.Backoff = retry.BackoffDelayerFunc(func(attempt int, _ error) (time.Duration, error) {
				return c.limiter.backoff(attempt), nil
			})
			so.RateLimiter = ratelimitNone{}
		})
		o.HTTPClient = ecrHTTP{c: c, q: q}
	})
	if c.ecr.clients == nil {
		c.ecr.clients = map[string]*ecr.Client{}
	}
	c.ecr.clients[key] = cl
	return cl, nil
}

// ratelimitNone turns off the SDK's client-side retry quota: the limiter
// already holds each host to its rate.
type ratelimitNone struct{}

func (ratelimitNone) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (ratelimitNone) AddTokens(uint) error { return nil }

// ecrHTTP carries the SDK's requests through the limiter and counts each
// answer's body against the listing's limit on all pages.
type ecrHTTP struct {
	c *Client
	q *apiQuery
}

func (h ecrHTTP) Do(req *http.Request) (*http.Response, error) {
	req.Header.Set("User-Agent", h.c.opt.UserAgent+" "+req.Header.Get("User-Agent"))
	resp, err := h.c.limiter.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		resp.Body = &chargedBody{ReadCloser: resp.Body, ls: h.q.ls, api: h.q.api}
	}
	return resp, nil
}

// chargedBody counts what is read of a page against the listing's limit.
type chargedBody struct {
	io.ReadCloser
	ls  *listing
	api string
}

func (b *chargedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if cerr := b.ls.charge(n, b.api); cerr != nil {
		return n, cerr
	}
	return n, err
}

// ecrFailure explains a failed call and gives it the kind a person can
// act on: a repository ECR does not have is not found, AWS refusing the
// credentials (or finding none) is unauthorized, throttling that outlasted
// the retries is rate limiting.
func ecrFailure(q *apiQuery, err error) error {
	var lerr *LimitError
	if errors.As(err, &lerr) {
		return lerr
	}
	var serr *v4.SigningError
	if errors.As(err, &serr) {
		// The credential chain found nothing (or could not refresh).
		return &noCredentialsError{api: APIECR, err: fmt.Errorf("%s AWS credentials could not be had (environment, ~/.aws, SSO, an instance or task role): %w", q.setting(), serr.Err)}
	}
	var aerr smithy.APIError
	if !errors.As(err, &aerr) {
		return err
	}
	var kind error
	why := ""
	switch aerr.ErrorCode() {
	case "RepositoryNotFoundException", "RegistryNotFoundException":
		kind = ErrNotFound
	case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
		"MissingAuthenticationTokenException", "InvalidClientTokenId", "SignatureDoesNotMatch":
		kind, why = ErrUnauthorized, "; the AWS credentials need ecr:DescribeImages on the repository"
	case "ThrottlingException", "TooManyRequestsException", "LimitExceededException":
		kind = ErrRateLimited
	}
	return &kindError{kind: kind, err: fmt.Errorf("%s ECR's DescribeImages answered %s: %s%s", q.setting(), aerr.ErrorCode(), aerr.ErrorMessage(), why)}
}

// getenv reads the environment as the client's options say.
func (c *Client) getenv(k string) string {
	if c.opt.Getenv != nil {
		return c.opt.Getenv(k)
	}
	return os.Getenv(k)
}
