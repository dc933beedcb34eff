#!/usr/bin/env bash
# Sets up everything Settle needs to build (and, with --test-tools, to test)
# on a Debian machine whose only outside access is the package registries.
# Idempotent and cached: a re-run with nothing to do takes seconds.
#
#   scripts/setup.sh               # build toolchain: Rust + wasm32, wasm-bindgen, cargo-leptos, sass, wasm-opt
#   scripts/setup.sh --test-tools  # plus Chromium, Playwright (playwright-core, axe-core), Python venv (aiosmtpd, localstripe)
#
# Toolchain: when rustup can provide wasm32-unknown-unknown, that is used.
# Otherwise (offline) Debian's rustc-web 1.96 is linked into rustup as
# `debian-web`, and std for wasm32 is built once from Debian's rust-web-src.
# Either way server, client and tests build with the same toolchain, recorded
# in $TOOLCHAIN_CACHE/toolchain for scripts/env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TEST_TOOLS=0
for arg in "$@"; do
  case "$arg" in
    --test-tools) WITH_TEST_TOOLS=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

TOOLCHAIN_CACHE=${TOOLCHAIN_CACHE:-$HOME/.cache/settle}
mkdir -p "$TOOLCHAIN_CACHE"
CARGO_LEPTOS_VERSION=0.3.11
SASS_VERSION=1.108.2
BINARYEN_VERSION=132.0.0
log() { printf '\033[1msetup:\033[0m %s\n' "$*" >&2; }

APT_UPDATED=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt: installing ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ $APT_UPDATED -eq 0 ]; then $sudo apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

command -v rustup >/dev/null || { echo "setup.sh: rustup is required (this project builds with cargo)" >&2; exit 1; }

# --- 1. Rust toolchain with a wasm32 std -----------------------------------
debian_web_ready() {
  rustup toolchain list | grep -q '^debian-web' \
    && [ -f /usr/lib/rustlib/wasm32-unknown-unknown/lib/.stamp ] \
    && [ "$(cat /usr/lib/rustlib/wasm32-unknown-unknown/lib/.stamp)" = "$(RUSTUP_TOOLCHAIN=debian-web rustc -vV | sha256sum | cut -c1-16)" ]
}

TOOLCHAIN=""
if [ -f "$TOOLCHAIN_CACHE/toolchain" ]; then
  cached=$(cat "$TOOLCHAIN_CACHE/toolchain")
  if [ "$cached" = "debian-web" ] && debian_web_ready; then TOOLCHAIN=debian-web
  elif [ "$cached" != "debian-web" ] && rustup target list --installed --toolchain "$cached" 2>/dev/null | grep -qx wasm32-unknown-unknown; then TOOLCHAIN=$cached
  fi
