#!/usr/bin/env bash
# Make sure the browser test (tests/test_book_site.py) has what it needs: Debian's headless
# Chromium, its WebDriver, and a font with Hangul (otherwise Korean pages and plots show
# boxes). Installs the missing ones with apt; never downloads a browser from anywhere else.
set -euo pipefail

CHROMIUM=${BERTNLI_CHROMIUM:-/usr/bin/chromium}
DRIVER=${BERTNLI_CHROMEDRIVER:-/usr/bin/chromedriver}

packages=()
if [ ! -x "$CHROMIUM" ] || [ ! -x "$DRIVER" ]; then
    packages+=(chromium chromium-driver)
fi
fonts=$(fc-list 2>/dev/null || true)   # (not piped into grep -q: with pipefail that can fail spuriously)
if [[ "$fonts" != *"Noto Sans CJK"* ]]; then
    packages+=(fonts-noto-cjk)
fi

if [ ${#packages[@]} -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "ensure_chromium: missing ${packages[*]} and apt-get is not available; install Chromium," >&2
        echo "its chromedriver and a Hangul font with your package manager, or set" >&2
        echo "BERTNLI_CHROMIUM / BERTNLI_CHROMEDRIVER to the binaries' paths." >&2
        exit 1
    fi
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    # matplotlib lists the system fonts once and caches the list: forget it so the new
    # Hangul font is seen by the notebooks' plots.
    if [[ " ${packages[*]} " == *" fonts-noto-cjk "* ]]; then
        rm -f "${MPLCONFIGDIR:-$HOME/.cache/matplotlib}"/fontlist-*.json
    fi
    echo "installed: ${packages[*]}"
fi
echo "chromium: $("$CHROMIUM" --version 2>/dev/null) | $("$DRIVER" --version 2>/dev/null | head -n1)"
