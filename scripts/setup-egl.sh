#!/usr/bin/env bash
# Installs what camera vision of the hand tasks needs at run time: libEGL and Mesa's drivers
# (llvmpipe draws offscreen on the CPU when there is no GPU). The MuJoCo plugin opens EGL with
# dlopen, so building needs none of this; only rendering does. Idempotent: installs nothing
# when both are present. Debian/Ubuntu, as root (or with sudo).
set -euo pipefail

have_egl() { ldconfig -p | grep -q "libEGL.so.1 " && ldconfig -p | grep -q "libEGL_mesa.so.0 "; }
have_dri() { compgen -G "/usr/lib/*/dri/swrast_dri.so" >/dev/null; }

if have_egl && have_dri; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup-egl: need root (or sudo) to install libEGL and Mesa with apt" >&2; exit 1; }
    sudo=sudo
fi
echo "setup-egl: installing libEGL and Mesa's drivers with apt" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libegl1 libegl-mesa0 libgl1-mesa-dri >/dev/null
have_egl && have_dri || { echo "setup-egl: libEGL or Mesa's swrast driver is still missing after apt-get" >&2; exit 1; }
