# git-laminar as a service: git laminar serve in a container.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t git-laminar .
#   docker run -p 8080:8080 -v laminar-state:/var/lib/laminar \
#     -v $PWD/fleet.toml:/etc/laminar/fleet.toml:ro git-laminar
#
# The build stage builds what make build builds, the same way, with cgo off
# so that the binary runs on any base. The runtime stage adds what the binary
# calls: git, and ssh for ssh remotes.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-trixie AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# .git is not sent to the build, so make's git describe cannot run here.
ARG VERSION=dev
ENV CGO_ENABLED=0
RUN go build -trimpath \
      -ldflags "-s -w -X github.com/git-laminar/git-laminar/internal/cli.Version=${VERSION}" \
      -o /out/git-laminar ./cmd/git-laminar

FROM debian:trixie-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git openssh-client \
 && rm -rf /var/lib/apt/lists/*
# A fixed uid, so that a Kubernetes securityContext can name it and the state
# volume can be owned by it.
RUN groupadd --gid 65532 laminar \
 && useradd --uid 65532 --gid 65532 --home-dir /home/laminar --create-home --shell /usr/sbin/nologin laminar \
 && mkdir -p /var/lib/laminar /etc/laminar \
 && chown laminar:laminar /var/lib/laminar
COPY --from=build /out/git-laminar /usr/local/bin/git-laminar
USER 65532:65532
ENV HOME=/home/laminar
WORKDIR /var/lib/laminar
VOLUME ["/var/lib/laminar"]
EXPOSE 8080
ENTRYPOINT ["git-laminar"]
CMD ["serve", "--fleet", "/etc/laminar/fleet.toml", "--listen", "0.0.0.0:8080", "--state", "/var/lib/laminar"]
