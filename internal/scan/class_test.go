package scan

import (
	"strings"
	"testing"
)

// The tests in this file each cover one class of text that looks like an
// image reference and is not one, beside the forms of the same file kind
// that must still be found.

// TestConcatenatedLiterals: a quoted literal continued by an operator or an
// interpolation is part of a string built at run time. Reporting its
// prefix ('quay.io/x:v' + version as tag "v") would let a bump rewrite
// half an expression.
func TestConcatenatedLiterals(t *testing.T) {
	runCases(t, []fileCase{
		{name: "jsonnet", path: "lib/alertmanager.libsonnet", content: strings.Join([]string{
			"{",
			"  image: 'quay.io/prometheus/alertmanager:v' + $.values.versions.alertmanager,",
			"  other: 'quay.io/prometheus/node-exporter:v%s' % $.versions.node,",
			"  third: $.registry + 'quay.io/brancz/kube-rbac-proxy:v0.18.1',",
			"  fourth: std.format('ghcr.io/org/app:%s', [$.tag]),",
			"  kept: 'quay.io/x/y:v1.2.3',",
			"  image2: \"ghcr.io/org/sidecar:1.0\",",
			"}",
		}, "\n"), want: []string{
			"6:10 inline quay.io/x/y:v1.2.3 tag=v1.2.3",
			"7:12 inline ghcr.io/org/sidecar:1.0 tag=1.0",
		}},
		{name: "jsonnet image key kept", path: "main.jsonnet", content: "{ image: 'quay.io/x/y:v1.2.3' }\n",
			want: []string{"1:11 inline quay.io/x/y:v1.2.3 tag=v1.2.3"}},
		{name: "python", path: "build.py", content: strings.Join([]string{
			`IMAGE = "ghcr.io/org/app:v" + version`,
			`BASE = f"ghcr.io/org/base:{tag}"`,
			`OTHER = "ghcr.io/org/other:{}".format(tag)`,
			`LUA = "ghcr.io/org/lua:v" .. ver`,
			`PINNED = "ghcr.io/org/pinned:1.4.0"`,
		}, "\n"), want: []string{
			"5:11 inline ghcr.io/org/pinned:1.4.0 tag=1.4.0",
		}},
		{name: "shell", path: "release.sh", content: strings.Join([]string{
			`IMAGE="ghcr.io/org/app:v"$VERSION`,
			`IMAGE2="ghcr.io/org/app:v"${VERSION}`,
			`IMAGE3=${REGISTRY}"/app:1.0"`,
			`IMAGE4="ghcr.io/org/app:${VERSION}"`,
			`IMAGE5="ghcr.io/org/app:$(git describe)"`,
			`IMAGE6="ghcr.io/org/app:1.2.3"`,
		}, "\n"), want: []string{
			"6:9 inline ghcr.io/org/app:1.2.3 tag=1.2.3",
		}},
		{name: "templates", path: "templates/deploy.yaml", content: strings.Join([]string{
			`image: "ghcr.io/org/app:v{{ .Chart.AppVersion }}"`,
			`image: ghcr.io/org/app:v#{version}`,
			`image: "ghcr.io/org/app:%s"`,
			`image: ghcr.io/org/app:1.0`,
		}, "\n"), want: []string{
			"4:8 inline ghcr.io/org/app:1.0 tag=1.0",
		}},
		{name: "lists", path: "cfg.json", content: `{"images": ["ghcr.io/a/b:v" + x, "ghcr.io/a/c:2"]}` + "\n",
			want: []string{`1:35 inline ghcr.io/a/c:2 tag=2`}},
	})
}

// TestKeysByFileKind: "key: value" is YAML's, not a Makefile rule's, and
// an unquoted value in HCL, jsonnet or JSON is an expression.
func TestKeysByFileKind(t *testing.T) {
	runCases(t, []fileCase{
		{name: "makefile", path: "Makefile", content: strings.Join([]string{
			"IMAGE ?= registry.example.com/app:1.2",
			"BASE_IMAGE := ghcr.io/org/base:2.0",
			"image: build-ui",
			"image: clean-image ## Build image",
			"docker-image: image",
			"\tdocker build -t $(IMAGE) .",
			"\tdocker push registry.example.com/app:1.2",
		}, "\n"), want: []string{
			"1:10 inline registry.example.com/app:1.2 tag=1.2",
			"2:15 inline ghcr.io/org/base:2.0 tag=2.0",
			"7:14 inline registry.example.com/app:1.2 tag=1.2",
		}},
		{name: "mk include", path: "build/images.mk", content: "image: push-image\nIMAGE = nginx\n",
			want: []string{"2:9 inline nginx"}},
		{name: "shell heredoc yaml", path: "deploy.sh", content: "cat <<EOF | kubectl apply -f -\n    image: nginx:1.25\nEOF\n",
			want: []string{"2:12 inline nginx:1.25 tag=1.25"}},
		{name: "terraform", path: "gke.tf", content: strings.Join([]string{
			`disk_image = secondary_boot_disks.value`,
			`image = var.image`,
			`image = local.images["app"]`,
			`image = "nginx:1.25"`,
			`container_image = "gcr.io/org/app:1.0"`,
		}, "\n"), want: []string{
			"4:10 inline nginx:1.25 tag=1.25",
			"5:20 inline gcr.io/org/app:1.0 tag=1.0",
		}},
		{name: "jsonnet identifiers", path: "app.jsonnet", content: "local image = 'nginx:1.25';\n{ image: image, sidecarImage: $.images.sidecar }\n",
			want: []string{"1:16 inline nginx:1.25 tag=1.25"}},
	})
}

