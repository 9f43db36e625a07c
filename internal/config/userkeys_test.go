package config

import (
	"strings"
	"testing"
)

// Every key that reads a secret or presents a credential is refused in
// laminar.toml with its file, line and key, and taken from the user-level
// file as it is.
func TestUserKeysRefused(t *testing.T) {
	const other = "[[registry]]\nprefix = \"ghcr.io/acme\"\n\n"
	tests := []struct{ name, text, want string }{
		{"password_file", "[[registry]]\nname = \"evil\"\nprefix = \"evil.example.com\"\nusername = \"x\"\npassword_file = \"~/.ssh/id_ed25519\"\n",
			`laminar.toml:5: registry "evil".password_file: reads a secret or presents a credential`},
		{"username", "[[registry]]\nprefix = \"evil.example.com\"\nusername = \"x\"\n",
			"laminar.toml:3: registry #1.username: reads a secret"},
		{"password_file alone", other + "[[registry]]\nprefix = \"evil.example.com\"\npassword_file = \"~/.ssh/id_ed25519\"\n",
			`laminar.toml:6: registry #2.password_file: reads a secret or presents a credential, so it is not taken from laminar.toml, which anyone who can push can change; move it to a [[registry]] table with prefix = "evil.example.com" of the user-level file, ~/.config/git-laminar/config.toml`},
		{"password_env", other + "[[registry]]\nprefix = \"evil.example.com\"\npassword_env = \"SLACK_WEBHOOK_URL\"\n",
			"laminar.toml:6: registry #2.password_env: reads a secret"},
		{"cert_file", "[[registry]]\nprefix = \"evil.example.com\"\ncert_file = \"/etc/ssl/me.pem\"\nkey_file = \"/etc/ssl/me.key\"\n",
			"laminar.toml:4: registry #1.key_file: reads a secret"},
		{"cert_file alone", "[[registry]]\nprefix = \"evil.example.com\"\ncert_file = \"/etc/ssl/me.pem\"\n",
			"laminar.toml:3: registry #1.cert_file: reads a secret"},
		{"key_file", "[[registry]]\nprefix = \"evil.example.com\"\nkey_file = \"/etc/ssl/me.key\"\n",
			"laminar.toml:3: registry #1.key_file: reads a secret"},
		{"ssh_key", "[git]\nremote = \"origin\"\nssh_key = \"~/.ssh/id_ed25519\"\n",
			"laminar.toml:3: git.ssh_key: reads a secret or presents a credential, so it is not taken from laminar.toml, which anyone who can push can change; move it to the [git] table of the user-level file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("laminar.toml", []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse: %v, want %q", err, tt.want)
			}
			// The same text is fine in the user-level file, apart from
			// what it checks of its own.
			if _, err := ParseUser("config.toml", []byte(tt.text)); err != nil && strings.Contains(err.Error(), "reads a secret") {
				t.Errorf("ParseUser: %v", err)
			}
		})
	}
	// What stays allowed in laminar.toml.
	ok := "[[registry]]\nprefix = \"r.example.com\"\nca_file = \"/etc/ssl/corp.pem\"\ninsecure = false\n" +
		"[git]\nknown_hosts = \"keys/known_hosts\"\n[notify]\nurl_env = \"LAMINAR_WEBHOOK_URL\"\n[cache]\ndir = \"/var/cache/laminar\"\n"
	if _, err := Parse("laminar.toml", []byte(ok)); err != nil {
		t.Errorf("allowed keys refused: %v", err)
	}
}

