package registry

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Quota headers. Registries that publish a quota say what is left of it
// on their answers, in one of a few spellings:
//
//	ratelimit-limit: 100;w=21600         Docker Hub: 100 pulls per 6 hours,
//	ratelimit-remaining: 76;w=21600      76 left
//	RateLimit-Remaining: 5               IETF draft, up to -06, with
//	RateLimit-Reset: 30                  seconds to the reset
//	RateLimit: limit=10, remaining=5, reset=30          draft -07
//	RateLimit: "default";r=5;t=30                       draft -08 and later
//	RateLimit-Policy: "default";q=100;w=60              its window
//
// Docker Hub's budget counts manifest GETs only: tag lists, HEADs and
// blobs are free of it, so a spent budget holds back only manifest GETs
// (see quotaCounts); elsewhere it holds back every request.

// quotaInfo is what an answer says of the host's quota.
type quotaInfo struct {
	remaining int           // requests left
	reset     time.Duration // until the quota is whole again; 0: not said
	window    time.Duration // the quota's window; 0: not said
}

// maxQuotaNumber bounds the numbers believed: a larger one is garbage.
const maxQuotaNumber = 1 << 40

// parseQuota reads an answer's quota headers; ok is false when it has
// none, or none that parse. Whatever does not parse is ignored.
func parseQuota(h http.Header) (q quotaInfo, ok bool) {
	q.remaining = -1
	if v := h.Get("RateLimit"); v != "" {
		q = parseRateLimitField(v)
	}
	if q.remaining < 0 {
		if v := h.Get("RateLimit-Remaining"); v != "" {
			n, params := splitItem(v)
			if r, ok := quotaNumber(n); ok {
				q.remaining = int(r)
				if w, ok := quotaNumber(params["w"]); ok {
					q.window = seconds(w)
				}
			}
		}
		if r, ok := quotaNumber(h.Get("RateLimit-Reset")); ok {
			q.reset = seconds(r)
		}
	}
	if q.remaining < 0 {
		return quotaInfo{}, false
	}
	if q.window == 0 {
		for _, name := range []string{"RateLimit-Policy", "RateLimit-Limit"} {
			for _, item := range strings.Split(h.Get(name), ",") {
				_, params := splitItem(item)
				if w, ok := quotaNumber(params["w"]); ok && (q.window == 0 || seconds(w) < q.window) {
					q.window = seconds(w)
				}
			}
		}
	}
	return q, true
}

// parseRateLimitField reads the RateLimit field of either draft: the
// items "name";r=N;t=S (the one with least left wins) or the dictionary
// limit=L, remaining=N, reset=S.
func parseRateLimitField(v string) quotaInfo {
	q := quotaInfo{remaining: -1}
	dict := map[string]string{}
	for _, item := range strings.Split(v, ",") {
		_, params := splitItem(item)
		if r, ok := quotaNumber(params["r"]); ok {
			if q.remaining < 0 || int(r) < q.remaining {
				q.remaining = int(r)
				q.reset = 0
				if t, ok := quotaNumber(params["t"]); ok {
					q.reset = seconds(t)
				}
			}
			continue
		}
		if k, val, ok := strings.Cut(strings.TrimSpace(item), "="); ok {
			dict[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(val)
		}
	}
	if q.remaining >= 0 {
		return q
	}
	if r, ok := quotaNumber(dict["remaining"]); ok {
		q.remaining = int(r)
		if t, ok := quotaNumber(dict["reset"]); ok {
			q.reset = seconds(t)
		}
	}
	return q
}

// splitItem splits `value;k=v;k2=v2` into value and its parameters.
func splitItem(s string) (string, map[string]string) {
	parts := strings.Split(s, ";")
	params := map[string]string{}
	for _, p := range parts[1:] {
		if k, v, ok := strings.Cut(p, "="); ok {
			params[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return strings.TrimSpace(parts[0]), params
}

// quotaNumber parses a non-negative integer of believable size.
func quotaNumber(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > maxQuotaNumber {
		return 0, false
	}
	return n, true
}

func seconds(n int64) time.Duration {
	return time.Duration(min(n, int64(MaxRetryAfter/time.Second)*1000)) * time.Second
}

// dockerHub reports whether host is Docker Hub's registry.
func dockerHub(host string) bool {
	switch strings.ToLower(host) {
	case "index.docker.io", "registry-1.docker.io", "docker.io":
		return true
	}
	return false
}

// quotaCounts reports whether the host's quota counts req: on Docker Hub
// only manifest GETs spend the pull budget.
func quotaCounts(host string, req *http.Request) bool {
	if !dockerHub(host) {
		return true
	}
	return req.Method == http.MethodGet && strings.HasPrefix(req.URL.Path, "/v2/") && strings.Contains(req.URL.Path, "/manifests/")
}
