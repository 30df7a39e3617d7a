#!/usr/bin/env bash
# The GPU device check: the WebGPU backend on a lent GPU machine, in one short call.
#
#   scripts/device-check.sh prepare   # here, after install: builds .device/ (git-ignored, ~50 MB)
#   scripts/device-check.sh run       # there: reports the adapter, runs the backend parity suites
#                                     # against cpu, a provoked shader error and timed training steps;
#                                     # writes $OUT/device-check.json and $OUT/device-check.log
#
# .device/ holds everything the run needs, so the machine needs nothing but a shell and python3:
#   bundle/   the check (scripts/device-check/main.ts + the parity cases + @sign sources + tfjs,
#             one CommonJS file), the wasm binaries, Dawn (the `webgpu` package, linux-x64 only)
#   node.xz   this machine's Node binary (from its Debian package), used when the other machine
#             has no Node >= 20
#   gl/       the Vulkan and EGL loaders as Debian packages (libvulkan1, libegl1, libglvnd0, …),
#             unpacked there only where an NVIDIA driver is present and no loader is
#
# With the `device` tool (see .library/device/README.md): prepare here, then
#   run(command: "bash scripts/device-check.sh run", carry: [".device"], timeout_s: 480)
# A dry run here (software adapter: llvmpipe through OpenGL ES): OUT=/tmp/dc scripts/device-check.sh run
# (SIGN_DEVICE_NODE=carried uses the carried Node even where one is installed).
set -euo pipefail
cd "$(dirname "$0")/.."
D=.device

prepare() {
  rm -rf "$D" && mkdir -p "$D/gl"
  node scripts/device-check/build.mjs "$D/bundle"
  node_bin=$(command -v node)
  if [[ "$(uname -m)" == "x86_64" ]]; then  # the lent machines are x86-64
    xz -T2 -6 -c "$node_bin" > "$D/node.xz"
    node --version > "$D/node.version"
  fi
  # Loaders for the GPU driver's ICDs (the device README's list), from Debian packages.
  (cd "$D/gl" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null 2>&1) ||
    echo "device-check: apt-get download of the GL loaders failed; the run will use the machine's own"
  du -sh "$D"/* | sed "s/^/device-check: /"
  total=$(du -sm "$D" | cut -f1)
  if (( total > 60 )); then echo "device-check: .device is ${total} MB, over the 64 MiB a device call carries" >&2; exit 1; fi
}

# Node >= 20 on this machine, else the carried one.
pick_node() {
  if [[ "${SIGN_DEVICE_NODE:-}" != "carried" ]] && command -v node >/dev/null 2>&1 && [[ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]]; then
    echo node
    return
  fi
  local n=/tmp/sign-device-node
  if [[ ! -x $n ]]; then
    if command -v xz >/dev/null 2>&1; then xz -dc "$D/node.xz" > $n; else python3 -c "import lzma,sys,shutil; shutil.copyfileobj(lzma.open('$D/node.xz'), open('$n','wb'))"; fi
    chmod +x $n
  fi
  echo $n
}

run() {
  local out=${OUT:-$PWD/$D/out}
  mkdir -p "$out"
  [[ -f "$D/bundle/device-check.cjs" ]] || { echo "device-check: $D/bundle is missing: run 'scripts/device-check.sh prepare' first (and carry $D)" >&2; exit 2; }
  local nvidia=false
  if command -v nvidia-smi >/dev/null 2>&1 || [[ -d /usr/local/nvidia ]]; then nvidia=true; fi
  # The GPU driver brings its ICDs; the loaders may be missing from the image: unpack them (only
  # on such a machine, never on a developer's).
  if $nvidia && ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
    for f in "$D"/gl/*.deb; do [[ -f $f ]] && dpkg -x "$f" /; done
    ldconfig || true
  fi
  if [[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json && -z "${VK_DRIVER_FILES:-}" ]]; then
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  fi
  if [[ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json && -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ]]; then
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  fi
  # Dawn opens EGL as libEGL.so (the name Debian's -dev package provides): point it at libEGL.so.1.
  local egl
  egl=$(ldconfig -p | awk '/libEGL.so.1 .*x86-64/ {print $NF; exit}')
  if [[ -n "$egl" ]] && ! ldconfig -p | grep -q 'libEGL.so '; then
    mkdir -p /tmp/sign-device-lib && ln -sf "$egl" /tmp/sign-device-lib/libEGL.so
    export LD_LIBRARY_PATH=/tmp/sign-device-lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  fi
  local node_bin
  node_bin=$(pick_node)
  echo "device-check: node $($node_bin --version) ($node_bin), nvidia driver: $nvidia"
  set +e
  "$node_bin" "$D/bundle/device-check.cjs" --out "$out/device-check.json" "$@" 2>&1 | tee "$out/device-check.log"
  local rc=${PIPESTATUS[0]}
  set -e
  echo "device-check: exit $rc; $out/device-check.json"
  return "$rc"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) echo "usage: scripts/device-check.sh prepare|run [--steps N] [--skip-parity] [--time webgpu,wasm,cpu]" >&2; exit 2 ;;
esac