// TestSuffixKeyValues: a key that only ends in "image" holds other words
// ("kubernetes.podspec-volumes-image: disabled"); a bare word is an image
// only under the key "image" itself.
func TestSuffixKeyValues(t *testing.T) {
	runCases(t, []fileCase{
		{name: "yaml", path: "config/features.yaml", content: strings.Join([]string{
			`kubernetes.podspec-volumes-image: "disabled"`,
			`queue-sidecar-image: enabled`,
			`builderImage: default`,
			`image: nginx`,
			`image: "busybox"`,
			`cacheImage: ghcr.io/org/cache`,
			`initImage: busybox:1.36`,
			`IMAGE_NAME: redis`,
		}, "\n"), want: []string{
			"4:8 inline nginx",
			"5:9 inline busybox",
			"6:13 inline ghcr.io/org/cache",
			"7:12 inline busybox:1.36 tag=1.36",
			"8:13 inline redis",
		}},
		{name: "flag", path: "run.sh", content: "controller --queue-image=none\ncontroller --init-image=busybox:1\ncontroller --image=nginx\n",
			want: []string{"2:25 inline busybox:1 tag=1", "3:20 inline nginx"}},
	})
}

// TestRunnerCommands: the words of a docker, podman or nerdctl command are
// parsed: which command it is, which options take a value, where an inline
// code span or a sentence ends it.
func TestRunnerCommands(t *testing.T) {
	runCases(t, []fileCase{
		{name: "subcommands", path: "setup.sh", content: strings.Join([]string{
			`docker buildx create --buildkitd-flags="--allow-insecure-entitlement security.insecure" --use`,
			`docker compose run web`,
			`docker image push ghcr.io/org/app:1.0`,
			`docker container run --rm alpine:3.19 true`,
			`docker --context prod run -d nginx:1.25`,
			`docker buildx build --build-arg X=1 -t ghcr.io/org/app:2.0 --push .`,
			`docker run --rm -e X=1 nginx:1.25`,
			`podman run --pod web -it fedora:39 bash`,
			`docker pull -a busybox`,
			`docker network create backend`,
		}, "\n"), want: []string{
			"3:19 inline ghcr.io/org/app:1.0 tag=1.0",
			"4:27 inline alpine:3.19 tag=3.19",
			"5:30 inline nginx:1.25 tag=1.25",
			"6:40 inline ghcr.io/org/app:2.0 tag=2.0",
			"7:24 inline nginx:1.25 tag=1.25",
			"8:26 inline fedora:39 tag=39",
			"9:16 inline busybox",
		}},
		{name: "markdown", path: "docs/usage.md", content: strings.Join([]string{
			"The location of the docker push image.",
			"Pass the `docker run --entrypoint` flag to change it.",
			"Run `docker run nginx` or `docker pull ghcr.io/org/app:1.0` first.",
			"Then docker pull ghcr.io/org/tool:2.1 and go.",
			"When docker runs images. The rest.",
			"",
			"```sh",
			"docker run --rm -p 8080:80 nginx",
			"docker push registry.example.com/app:1.2",
			"```",
			"",
			"```yaml",
			"image: redis:7",
			"```",
			"",
			"The image: nginx line is prose.",
		}, "\n"), want: []string{
			"3:17 inline nginx",
			"3:40 inline ghcr.io/org/app:1.0 tag=1.0",
			"4:18 inline ghcr.io/org/tool:2.1 tag=2.1",
			"8:28 inline nginx",
			"9:13 inline registry.example.com/app:1.2 tag=1.2",
			"13:8 inline redis:7 tag=7",
		}},
		{name: "command substitution", path: "ci.sh", content: "ID=`docker create busybox:1.36` && docker cp \"$ID\":/x .\n",
			want: []string{"1:19 inline busybox:1.36 tag=1.36"}},
	})
}

