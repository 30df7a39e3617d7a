#!/usr/bin/env bash
# pnpm webgpu:setup — installs, from Debian packages, what the WebGPU backend needs to run without a
# GPU: Dawn's OpenGL ES backend on Mesa's llvmpipe (software rendering through EGL). Installs
# nothing when everything is there (prints what it found); needs root (apt-get) only when
# something is missing. CI runs it from .ci/run.
#
#   libegl1          libEGL.so.1, the EGL dispatcher (glvnd)
#   libegl-mesa0     Mesa's EGL (libEGL_mesa.so.0), which offers a surfaceless display
#   libgl1-mesa-dri  llvmpipe, Mesa's software rasterizer (swrast_dri.so)
#   libegl-dev       libEGL.so: Dawn opens EGL by this unversioned name
#
# A GPU with a Vulkan or EGL driver needs none of this (its driver brings both). Faster software
# Vulkan (lavapipe) needs Mesa >= 23: see the README's GPU section.
set -euo pipefail

PACKAGES=(libegl1 libegl-mesa0 libgl1-mesa-dri libegl-dev)
check_only=false
[[ "${1:-}" == "--check" ]] && check_only=true

if [[ "$(uname -s)" != "Linux" ]]; then
  echo "webgpu:setup: nothing to do on $(uname -s) (Dawn uses Metal or Direct3D there)"
  exit 0
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "webgpu:setup: not a Debian-based system; install your distribution's EGL and Mesa (llvmpipe) packages:"
  echo "  what is needed: libEGL.so (Dawn opens this name), Mesa's EGL and its swrast/llvmpipe driver"
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    echo "webgpu:setup: $p $(dpkg-query -W -f='${Version}' "$p") (present)"
  else
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "webgpu:setup: nothing to install"
  exit 0
fi
echo "webgpu:setup: missing: ${missing[*]}"
if $check_only; then
  exit 1
fi
if [[ "$(id -u)" != "0" ]]; then
  echo "webgpu:setup: run as root, or: sudo apt-get install -y --no-install-recommends ${missing[*]}"
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "webgpu:setup: installed ${missing[*]}"
