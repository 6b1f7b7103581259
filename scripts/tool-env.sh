# shellcheck shell=bash
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Sourced by the scripts that run Ansible from the tool venv against this checkout (demo.sh, sandbox.sh, bench.sh).
#
#   use_tool_env NAME HINT
#   start_sandbox NAME [SANDBOX OPTION...]
#
# Sets repo_root, venv ($VENV, default .venv) and python; exits with a message naming NAME and HINT (what
# to run) when the venv or the collections/ link to this checkout is missing; puts the venv first on PATH
# and points PYTHONPATH at the sandbox and ANSIBLE_COLLECTIONS_PATH at collections/.
#
# start_sandbox starts the offline sandbox (after use_tool_env) on a free port, or SANDBOX_PORT, in the background;
# sets work (a scratch directory), sandbox_pid and url; stops the sandbox and removes work on exit; exits with a
# message naming NAME when the sandbox does not start.

use_tool_env() {
    local name="$1" hint="$2"
    repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
    venv="${VENV:-${repo_root}/.venv}"
    python="${venv}/bin/python"
    if [[ ! -x "${python}" ]]; then
        echo "${name}: no virtualenv at ${venv}; ${hint}" >&2
        exit 1
    fi
    if [[ ! -e "${repo_root}/collections/ansible_collections/upsun/support" ]]; then
        echo "${name}: collections/ansible_collections/upsun/support is missing; ${hint}" >&2
        exit 1
    fi
    export PATH="${venv}/bin:${PATH}"
    export PYTHONPATH="${repo_root}/tests/sandbox"
    export ANSIBLE_COLLECTIONS_PATH="${repo_root}/collections"
}

start_sandbox() {
    local name="$1"
    shift
    work="$(mktemp -d)"
    sandbox_pid=""
    trap stop_sandbox EXIT
    # The sandbox prints its URL on one line as soon as it listens.
    "${python}" -m upsun_sandbox --port "${SANDBOX_PORT:-0}" "$@" >"${work}/url" &
    sandbox_pid=$!
    url=""
    for _ in {1..150}; do
        if [[ -s "${work}/url" ]]; then
            read -r url <"${work}/url"
            break
        fi
        if ! kill -0 "${sandbox_pid}" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if [[ "${url}" != http* ]]; then
        echo "${name}: the sandbox did not start" >&2
        exit 1
    fi
}

stop_sandbox() {
    if [[ -n "${sandbox_pid:-}" ]]; then
        kill "${sandbox_pid}" 2>/dev/null || true
        wait "${sandbox_pid}" 2>/dev/null || true
    fi
    rm -rf "${work:-}"
}
