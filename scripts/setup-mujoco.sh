#!/usr/bin/env bash
# Installs MuJoCo 3.17.0's shared library and headers and the MJCF assets of Gymnasium and
# Gymnasium-Robotics into <repo>/.deps (git-ignored), from the PyPI wheels, pinned by version
# and sha256. Idempotent: a second run checks the marker files and returns at once.
#
# Layout afterwards:
#   .deps/mujoco-3.17.0/lib/libmujoco.so.3.17.0 (+ libmujoco.so link), include/mujoco/*.h
#   .deps/assets/gymnasium/envs/mujoco/assets/*.xml
#   .deps/assets/gymnasium_robotics/envs/assets/{hand,stls,textures}/...
# .cargo/config.toml points mujoco-rs at the library; the MuJoCo plugin's build script adds
# an rpath, so binaries and tests run from any directory without LD_LIBRARY_PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEPS="$ROOT/.deps"
MJ="$DEPS/mujoco-3.17.0"
ASSETS="$DEPS/assets"

MUJOCO_WHEEL=mujoco-3.17.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl
MUJOCO_SHA=d66928d86a2d1b601bbaa4dc11db50214d17d5301bb8afd84721313b67ff0874
LIB_SHA=23496b023ee80fb61ab71167e94bc649f9941710fde96b18bb8204fb332523ad  # libmujoco.so.3.17.0, checked after extraction and on every run
GYM_WHEEL=gymnasium-1.4.0-py3-none-any.whl
GYM_SHA=1cb947c59e7c72d8eabb2c2274c00cd20948e69f8452a9ef4092223be24fdf0e
ROBOTICS_WHEEL=gymnasium_robotics-1.4.2-py3-none-any.whl
ROBOTICS_SHA=a1743530431cb377e6b3b956d284bc96436fc68bac1648ef205054c178e7dc4b

# Installed means: the marker of a completed install and the files it vouches for.
mujoco_ok() {
    [[ -e "$MJ/.done" && -L "$MJ/lib/libmujoco.so" && -e "$MJ/lib/libmujoco.so.3.17.0" ]] &&
        sha256sum "$MJ/lib/libmujoco.so.3.17.0" | grep -q "^$LIB_SHA "
}
assets_ok() {
    [[ -e "$ASSETS/.done" && -e "$ASSETS/gymnasium/envs/mujoco/assets/half_cheetah.xml" &&
        -e "$ASSETS/gymnasium_robotics/envs/assets/hand/shared.xml" ]]
}
if mujoco_ok && assets_ok; then
    exit 0
fi
command -v python3 >/dev/null || { echo "setup-mujoco: python3 is needed to fetch MuJoCo from PyPI" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Downloads one wheel with pip (the registry is the only source) and checks its hash.
fetch() {
    local spec=$1 file=$2 sha=$3
    python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check -q \
        --python-version 3.11 --platform manylinux_2_28_x86_64 -d "$tmp" "$spec"
    echo "$sha  $tmp/$file" | sha256sum --check --quiet - || {
        echo "setup-mujoco: $file does not have the pinned sha256 $sha" >&2
        exit 1
    }
}

if ! mujoco_ok; then
    echo "setup-mujoco: installing MuJoCo 3.17.0 into $MJ"
    fetch mujoco==3.17.0 "$MUJOCO_WHEEL" "$MUJOCO_SHA"
    rm -rf "$MJ"
    python3 - "$tmp/$MUJOCO_WHEEL" "$MJ" <<'PY'
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name == "mujoco/libmujoco.so.3.17.0":
            target = f"{out}/lib/libmujoco.so.3.17.0"
        elif name.startswith("mujoco/include/mujoco/") and not name.endswith("/"):
            target = f"{out}/include/{name[len('mujoco/include/'):]}"
        else:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(z.read(name))
PY
    sha256sum "$MJ/lib/libmujoco.so.3.17.0" | grep -q "^$LIB_SHA " || {
        echo "setup-mujoco: the extracted libmujoco.so.3.17.0 has an unexpected hash" >&2
        exit 1
    }
    # mujoco-rs links against a file named exactly libmujoco.so; the wheel has none.
    ln -sf libmujoco.so.3.17.0 "$MJ/lib/libmujoco.so"
    touch "$MJ/.done"
fi

if ! assets_ok; then
    echo "setup-mujoco: installing the Gymnasium and Gymnasium-Robotics MJCF assets into $ASSETS"
    fetch gymnasium==1.4.0 "$GYM_WHEEL" "$GYM_SHA"
    fetch gymnasium-robotics==1.4.2 "$ROBOTICS_WHEEL" "$ROBOTICS_SHA"
    rm -rf "$ASSETS"
    python3 - "$ASSETS" "$tmp/$GYM_WHEEL" "$tmp/$ROBOTICS_WHEEL" <<'PY'
import os, sys, zipfile
out, wheels = sys.argv[1], sys.argv[2:]
keep = ("gymnasium/envs/mujoco/assets/", "gymnasium_robotics/envs/assets/")
for wheel in wheels:
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.startswith(keep) and not name.endswith("/"):
                target = os.path.join(out, name)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as f:
                    f.write(z.read(name))
PY
    touch "$ASSETS/.done"
fi
