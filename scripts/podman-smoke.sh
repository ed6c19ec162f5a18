#!/usr/bin/env bash
# Container smoke test without a Docker engine (DESIGN.md §6): builds a FROM-scratch image
# around dist/creneau and the shared libraries it needs (what the distroless runtime image
# provides), runs it like docker-compose.yml does — read-only root, non-root user, /data
# volume, host network, SIGTERM to stop — and checks /healthz, the healthcheck command, a
# backup and a clean exit. Usage: npm run smoke:podman   (add --rebuild to rebuild the binary)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/dist/creneau"
RUNC=/usr/sbin/runc
ms() { echo $(( $(date +%s%N) / 1000000 )); }
started=$(ms)

say() { printf 'podman-smoke: %s\n' "$*"; }
fail() { printf 'podman-smoke: FAIL: %s\n' "$*" >&2; exit 1; }

# 1. podman and runc (Debian packages).
if ! command -v podman >/dev/null 2>&1 || [ ! -x "$RUNC" ]; then
  cmd="apt-get update && apt-get install -y --no-install-recommends podman runc"
  if [ "$(id -u)" -ne 0 ]; then
    echo "podman-smoke: podman and runc are needed. Install them with:" >&2
    echo "  sudo $cmd" >&2
    exit 1
  fi
  say "installing podman and runc"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman runc >/dev/null
fi
PODMAN=(podman --runtime "$RUNC" --cgroup-manager=cgroupfs --events-backend=file)
# Without systemd, podman complains that it cannot time health checks; they are run on demand below.
pm() { "${PODMAN[@]}" "$@" 2> >(grep -v 'systemd connection' >&2); }

# 2. The binary.
if [ ! -x "$BIN" ] || [ "${1:-}" = "--rebuild" ]; then
  say "building dist/creneau"
  npx --no-install tsx scripts/build-binary.ts
fi

WORK=$(mktemp -d /tmp/creneau-podman.XXXXXX)
TAG="localhost/creneau-smoke:$$"
NAME="creneau-smoke-$$"
cleanup() {
  pm rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  pm rmi -f "$TAG" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# 3. A scratch root file system: the binary, its libraries and the dynamic loader. The SQLite
#    addon is extracted at run time; its libraries (libstdc++, libm, libc) are included too.
ROOTFS="$WORK/context/rootfs"
mkdir -p "$ROOTFS/usr/local/bin" "$ROOTFS/tmp" "$ROOTFS/data"
chmod 1777 "$ROOTFS/tmp"
cp "$BIN" "$ROOTFS/usr/local/bin/creneau"
BUILD_CACHE=${CRENEAU_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/creneau-build}
ADDON=$(ls -d "$BUILD_CACHE"/better-sqlite3-*/build/Release/better_sqlite3.node 2>/dev/null | head -n 1 || true)
libs=$( { ldd "$BIN"; [ -n "$ADDON" ] && ldd "$ADDON"; } | awk '/=> \//{print $3} /^[ \t]*\/[^ ]+ \(/{print $1}' | sort -u)
for lib in $libs; do
  cp --parents -L "$lib" "$ROOTFS/"
done
# The loader is also reached through /lib64 on Debian (a symlink into /lib/x86_64-linux-gnu).
if [ -L /lib64/ld-linux-x86-64.so.2 ] || [ -f /lib64/ld-linux-x86-64.so.2 ]; then
  mkdir -p "$ROOTFS/lib64"
  cp -L /lib64/ld-linux-x86-64.so.2 "$ROOTFS/lib64/"
fi
# The same non-root user as distroless's "nonroot" (uid 65532).
mkdir -p "$ROOTFS/etc"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$ROOTFS/etc/group"

cat >"$WORK/context/Containerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
ENV CRENEAU_DATA_DIR=/data XDG_CACHE_HOME=/data/.cache HOME=/home/nonroot CRENEAU_HOST=0.0.0.0 CRENEAU_PORT=3000
USER 65532:65532
VOLUME /data
EXPOSE 3000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/usr/local/bin/creneau", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/creneau"]
CMD ["serve"]
EOF

