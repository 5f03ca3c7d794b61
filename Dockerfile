# syntax=docker/dockerfile:1
# The posteverywhere-wait image for GitLab CI and other container CIs
# (ghcr.io/posteverywhere-wait/posteverywhere-wait). Built for linux/amd64 and linux/arm64
# by .github/workflows/release.yml, natively on each architecture.
#
# GitLab runs job scripts with `sh` inside the image, so use it with `entrypoint: [""]` and
# call `posteverywhere-wait` in `script:`. Anywhere else the binary is the entrypoint.

# Build: rust:alpine targets musl natively, so this is the static binary (release profile:
# lto, one codegen unit, stripped, panic=abort). The image ships gcc and musl-dev for ring.
FROM rust:1.95-alpine3.23 AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
    && cp target/release/posteverywhere-wait /posteverywhere-wait \
    && /posteverywhere-wait --version

# Final: busybox (musl) for the shell GitLab needs; no CA bundle needed (the binary bundles
# the web roots; SSL_CERT_FILE adds a corporate CA). Runs as root: GitHub-style workspaces
# are mounted root-owned.
FROM busybox:1.37-musl
LABEL org.opencontainers.image.title="posteverywhere-wait" \
      org.opencontainers.image.description="Wait for a PostEverywhere post to publish everywhere, then report to CI" \
      org.opencontainers.image.source="https://github.com/posteverywhere-wait/posteverywhere-wait" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
COPY --from=build /posteverywhere-wait /usr/local/bin/posteverywhere-wait
ENTRYPOINT ["/usr/local/bin/posteverywhere-wait"]
