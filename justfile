# Everyday commands. Each works without `just` too: see the recipe body.

# Build every plugin for wasm32-wasip2 and assemble dist/plugins
plugins:
    cargo xtask plugins

# Build plugins, then run all tests
test *ARGS:
    cargo xtask test {{ARGS}}

# Run the host on the embedded default (switchboard.toml)
demo:
    cargo xtask demo

# Benchmarks (release); results go in BENCHMARKS.md
bench:
    cargo xtask bench

# SIGKILL the host KILLS times under a stream of webhooks; prints acked / lost /
# duplicated / reordered (the test suite runs 20 kills)
soak KILLS="1000":
    cargo xtask soak {{KILLS}}

# Scaffold a new plugin from the example (copies plugins/example, names it,
# adds it to the workspace members): just new-plugin NAME
new-plugin NAME:
    cargo xtask new-plugin {{NAME}}
