#!/usr/bin/env bash
# Create or refresh the tool virtualenv (.venv/ by default) from the pinned
# requirement files in tests/requirements/.
#
# Idempotent: a stamp file inside the venv records a hash of the Python
# version, of every requirement file and of this script; when it matches,
# nothing is done.
#
# The installers' output goes to .build/logs/bootstrap-venv.log (printed whole
# when it fails in CI, its end elsewhere).
#
# Environment:
#   VENV    path of the virtualenv (default: <repo>/.venv)
#   PYTHON  interpreter to build it with (default: a Python 3.11 found on
#           PATH or under pyenv)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VENV:-${repo_root}/.venv}"
req_dir="${repo_root}/tests/requirements"
want_version="3.11"

log() { printf 'bootstrap-venv: %s\n' "$*" >&2; }

find_python() {
    local candidate
    if [[ -n "${PYTHON:-}" ]]; then
        printf '%s\n' "${PYTHON}"
        return 0
    fi
    # print the base interpreter, never one inside a venv (ours may be on PATH)
    local probe='import sys; assert sys.version_info[:2] == (3, 11); print(getattr(sys, "_base_executable", sys.executable))'
    for candidate in "python${want_version}" python3; do
        if command -v "${candidate}" >/dev/null 2>&1 \
            && "${candidate}" -c "${probe}" 2>/dev/null; then
            return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        for candidate in "$(pyenv root)/versions/${want_version}".*/bin/python"${want_version}"; do
            if [[ -x "${candidate}" ]]; then
                printf '%s\n' "${candidate}"
                return 0
            fi
        done
    fi
    return 1
}

python_bin="$(find_python)" || {
    log "no Python ${want_version} interpreter found (set PYTHON=/path/to/python3.11)"
    exit 1
}

installer_req="${req_dir}/installer.txt"
tools_req="${req_dir}/tools.txt"

stamp="${venv}/.upsun-support-stamp"
want_stamp="$(
    {
        "${python_bin}" -c 'import sys; print(sys.version)'
        cat "${installer_req}" "${tools_req}" "${BASH_SOURCE[0]}"
    } | sha256sum | cut -d' ' -f1
)"

if [[ -x "${venv}/bin/python" && -f "${stamp}" && "$(cat "${stamp}")" == "${want_stamp}" ]]; then
    exit 0
fi

log "creating ${venv} with ${python_bin} ($("${python_bin}" -V 2>&1))"
start=${SECONDS}
rm -rf "${venv}"
"${python_bin}" -m venv "${venv}"

# shellcheck source=scripts/install-log.sh
. "${repo_root}/scripts/install-log.sh"
new_install_log "${repo_root}" bootstrap-venv
pip_install() {
    "${venv}/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off "$@" \
        >>"${install_log}" 2>&1
}

# uv installs the ~110 pinned packages in seconds; plain pip is the fallback.
installed=""
if [[ "${BOOTSTRAP_NO_UV:-0}" != 1 ]] && pip_install -r "${installer_req}"; then
    log "installing ${tools_req#"${repo_root}/"} with uv (log: ${install_log#"${repo_root}/"})"
    # uv reads neither pip.conf nor the system certificate store by default
    if [[ -n "${PIP_INDEX_URL:-}" && -z "${UV_DEFAULT_INDEX:-}${UV_INDEX_URL:-}" ]]; then
        export UV_DEFAULT_INDEX="${PIP_INDEX_URL}"
    fi
    # --compile-bytecode: pip writes .pyc files at install and uv does not; without them every
    # `ansible` run (and every module importing requests) compiles those packages again
    # whenever PYTHONDONTWRITEBYTECODE is set, as it is on this project's machines.
    if UV_NATIVE_TLS=1 UV_LINK_MODE=copy UV_NO_PROGRESS=1 \
        "${venv}/bin/uv" pip install --compile-bytecode --python "${venv}/bin/python" -r "${tools_req}" \
        >>"${install_log}" 2>&1; then
        installed=uv
    else
        show_install_log "uv pip install"
        log "falling back to pip"
    fi
fi
if [[ -z "${installed}" ]]; then
    log "installing ${tools_req#"${repo_root}/"} with pip (log: ${install_log#"${repo_root}/"})"
    if ! pip_install -r "${tools_req}"; then
        show_install_log "pip install"
        exit 1
    fi
fi
if ! "${venv}/bin/python" -m pip check >>"${install_log}" 2>&1; then
    show_install_log "pip check"
    exit 1
fi
printf '%s\n' "${want_stamp}" > "${stamp}"
log "done in $((SECONDS - start)) s"