// TestDockerfileNames: every spelling of a Dockerfile's name is read as
// one, so that an untagged FROM there is found.
func TestDockerfileNames(t *testing.T) {
	for _, p := range []string{
		"Dockerfile", "Containerfile", "Dockerfile-base", "Dockerfile-versioned", "Dockerfile_dev",
		"app.Dockerfile", "Containerfile.dev", "Dockerfile.prod", "dev.containerfile", "build/docker/Dockerfile.alpine",
	} {
		runCases(t, []fileCase{{name: p, path: p, content: "FROM golang AS build\nFROM build\nFROM alpine\n",
			want: []string{"1:6 inline golang", "3:6 inline alpine"}}})
	}
	for _, p := range []string{"dockerfile.go", "Dockerfiles.md", "my-dockerfile-notes.txt"} {
		if syntaxOf(p) == synDockerfile {
			t.Errorf("%s read as a Dockerfile", p)
		}
	}
}

// TestDockerfileDirectives: the frontend image of a "# syntax=" parser
// directive is an image; the same comment after the directives is a
// comment.
func TestDockerfileDirectives(t *testing.T) {
	runCases(t, []fileCase{
		{name: "syntax", path: "Dockerfile", content: strings.Join([]string{
			"# syntax=docker/dockerfile:1.7",
			"# escape=\\",
			"FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-alpine AS build",
			"# syntax=docker/dockerfile:1.4",
			"FROM ${BASE}",
			"COPY --from=build /out /out",
		}, "\n"), want: []string{"1:10 inline docker/dockerfile:1.7 tag=1.7"}},
		{name: "spaced", path: "build.Dockerfile", content: "#  Syntax = docker.io/docker/dockerfile-upstream:master@" + dg + "\nFROM alpine:3.19\n",
			want: []string{"1:13 inline docker.io/docker/dockerfile-upstream:master@" + dg + " tag=master digest=" + dg, "2:6 inline alpine:3.19 tag=3.19"}},
		{name: "after a comment", path: "Dockerfile", content: "# build the app\n# syntax=docker/dockerfile:1\nFROM scratch\n"},
		{name: "after a blank line", path: "Dockerfile", content: "\n# syntax=docker/dockerfile:1\nFROM scratch\n"},
		{name: "templated", path: "Dockerfile", content: "# syntax=${FRONTEND}\nFROM scratch\n"},
	})
}

// TestFlagValues: the value of a "--image=" flag ends at a blank, among
// other arguments and in a quoted argument list.
func TestFlagValues(t *testing.T) {
	runCases(t, []fileCase{
		{name: "shell", path: "deploy.sh", content: strings.Join([]string{
			"kubectl run web --image=nginx:1.25 --restart=Never",
			"kubectl set image deploy/web --image=$IMAGE --record",
			"controller --sidecar-image=busybox:1.36 --queue-image=disabled -v 2",
		}, "\n"), want: []string{
			"1:25 inline nginx:1.25 tag=1.25",
			"3:28 inline busybox:1.36 tag=1.36",
		}},
		{name: "yaml args", path: "job.yaml", content: "args: [\"--image=nginx:1.25\", \"--v=2\"]\nargs2:\n  - \"--init-image=alpine:3.19\"\n  - --image=redis\n",
			want: []string{"1:17 inline nginx:1.25 tag=1.25", "3:19 inline alpine:3.19 tag=3.19", "4:13 inline redis"}},
	})
}

// TestImageSchemes: docker:// and docker-image:// say the rest is an
// image, even without a '/'; other schemes are locations.
func TestImageSchemes(t *testing.T) {
	runCases(t, []fileCase{
		{name: "actions", path: ".github/workflows/ci.yaml", content: strings.Join([]string{
			"- uses: docker://alpine:3.19",
			"- uses: docker://ghcr.io/org/action:v1@" + dg,
			"- uses: docker://alpine",
			"- run: skopeo copy docker://quay.io/org/app:1.0 docker://registry.example.com/app:1.0",
			"- run: docker buildx build --build-context base=docker-image://debian:12 .",
			"- url: https://alpine:3.19/x",
		}, "\n"), want: []string{
			"1:18 inline alpine:3.19 tag=3.19",
			"2:18 inline ghcr.io/org/action:v1@" + dg + " tag=v1 digest=" + dg,
			"4:29 inline quay.io/org/app:1.0 tag=1.0",
			"4:58 inline registry.example.com/app:1.0 tag=1.0",
			"5:64 inline debian:12 tag=12",
		}},
	})
}

