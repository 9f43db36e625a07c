# git-laminar: promote container images through git.
#
#   make demo      build the tool and run it against a throwaway repository and
#                  an in-process registry
#   make test      vet and run every test (unit, real git, in-process registry,
#                  end-to-end scripts)
#   make install   install the binary, the man page, shell completions and
#                  laminar.toml.example (PREFIX, DESTDIR honoured)
#   make bench     micro-benchmarks, then the end-to-end bench (medium preset)
#   make bench-history  log and status on 100,000 commits, next to git log

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/git-laminar
# Where bash-completion, zsh and fish look for completions of a command.
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/git-laminar/git-laminar/internal/cli.Version=$(VERSION)

BIN := bin/git-laminar
MAN := man/git-laminar.1

.PHONY: all build man completions install uninstall test e2e fuzz bench bench-small bench-large bench-history demo clean

all: build man

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/git-laminar

$(MAN): man/git-laminar.1.md
	$(GO) tool go-md2man -in $< -out $@

man: $(MAN)

# The scripts come from the binary, so they list its commands and options.
completions: build
	mkdir -p bin/completion
	$(BIN) completion bash >bin/completion/git-laminar.bash
	$(BIN) completion zsh >bin/completion/_git-laminar
	$(BIN) completion fish >bin/completion/git-laminar.fish

install: build man completions
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR) \
	  $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/git-laminar
	install -m 0644 $(MAN) $(DESTDIR)$(MANDIR)/man1/git-laminar.1
	install -m 0644 laminar.toml.example $(DESTDIR)$(DOCDIR)/laminar.toml.example
	install -m 0644 bin/completion/git-laminar.bash $(DESTDIR)$(BASHCOMPDIR)/git-laminar
	install -m 0644 bin/completion/_git-laminar $(DESTDIR)$(ZSHCOMPDIR)/_git-laminar
	install -m 0644 bin/completion/git-laminar.fish $(DESTDIR)$(FISHCOMPDIR)/git-laminar.fish

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/git-laminar $(DESTDIR)$(MANDIR)/man1/git-laminar.1 \
	  $(DESTDIR)$(DOCDIR)/laminar.toml.example $(DESTDIR)$(BASHCOMPDIR)/git-laminar \
	  $(DESTDIR)$(ZSHCOMPDIR)/_git-laminar $(DESTDIR)$(FISHCOMPDIR)/git-laminar.fish
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

# The end-to-end suite against real servers (Debian's docker-registry); the
# tests skip when a server is not installed.
e2e: build
	LAMINAR_E2E=1 $(GO) test -count=1 -run 'E2E' ./...

# A short run of every fuzz target; seeds live in each package's testdata/.
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# Micro-benchmarks of every package, then internal/bench: a generated
# manifests repository against an in-process registry with latency, timed
# next to its lower bounds (ggcr listing, git grep). BENCHFLAGS go to it,
# e.g. BENCHFLAGS='-runs 5 -json'.
BENCHFLAGS ?=
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./internal/bench -preset medium $(BENCHFLAGS)

# A quick end-to-end run (well under a minute), e.g. as a smoke test.
bench-small:
	$(GO) run ./internal/bench -preset small $(BENCHFLAGS)

# The preset of the performance targets: 20,000 files, 500 repositories,
# 300 tags each, 20ms per request. Takes several minutes.
bench-large:
	$(GO) run ./internal/bench -preset large $(BENCHFLAGS)

# log and status on a history of 100,000 commits (written with git
# fast-import), next to git log printing the same trailers.
bench-history:
	$(GO) run ./internal/bench -preset small -history 100000 $(BENCHFLAGS)

demo: build
	$(GO) run ./internal/demo -bin $(BIN)

clean:
	rm -rf bin $(MAN)
