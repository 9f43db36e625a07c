// Package scan finds image references in the text of tracked files and
// reports the exact byte spans that may later be rewritten.
//
// The scanner reads text, not syntax trees: it never re-serialises a file,
// and it works the same on a Kubernetes manifest, a Helm values file, a
// kustomization, a compose file, a Dockerfile, a .env file, JSON, jsonnet
// output, HCL or a shell script. It must find every literal reference and
// nothing else, so each rule below was chosen by reading real manifests
// (the corpus test in this package) and errs towards silence when a value
// could be something else.
//
// # Syntax by file name
//
// Dockerfile, Containerfile, *.Dockerfile, *.Containerfile, and either
// name followed by '.', '-' or '_' and more (Dockerfile.prod,
// Dockerfile-base, Containerfile_dev; not dockerfile.go or other source)
// are Dockerfiles; Makefile, GNUmakefile, Makefile.* and *.mk Makefiles;
// .env, .env.* and *.env are env files; *.yaml and *.yml YAML; *.json and
// *.json5 JSON; *.jsonnet and *.libsonnet jsonnet; *.tf, *.tfvars, *.hcl
// and *.nomad HCL; *.md, *.markdown and *.mdx Markdown; anything else is
// read like a shell script. The kind decides which recognisers apply: in
// a Makefile "image: build" is a rule, so an image key takes only an
// assignment ("IMAGE ?= x", "IMAGE := x", "IMAGE = x"). The name decides the comment
// syntax: '#' after a blank or at the start of a line (YAML, env, shell,
// HCL, jsonnet, and Markdown inside a fenced code block), '//' (JSON5,
// jsonnet, HCL), /* */ (jsonnet, HCL), and in Dockerfiles only whole '#'
// lines. Comments are removed before any rule runs: a commented-out
// reference is never reported, nor is Markdown prose inside a YAML
// comment ("## image: your-image").
//
// A Dockerfile instruction or a shell command continued with a trailing
// backslash is read as one logical line ("FROM \" / "  nginx:1.25",
// "docker run \" / "  --rm \" / "  nginx:1.25"); comment lines inside a
// continued Dockerfile instruction are ignored, as docker does. Each
// reference is still reported at its own physical line.
//
// # Rules
//
//   - Image keys. The value of a key named "image", or ending in "image" at
//     a word boundary ("cacheImage", "initImage", "TENSORBOARD_IMAGE",
//     "--sidecar-image", "controller.image") or in "image name"
//     ("IMAGE_NAME", "imageName"), is a reference whenever it parses, even
//     untagged ("image: nginx" is reported with an empty tag). Untagged
//     one-word values count only under the key "image" or "image name"
//     itself: under a key that merely ends in "image" a bare word is a
//     setting ("kubernetes.podspec-volumes-image: disabled"), so the value
//     needs a '/', a tag or a digest there ("cacheImage: ghcr.io/a/b" is
//     found). The same holds in Markdown prose for every key. In HCL,
//     jsonnet and JSON the value must be quoted: an unquoted one is an
//     expression ("disk_image = var.x", jsonnet "image: image"). The key may
//     be quoted; the separator is ": " (YAML, JSON, jsonnet "::"), or "="
//     (env, HCL, "--image=x"); the value is quoted or a single bare word.
//     The value of a command-line flag ("--image=nginx:1.25 --restart=x",
//     args: ["--image=nginx:1.25"]) ends at a blank or a quote, since
//     other arguments follow it.
//     "imagePullPolicy", "imageRegistry", "vmImage", "osImage" are not
//     image keys. In YAML the value may follow an anchor or a tag
//     ("image: &img nginx:1.25", "image: !!str nginx:1.25"), or start on
//     the next line, more indented than the key, as a plain, quoted or
//     block scalar ("image:" / "  nginx:1.25", "image: >-" / "  nginx");
//     a value of several lines, a mapping (Helm values, below) or a
//     sequence is not one reference. A double-quoted value with escapes is
//     skipped: its bytes are not the reference's, so it cannot be
//     rewritten in place.
//   - Image lists. The scalar items of a list under a key named "images"
//     or ending in "images" at a word boundary ("extraImages",
//     "PRELOAD_IMAGES") are references even untagged: YAML block and flow
//     sequences, JSON and HCL arrays, over several lines if need be.
//     Items of nested objects are not items of the list; kustomize's
//     images: entries are mappings, read by their own rule.
//   - A name/value pair whose name is an image key
//     ("- name: BUSYBOX_IMAGE" / "value: busybox:1.36") is an image key.
//   - Inline references elsewhere must be unambiguous: a free-standing
//     token (bounded by blanks, quotes, '=', ',', brackets) that parses and
//     has a digest, or a tag and a '/' in its name. So
//     "ghcr.io/kubeflow/kfp-driver:2.16.0" in an env value, a list item or
//     an argument is found, while "redis-cart:6379", "10:30",
//     "role:readonly", "8080:8080", "default:info" and bare "name:tag"
//     outside an image key are not. URLs ("http://host:8080/path",
//     "oci://ghcr.io/org/chart:1"), untagged paths ("networking.k8s.io/v1",
//     "modelregistry.kubeflow.org/namespace", "gcr.io/istio-release") and
//     tokens glued to other text ("$(X)ghcr.io/a/b:1") are never inline
//     references. The schemes docker:// and docker-image:// say that what
//     follows is an image, so a tag or digest is enough there ("uses:
//     docker://alpine:3.19", "skopeo copy docker://...",
//     "--build-context base=docker-image://debian:12").
//   - A quoted string that is only part of a string built at run time is
//     never a reference, even when its bytes parse: its closing quote is
//     followed by an operator that continues it ("+", "%", "..",
//     ".format(", PHP's ". $v") or glued to more text ("repo:v"$TAG), or
//     it is preceded
//     by "+" or "..", or it is a Python f-string. So
//     'quay.io/prometheus/alertmanager:v' + $.versions.x is not the tag
//     "v", and a bump never rewrites half an expression.
//   - Templated values are never references: anything containing "{{",
//     "${", "$(" or "$" fails to parse ("image: {{ .Values.image }}",
//     "${IMAGE_NAME}:${VERSION}", "registry.example.com/app:{{ .Values.tag }}").
//     So do placeholders that are not references ("IMAGE_URL",
//     "<YOUR-CONTAINER>", prose with spaces) and YAML null/true/false.
//   - An untagged value that names a file ("image: images/cover.png" in a
//     page's front matter, "image: debian-12.qcow2" for a virtual machine)
//     is a picture or a disk, not a container image.
//   - "docker|podman|nerdctl run|pull|create|push [flags] image": the
//     first argument after the flags is a reference, even untagged; so
//     are both arguments of "docker tag" and each -t/--tag of "docker
//     build" and "docker buildx build" (anywhere among its arguments).
//     Shell quotes and Markdown backticks around the command are not part
//     of the image. The command words are parsed: global options
//     ("docker --context x run") are skipped; "docker image push",
//     "docker container run" are "docker push", "docker run"; "docker
//     buildx create", "docker compose run", "docker network create" are
//     other commands. Options that take a value skip it. A command that
//     starts inside backticks (a Markdown code span, a shell command
//     substitution) ends at the closing one. In Markdown prose outside a
//     code span the command ends with its sentence and its image must have
//     a '/', a tag or a digest: "the docker push image." is English. The
//     same holds in reStructuredText, AsciiDoc, text and HTML files, and
//     in any file where the program's name does not stand where a command
//     starts (first on the line, after a shell operator, a quote, a key's
//     ':' or '=', a prompt, an environment assignment, or sudo, exec,
//     then...): "description: Runs docker push of the image" is prose.
//   - Dockerfiles: the image of "FROM [--platform=...] image [AS name]",
//     except "scratch", an earlier stage's name (case-insensitive) and
//     anything templated ("FROM ${BASE}"); the value of "COPY --from=" and
//     of "from=" inside "RUN --mount=" unless it is a stage name or index;
//     image keys and inline references on other instructions
//     ("ARG BASE_IMAGE=registry.example.com/base:1.0"); and the frontend
//     image of a "# syntax=docker/dockerfile:1.7" parser directive, which
//     is a comment only after the directives at the top of the file.
//   - Kustomize (Kind Kustomize): an entry of an "images:" list with a name
//     and newName, newTag or digest (in a kustomization.yaml a bare name is
//     enough). The Ref is newName (else name) with newTag and digest; Line
//     and Column are the name's; Tag and Digest span the newTag and digest
//     values. Entries whose newName or newTag is not valid (placeholders
//     like "CONTAINER_IMAGES_REGISTRY/x", "${TAG}") are skipped.
//   - Helm values (Kind HelmValues): a mapping, block or flow, with a
//     repository and a non-empty tag or digest beside it, or any repository
//     under a key that names an image (where "repo" or "name" also serve);
//     "registry" is prefixed when present. A mapping with image and tag
//     ({image: debian, tag: "9.1"}) is the same form. Line and Column are
//     the repository's; an empty tag: "" gives Tag {-1,-1}. A bare
//     images: {repository: prefix, tag: ""} (a registry prefix for many
//     images) is not a reference.
//   - GitLab CI (.gitlab-ci.yml, *.gitlab-ci.yml, files under .gitlab/):
//     the items of "services:", strings or the name of a mapping
//     ("- docker:24-dind", "- name: postgres:16" / "alias: db").
//   - Cloud Build: the name of a "steps:" entry that has Cloud Build fields
//     (args, entrypoint, id, ...) and no Argo, Tekton or GitHub Actions
//     fields (template, image, uses, run, ...).
//   - The image: of a Ceph RBD volume (under rbd:, or beside pool and
//     monitors) is a block device image, not a container image.
//
// # Markdown
//
// Decision: a literal reference in a Markdown file is a literal image
// reference in a tracked file, as much as one in a script. A reader
// grepping a repository counts "docker run nginx:1.25" in a README's code
// block, and keeping a README's examples current is part of a bump. The
// same rules apply as anywhere, so prose stays quiet: "nginx:1.25" alone
// in a sentence is not unambiguous, while "ghcr.io/org/app:1.0" or
// "docker run nginx:1.25" in backticks is. Outside fenced code blocks '#'
// is a heading, not a comment; inside them it is a comment, as in the
// shell and YAML they hold.
//
// A value found by two rules is reported once: a marker wins over a split
// form, which wins over an inline match.
//
// # Markers
//
// A comment can say what a value is when no rule can see it:
//
//	version: "1.4.2"  # laminar: registry.example.com/app
//	APP_TAG=1.4.2     # laminar: registry.example.com/app
//	app_tag = "1.4.2" // laminar: registry.example.com/app
//	- sha256:...      # laminar: registry.example.com/app
//
// "laminar:" followed by an image name without tag marks the value on that
// line (after its key's ": " or "=", or the list item; quotes removed) as
// that image's tag, or its digest when the value is a digest. The match has
// Kind Marker and wins over any other match of the same value. A value that
// is neither a tag nor a digest is not reported.
//
//	image: registry.example.com/fixture:1.0  # laminar:ignore
//
// "laminar:ignore" suppresses every match on its line.
//
// # Files
//
// Files reads paths concurrently (GOMAXPROCS workers, at least 4, each
// reusing one read buffer), skipping files that are not regular
// (symlinks, submodules), larger than Options.MaxFileSize (1 MiB by
// default) or binary (a NUL byte in the first 8000 bytes, as git decides).
//
// # Speed
//
// Before any per-line work, a whole-file pre-filter looks for what some
// rule starts from, with searches anchored on rare bytes: a ':' or '='
// after a key ending like "image", "images", "IMAGE_NAME", "repository",
// "steps" or "laminar", or after "name" with such a value; a ':' that may
// end the name of a tagged reference with a '/' (not in a URL); "@sha";
// "docker " (from its rare 'k'); in scripts, Makefiles, Dockerfiles and
// Markdown also "podman " and "nerdctl ", whose letters are too common to
// search every file for. A file with none
// of these (source, docs, lock files, most manifests without images) is
// dismissed; in the others each per-line rule runs only when its trigger
// is in the file, and on lines that may hold it. Every rule above starts
// from one of these triggers, so the pre-filter changes no result, with
// one exception: a YAML, JSON or other non-script file whose only
// reference is in a podman or nerdctl command without a '/' or digest
// ("run: podman run alpine") is not read. The corpus golden files and
// TestCorpusEdits hold the rest. Name normalisation
// through go-containerregistry is cached per distinct name (imageref).
package scan
