// Package hooks holds the git hook shims that `git laminar install-hooks`
// writes into a repository's hooks directory.
//
// A shim is a tiny POSIX shell script: it only finds git-laminar on PATH and
// hands over to `git laminar hook <name>`, so upgrading git-laminar upgrades
// the hook's behaviour without reinstalling it. When git-laminar is missing
// the shim says how to install it, names itself so it can be removed, and
// exits 2 (refusing the push rather than letting it through unchecked).
//
// Its second line is a marker, "# git-laminar hook shim v<N>", that tells
// our shims from anyone else's hooks and says which version wrote them, so
// an installer can upgrade older shims of ours and never touch a hook that
// is not ours. Version goes up whenever a shim's text changes.
package hooks

import (
	"bytes"
	"embed"
	"fmt"
	"strconv"
)

// Version is the version written in the marker of every current shim.
// Version 0 names the shims of development builds before the first release;
// they are ours and get upgraded like any older shim.
const Version = 1

// Marker starts the line that identifies a git-laminar shim; the version
// number follows it.
const Marker = "# git-laminar hook shim v"

//go:embed pre-push
var shims embed.FS

// names lists the hooks we install, in order.
var names = []string{"pre-push"}

// Names returns the names of the hooks git-laminar installs.
func Names() []string { return append([]string(nil), names...) }

// Shim returns the current text of the named hook's shim.
func Shim(name string) ([]byte, error) {
	b, err := shims.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("no git-laminar shim for the %s hook", name)
	}
	return b, nil
}

// ParseVersion finds our marker among the first lines of a hook file and
// returns the version it names. ok is false for any file that is not one of
// our shims.
func ParseVersion(content []byte) (version int, ok bool) {
	lines := bytes.SplitN(content, []byte("\n"), 6)
	if len(lines) == 0 || !bytes.HasPrefix(lines[0], []byte("#!")) {
		return 0, false
	}
	for _, l := range lines[1:min(len(lines), 5)] {
		rest, found := bytes.CutPrefix(bytes.TrimRight(l, "\r"), []byte(Marker))
		if !found {
			continue
		}
		v, err := strconv.Atoi(string(rest))
		if err != nil || v < 0 || len(rest) == 0 || rest[0] == '+' || rest[0] == '-' {
			return 0, false
		}
		return v, true
	}
	return 0, false
}
