#!/usr/bin/env bash
# Installs what the `mpi` build feature needs: Open MPI (library, headers, mpirun) and libclang
# (rsmpi generates its bindings with bindgen at build time). Idempotent: installs nothing when
# both are present. Debian/Ubuntu, as root (or with sudo).
set -euo pipefail

have_mpi() { command -v mpicc >/dev/null && command -v mpirun >/dev/null; }
have_libclang() { compgen -G "/usr/lib/llvm-*/lib/libclang*.so*" >/dev/null || compgen -G "/usr/lib/*/libclang*.so*" >/dev/null; }

if have_mpi && have_libclang; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup-mpi: need root (or sudo) to install Open MPI and libclang with apt" >&2; exit 1; }
    sudo=sudo
fi
echo "setup-mpi: installing Open MPI and libclang with apt (about a minute)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libopenmpi-dev openmpi-bin libclang-dev >/dev/null
have_mpi && have_libclang || { echo "setup-mpi: Open MPI or libclang is still missing after apt-get" >&2; exit 1; }
