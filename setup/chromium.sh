# Installs Debian's Chromium for the browser test of the HTML report when
# it is missing. Source it from bash after setup/env.sh.
if ! command -v chromium >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "setup: installing chromium (Debian package) for the browser test" >&2
        apt-get update -qq >/dev/null && \
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
            { echo "setup: could not install chromium" >&2; return 1 2>/dev/null || exit 1; }
    else
        echo "setup: chromium is missing; install Debian's chromium package to run the browser test" >&2
    fi
fi
