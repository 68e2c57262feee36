#!/usr/bin/env bash
# Browser for the UI tests: Debian chromium and a CJK font (without one, Chinese renders as boxes).
# Idempotent and quick when both are present; runs `apt-get update` only when something is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
if ! { dpkg-query -W -f='${Status}' fonts-wqy-microhei 2>/dev/null | grep -q "install ok installed"; } \
   && ! ls /usr/share/fonts/truetype/wqy/wqy-microhei.ttc >/dev/null 2>&1; then
  missing+=(fonts-wqy-microhei)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "[install-browser] need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo -E"
fi
echo "[install-browser] installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Refresh the font cache so a freshly installed font is seen by the next browser start.
command -v fc-cache >/dev/null && fc-cache -f >/dev/null 2>&1 || true
[ -x /usr/bin/chromium ] || { echo "[install-browser] /usr/bin/chromium is still missing" >&2; exit 1; }
echo "[install-browser] done"
