#!/usr/bin/env bash
# Release check: build the collection tarball, check that it holds only what users need, install it into an empty
# collections path, and file a ticket with the installed copy against the offline sandbox.
#
#   tests/release/check_release.sh
#
# Steps:
#   1. ansible-galaxy collection build (into a scratch directory);
#   2. the tarball's file list: nothing that galaxy.yml's build_ignore should have kept out (test output, the
#      sandbox, e2e tests, caches, venvs, .build/, collections/, Makefile, scripts/, .ci/, the built docsite, ...)
#      and nothing outside the paths a user needs (ALLOWED below); every offending entry is listed; what users need
#      is there (the content, CHANGELOG.rst, the AWX credential type, every guide of extra-docs.yml);
#   3. ansible-galaxy collection install -p <empty dir> <tarball>;
#   4. from that copy only (ANSIBLE_COLLECTIONS_PATH=<that dir>, no sys.path scan, a scratch ANSIBLE_HOME, run
#      from the scratch directory): ansible-doc of the modules, the role and the callback, a syntax check of the
#      upsun.support.flush_spool playbook, and
#      `ansible localhost -m upsun.support.ticket -a "subject=... description=..."` against the sandbox
#      (tests/sandbox, started on a free loopback port and stopped at the end); the module must be loaded from
#      the installed copy, and the sandbox must hold exactly that ticket.
#
# Environment:
#   VENV           venv with ansible-core and the sandbox's requirements (default: <repo>/.venv)
#   RELEASE_DIST   also copy the checked tarball into this directory (e.g. .build/dist)
#   RELEASE_KEEP   1 to keep the scratch directory (its path is printed)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${VENV:-${repo_root}/.venv}"
python="${venv}/bin/python"

