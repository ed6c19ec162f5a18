# syntax=docker/dockerfile:1
# Creneau as one small image: the single binary (Node 24 + program + assets + SQLite addon)
# on distroless, running as a non-root user, with one /data volume. Build:
#   docker build -t creneau .      (or: docker compose build)

# --- Build: the same `npm run build:binary` as on a workstation --------------------------
FROM node:24-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The build cache (Node 24 package, compiled addon; scripts/build-binary.ts) is kept between
# image builds by BuildKit.
RUN --mount=type=cache,target=/root/.cache/creneau-build \
    npm run build:binary \
 && install -d -m 0700 /out/data /out/data/.cache \
 && install -m 0755 dist/creneau /out/creneau

# --- Runtime: glibc + libstdc++ and nothing else (no shell, no package manager) ----------
FROM gcr.io/distroless/cc-debian12:nonroot

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
# Where this build's source can be found (AGPL-3.0 §13), e.g. --build-arg SOURCE=https://git.example.com/creneau
ARG SOURCE=""
LABEL org.opencontainers.image.title="Creneau" \
      org.opencontainers.image.description="Self-hosted, privacy-first appointment booking: your calendar is the source of truth." \
      org.opencontainers.image.licenses="AGPL-3.0-only" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.base.name="gcr.io/distroless/cc-debian12:nonroot"

COPY --from=build /out/creneau /usr/local/bin/creneau
# The volume starts out owned by the non-root user (65532), mode 0700.
COPY --from=build --chown=65532:65532 /out/data /data

# XDG_CACHE_HOME: where the binary extracts its SQLite addon. The root file system may be
# read-only and /tmp may be noexec, so it goes to the data volume (content-hashed, reused).
ENV CRENEAU_DATA_DIR=/data \
    XDG_CACHE_HOME=/data/.cache \
    CRENEAU_HOST=0.0.0.0 \
    CRENEAU_PORT=3000

USER 65532:65532
VOLUME ["/data"]
EXPOSE 3000
STOPSIGNAL SIGTERM
# No curl in distroless: the binary checks its own /healthz on CRENEAU_HOST/CRENEAU_PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["/usr/local/bin/creneau", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/creneau"]
CMD ["serve"]
