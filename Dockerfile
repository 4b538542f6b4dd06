# syntax=docker/dockerfile:1
#
# The users-api image: the server binary, the admin dashboard's static files and the layered
# configuration, on a small Debian, run as an unprivileged user.
#
#   docker build -t users-api .
#   docker run -p 8080:8080 -e USERS_API__SESSION__SECRET_KEY=... \
#     -e USERS_API__TOKENS__KEY_ENCRYPTION_KEY=... users-api
#
# Stages: manifests (only Cargo.toml/Cargo.lock, for the dependency layer's cache key) ->
# build (dependencies first, against dummy sources; then the real sources) -> dashboard
# (web-admin/, when there is one, with the JavaScript client for /sdk/) -> runtime.

ARG RUST_VERSION=1.95
ARG NODE_VERSION=20
ARG DEBIAN_RELEASE=bookworm

# --- manifests: the workspace's Cargo.toml files and Cargo.lock, nothing else ----------------
# The copy below changes with every source edit, but what this stage leaves behind only changes
# when a manifest does, so the dependency layer of the build stage stays cached.
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name Cargo.toml ! -name Cargo.lock -delete \
    && find . -depth -type d -empty -delete

# --- build -------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
COPY --from=manifests /src ./
# Every workspace member gets an empty library and an empty main so Cargo can resolve and build
# all dependencies before any of our sources are in the image.
RUN for manifest in crates/*/Cargo.toml tests/Cargo.toml; do \
        member="$(dirname "$manifest")"; \
        mkdir -p "$member/src"; \
        touch "$member/src/lib.rs"; \
        echo 'fn main() {}' > "$member/src/main.rs"; \
    done \
    && cargo build --release -p server --locked \
    && rm -rf crates/*/src tests/src
COPY crates crates
COPY tests tests
# Sources copied from the build context may be older than the dummies built above; make sure
# Cargo sees them as changed.
RUN find crates tests -name '*.rs' -exec touch {} + \
    && cargo build --release -p server --locked \
    && cp target/release/users-api /usr/local/bin/users-api

# --- dashboard: web-admin/dist, or an empty folder when the repository has no dashboard ----------
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS dashboard
WORKDIR /src
# web-admin/ is optional: its globs may match nothing, and Cargo.lock (always there) keeps
# each COPY from having no source at all. Its build also packs clients/js into dist/sdk (the
# client the service serves to sites), so the client's dependencies are installed too.
COPY Cargo.lock web-admin/package*.json ./web-admin/
COPY Cargo.lock clients/js/package*.json ./clients/js/
RUN if [ -f web-admin/package.json ]; then (cd web-admin && npm ci --no-audit --no-fund); fi \
    && if [ -f clients/js/package.json ]; then (cd clients/js && npm ci --ignore-scripts --no-audit --no-fund); fi
COPY Cargo.lock web-admi[n] ./web-admin/
COPY Cargo.lock clients/j[s] ./clients/js/
RUN if [ -f web-admin/package.json ]; then cd web-admin && npm run build; fi \
    && mkdir -p web-admin/dist

# --- runtime -------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 users-api \
    && useradd --system --uid 10001 --gid users-api --home-dir /app --shell /usr/sbin/nologin users-api \
    && mkdir -p /app/data \
    && chown users-api:users-api /app/data
WORKDIR /app
COPY --from=build /usr/local/bin/users-api /usr/local/bin/users-api
COPY --from=dashboard /src/web-admin/dist /app/web-admin/dist
COPY config /app/config
ENV USERS_API_ENVIRONMENT=production \
    USERS_API_CONFIG_DIR=/app/config \
    PORT=8080
USER users-api
EXPOSE 8080
# The SQLite store (the default backend) keeps its file here; with MongoDB it stays empty.
VOLUME ["/app/data"]
# `users-api healthcheck` asks GET /health on 127.0.0.1:$PORT and exits 0 on a 200: no curl needed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["users-api", "healthcheck"]
ENTRYPOINT ["users-api"]
CMD ["serve"]
