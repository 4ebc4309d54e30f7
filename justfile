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
    cargo xtask plugins
    cargo bench -p switchboard --bench dispatch
    cargo bench -p switchboard --bench ingest
    cargo bench -p switchboard --bench reload
    cargo bench -p switchboard-phone

# Scaffold a new plugin from the example: just new-plugin NAME
new-plugin NAME:
    #!/usr/bin/env bash
    set -euo pipefail
    dest="plugins/{{NAME}}"
    [ -e "$dest" ] && { echo "$dest exists" >&2; exit 1; }
    mkdir -p "$dest/src"
    sed -e 's/^name = "example"/name = "{{NAME}}"/' -e 's/^description = .*/description = "{{NAME}} connector"/' plugins/example/plugin.toml > "$dest/plugin.toml"
    sed -e 's/switchboard-plugin-example/switchboard-plugin-{{NAME}}/' -e 's/^description = .*/description = "{{NAME}} connector"/' plugins/example/Cargo.toml > "$dest/Cargo.toml"
    cp plugins/example/src/*.rs "$dest/src/"
    sed -i "s|    \"plugins/example\",|    \"plugins/example\",\n    \"plugins/{{NAME}}\",|" Cargo.toml
    echo "created $dest; build it with: just plugins (it lands in dist/plugins/{{NAME}})"