log() { printf 'check_release: %s\n' "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

for tool in ansible ansible-doc ansible-galaxy ansible-playbook python; do
    [[ -x "${venv}/bin/${tool}" ]] || die "${venv}/bin/${tool} not found (set VENV)"
done

scratch="$(mktemp -d "${TMPDIR:-/tmp}/upsun-support-release.XXXXXX")"
sandbox_pid=
cleanup() {
    if [[ -n "${sandbox_pid}" ]] && kill -0 "${sandbox_pid}" 2>/dev/null; then
        kill "${sandbox_pid}" 2>/dev/null || true
        wait "${sandbox_pid}" 2>/dev/null || true
    fi
    if [[ "${RELEASE_KEEP:-0}" == 1 ]]; then
        log "scratch directory kept: ${scratch}"
    else
        rm -rf "${scratch}"
    fi
}
trap cleanup EXIT

# Nothing from the developer's own Ansible setup.
export ANSIBLE_HOME="${scratch}/ansible-home"
export ANSIBLE_CONFIG="${scratch}/ansible.cfg"
printf '[defaults]\n' > "${ANSIBLE_CONFIG}"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_GALAXY_DISABLE_GPG_VERIFY=1
export ANSIBLE_LOCALHOST_WARNING=0 ANSIBLE_INVENTORY_UNPARSED_WARNING=0
unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS
export PATH="${venv}/bin:${PATH}"

# 1. build
version="$("${python}" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' "${repo_root}/galaxy.yml")"
log "building upsun.support ${version}"
ansible-galaxy collection build --force --output-path "${scratch}/dist" "${repo_root}" >"${scratch}/build.log" 2>&1 \
    || { cat "${scratch}/build.log" >&2; die "ansible-galaxy collection build"; }
tarball="${scratch}/dist/upsun-support-${version}.tar.gz"
[[ -f "${tarball}" ]] || die "no ${tarball##*/} after the build"

# 2. contents
log "checking the contents of ${tarball##*/} ($(du -h "${tarball}" | cut -f1))"
"${python}" - "${tarball}" "${repo_root}/docs/docsite/extra-docs.yml" <<'PY' || die "the tarball holds files users do not need (fix build_ignore in galaxy.yml)"
import fnmatch
import sys
import tarfile

import yaml

# Never in a release: development, test and build leftovers.
DENIED = [
    ('tests/output', 'ansible-test output'),
    ('tests/sandbox', 'the offline API sandbox'),
    ('tests/e2e', 'end-to-end tests'),
    ('tests/unit', 'unit tests'),
    ('tests/integration', 'integration tests'),
    ('tests/release', 'release checks'),
    ('tests/requirements', 'tool requirements of the test harness'),
    ('tests/demo', 'the demo'),
    ('tests/bench', 'benchmarks'),
    ('.build', 'the build and ansible-test copy directory'),
    ('collections', 'the collections/ symlink tree of the work tree'),
    ('Makefile', 'the test harness'),
    ('scripts', 'harness scripts'),
    ('.ci', 'CI scripts'),
    ('.git', 'git metadata'),
    ('docs/docsite/build', 'the built docsite'),
    ('docs/build.sh', 'the docsite build script'),
    ('docs/offline-intersphinx.txt', 'the docsite build data'),
    ('roles/*/molecule', 'molecule scenarios'),
]
DENIED_ANYWHERE = [
    ('__pycache__', 'Python bytecode cache'),
    ('*.pyc', 'Python bytecode'),
    ('*.pyo', 'Python bytecode'),
    ('.pytest_cache', 'pytest cache'),
    ('.mypy_cache', 'mypy cache'),
    ('.ruff_cache', 'ruff cache'),
    ('.tox', 'tox environments'),
    ('.venv', 'a virtualenv'),
    ('.venv-*', 'a virtualenv'),
    ('venv', 'a virtualenv'),
    ('pyvenv.cfg', 'a virtualenv'),
    ('.ansible', 'ansible-core/ansible-lint cache'),
    ('.cache', 'a cache'),
    ('*.tar.gz', 'a nested tarball'),
    ('*.swp', 'an editor file'),
    ('*~', 'an editor file'),
    ('.DS_Store', 'a Finder file'),
    ('.coverage*', 'coverage data'),
]
# Everything a user may get: what ansible-galaxy adds, the content, its metadata and its docs.
ALLOWED = [
    'MANIFEST.json', 'FILES.json', 'README.md', 'COPYING', 'LICENSE', 'LICENSES/*',
    'CHANGELOG.rst', 'CHANGELOG.md', 'requirements.txt', 'bindep.txt',
    'meta/*.yml',
    'plugins/*.py', 'plugins/*.yml', 'plugins/*.yaml',
    'roles/*.yml', 'roles/*.yaml', 'roles/*.j2', 'roles/*/files/*', 'roles/*/README.md',
    'playbooks/*.yml', 'playbooks/*.yaml', 'playbooks/*.j2',
    'changelogs/changelog.yaml', 'changelogs/config.yaml', 'changelogs/fragments/*.yml',
    'changelogs/fragments/*.yaml',
    'docs/docsite/links.yml', 'docs/docsite/extra-docs.yml', 'docs/docsite/rst/*.rst',
    'docs/execution-environment.yml',
    'extensions/awx/credential_types/*.yml',
    'extensions/eda/plugins/event_source/*.py', 'extensions/eda/rulebooks/*.yml', 'extensions/eda/credential_types/*.yml',
    'tests/config.yml', 'tests/sanity/*.txt',
]


def denied(name):
    parts = name.split('/')
    for pattern, why in DENIED:
        depth = pattern.count('/') + 1
        if len(parts) >= depth and fnmatch.fnmatchcase('/'.join(parts[:depth]), pattern):
            return why
    for pattern, why in DENIED_ANYWHERE:
        if any(fnmatch.fnmatchcase(part, pattern) for part in parts):
            return why
    return None


with tarfile.open(sys.argv[1]) as tar:
    members = dict((member.name.rstrip('/'), member.isdir()) for member in tar.getmembers())
names = sorted(members)
problems = []
for name in names:
    why = denied(name)
    # A directory is judged by the files in it.
    if why is None and not members[name] and not any(fnmatch.fnmatchcase(name, pattern) for pattern in ALLOWED):
        why = 'not a path users need (add it to ALLOWED in tests/release/check_release.sh if it is)'
    if why:
        problems.append('{0}: {1}'.format(name, why))
for required in ('MANIFEST.json', 'FILES.json', 'README.md', 'COPYING', 'CHANGELOG.rst', 'changelogs/changelog.yaml',
                 'requirements.txt', 'meta/runtime.yml', 'meta/execution-environment.yml',
                 'extensions/awx/credential_types/upsun_api_token.yml', 'plugins/modules/ticket.py',
                 'plugins/modules/ticket_info.py', 'plugins/callback/ticket_on_failure.py',
                 'roles/deploy_failure_ticket/tasks/main.yml', 'playbooks/flush_spool.yml',
                 'playbooks/notify_ticket_event.yml', 'meta/extensions.yml',
                 'extensions/eda/plugins/event_source/ticket_events.py', 'extensions/eda/rulebooks/ticket_events.yml',
                 'extensions/eda/credential_types/upsun_api_token.yml'):
    if required not in names:
        problems.append('{0}: missing'.format(required))
# The guides of the docsite ship with the collection (docs.ansible.com-style builds read them from it).
with open(sys.argv[2]) as handle:
    extra_docs = yaml.safe_load(handle) or {}
for section in extra_docs.get('sections') or []:
    for entry in section.get('toctree') or []:
        guide = 'docs/docsite/rst/{0}.rst'.format(entry['ref'] if isinstance(entry, dict) else entry)
        if guide not in names:
            problems.append('{0}: missing (a guide listed in docs/docsite/extra-docs.yml)'.format(guide))
print('{0} entries'.format(len(names)))
if problems:
    # Collapse a directory's contents into one line per offending top directory
    shown = {}
    for problem in problems:
        path, why = problem.split(': ', 1)
        key = next((p for p in shown if path.startswith(p + '/')), None)
        if key is None:
            shown[path] = [why, 0]
        else:
            shown[key][1] += 1
    for path, (why, more) in shown.items():
        print('  {0}: {1}{2}'.format(path, why, ' (and {0} entries under it)'.format(more) if more else ''))
    sys.exit(1)
PY

# 3. install into an empty collections path
collections="${scratch}/collections"
mkdir -p "${collections}"
# Only this directory: a copy installed elsewhere (~/.ansible/collections, ...) must neither satisfy the install
# ("already installed") nor be loaded instead of this one.
export ANSIBLE_COLLECTIONS_PATH="${collections}" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
log "installing into the empty collections path ${collections}"
ansible-galaxy collection install --offline -p "${collections}" "${tarball}" >"${scratch}/install.log" 2>&1 \
    || { cat "${scratch}/install.log" >&2; die "ansible-galaxy collection install"; }
installed="${collections}/ansible_collections/upsun/support"
[[ -f "${installed}/MANIFEST.json" ]] || die "the collection is not in ${installed}"

cd "${scratch}"

# 4a. the installed copy documents itself and its playbook loads
for plugin in "module upsun.support.ticket" "module upsun.support.ticket_info" \
    "callback upsun.support.ticket_on_failure" "role upsun.support.deploy_failure_ticket"; do
    read -r type name <<<"${plugin}"
    ansible-doc -t "${type}" "${name}" >"${scratch}/doc.log" 2>&1 \
        || { cat "${scratch}/doc.log" >&2; die "ansible-doc -t ${type} ${name} from the installed copy"; }
done
ansible-playbook --syntax-check -i localhost, upsun.support.flush_spool >"${scratch}/syntax.log" 2>&1 \
    || { cat "${scratch}/syntax.log" >&2; die "ansible-playbook --syntax-check upsun.support.flush_spool"; }
log "ansible-doc and the flush_spool playbook work from the installed copy"

# 4b. file a ticket against the sandbox
log "starting the sandbox"
PYTHONPATH="${repo_root}/tests/sandbox" "${python}" -m upsun_sandbox --port 0 --quiet \
    >"${scratch}/sandbox.out" 2>"${scratch}/sandbox.err" &
sandbox_pid=$!
url=
for _ in $(seq 1 100); do
    url="$(head -n 1 "${scratch}/sandbox.out" 2>/dev/null || true)"
    [[ "${url}" == http://* ]] && break
    kill -0 "${sandbox_pid}" 2>/dev/null || { cat "${scratch}/sandbox.err" >&2; die "the sandbox did not start"; }
    sleep 0.1
done
[[ "${url}" == http://* ]] || die "the sandbox printed no URL within 10 s"
log "sandbox at ${url}"

subject="Release check of upsun.support ${version}"
export UPSUN_CLI_API_URL="${url}" UPSUN_CLI_AUTH_URL="${url}" UPSUN_CLI_TOKEN=sandbox-api-token
unset PLATFORMSH_CLI_TOKEN UPSUN_CLI_DEFAULT_TIMEOUT
log "ansible localhost -m upsun.support.ticket (from ${installed})"
if ! ansible localhost -vvvv -m upsun.support.ticket \
    -a "subject='${subject}' description='Filed by tests/release/check_release.sh from the installed tarball.' priority=low" \
    >"${scratch}/adhoc.log" 2>&1; then
    cat "${scratch}/adhoc.log" >&2
    die "the ad hoc ticket command failed"
fi
# -vvvv names the collection's directory when it loads it (the ticket's action plugin runs the module's code on
# localhost, with no module file to name): it must be the installed copy's.
grep -qF "Loading collection upsun.support from ${installed}" "${scratch}/adhoc.log" \
    || { grep -i 'loading collection' "${scratch}/adhoc.log" >&2 || true; die "upsun.support was not loaded from ${installed}"; }
grep -q '^localhost | CHANGED =>' "${scratch}/adhoc.log" \
    || { cat "${scratch}/adhoc.log" >&2; die "the ad hoc command did not report CHANGED"; }

PYTHONPATH="${repo_root}/tests/sandbox" "${python}" - "${url}" "${subject}" <<'PY' || die "the sandbox does not hold the ticket"
import sys

from upsun_sandbox.control import SandboxClient

url, subject = sys.argv[1:]
tickets = SandboxClient(url).tickets()
matching = [ticket for ticket in tickets if ticket.get('subject') == subject]
if len(tickets) != 1 or len(matching) != 1:
    sys.exit('expected exactly one ticket with subject {0!r}, the sandbox holds: {1!r}'.format(
        subject, [ticket.get('subject') for ticket in tickets]))
ticket = matching[0]
if ticket.get('priority') != 'low' or 'check_release.sh' not in ticket.get('description', ''):
    sys.exit('the ticket does not carry the options sent: {0!r}'.format(ticket))
print('check_release: the sandbox holds ticket {0} "{1}"'.format(ticket.get('ticket_id'), subject), file=sys.stderr)
PY

if [[ -n "${RELEASE_DIST:-}" ]]; then
    mkdir -p "${RELEASE_DIST}"
    cp "${tarball}" "${RELEASE_DIST}/"
    log "copied ${tarball##*/} to ${RELEASE_DIST}"
fi
log "OK: ${tarball##*/} holds only what users need, installs, and files a ticket from the installed copy"