say "building the image ($(du -sh "$ROOTFS" | cut -f1) root file system, $(echo "$libs" | wc -w) libraries)"
pm build -q --format docker -t "$TAG" "$WORK/context" >/dev/null

# 4. Run it the way docker-compose.yml does.
DATA="$WORK/data"
mkdir -p "$DATA"
chown 65532:65532 "$DATA"
chmod 0700 "$DATA"
PORT=$(node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
run_start=$(ms)
pm run -d --name "$NAME" \
  --network host \
  --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
  --read-only \
  --cap-drop ALL --security-opt no-new-privileges \
  --health-interval=disable \
  -v "$DATA:/data" \
  -e CRENEAU_PORT="$PORT" -e CRENEAU_HOST=127.0.0.1 -e CRENEAU_LOG=errors \
  "$TAG" >/dev/null

healthy=""
for _ in $(seq 1 300); do
  if [ "$(pm inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" != "true" ]; then
    pm logs "$NAME" >&2 || true
    fail "the container stopped before answering"
  fi
  if body=$(curl -fsS "http://127.0.0.1:$PORT/healthz" 2>/dev/null); then healthy=$body; break; fi
  sleep 0.1
done
[ -n "$healthy" ] || { pm logs "$NAME" >&2; fail "/healthz did not answer within 30 s"; }
ready=$(( $(ms) - run_start ))
[ "$healthy" = '{"status":"ok"}' ] || fail "/healthz answered $healthy"
say "GET /healthz -> $healthy after ${ready} ms (container start included)"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")
case "$code" in 200|302|303) say "GET / -> $code" ;; *) fail "GET / answered $code" ;; esac

# The image's HEALTHCHECK, run on demand (no systemd here to time it).
pm healthcheck run "$NAME" || fail "the image's HEALTHCHECK (creneau healthcheck) failed"
say "HEALTHCHECK (creneau healthcheck) -> healthy"

if pm exec "$NAME" /usr/local/bin/creneau backup /not-writable.sqlite >/dev/null 2>&1; then
  fail "wrote to the root file system: it is not read-only"
fi
pm exec "$NAME" /usr/local/bin/creneau backup /data/smoke-backup.sqlite >/dev/null || fail "backup into /data failed"
[ "$(head -c 15 "$DATA/smoke-backup.sqlite")" = "SQLite format 3" ] || fail "the backup is not a SQLite file"
say "read-only root refused a write; backup to /data worked"

[ -f "$DATA/creneau.sqlite" ] || fail "no SQLite file in the /data volume"
ls -d "$DATA"/.cache/creneau/addon-* >/dev/null 2>&1 || fail "the addon was not extracted under XDG_CACHE_HOME=/data/.cache"
owner=$(stat -c %u "$DATA/creneau.sqlite")
[ "$owner" = 65532 ] || fail "the database belongs to uid $owner, not the non-root user 65532"
say "data in the volume, owned by uid 65532; addon cached in /data/.cache"

# 5. Stop with the image's STOPSIGNAL (SIGTERM); the server must exit 0 well before the kill.
stop_start=$(ms)
pm stop -t 10 "$NAME" >/dev/null
stopped=$(( $(ms) - stop_start ))
exit_code=$(pm inspect -f '{{.State.ExitCode}}' "$NAME")
[ "$exit_code" = 0 ] || { pm logs "$NAME" >&2; fail "exit code $exit_code after SIGTERM"; }
logs=$(pm logs "$NAME" 2>&1)
[ "$(printf '%s\n' "$logs" | grep -c .)" = 1 ] || { printf '%s\n' "$logs" >&2; fail "expected only the start-up line in the logs"; }
say "SIGTERM -> exit 0 in ${stopped} ms; logs: $logs"

total=$(( ($(ms) - started) / 1000 ))
say "OK in ${total}s (image $(du -sh "$ROOTFS" | cut -f1), port $PORT)"
