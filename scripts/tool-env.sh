# shellcheck shell=bash
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Sourced by the scripts that run Ansible from the tool venv against this checkout (demo.sh, bench.sh).
#
#   use_tool_env NAME HINT
#
# Sets repo_root, venv ($VENV, default .venv) and python; exits with a message naming NAME and HINT (what
# to run) when the venv or the collections/ link to this checkout is missing; puts the venv first on PATH
# and points PYTHONPATH at the sandbox and ANSIBLE_COLLECTIONS_PATH at collections/.

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