// A file in UTF-16 says so; a UTF-8 byte-order mark changes nothing, lines
// included.
func TestEncoding(t *testing.T) {
	text := "[[registry]]\nprefix = \"r.example.com/a\"\n[[update]]\npattern = \"glob:*\"\norder = \"newest\"\n"
	utf16 := func(s string, bigEndian bool) []byte {
		out := []byte{0xFF, 0xFE}
		if bigEndian {
			out = []byte{0xFE, 0xFF}
		}
		for _, c := range []byte(s) {
			if bigEndian {
				out = append(out, 0, c)
			} else {
				out = append(out, c, 0)
			}
		}
		return out
	}
	for _, data := range [][]byte{utf16(text, false), utf16(text, true), {0xFF, 0xFE}, {0xFE, 0xFF}} {
		want := "laminar.toml:1: the file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8"
		if _, err := Parse("laminar.toml", data); err == nil || err.Error() != want {
			t.Errorf("Parse(% x...) = %v, want %q", data[:2], err, want)
		}
		want = "config.toml:1: the file is UTF-16"
		if _, err := ParseUser("config.toml", data); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseUser(% x...) = %v, want %q", data[:2], err, want)
		}
	}
	_, err := Parse("laminar.toml", []byte("\xef\xbb\xbf"+text))
	if want := `laminar.toml:5: update #1.order: "newest" is not one of`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("UTF-8 BOM: %v, want %q", err, want)
	}
	cfg, err := Parse("laminar.toml", []byte("\xef\xbb\xbf"+good))
	if err != nil || cfg.Registries[0].Line != 2 || cfg.Updates[0].KeyLines["pattern"] != 8 {
		t.Errorf("UTF-8 BOM: %+v, %v", cfg, err)
	}
	if _, err := ParseUser("config.toml", []byte("\xef\xbb\xbf[[registry]]\nprefix = \"ghcr.io\"\n")); err != nil {
		t.Errorf("UTF-8 BOM in the user-level file: %v", err)
	}
}

// Paths of files and exclude name places in the repository: nothing
// absolute, nothing that climbs out.
func TestRepoPaths(t *testing.T) {
	reg := "[[registry]]\nprefix = \"r.example.com/a\"\n[[update]]\nname = \"dev\"\npattern = \"glob:*\"\n"
	for in, want := range map[string]string{
		`files = ["/etc/passwd"]`:    `laminar.toml:6: update "dev".files: "/etc/passwd" is an absolute path; write it relative to the repository root`,
		`files = ["dev/", "/"]`:      `laminar.toml:6: update "dev".files: "/" is an absolute path`,
		`exclude = ["//host/share"]`: `laminar.toml:6: update "dev".exclude: "//host/share" is an absolute path`,
		`files = ["C:/deploy"]`:      `laminar.toml:6: update "dev".files: "C:/deploy" is an absolute path`,
		`files = ['c:\deploy']`:      `"c:\\deploy" is an absolute path`,
		`files = ["../x"]`:           `laminar.toml:6: update "dev".files: "../x" leaves the repository`,
		`files = ["a/../../x"]`:      `laminar.toml:6: update "dev".files: "a/../../x" leaves the repository`,
		`exclude = ["./.."]`:         `laminar.toml:6: update "dev".exclude: "./.." leaves the repository`,
		`files = ["dev/../prod"]`:    `laminar.toml:6: update "dev".files: "dev/../prod": write it without "..", as "prod"`,
		`files = ['dev\app.yaml']`:   `"dev\\app.yaml": use forward slashes`,
		`files = [" /etc"]`:          `" /etc" is an absolute path`,
	} {
		_, err := Parse("laminar.toml", []byte(reg+in+"\n"))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
	for _, in := range []string{`files = ["dev/", "./compose.yaml", ".", "a:b.yaml", "x/..y/z", "**/*.yaml"]`, `exclude = ["dev/legacy/**"]`} {
		if _, err := Parse("laminar.toml", []byte(reg+in+"\n")); err != nil {
			t.Errorf("%s: %v", in, err)
		}
	}
}

func TestSecretEnv(t *testing.T) {
	cfg, err := Parse("laminar.toml", []byte("[notify]\nurl_env = \"HOOK\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	user, err := ParseUser("config.toml", []byte("[[registry]]\nprefix = \"a.example.com\"\nusername = \"u\"\npassword_env = \"A_TOKEN\"\n"+
		"[[registry]]\nprefix = \"b.example.com\"\nusername = \"u\"\npassword_env = \"A_TOKEN\"\n[[registry]]\nprefix = \"c.example.com\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(SecretEnv(cfg, user), " "), "A_TOKEN HOOK LAMINAR_SSH_KEY_PASSPHRASE"; got != want {
		t.Errorf("SecretEnv = %q, want %q", got, want)
	}
	if got := strings.Join(SecretEnv(nil, nil), " "); got != SSHPassphraseEnv {
		t.Errorf("SecretEnv(nil, nil) = %q", got)
	}
}