// TestMoreConcatenation: the same class in other languages: JavaScript
// template literals joined with '+', PHP and Perl's '.'.
func TestMoreConcatenation(t *testing.T) {
	runCases(t, []fileCase{
		{name: "javascript", path: "deploy.js", content: "const image = `ghcr.io/org/app:v` + version;\nconst pinned = `ghcr.io/org/app:2.0.0`;\n",
			want: []string{"2:17 inline ghcr.io/org/app:2.0.0 tag=2.0.0"}},
		{name: "php", path: "build.php", content: "<?php\n$image = \"ghcr.io/org/app:v\" . $version;\n$b = 'ghcr.io/org/b:v'.$v;\n$c = 'ghcr.io/org/app:1.2.3';\n",
			want: []string{"4:7 inline ghcr.io/org/app:1.2.3 tag=1.2.3"}},
		{name: "markdown backticks", path: "README.md", content: "Use `ghcr.io/org/app:1.0` + a config file.\n",
			want: []string{"1:6 inline ghcr.io/org/app:1.0 tag=1.0"}},
	})
}

// TestFileValues: an image key that holds a file (a picture in a page's
// front matter, a disk image) is not an image reference.
func TestFileValues(t *testing.T) {
	runCases(t, []fileCase{
		{name: "front matter", path: "content/posts/hello.md", content: "---\ntitle: Hello\nimage: images/cover.png\nfeatured_image: \"/img/hero.jpg\"\n---\n",
			want: nil},
		{name: "disk images", path: "vm.yaml", content: strings.Join([]string{
			"image: ubuntu-22.04-server-cloudimg-amd64.img",
			"image: debian-12-generic-amd64.qcow2",
			"containerImage: quay.io/containerdisks/fedora:39",
			"image: registry.example.com/tools/app.bin:1.0",
			"image: nginx",
		}, "\n"), want: []string{
			"3:17 inline quay.io/containerdisks/fedora:39 tag=39",
			"4:8 inline registry.example.com/tools/app.bin:1.0 tag=1.0",
			"5:8 inline nginx",
		}},
	})
}

// TestGitLabServices: in GitLab CI files the items of services: are
// images, as strings or as the name of a mapping; elsewhere (compose)
// services: is something else.
func TestGitLabServices(t *testing.T) {
	ci := strings.Join([]string{
		"build:",
		"  image:",
		"    name: gcr.io/kaniko-project/executor:v1.23.0-debug",
		"    entrypoint: [\"\"]",
		"  services:",
		"    - docker:24-dind",
		"    - name: postgres:16",
		"      alias: db",
		"    - name: $SERVICE_IMAGE",
		"  script:",
		"    - docker info",
		"deploy:",
		"  image: $CI_REGISTRY_IMAGE:$CI_COMMIT_SHA",
	}, "\n")
	want := []string{
		"3:11 inline gcr.io/kaniko-project/executor:v1.23.0-debug tag=v1.23.0-debug",
		"6:7 inline docker:24-dind tag=24-dind",
		"7:13 inline postgres:16 tag=16",
	}
	runCases(t, []fileCase{
		{name: "gitlab-ci", path: ".gitlab-ci.yml", content: ci, want: want},
		{name: "included", path: ".gitlab/ci/test.yml", content: ci, want: want},
		{name: "only services", path: ".gitlab-ci.yml", content: "test:\n  services:\n    - redis:7\n",
			want: []string{"3:7 inline redis:7 tag=7"}},
		{name: "compose", path: "compose.yaml", content: "services:\n  - redis:7\n  - name: web:1\n"},
	})
}

// TestCommandPosition: docker, podman and nerdctl start a command only
// where a command starts; after an English word they are prose, in any
// kind of file, and a bare word after them is not an image.
func TestCommandPosition(t *testing.T) {
	runCases(t, []fileCase{
		{name: "yaml descriptions", path: "tekton/task.yaml", content: strings.Join([]string{
			"params:",
			"  - name: IMAGE",
			"    description: Runs docker push of the image to the registry",
			"    description2: \"The location of the docker push image.\"",
			"steps:",
			"  - run: docker pull alpine",
			"  - run: sudo docker run --rm busybox true",
			"  - run: FOO=1 docker run redis",
			"  - run: echo hi && docker pull nginx",
			"  - run: /usr/bin/docker pull debian",
			"  - script: |",
			"      docker run --rm node",
			"  - text: then use docker pull ghcr.io/org/app:1.0 to fetch it",
		}, "\n"), want: []string{
			"6:22 inline alpine",
			"7:31 inline busybox",
			"8:27 inline redis",
			"9:33 inline nginx",
			"10:31 inline debian",
			"12:23 inline node",
			"13:32 inline ghcr.io/org/app:1.0 tag=1.0",
		}},
		{name: "rst", path: "docs/usage.rst", content: "Build it, then docker push image.\n\n   $ docker run nginx\n   $ docker run nginx:1.25\n",
			want: []string{"4:17 inline nginx:1.25 tag=1.25"}},
	})
}
