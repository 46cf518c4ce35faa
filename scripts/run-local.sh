#!/bin/sh
# Runs the system locally with no Kubernetes: the agent on :9101 and the aggregator on
# :9201 scraping it (examples/aggregator-local.yml, data in ./data). Ctrl-C stops both.
set -eu
cargo build --release --bin nodepulse-agent --bin nodepulse-aggregator
T=${CARGO_TARGET_DIR:-target}/release
"$T/nodepulse-agent" --web.listen-address=127.0.0.1:9101 &
AGENT=$!
trap 'kill $AGENT 2>/dev/null || true' EXIT INT TERM
"$T/nodepulse-aggregator" --web.listen-address=127.0.0.1:9201 --storage.path=./data \
    --config.file=examples/aggregator-local.yml
