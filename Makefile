# Beatcut: `make demo` and `make test` do all the set-up themselves.
SHELL := /bin/bash
CARGO ?= cargo

# System packages a fresh Debian 12 / Ubuntu needs (checked with dpkg -s, installed when missing).
APT_PACKAGES := build-essential pkg-config clang libclang-dev \
	libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libswresample-dev \
	libavfilter-dev libavdevice-dev \
	libasound2-dev libx11-dev libxcursor-dev libxrandr-dev libxi-dev libxkbcommon-dev \
	libxkbcommon-x11-0 libwayland-dev \
	libvulkan1 mesa-vulkan-drivers libegl1 libgl1 libgl1-mesa-dri libegl-mesa0 \
	xvfb xauth ffmpeg python3 python3-venv \
	desktop-file-utils librsvg2-bin

.PHONY: deps demo test bench accuracy accuracy-extra package test-package clean-demo

# Tools the tests need beyond the system packages: OpenTimelineIO and its CMX3600 / FCPXML
# adapters in a venv (tests/interchange.rs reads our files with them), and cargo-deb (the
# packaging test unpacks a .deb built the way `make package` builds one).
OTIO_VENV := target/py-otio
OTIO_IMPORTS := import opentimelineio, otio_cmx3600_adapter, otio_fcpx_xml_adapter
OTIO_PACKAGES := opentimelineio otio-cmx3600-adapter otio-fcpx-xml-adapter

## deps: install missing system packages, cargo-deb and the OTIO venv (idempotent; uses sudo
## when not root)
deps:
	@command -v $(CARGO) >/dev/null || { echo "Rust toolchain not found: install it from https://rustup.rs, then run make again"; exit 1; }
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:$$missing"; \
		if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "system packages: all present"; fi
	@$(CARGO) deb --version >/dev/null 2>&1 || { echo "installing cargo-deb (about a minute, first time only)"; $(CARGO) install cargo-deb --version 3.8.0 --locked --quiet; }
	@$(OTIO_VENV)/bin/python -c "$(OTIO_IMPORTS)" 2>/dev/null || { \
		echo "installing OpenTimelineIO and its adapters into $(OTIO_VENV)"; \
		{ [ -x $(OTIO_VENV)/bin/python ] || python3 -m venv $(OTIO_VENV); } && \
		$(OTIO_VENV)/bin/python -m pip install --quiet --disable-pip-version-check $(OTIO_PACKAGES); }

## demo: build, generate demo material, open the editor on it (headless: render the montage)
demo: deps
	$(CARGO) build --release
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then ./target/release/beatcut demo; \
	else ./target/release/beatcut demo --headless; fi

## test: formatting, lints, engine without GUI, the .deb, and the whole test suite, headless.
## Under CI=true a check that lacks its tool fails; elsewhere it is skipped and listed at the end.
TEST_SKIPS := target/test-skips.txt
test: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) check --no-default-features
	$(MAKE) --no-print-directory test-package
	@rm -f $(TEST_SKIPS)
	@status=0; $(CARGO) test --lib --bins --tests || status=$$?; \
	if [ -s $(TEST_SKIPS) ]; then \
		echo; echo "=== $$(wc -l < $(TEST_SKIPS)) check(s) SKIPPED for a missing tool (make deps installs them; CI=true fails on them):"; \
		cat $(TEST_SKIPS); \
	fi; exit $$status
	$(CARGO) test --doc

## bench: every benchmark, with the peer tools run side by side
bench: deps
	./benches/run.sh

