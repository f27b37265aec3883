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
	xvfb xauth ffmpeg python3 python3-venv

.PHONY: deps demo test bench accuracy package clean-demo

## deps: install missing system packages (idempotent; uses sudo when not root)
deps:
	@command -v $(CARGO) >/dev/null || { echo "Rust toolchain not found: install it from https://rustup.rs, then run make again"; exit 1; }
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing system packages:$$missing"; \
		if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "system packages: all present"; fi

## demo: build, generate demo material, open the editor on it (headless: render the montage)
demo: deps
	$(CARGO) build --release
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then ./target/release/beatcut demo; \
	else ./target/release/beatcut demo --headless; fi

## test: formatting, lints, engine without GUI, and the whole test suite, headless
test: deps
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) check --no-default-features
	$(CARGO) test --lib --bins --tests
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

## package: Debian package in target/debian/ (cargo-deb). The first run installs cargo-deb
## (`cargo install`, which may take a few minutes) and librsvg2-bin (rsvg-convert, for icons).
## Icons, man page and completions are generated into target/package/, then packaged as is.
package: deps
	@$(CARGO) deb --version >/dev/null 2>&1 || { echo "installing cargo-deb (a few minutes, first time only)"; $(CARGO) install cargo-deb --locked; }
	@dpkg -s librsvg2-bin >/dev/null 2>&1 || { \
		if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends librsvg2-bin; }
	$(CARGO) build --release
	rm -rf target/package && mkdir -p target/package/completions
	@for n in 16 32 48 64 128 256 512; do \
		mkdir -p target/package/icons/hicolor/$${n}x$${n}/apps && \
		rsvg-convert -w $$n -h $$n -o target/package/icons/hicolor/$${n}x$${n}/apps/beatcut.png assets/beatcut.svg || exit 1; \
	done; echo "icons: 16..512 px rendered from assets/beatcut.svg"
	./target/release/beatcut man target/package/man && gzip -9nf target/package/man/*.1
	./target/release/beatcut completions bash > target/package/completions/beatcut.bash
	./target/release/beatcut completions zsh > target/package/completions/_beatcut
	./target/release/beatcut completions fish > target/package/completions/beatcut.fish
	$(CARGO) deb --no-build --strip
	@dpkg-deb -f "$$(ls -t target/debian/beatcut_*.deb | head -n 1)" Package Version Depends Recommends
