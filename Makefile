# The two commands of the README, and the steps they are made of.
#   make run   build (release) and serve http://127.0.0.1:3000 on ./rtca.db
#   make test  every test: unit, integration, Playwright, interop, and a
#              smoke run of the benchmark (messages flow; no timings judged)
#   make bench the benchmark against the prototype's stack (docs/performance.md)
# Both install whatever is missing first (scripts/install-tools.sh).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# npm's wasm-opt (binaryen) must win over any other: cargo-leptos looks on PATH.
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# Playwright uses Debian's chromium and must never download a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

# Views are type-erased in every build: the release WASM bundle is about 10%
# smaller (gzipped) and compiles faster. `cargo test` and clippy use the same
# flags and the settings cargo-leptos compiles the server with, so they share
# build artifacts instead of compiling everything twice. (Cargo's build-wide
# flags rather than RUSTFLAGS, which would override the bundle's own below.)
ERASE_VIEWS := CARGO_BUILD_RUSTFLAGS="--cfg erase_components"
LEPTOS_BUILD_ENV := $(ERASE_VIEWS) LEPTOS_OUTPUT_NAME=rtca \
	LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg LEPTOS_SITE_ADDR=127.0.0.1:3000 \
	LEPTOS_RELOAD_PORT=3001

# Flags from the caller's environment would override every one set here.
unexport RUSTFLAGS CARGO_ENCODED_RUSTFLAGS

# The browser's bundle is built by a pinned nightly Rust, with the standard
# library rebuilt for size and panics that stop at once instead of printing:
# 36 KB less gzipped (docs/performance.md, finding 44). cargo-leptos runs
# under that toolchain; the server it builds, the tests and clippy stay on
# the toolchain this folder uses (rustup's active one, read when the
# recipe runs). Plain `cargo leptos build` still works, on stable, with a
# larger bundle.
export WASM_TOOLCHAIN := nightly-2026-05-20
STABLE_TOOLCHAIN := $$(env -u RUSTUP_TOOLCHAIN rustup show active-toolchain | cut -d' ' -f1)
LEPTOS := $(ERASE_VIEWS) RUSTUP_TOOLCHAIN=$(WASM_TOOLCHAIN) LEPTOS_BIN_CARGO_COMMAND="cargo +$(STABLE_TOOLCHAIN)" \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--cfg erase_components -Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
	cargo leptos
WASM_ARGS := --lib-cargo-args=-Zbuild-std=std,panic_abort --lib-cargo-args=-Zbuild-std-features=optimize_for_size

# The end-to-end tests run against the release build by default: that is
# what `make run` serves. `make e2e PROFILE=debug` is quicker while iterating.
PROFILE ?= release
# A release build precompresses the site (gzip, brotli) and then builds the
# server, which carries it (build.rs, server::http::site).
SITE_BUILD := $(if $(filter release,$(PROFILE)),RTCA_EMBED_SITE=1 $(LEPTOS) build --release --precompress $(WASM_ARGS),$(LEPTOS) build $(WASM_ARGS))

.PHONY: run test tools build lint unit e2e screenshot bench bench-build bench-smoke

run: tools
	RTCA_EMBED_SITE=1 $(LEPTOS) serve --release --precompress $(WASM_ARGS)

test: tools lint unit build e2e bench-smoke

tools:
	scripts/install-tools.sh

lint:
	cargo fmt --all -- --check
	cd bench && cargo fmt -- --check
	$(LEPTOS_BUILD_ENV) cargo clippy --no-default-features --features ssr --all-targets -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features hydrate -- -D warnings

# The integration suite runs twice: on SQLite, then with every server on
# PostgreSQL (a throwaway one the tests start, tests/common/postgres.rs).
# The second pass leaves out the storage contract (it ran on both backends
# already) and the tests about SQLite's file itself, which open it to
# look or to break it: the password hash and session rows read from it, a
# session or a trigger planted in it, uploads counted in it, its WAL,
# `rtca backup`, and the FTS5 index rebuilt at open.
SQLITE_OWN_TESTS := store:: consistency:: \
	accounts::register_sign_in_and_sign_out accounts::online_again_renews_the_session_it_has \
	hostile::clients::hostile_clients_cannot_break_the_server_or_its_users \
	media::too_large_or_disguised_files_are_refused_and_leave_nothing \
	operators::a_backup_is_taken_while_the_server_writes_and_gets_a_new_epoch \
	realtime::a_graceful_stop_closes_the_database realtime::a_rename_the_store_refuses_changes_nothing \
	search::edits_deletions_and_pages_keep_search_true

unit:
	$(LEPTOS_BUILD_ENV) cargo test --no-default-features --features ssr -- --show-output
	RTCA_TEST_DATABASE=postgres $(LEPTOS_BUILD_ENV) cargo test --no-default-features --features ssr --test it -- \
		$(addprefix --skip ,$(SQLITE_OWN_TESTS))

build:
	$(SITE_BUILD)

e2e: build
	cd end2end && RTCA_BIN=$(CURDIR)/target/$(PROFILE)/rtca npx playwright test

# The load generator (its own crate and target directory, always release).
bench-build:
	cd bench && cargo clippy --release -- -D warnings && cargo build --release

# A tiny run of every scenario against RTCA, the Node peer and the floor
# (plain socketioxide, bench/src/bin/floor.rs): it fails unless messages
# flow without loss and presence is consistent.
bench-smoke: tools build bench-build
	RTCA_BIN=$(CURDIR)/target/$(PROFILE)/rtca node bench/run.js --smoke --floor

# The full comparison (several minutes; medians of three runs).
bench: tools
	RTCA_EMBED_SITE=1 $(LEPTOS) build --release --precompress $(WASM_ARGS)
	$(MAKE) bench-build
	node bench/run.js $(BENCH_ARGS)

# Regenerates docs/screenshot.png for the README.
screenshot: tools build
	cd end2end && RTCA_BIN=$(CURDIR)/target/$(PROFILE)/rtca UPDATE_SCREENSHOT=1 npx playwright test screenshot
