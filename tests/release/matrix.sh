#!/usr/bin/env bash
# Run ansible-test sanity and units against one ansible-core release and Python.
#
#   tests/release/matrix.sh oldest            the floor of meta/runtime.yml's requires_ansible (2.16.x) on Python 3.11
#   tests/release/matrix.sh newest            the newest ansible-core release on Python 3.12
#   tests/release/matrix.sh NAME SPEC PYTHON  any other pair, e.g.
#       tests/release/matrix.sh core218 'ansible-core>=2.18,<2.19' python3.11
#
# For each, a venv .venv-NAME/ (git-ignored by the .venv-* pattern) is made with
# PYTHON and `pip install --upgrade SPEC` (a no-op when it is current; delete the
# venv to start over; pip's output goes to .build/logs/matrix-NAME-pip.log),
# then scripts/ansible-test.sh runs from it, exactly as
# `make sanity` and `make units` do, on its own copy of the collection under
# .build/matrix-NAME/ so that it never disturbs (or is disturbed by) the copy
# of the main .venv.  Both steps run even when the first fails; the script
# prints their timings and exits non-zero if either failed.
#
# Needs scripts/ansible-test.sh to honour ANSIBLE_TEST_BOOTSTRAP=0 (do not
# rebuild $VENV from tests/requirements/tools.txt) and COPY_ROOT (where the
# copy goes, as scripts/sync-copy.sh does); it refuses to run otherwise.
#
# Environment:
#   MATRIX_SANITY_ARGS  extra arguments for `ansible-test sanity` (default: none)
#   MATRIX_UNITS_ARGS   extra arguments for `ansible-test units` (default: none)
#   MATRIX_ALL_PYTHONS  1 to run the multi-version sanity tests (compile, import) on every
#                       Python that pyenv has, as `make sanity` does; default 0: only PYTHON
#   MATRIX_STEPS        which steps to run (default: "sanity units")
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

log() { printf 'matrix.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

usage() {
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

pyenv_python() {
    # The highest installed pyenv patch release of Python $1 (X.Y), if any.
    local root best
    command -v pyenv >/dev/null 2>&1 || return 1
    root="$(pyenv root)"
    best="$(printf '%s\n' "${root}/versions/$1".*/bin/"python$1" | sort -V | tail -n 1)"
    [[ -x "${best}" ]] || return 1
    printf '%s\n' "${best}"
}

find_python() {
    # $1: X.Y; a pythonX.Y on PATH that really is X.Y (pyenv shims may lie), else pyenv's.
    local candidate
    for candidate in "python$1" python3; do
        if command -v "${candidate}" >/dev/null 2>&1 \
            && "${candidate}" -c "import sys; sys.exit('%d.%d' % sys.version_info[:2] != '$1')" >/dev/null 2>&1; then
            command -v "${candidate}"
            return 0
        fi
    done
    pyenv_python "$1"
}

case "$#:${1:-}" in
    1:oldest)
        name=oldest
        # The X.Y of requires_ansible's ">=X.Y.Z" floor: the oldest release the collection admits.
        floor="$(sed -n 's/^requires_ansible: *["'"'"']\{0,1\}>= *\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p' \
            "${repo_root}/meta/runtime.yml")"
        read -r floor_major floor_minor <<<"${floor}"
        [[ -n "${floor_minor:-}" ]] || die "meta/runtime.yml: no requires_ansible: \">=X.Y.Z\" floor found"
        spec="ansible-core>=${floor_major}.${floor_minor},<${floor_major}.$((floor_minor + 1))"
        python="$(find_python 3.11)" || die "no Python 3.11 found"
        ;;
    1:newest)
        name=newest
        spec='ansible-core'
        python="$(find_python 3.12)" || die "no Python 3.12 found (pyenv install 3.12)"
        ;;
    3:*)
        name="$1"
        spec="$2"
        python="$(command -v "$3" || true)"
        [[ -n "${python}" ]] || die "no such Python: $3"
        ;;
    *)
        usage
        ;;
esac
[[ "${name}" =~ ^[A-Za-z0-9._-]+$ ]] || die "NAME may only have letters, digits, '.', '_' and '-': ${name}"

