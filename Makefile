# emu — make demo, make test, make install PREFIX=..., make bench
PREFIX ?= /usr/local
SWIFT ?= swift
RELEASE_BIN = .build/release/emu
# What emu links, and what the tests use to make ACLs, xattrs, small filesystems and an ssh server.
BUILD_DEPS = libacl1-dev libattr1-dev libzstd-dev
TEST_DEPS = sshfs acl attr procps dosfstools e2fsprogs util-linux strace xfsprogs exfatprogs exfat-fuse python3 openssh-client openssh-server zstd libarchive-tools systemd rsync rsnapshot chromium

.PHONY: all build deps test-deps install-packages demo test torture install uninstall bench clean

all: build

## deps: install the C libraries emu links (libacl, libattr, libzstd), with apt-get
## when root, else print the command; test-deps adds the tools the tests use.
deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(BUILD_DEPS)"

test-deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(BUILD_DEPS) $(TEST_DEPS)"

install-packages:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "emu needs:$$missing"; echo "run: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build -c release --product emu

demo: build
	@scripts/demo.sh "$(CURDIR)/$(RELEASE_BIN)"

## test: every unit and end-to-end test, then the torture suite's short
## form (20 kills a command); torture: its long form (200 kills a command,
## 200,000 fuzz inputs a parser).
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	python3 torture/run.py .build/debug/emu --trials 20

torture: test-deps
	$(SWIFT) build -c release --product emu
	$(SWIFT) build --build-tests
	EMU_FUZZ_ITERATIONS=200000 $(SWIFT) test --skip-build --filter "FuzzTests|WireTests/fuzzedFrames"
	python3 torture/run.py $(RELEASE_BIN) --trials 200

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/emu/templates $(DESTDIR)$(PREFIX)/etc/emu \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d \
	  $(DESTDIR)$(PREFIX)/lib/systemd/system $(DESTDIR)$(PREFIX)/lib/systemd/user
	install -m 755 $(RELEASE_BIN) $(DESTDIR)$(PREFIX)/bin/emu
	install -m 644 share/man/man1/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	cp -R share/emu/templates/. $(DESTDIR)$(PREFIX)/share/emu/templates/
	install -m 644 etc/emu.conf $(DESTDIR)$(PREFIX)/etc/emu/emu.conf
	for flavour in system user; do for unit in share/systemd/$$flavour/*; do \
	  sed 's|@BINDIR@|$(PREFIX)/bin|' $$unit > $(DESTDIR)$(PREFIX)/lib/systemd/$$flavour/$$(basename $$unit); done; done
	$(RELEASE_BIN) --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/emu
	$(RELEASE_BIN) --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_emu
	$(RELEASE_BIN) --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/emu.fish
	@echo "installed emu into $(DESTDIR)$(PREFIX)"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/emu $(DESTDIR)$(PREFIX)/share/man/man1/emu*.1
	rm -rf $(DESTDIR)$(PREFIX)/share/emu $(DESTDIR)$(PREFIX)/etc/emu
	rm -f $(DESTDIR)$(PREFIX)/lib/systemd/system/emu-push@.* $(DESTDIR)$(PREFIX)/lib/systemd/user/emu-push@.*
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/emu $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_emu \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/emu.fish

bench: build
	@bench/run.sh "$(CURDIR)/$(RELEASE_BIN)"
	@if [ -x /usr/sbin/sshd ] && command -v rsync >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  bash bench/remote.sh home "$${BENCH_SCALE:-1}" "$${BENCH_RUNS:-3}"; \
	  bash bench/history.sh "$${BENCH_HISTORY_SCALE:-0.2}" "$${BENCH_RUNS:-3}"; \
	  bash bench/reflink.sh "$${BENCH_REFLINK_MIB:-1024}" 2; \
	  bash bench/watch.sh "$(CURDIR)/$(RELEASE_BIN)" home "$${BENCH_SCALE:-1}" "$${BENCH_RUNS:-3}"; \
	else echo "bench: the remote and history scenarios need root, openssh-server and rsync (make test-deps); skipped"; fi

clean:
	rm -rf .build demo
