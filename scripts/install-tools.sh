#!/usr/bin/env bash
# Installs, once per machine, every tool the build and the tests need, and
# skips whatever is already present. Called by `make run` and `make test`.
#
# Why the detours: on this toolchain (rustc 1.95) and behind a registry-only
# network, the stock `cargo install --locked` of cargo-leptos and
# wasm-bindgen-cli fails (their lock files pin crates that need a newer rustc
# or are missing from the mirror), and cargo-leptos cannot download wasm-opt
# itself. See docs/development.md.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.11
# wasm-bindgen-cli must match the wasm-bindgen version in Cargo.lock exactly.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)

log() { printf '\033[1m[install-tools]\033[0m %s\n' "$*"; }

# Installs crate $1 at version $2; if the locked install fails, installs from
# the registry source copy after applying `cargo update` pins ($3...).
install_crate() {
    local crate=$1 version=$2; shift 2
    if cargo install "$crate" --version "$version" --locked; then return 0; fi
    log "$crate $version: locked install failed, retrying with pinned dependencies"
    local src
    src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" 2>/dev/null | head -n1)
    if [ -z "$src" ]; then
        # Fetch the source through a throwaway manifest so we have a copy to patch.
        local probe; probe=$(mktemp -d)
        mkdir -p "$probe/src" && echo 'fn main() {}' > "$probe/src/main.rs"
        printf '[package]\nname = "probe"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\n%s = "=%s"\n' "$crate" "$version" > "$probe/Cargo.toml"
        (cd "$probe" && cargo fetch >/dev/null 2>&1 || true)
        src=$(ls -d "$HOME"/.cargo/registry/src/*/"$crate-$version" | head -n1)
    fi
    local work; work=$(mktemp -d)
    cp -r "$src" "$work/src"
    (
        cd "$work/src"
        while [ $# -gt 0 ]; do cargo update -p "$1" --precise "$2"; shift 2; done
        cargo install --path . --locked
    )
    rm -rf "$work"
}

if ! rustup target list --installed | grep -q wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

# The browser's bundle is built by a pinned nightly with the standard
# library's source (rebuilt for size); the Makefile names it.
WASM_TOOLCHAIN=${WASM_TOOLCHAIN:-$(sed -n 's/^export WASM_TOOLCHAIN := //p' Makefile)}
if ! rustup +"$WASM_TOOLCHAIN" component list --installed 2>/dev/null | grep -q '^rust-src' \
    || ! rustup +"$WASM_TOOLCHAIN" target list --installed 2>/dev/null | grep -q wasm32-unknown-unknown; then
    log "installing Rust $WASM_TOOLCHAIN for the WASM bundle (with rust-src and the wasm32 target)"
    rustup toolchain install "$WASM_TOOLCHAIN" --profile minimal --component rust-src --target wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (10-20 minutes, once per machine)"
    install_crate cargo-leptos "$CARGO_LEPTOS_VERSION" cargo-util-schemas 0.14.1
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    install_crate wasm-bindgen-cli "$WASM_BINDGEN_VERSION" webpki-roots 1.0.10
fi

if [ ! -x end2end/node_modules/.bin/wasm-opt ] || [ ! -d end2end/node_modules/@playwright/test ]; then
    log "installing npm packages (binaryen, playwright, socket.io-client)"
    (cd end2end && npm ci --no-audit --no-fund)
fi

if [ ! -d bench/peer/node_modules/socket.io ]; then
    log "installing the benchmark's reference peer (socket.io)"
    (cd bench/peer && npm ci --no-audit --no-fund)
fi

if [ ! -x /usr/bin/chromium ]; then
    log "installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
if ! command -v sqlite3 >/dev/null; then
    log "installing Debian's sqlite3 (the day-separator tests age stored messages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3
fi
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    log "installing Debian's Noto CJK fonts (Chinese in the browser tests and screenshots)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    log "installing Debian's postgresql (the tests start a throwaway server of their own; nothing runs as a service)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi
if ! command -v redis-server >/dev/null || [ ! -x /usr/sbin/haproxy ]; then
    log "installing Debian's redis-server and haproxy (the tests start throwaway ones of their own; nothing runs as a service)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server haproxy
fi
log "all tools present"