ansible_test_sh="${repo_root}/scripts/ansible-test.sh"
if ! grep -q 'ANSIBLE_TEST_BOOTSTRAP' "${ansible_test_sh}" || ! grep -q 'COPY_ROOT:-' "${ansible_test_sh}"; then
    die "scripts/ansible-test.sh does not support ANSIBLE_TEST_BOOTSTRAP=0 and COPY_ROOT yet;" \
        "without them it would rebuild .venv-${name} from tests/requirements/tools.txt and test the wrong ansible-core."
fi

venv="${repo_root}/.venv-${name}"
copy_root="${repo_root}/.build/matrix-${name}/ansible_collections/upsun/support"
py_version="$("${python}" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

# 1. the venv: PYTHON + SPEC
start=${SECONDS}
if [[ ! -x "${venv}/bin/python" ]] \
    || [[ "$("${venv}/bin/python" -c 'import sys; print(sys.version)')" != "$("${python}" -c 'import sys; print(sys.version)')" ]]; then
    log "creating ${venv#"${repo_root}/"} with ${python} (Python $("${python}" -c 'import platform; print(platform.python_version())'))"
    rm -rf "${venv}"
    "${python}" -m venv "${venv}"
fi
# shellcheck source=scripts/install-log.sh
. "${repo_root}/scripts/install-log.sh"
new_install_log "${repo_root}" "matrix-${name}-pip"
if ! "${venv}/bin/python" -m pip install --disable-pip-version-check --no-input --progress-bar off \
    --upgrade "${spec}" >>"${install_log}" 2>&1; then
    show_install_log "pip install ${spec}"
    exit 2
fi
core_version="$("${venv}/bin/python" -c 'from ansible.release import __version__; print(__version__)')"
venv_seconds=$((SECONDS - start))
log "${name}: ansible-core ${core_version} on Python ${py_version} (venv ready in ${venv_seconds} s)"

# 2. the steps, through scripts/ansible-test.sh with this venv
export VENV="${venv}" ANSIBLE_TEST_BOOTSTRAP=0 COPY_ROOT="${copy_root}"
if [[ "${MATRIX_ALL_PYTHONS:-0}" != 1 ]]; then
    export ANSIBLE_TEST_ALL_PYENV=0
    # ansible-test finds pythonX.Y on PATH: make sure the one of the venv is first.
    PATH="${venv}/bin:${PATH}"
fi
read -r -a sanity_args <<<"${MATRIX_SANITY_ARGS:-}"
read -r -a units_args <<<"${MATRIX_UNITS_ARGS:-}"
read -r -a steps <<<"${MATRIX_STEPS:-sanity units}"
python_args=(--python "${py_version}")
if [[ "${MATRIX_ALL_PYTHONS:-0}" == 1 ]]; then
    python_args=()
fi

declare -A result=() took=()
failed=0
for step in "${steps[@]}"; do
    start=${SECONDS}
    case "${step}" in
        sanity)
            cmd=(sanity --venv --requirements "${python_args[@]}" --color no --truncate 0 "${sanity_args[@]}")
            ;;
        units)
            rm -rf "${copy_root}/tests/output/junit"
            cmd=(units --venv --requirements --python "${py_version}" --color no --truncate 0 "${units_args[@]}")
            ;;
        *)
            die "unknown step ${step} (sanity, units)"
            ;;
    esac
    log "${name}: ansible-test ${cmd[*]}"
    if "${ansible_test_sh}" "${cmd[@]}"; then
        result[${step}]=passed
    else
        result[${step}]="FAILED (exit $?)"
        failed=1
    fi
    took[${step}]=$((SECONDS - start))
done

printf '\n== matrix %s: ansible-core %s, Python %s\n' "${name}" "${core_version}" "${py_version}"
printf '   %-8s %4d s  %s\n' venv "${venv_seconds}" ready
for step in "${steps[@]}"; do
    printf '   %-8s %4d s  %s\n' "${step}" "${took[${step}]}" "${result[${step}]}"
done
exit "${failed}"
