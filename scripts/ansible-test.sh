#!/usr/bin/env bash
# Run the venv's ansible-test against a copy of the collection.
#
# ansible-test insists on running from a directory whose real path ends in
# ansible_collections/<namespace>/<name>, so this script:
#   1. makes sure the tool venv exists (scripts/bootstrap-venv.sh),
#   2. copies the git-tracked and untracked-but-not-ignored files into
#      .build/ansible_collections/upsun/support (stale files are removed,
#      the copy's tests/output/ is kept as a cache; the copy is an empty git
#      repository of its own so that ansible-test lists its files),
#   3. installs an offline stand-in for the get-pip.py script that ansible-test
#      would otherwise download from a host that is not a package registry
#      (pip's output of each venv bootstrap goes to .build/logs/get-pip.log),
#   4. makes every pyenv-installed Python version that ansible-test supports
#      reachable as pythonX.Y (pyenv's shims otherwise answer "command not found"
#      for versions that are not active),
#   5. runs `ansible-test "$@"` from the copy.
# Results land in .build/ansible_collections/upsun/support/tests/output/.
#
# Environment:
#   VENV                    tool venv (default: <repo>/.venv)
#   ANSIBLE_TEST_ALL_PYENV  0 to not expose the other pyenv Python versions
#   ANSIBLE_TEST_BOOTSTRAP  0 to use $VENV as it is (not rebuilt from tests/requirements)
#   COPY_ROOT               where the copy goes (default: .build/ansible_collections/upsun/support)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VENV:-${repo_root}/.venv}"
copy_root="${COPY_ROOT:-${repo_root}/.build/ansible_collections/upsun/support}"
export COPY_ROOT="${copy_root}"  # for scripts/sync-copy.sh

log() { printf 'ansible-test.sh: %s\n' "$*" >&2; }

# 1. tool venv (tests/release/matrix.sh brings its own: ANSIBLE_TEST_BOOTSTRAP=0)
if [[ "${ANSIBLE_TEST_BOOTSTRAP:-1}" != 0 ]]; then
    VENV="${venv}" "${repo_root}/scripts/bootstrap-venv.sh"
fi

# 2. fresh copy of the collection
"${repo_root}/scripts/sync-copy.sh"

# 3. offline get-pip.py stand-in, one per pip version ansible-test bootstraps,
#    with the wheels it asks for (pip, and setuptools/wheel on older ansible-test;
#    from PyPI, once) beside it and pip's wheel unpacked
install_get_pip_standin() {
    local cache_dir="${HOME}/.ansible/test/cache"
    local standin="${repo_root}/scripts/get_pip_standin.py"
    local pip_version specs target wheel_dir tmp wheel
    mkdir -p "${cache_dir}"
    while IFS=' ' read -r pip_version specs; do
        target="${cache_dir}/get_pip_${pip_version//./_}.py"
        if [[ ! -e "${target}" ]]; then
            log "installing offline get-pip stand-in as ${target}"
            cp "${standin}" "${target}"
        elif grep -q 'Offline stand-in for the get-pip.py' "${target}" \
            && ! cmp -s "${standin}" "${target}"; then
            log "refreshing offline get-pip stand-in ${target}"
            cp "${standin}" "${target}"
        fi
        wheel_dir="${cache_dir}/pip-${pip_version}"
        if [[ ! -d "${wheel_dir}/unpacked/pip" || "$(cat "${wheel_dir}/requested" 2>/dev/null)" != "${specs}" ]]; then
            log "fetching ${specs} for the stand-in into ${wheel_dir}"
            tmp="$(mktemp -d "${cache_dir}/.pip-${pip_version}.XXXXXX")"
            # the wheel's tag varies: pip 20.x is py2.py3-none-any, later ones py3-none-any
            # shellcheck disable=SC2086 # specs: one word per requirement
            if "${venv}/bin/python" -m pip download --disable-pip-version-check --quiet --no-deps \
                    --only-binary :all: --dest "${tmp}" ${specs} >"${tmp}.log" 2>&1 \
                && wheel="$(compgen -G "${tmp}/pip-${pip_version}-*.whl")" \
                && "${venv}/bin/python" -m zipfile -e "${wheel}" "${tmp}/unpacked"; then
                printf '%s\n' "${specs}" > "${tmp}/requested"
                rm -rf "${wheel_dir}"
                mv "${tmp}" "${wheel_dir}"
            else
                # the stand-in then falls back to ensurepip + pip install
                grep -v "^WARNING: Location 'file:" "${tmp}.log" >&2 || true
                log "WARNING: could not fetch ${specs}; venv bootstraps will be slower"
                rm -rf "${tmp}"
            fi
            rm -f "${tmp}.log"
        fi
    done < <("${venv}/bin/python" - <<'PY'
from ansible_test._internal.python_requirements import get_venv_packages
from ansible_test._util.target.common.constants import CONTROLLER_PYTHON_VERSIONS, REMOTE_ONLY_PYTHON_VERSIONS


class _Python:  # pylint: disable=too-few-public-methods
    def __init__(self, version):
        self.version = version


# one line per package set: the pip version, then every requirement of the set (pip==..., setuptools==..., ...)
sets = set()
for version in REMOTE_ONLY_PYTHON_VERSIONS + CONTROLLER_PYTHON_VERSIONS:
    packages = get_venv_packages(_Python(version))
    sets.add((packages['pip'], ' '.join('%s==%s' % item for item in sorted(packages.items()))))
print('\n'.join('%s %s' % item for item in sorted(sets)))
PY
    )
}
install_get_pip_standin
mkdir -p "${repo_root}/.build/logs"
: >"${repo_root}/.build/logs/get-pip.log"

# 4. working pythonX.Y for every supported version pyenv has
expose_pyenv_pythons() {
    local root version dir
    local -a found=()
    command -v pyenv >/dev/null 2>&1 || return 0
    root="$(pyenv root)"
    dir="${repo_root}/.build/python-bin"
    rm -rf "${dir}"
    mkdir -p "${dir}"
    while IFS= read -r version; do
        local candidates=("${root}/versions/${version}".*/bin/"python${version}")
        # highest patch release installed (glob order is lexical, so sort -V)
        local best
        best="$(printf '%s\n' "${candidates[@]}" | sort -V | tail -n 1)"
        if [[ -x "${best}" ]]; then
            # a wrapper, not a symlink: Python locates its stdlib from its real path
            printf '#!/bin/sh\nexec %q "$@"\n' "${best}" > "${dir}/python${version}"
            chmod +x "${dir}/python${version}"
            found+=("${version}")
        fi
    done < <("${venv}/bin/python" -c '
from ansible_test._util.target.common.constants import CONTROLLER_PYTHON_VERSIONS, REMOTE_ONLY_PYTHON_VERSIONS
print("\n".join(REMOTE_ONLY_PYTHON_VERSIONS + CONTROLLER_PYTHON_VERSIONS))')
    if ((${#found[@]})); then
        PATH="${dir}:${PATH}"
        export PATH
        log "Python versions available to ansible-test: ${found[*]}"
    fi
}
if [[ "${ANSIBLE_TEST_ALL_PYENV:-1}" != 0 ]]; then
    expose_pyenv_pythons
fi

# 5. run
cd "${copy_root}"
log "running: ansible-test $*"
exec "${venv}/bin/ansible-test" "$@"
