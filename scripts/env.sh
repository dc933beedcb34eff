# Sourced by the other scripts after setup.sh: selects the toolchain setup
# chose and puts the npm tools (sass, wasm-opt) on PATH.
TOOLCHAIN_CACHE=${TOOLCHAIN_CACHE:-$HOME/.cache/settle}
export RUSTUP_TOOLCHAIN=$(cat "$TOOLCHAIN_CACHE/toolchain")
export PATH="$TOOLCHAIN_CACHE/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export TEST_PYTHON="$TOOLCHAIN_CACHE/venv/bin/python"
