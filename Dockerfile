# syntax=docker/dockerfile:1
# The posteverywhere-wait image for GitLab CI and other container CIs
# (ghcr.io/posteverywhere-wait/posteverywhere-wait), for linux/amd64 and linux/arm64.
#
# GitLab runs job scripts with `sh` inside the image, so use it with `entrypoint: [""]` and
# call `posteverywhere-wait` in `script:`. Anywhere else the binary is the entrypoint.
#
# Where the binary comes from (--build-arg BINARY=…):
#   release  the release's static binary for the target architecture, placed by
#            .github/workflows/release.yml at dist/linux-<arch>/posteverywhere-wait: the
#            published image holds the same bytes as the release archive (the workflow
#            checks their SHA-256 before pushing);
#   build    (default) compiled here from source. The dependencies are compiled in a layer
#            of their own from Cargo.toml and Cargo.lock alone, so a change to src/ rebuilds
#            only this crate.
ARG BINARY=build

# rust:alpine targets musl natively, so this is the static binary (release profile: lto,
# one codegen unit, stripped, panic=abort). The image ships gcc and musl-dev for ring.
FROM rust:1.95-alpine3.23 AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
    && echo 'fn main() {}' >src/main.rs \
    && cargo build --release --locked \
    && rm -rf src
# build.rs hands the linker layout/executed.ld (the code a run executes placed together).
COPY build.rs ./
COPY layout layout
COPY src src
# touch: the copied sources keep their (older) times; cargo must see them as new.
RUN touch build.rs src/main.rs \
    && cargo build --release --locked \
    && cp target/release/posteverywhere-wait /posteverywhere-wait \
    && case "$(/posteverywhere-wait --version)" in "posteverywhere-wait "*) ;; *) exit 1 ;; esac

FROM scratch AS release
ARG TARGETARCH
COPY dist/linux-${TARGETARCH}/posteverywhere-wait /posteverywhere-wait

FROM ${BINARY} AS binary

# Final: busybox (musl) for the shell GitLab needs; no CA bundle needed (the binary bundles
# the web roots; SSL_CERT_FILE adds a corporate CA). Runs as root: GitHub-style workspaces
# are mounted root-owned.
FROM busybox:1.37-musl
LABEL org.opencontainers.image.title="posteverywhere-wait" \
      org.opencontainers.image.description="Wait for a PostEverywhere post to publish everywhere, then report to CI" \
      org.opencontainers.image.source="https://github.com/posteverywhere-wait/posteverywhere-wait" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0"
COPY --from=binary /posteverywhere-wait /usr/local/bin/posteverywhere-wait
ENTRYPOINT ["/usr/local/bin/posteverywhere-wait"]
