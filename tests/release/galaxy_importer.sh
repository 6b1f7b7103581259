#!/usr/bin/env bash
# Release check: run galaxy-importer, the checker that Galaxy and Automation Hub run on every uploaded collection, on
# the release tarball, offline, and fail on any warning or error it reports.
#
#   tests/release/galaxy_importer.sh            build the tarball of the work tree, then check it
#   tests/release/galaxy_importer.sh TARBALL    check that tarball (upsun-support-X.Y.Z.tar.gz)
#
# galaxy-importer is configured as the stricter servers are (config written to a scratch directory; no
# GALAXY_IMPORTER_* variable of the caller is let through):
#   require_v1_or_greater = True   the version must be 1.0.0 or later
#   check_required_tags   = True   galaxy.yml's tags must hold one of Galaxy's required tags (cloud, tools, ...)
#   run_ansible_doc       = True   every plugin's documentation is loaded, as the Galaxy docs pages show it
#   run_ansible_lint      = True   with offline_ansible_lint = True (no schema download)
#   check_changelog       = True   a CHANGELOG.rst / changelogs/changelog.yaml must ship
#   run_ansible_test      = False  (it needs a container engine and the network)
#   run_flake8            = False  (Galaxy does not run it; ansible-test sanity covers Python style)
#
# It fails when galaxy-importer exits non-zero, does not report "Importer processing completed successfully", logs
# any WARNING/ERROR/CRITICAL line (every ansible-lint finding is logged as a warning), or writes anything to stderr.
# On success it prints a summary: the content it found and the requires_ansible it read.
#
# Environment:
#   VENV            venv with galaxy-importer, ansible-core and ansible-lint (default: <repo>/.venv)
#   IMPORTER_KEEP   1 to keep the scratch directory (its path is printed; importer_result.json is in it)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${VENV:-${repo_root}/.venv}"
python="${venv}/bin/python"

log() { printf 'galaxy_importer: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

for tool in python ansible-doc ansible-galaxy ansible-lint; do
    [[ -x "${venv}/bin/${tool}" ]] || die "${venv}/bin/${tool} not found (set VENV)"
done
importer_version="$("${python}" -c 'from importlib.metadata import version; print(version("galaxy-importer"))' 2>/dev/null)" \
    || die "galaxy-importer is not installed in ${venv} (tests/requirements/tools.in lists it: make venv)"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/upsun-support-importer.XXXXXX")"
cleanup() {
    if [[ "${IMPORTER_KEEP:-0}" == 1 ]]; then
        log "scratch directory kept: ${scratch}"
    else
        rm -rf "${scratch}"
    fi
}
trap cleanup EXIT

# Nothing from the caller's Ansible or galaxy-importer setup: galaxy-importer reads GALAXY_IMPORTER_<SETTING>
# variables as overrides of its config file.
while IFS='=' read -r name _; do
    case "${name}" in
        ANSIBLE_* | GALAXY_IMPORTER_*) unset "${name}" ;;
    esac
done < <(env)
export ANSIBLE_HOME="${scratch}/ansible-home" ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 NO_COLOR=1
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export PATH="${venv}/bin:${PATH}"

if (($# > 1)); then
    die "usage: $0 [TARBALL]"
elif (($# == 1)); then
    tarball="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
    [[ -f "${tarball}" ]] || die "no such tarball: $1"
else
    version="$("${python}" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "${repo_root}/galaxy.yml")"
    log "building upsun.support ${version}"
    ansible-galaxy collection build --force --output-path "${scratch}/dist" "${repo_root}" >"${scratch}/build.log" 2>&1 \
        || { cat "${scratch}/build.log" >&2; die "ansible-galaxy collection build"; }
    tarball="${scratch}/dist/upsun-support-${version}.tar.gz"
    [[ -f "${tarball}" ]] || die "no ${tarball##*/} after the build"
fi

cat >"${scratch}/galaxy-importer.cfg" <<EOF
[galaxy-importer]
log_level_main = INFO
require_v1_or_greater = True
check_required_tags = True
check_changelog = True
run_ansible_doc = True
run_ansible_lint = True
offline_ansible_lint = True
run_ansible_test = False
ansible_test_local_image = False
local_image_docker = False
run_flake8 = False
ansible_local_tmp = ${scratch}/ansible-tmp
tmp_root_dir = ${scratch}
EOF
export GALAXY_IMPORTER_CONFIG="${scratch}/galaxy-importer.cfg"

log "galaxy-importer ${importer_version} on ${tarball##*/} (ansible-test off, offline ansible-lint)"
rc=0
# It writes importer_result.json into the current directory.
(cd "${scratch}" && "${python}" -m galaxy_importer.main "${tarball}") >"${scratch}/importer.out" 2>"${scratch}/importer.err" \
    || rc=$?

problems=()
((rc == 0)) || problems+=("galaxy-importer exited with ${rc}")
grep -qx 'Importer processing completed successfully' "${scratch}/importer.out" \
    || problems+=("no 'Importer processing completed successfully' line")
findings="$(grep -E '^(WARNING|ERROR|CRITICAL):' "${scratch}/importer.out" || true)"
[[ -z "${findings}" ]] || problems+=("$(grep -c . <<<"${findings}") warning/error line(s)")
[[ ! -s "${scratch}/importer.err" ]] || problems+=("output on stderr")
if ((${#problems[@]})); then
    log "galaxy-importer output:"
    sed 's/^/    /' "${scratch}/importer.out" >&2
    if [[ -s "${scratch}/importer.err" ]]; then
        log "galaxy-importer stderr:"
        sed 's/^/    /' "${scratch}/importer.err" >&2
    fi
    joined="$(printf '%s; ' "${problems[@]}")"
    die "${joined%; }"
fi

# Summary, from importer_result.json (what Galaxy would store and show).
"${python}" - "${scratch}/importer_result.json" "$(grep -c . "${scratch}/importer.out")" <<'PY'
import collections
import json
import sys

with open(sys.argv[1]) as handle:
    result = json.load(handle)
counts = collections.Counter(content['content_type'] for content in result['contents'])
metadata = result['metadata']
print('galaxy_importer: {0}.{1} {2} imported with no warning and no error ({3} log lines); requires_ansible {4}; '
      'tags {5}; content: {6}'.format(
          metadata['namespace'], metadata['name'], metadata['version'], sys.argv[2], result['requires_ansible'],
          ', '.join(metadata['tags']),
          ', '.join('{0} {1}'.format(count, kind) for kind, count in sorted(counts.items()))))
PY
