#!/bin/sh
# Build Recueil's image from the Dockerfile, then check that it answers as it should:
# `recueil --help`, `recueil doctor`, and a first message in the terminal (`chat --jsonl`).
#
#   scripts/build_image.sh                 docker or podman, the base image pulled as usual
#   scripts/build_image.sh --local-base    the base image (python:3.11-slim-bookworm) built
#                                          here from Debian's packages, for a machine that
#                                          reaches Debian and PyPI but no image registry
#   scripts/build_image.sh --install ...   install podman first if no runtime is there (apt)
#
# With --local-base the base is Debian bookworm's own Python 3.11 (debootstrap), and it
# trusts the certificates this machine trusts (a proxy that inspects TLS, as on the
# development machines). The image itself is built from the Dockerfile unchanged.
# Prints the build time and the image size (docs/deploiement.md).
set -eu
cd "$(dirname "$0")/.."

local_base=0
install=0
for argument in "$@"; do
    case "$argument" in
        --local-base) local_base=1 ;;
        --install) install=1 ;;
        *) echo "usage: scripts/build_image.sh [--install] [--local-base]" >&2; exit 2 ;;
    esac
done

TAG=localhost/recueil:check
BASE=localhost/python:3.11-slim-bookworm
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if docker info >/dev/null 2>&1; then  # a docker command with its daemon running
    runtime="docker"
    build_flags=""
else
    if ! command -v podman >/dev/null 2>&1; then
        if [ "$install" -eq 0 ]; then
            echo "no container runtime (docker, podman): run with --install" >&2
            exit 1
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null
    fi
    # runc and plain cgroup directories work on virtual machines where crun and systemd's
    # cgroups do not; no default limits, which a container may not be allowed to raise
    printf '[containers]\ndefault_ulimits = []\n' > "$work/containers.conf"
    export CONTAINERS_CONF="$work/containers.conf"
    runtime="podman --runtime runc --cgroup-manager cgroupfs"
    build_flags="--isolation chroot"
fi

if [ "$local_base" -eq 1 ]; then
    command -v debootstrap >/dev/null 2>&1 || {
        echo "--local-base needs debootstrap (apt-get install debootstrap)" >&2
        exit 1
    }
    debootstrap --variant=minbase --include=python3.11,python3.11-venv,python3-pip,ca-certificates \
        bookworm "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
        tail -20 "$work/debootstrap.log" >&2
        exit 1
    }
    ln -sf python3.11 "$work/rootfs/usr/bin/python"
    cp /etc/ssl/certs/ca-certificates.crt "$work/rootfs/etc/ssl/certs/ca-certificates.crt"
    tar -C "$work/rootfs" -c . | $runtime import --change 'CMD ["python3"]' - "$BASE" >/dev/null
    # the Dockerfile's FROM, found here instead of on a registry
    sed "s|^FROM python:3.11-slim-bookworm|FROM $BASE|" Dockerfile > "$work/Dockerfile"
    dockerfile="$work/Dockerfile"
    build_flags="$build_flags --pull=never"
else
    dockerfile=Dockerfile
fi

started=$(date +%s)
# shellcheck disable=SC2086  # the flags are words
$runtime build $build_flags -f "$dockerfile" -t "$TAG" . >"$work/build.log" 2>&1 || {
    tail -30 "$work/build.log" >&2
    exit 1
}
built=$(($(date +%s) - started))

$runtime run --rm "$TAG" --help | grep "^utilisation.*: recueil" >/dev/null || {
    echo "the image does not answer recueil --help" >&2
    exit 1
}
$runtime run --rm "$TAG" doctor
printf '%s\n' '{"text": "bonjour"}' | $runtime run -i --rm "$TAG" chat --jsonl \
    | grep "Bonjour et bienvenue" >/dev/null || {
    echo "the image's bot did not greet in the terminal" >&2
    exit 1
}
size=$($runtime image inspect "$TAG" --format '{{.Size}}')
echo "image built in ${built} s, $((size / 1024 / 1024)) MiB; recueil --help, doctor and a first message answered"
$runtime rmi "$TAG" >/dev/null