## accuracy: beats on real songs (../shared/realmusic, fetched on first use) scored with
## mir_eval beside librosa on the same files; writes bench/accuracy.md; fails when a goal is
## missed. ACCURACY_FLAGS=--allow-dirty measures uncommitted work (the report says so).
REALMUSIC ?= ../shared/realmusic
ACCURACY_VENV := target/bench-venv
accuracy: deps
	$(CARGO) build --release
	$(REALMUSIC)/fetch.sh target/real-music
	@[ -x $(ACCURACY_VENV)/bin/python ] || python3 -m venv $(ACCURACY_VENV)
	@$(ACCURACY_VENV)/bin/python -c 'import librosa, mir_eval' 2>/dev/null || \
		$(ACCURACY_VENV)/bin/python -m pip install -q librosa mir_eval
	$(ACCURACY_VENV)/bin/python benches/real_music.py target/release/beatcut target/real-music $(REALMUSIC)/gt $(ACCURACY_FLAGS)
	$(MAKE) --no-print-directory accuracy-extra

## accuracy-extra: the same on 15 other songs (rock, metal, house, trance, pop, hip-hop, reggae;
## 87-200 BPM) built from Debian packages by benches/extra_music/build.sh (Frets on Fire charts
## and LMMS demo projects rendered headless, about three minutes the first time); writes
## bench/accuracy-extra.md. No goals: it shows how the tracker does on music it was not tuned on.
accuracy-extra: deps
	$(CARGO) build --release
	benches/extra_music/build.sh target/extra-music
	@[ -x $(ACCURACY_VENV)/bin/python ] || python3 -m venv $(ACCURACY_VENV)
	@$(ACCURACY_VENV)/bin/python -c 'import librosa, mir_eval' 2>/dev/null || \
		$(ACCURACY_VENV)/bin/python -m pip install -q librosa mir_eval
	$(ACCURACY_VENV)/bin/python benches/real_music.py target/release/beatcut target/extra-music/songs \
		target/extra-music/gt --report accuracy-extra --no-goals $(ACCURACY_FLAGS)

## package: Debian package in target/debian/ (cargo-deb). The first run installs cargo-deb
## (`cargo install`, about a minute) and librsvg2-bin (rsvg-convert, for icons). Icons, man page
## and completions are generated into target/package/, then packaged as is.
## PACKAGE_PROFILE=dev packs the debug build (what `make test` checks, into target/debian-test).
PACKAGE_PROFILE ?= release
PACKAGE_OUT ?= target/debian
PACKAGE_FLAGS ?=
PACKAGE_BIN = target/$(if $(filter dev,$(PACKAGE_PROFILE)),debug,$(PACKAGE_PROFILE))/beatcut
package: deps
	$(CARGO) build --profile $(PACKAGE_PROFILE)
	rm -rf target/package && mkdir -p target/package/completions
	@for n in 16 32 48 64 128 256 512; do \
		mkdir -p target/package/icons/hicolor/$${n}x$${n}/apps && \
		rsvg-convert -w $$n -h $$n -o target/package/icons/hicolor/$${n}x$${n}/apps/beatcut.png assets/beatcut.svg || exit 1; \
	done; echo "icons: 16..512 px rendered from assets/beatcut.svg"
	$(PACKAGE_BIN) man target/package/man && gzip -9nf target/package/man/*.1
	$(PACKAGE_BIN) completions bash > target/package/completions/beatcut.bash
	$(PACKAGE_BIN) completions zsh > target/package/completions/_beatcut
	$(PACKAGE_BIN) completions fish > target/package/completions/beatcut.fish
	mkdir -p $(PACKAGE_OUT)
	$(CARGO) deb --no-build --strip --profile $(PACKAGE_PROFILE) --output $(PACKAGE_OUT) $(PACKAGE_FLAGS)
	@dpkg-deb -f "$$(ls -t $(PACKAGE_OUT)/beatcut_*.deb | head -n 1)" Package Version Depends Recommends

## test-package: the .deb of the debug build in target/debian-test (fast compression), for
## tests/packaging.rs to unpack and run
test-package:
	$(MAKE) --no-print-directory package PACKAGE_PROFILE=dev PACKAGE_OUT=target/debian-test PACKAGE_FLAGS=--fast