fi
if [ -z "$TOOLCHAIN" ]; then
  default_tc=$(rustup show active-toolchain 2>/dev/null | cut -d' ' -f1)
  if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
     || timeout 120 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then
    TOOLCHAIN=$default_tc
    log "using rustup's $TOOLCHAIN with its wasm32 target"
  else
    log "rustup cannot add wasm32 here: using Debian's rustc-web (offline path)"
    apt_install rustc-web cargo-web rust-web-src rust-web-llvm lld-22
    rustup toolchain list | grep -q '^debian-web' || rustup toolchain link debian-web /usr
    LIB=/usr/lib/rustlib/wasm32-unknown-unknown/lib
    STAMP="$(RUSTUP_TOOLCHAIN=debian-web rustc -vV | sha256sum | cut -c1-16)"
    if [ "$(cat "$LIB/.stamp" 2>/dev/null)" != "$STAMP" ]; then
      log "building std for wasm32-unknown-unknown from rust-web-src (about a minute)"
      B=$(mktemp -d); mkdir "$B/src"; : > "$B/src/lib.rs"
      printf '[package]\nname = "sysroot_builder"\nversion = "0.0.0"\nedition = "2021"\n[profile.release]\ncodegen-units = 1\n' > "$B/Cargo.toml"
      # embed-bitcode: without it, LTO profiles (the wasm release build) fail to link.
      ( cd "$B" && RUSTUP_TOOLCHAIN=debian-web RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Cembed-bitcode=yes" \
          cargo build -q --release -Zbuild-std=std,panic_abort --target wasm32-unknown-unknown )
      rm -rf "$LIB"; mkdir -p "$LIB"
      find "$B/target/wasm32-unknown-unknown/release/deps" -name '*.rlib' ! -name 'libsysroot_builder-*' -exec cp {} "$LIB/" \;
      echo "$STAMP" > "$LIB/.stamp"; rm -rf "$B"
    fi
    TOOLCHAIN=debian-web
  fi
  echo "$TOOLCHAIN" > "$TOOLCHAIN_CACHE/toolchain"
fi
export RUSTUP_TOOLCHAIN=$TOOLCHAIN

# --- 2. wasm-bindgen CLI at exactly the Cargo.lock version -------------------
# Not --locked: its own lockfile pins a crate version the registry no longer serves.
WBG=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WBG"; then
  log "installing wasm-bindgen-cli $WBG (about 5 minutes, once)"
  cargo install -q wasm-bindgen-cli --version "=$WBG"
fi

# --- 3. cargo-leptos, never downloading tools itself ------------------------
# Its lockfile needs rustc 1.96 (cargo-util-schemas); rustup's stable may be
# older, so the tool itself is built with Debian's rustc-web when it must be.
rustc_minor() { RUSTUP_TOOLCHAIN=$1 rustc -V | sed -n 's/^rustc 1\.\([0-9]*\).*/\1/p'; }
if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  TOOL_TC=$TOOLCHAIN
  if [ "$(rustc_minor "$TOOLCHAIN")" -lt 96 ]; then
    log "cargo-leptos needs rustc 1.96: building it with Debian's rustc-web"
    apt_install rustc-web cargo-web
    rustup toolchain list | grep -q '^debian-web' || rustup toolchain link debian-web /usr
    TOOL_TC=debian-web
  fi
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 16 minutes, once)"
  RUSTUP_TOOLCHAIN=$TOOL_TC CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install -q cargo-leptos --version "=$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

# --- 4. sass and wasm-opt from npm (Debian's binaryen 108 breaks hydration) --
command -v npm >/dev/null || apt_install nodejs npm
TOOLS="$TOOLCHAIN_CACHE/tools"
if ! [ -x "$TOOLS/node_modules/.bin/wasm-opt" ] || ! [ -x "$TOOLS/node_modules/.bin/sass" ] \
   || ! grep -q "\"version\": \"$BINARYEN_VERSION\"" "$TOOLS/node_modules/binaryen/package.json" 2>/dev/null; then
  log "installing sass $SASS_VERSION and binaryen $BINARYEN_VERSION from npm"
  mkdir -p "$TOOLS"
  npm install --silent --prefix "$TOOLS" --no-audit --no-fund "sass@$SASS_VERSION" "binaryen@$BINARYEN_VERSION" >/dev/null
fi

# --- 5. test tools -----------------------------------------------------------
if [ $WITH_TEST_TOOLS -eq 1 ]; then
  [ -x /usr/bin/chromium ] || apt_install chromium fonts-liberation
  if ! [ -d end2end/node_modules/playwright-core ] || ! [ -d end2end/node_modules/axe-core ] \
     || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    log "installing end2end npm packages (playwright-core, axe-core; no browser download)"
    ( cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund >/dev/null )
  fi
  VENV="$TOOLCHAIN_CACHE/venv"
  if ! [ -x "$VENV/bin/python" ] || ! cmp -s end2end/requirements.txt "$VENV/.requirements"; then
    log "creating the Python venv for test servers"
    command -v python3 >/dev/null || apt_install python3 python3-venv
    python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$VENV"; }
    "$VENV/bin/pip" install -q --disable-pip-version-check -r end2end/requirements.txt
    cp end2end/requirements.txt "$VENV/.requirements"
  fi
fi
log "ready (toolchain: $TOOLCHAIN)"
