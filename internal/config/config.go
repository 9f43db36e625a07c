// Package config reads laminar.toml: which registries are managed, which
// update rules apply to which files, and how commits are written. It returns
// plain data; errors name the file, the line and the key.
package config

import "time"

// FileName is the name of the configuration file at the repository root.
const FileName = "laminar.toml"

// Config is a loaded, validated laminar.toml.
type Config struct {
	// Path is the file the configuration was read from.
	Path       string
	Registries []Registry
	Updates    []Update
	Commit     Commit
	Cache      Cache
	Notify     Notify
	Git        Git // [git]: the remote of `git laminar run`
	// PullRequest is [pull_request]: promotions proposed for review.
	PullRequest PullRequest

	// Hash is "sha256:<hex>" of the file's bytes: what `git laminar trust`
	// records, since exec actions run only from a configuration the local
	// user trusts.
	Hash string
}

// Registry declares a registry prefix under which image references are
// managed, and how to reach the registry (see Access).
type Registry struct {
	Name   string
	Prefix string // "registry.example.com:5000/acme"
	Line   int    // line of the [[registry]] header in Path
	Access Access
}

// Update is one [[update]] rule: which references it manages and how a new
// tag is chosen for them.
type Update struct {
	Name    string
	Pattern string   // "glob:develop-*", "regex:^v[0-9]+$", "semver:^1.2"
	Files   []string // folders, files or globs; empty means the whole repository
	Exclude []string
	// Images are globs over image names ("app", "registry.example.com/acme/*",
	// "!*/legacy-*"): when set, the rule manages only the images they
	// match (see ManagesImage).
	Images []string

	// Order decides which matching tag is newest: "semver", "numeric",
	// "alphabetical", "newest-build", "newest-push" or "digest". Empty means the default
	// that follows the pattern.
	Order          string
	Extract        string   // "$name" or "$1": the regex group to order by
	ExcludeTags    []string // globs of tags never chosen
	MinAge         time.Duration
	AllowDowngrade bool

	// Exec are shell commands run (with sh -c, at the repository root)
	// after the rule's edits and before the commit.
	Exec        []string
	ExecTimeout time.Duration // per command; DefaultExecTimeout when unset
	// ExecTrust are globs of tracked paths (repository-relative) that the
	// commands run besides the files they name: trust covers them too.
	ExecTrust []string

	Line     int            // line of the [[update]] header in Path
	KeyLines map[string]int // line of each key that was set, for messages

	files, exclude, execTrust []pathPattern
	images                    []imagePattern
}

// Commit describes how promotion commits are written.
type Commit struct {
	AuthorName     string
	AuthorEmail    string
	CommitterName  string
	CommitterEmail string
	// Message is the text/template of bump's and run's commit messages
	// (see package msgtemplate); empty for the built-in message. It was
	// parsed and checked when the file was read.
	Message     string
	MessageLine int // line of the message key, for errors
}
