# syntax=docker/dockerfile:1
# nodepulse: one image holding both programs,
#   /usr/local/bin/nodepulse-agent       (the DaemonSet; listens on 9101)
#   /usr/local/bin/nodepulse-aggregator  (the StatefulSet; listens on 9201)
# Build: docker build -t ghcr.io/nodepulse/nodepulse:0.1.0 .
# tests/image/ checks offline what it can: COPY sources present and not ignored, the
# binaries named as Cargo.toml's [[bin]]s, the version label and the manifests' tag.

# Builder: the toolchain the tests run with, on Debian bookworm (the runtime's glibc).
FROM docker.io/library/rust:1.95-bookworm AS builder
WORKDIR /src
# Cargo reads every declared target when it loads the manifest, so benches/ comes too.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin nodepulse-agent --bin nodepulse-aggregator \
    && install -D -m 0755 -t /out/bin target/release/nodepulse-agent target/release/nodepulse-aggregator \
    && install -d -m 0755 -o 65532 -g 65532 /out/var/lib/nodepulse

# Runtime: glibc, libgcc, CA certificates (the sinks' and notifiers' TLS) and tzdata;
# no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="nodepulse" \
      org.opencontainers.image.description="Kubernetes node agent (node, container and pod metrics; container logs) and its embedded aggregator" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/nodepulse/nodepulse" \
      org.opencontainers.image.url="https://github.com/nodepulse/nodepulse"
COPY --from=builder /out/bin/nodepulse-agent /out/bin/nodepulse-aggregator /usr/local/bin/
# Both programs' default data directory (the agent's --data-dir; the aggregator's
# ./data under it), writable by the image's user.
COPY --from=builder --chown=65532:65532 /out/var/lib/nodepulse /var/lib/nodepulse
WORKDIR /var/lib/nodepulse
# Non-root (distroless' nonroot, 65532) by default: enough for the aggregator. The
# agent reads root-owned container logs and other processes' /proc entries, so its
# DaemonSet overrides this (runAsUser: 0 with every capability dropped but the few it
# needs; see manifests/agent/).
USER 65532:65532
EXPOSE 9101 9201
# The aggregator by default; the manifests name each program with `command:`
# (docker run IMAGE nodepulse-agent --help).
CMD ["/usr/local/bin/nodepulse-aggregator"]
