package config

import (
	"bytes"
	"fmt"
	"slices"
)

// UserKeys are the keys laminar.toml may not hold because they make git
// laminar read a secret or present a credential. laminar.toml is versioned:
// anyone who can push can change it, and a run that read a secret because
// laminar.toml said so would hand it to whatever host the same file
// declares (a [[registry]] prefix is theirs to choose), unasked. Such keys
// belong in the user-level file, which only the machine's owner writes.
//
// Every key of laminar.toml that reads a file or an environment variable,
// and why it is or is not here:
//
//	registry.username       refused: the name half of the credential sent to the registry
//	registry.password_env   refused: reads a secret from the environment and sends it
//	registry.password_file  refused: reads a secret from a file and sends it
//	registry.cert_file      refused: presents a client certificate to the registry
//	registry.key_file       refused: reads the private key of that certificate
//	registry.api_url        refused: says where the registry's credentials are sent
//	                        to list its tags through its own API; a pusher could
//	                        name a host of their own and receive them
//	git.ssh_key             refused: reads a private key and authenticates with it
//	                        (its passphrase comes from LAMINAR_SSH_KEY_PASSPHRASE)
//	registry.ca_file        allowed: a CA bundle is public; it adds to the system's
//	                        roots, and what it reads is neither sent nor shown
//	git.known_hosts         allowed: public host keys, read and never sent
//	cache.dir               allowed: where answers of registries are kept; no secret
//	notify.url_env          allowed: the variable's value is the webhook itself, sent
//	                        only to the host it names and never shown; a repository
//	                        that names another variable reaches nothing new, since
//	                        the value must be an http(s) URL and goes only to itself
//	pull_request.api_url    refused: says where the forge token is sent; a pusher
//	                        could name a host of their own and receive it
//	pull_request.token_env  refused: names the variable sent as the forge token; a
//	                        pusher could name another secret (a cloud key) and have
//	                        it sent to the forge. Without either, the token of the
//	                        forge's default variable goes to its public service only
//	update.exec             allowed: runs only once `git laminar trust` accepted the file
var UserKeys = map[string][]string{
	"registry": {"username", "password_env", "password_file", "cert_file", "key_file", "api_url"},
	"git":      {"ssh_key"},

	"pull_request": {"api_url", "token_env"},
}

// userKeyMsg says why a key of UserKeys is refused in laminar.toml and
// where it goes instead: the table of the user-level file to write it in.
func userKeyMsg(table string) string {
	return "reads a secret or presents a credential, so it is not taken from " + FileName +
		", which anyone who can push can change; move it to " + table + " of the user-level file, " +
		"~/.config/git-laminar/config.toml ($XDG_CONFIG_HOME/git-laminar/config.toml)"
}

// checkUserKeys refuses the keys of UserKeys in a repository's
// configuration, naming the first one written, before anything is read.
func checkUserKeys(raw *rawFile, file string, loc *locator) error {
	for i, r := range raw.Registry {
		// The keys that read a secret come first: the error should name
		// what would have been sent.
		for _, kv := range []struct{ key, val string }{
			{"password_file", r.PasswordFile}, {"password_env", r.PasswordEnv},
			{"key_file", r.KeyFile}, {"cert_file", r.CertFile}, {"username", r.Username}, {"api_url", r.APIURL},
		} {
			if kv.val != "" {
				return &Error{File: file, Line: loc.keyLineIn("registry", i, kv.key),
					Key: fmt.Sprintf("registry %s.%s", label(r.Name, i), kv.key),
					Msg: userKeyMsg(fmt.Sprintf("a [[registry]] table with prefix = %q", r.Prefix))}
			}
		}
	}
	for _, kv := range []struct{ key, val string }{{"api_url", raw.PullRequest.APIURL}, {"token_env", raw.PullRequest.TokenEnv}} {
		if kv.val != "" {
			return &Error{File: file, Line: loc.keyLineIn("pull_request", -1, kv.key), Key: "pull_request." + kv.key, Msg: userKeyMsg("the [pull_request] table")}
		}
	}
	if raw.Git.SSHKey != "" {
		return &Error{File: file, Line: loc.keyLineIn("git", -1, "ssh_key"), Key: "git.ssh_key", Msg: userKeyMsg("the [git] table")}
	}
	return nil
}

// checkEncoding refuses text that is not UTF-8 at a glance: a UTF-16
// byte-order mark. The TOML decoder drops such a mark and then fails on
// the NUL bytes of every other character, or worse, reads a file that
// holds only the mark as empty. A UTF-8 mark is fine.
func checkEncoding(file string, data []byte) error {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return &Error{File: file, Line: 1, Msg: "the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"}
	}
	return nil
}

// SSHPassphraseEnv names the environment variable that holds the
// passphrase of [git] ssh_key, when the key has one.
const SSHPassphraseEnv = "LAMINAR_SSH_KEY_PASSPHRASE"

// SecretEnv lists the environment variables git laminar reads a secret
// from under cfg and the user-level file (either may be nil): every
// password_env, notify.url_env, the forge token's variable, and
// SSHPassphraseEnv. Commands git laminar
// runs for a repository (exec actions) get an environment without them:
// they are the machine owner's, for git laminar alone.
func SecretEnv(cfg *Config, user *User) []string {
	names := []string{SSHPassphraseEnv}
	if cfg != nil {
		for _, r := range cfg.Registries {
			names = append(names, r.Access.PasswordEnv)
		}
		names = append(names, cfg.Notify.URLEnv, DefaultTokenEnv[cfg.PullRequest.Forge])
	}
	if user != nil {
		names = append(names, user.PullRequest.TokenEnv)
		for _, a := range user.Registries {
			names = append(names, a.PasswordEnv)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if names[0] == "" {
		names = names[1:]
	}
	return names
}
