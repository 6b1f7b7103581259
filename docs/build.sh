#!/usr/bin/env bash
# Build the collection's HTML docsite with antsibull-docs and Sphinx, offline, failing on any warning.
#
#   docs/build.sh            lint, then build into docs/docsite/build/html (git-ignored)
#
# Steps:
#   1. antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs (plugin docs,
#      docs/docsite/links.yml, docs/docsite/extra-docs.yml, the guides in docs/docsite/rst/, and
#      every :ansplugin:/:ansopt:/... reference in them to this collection or ansible.builtin);
#   2. antsibull-docs sphinx-init --use-current --fail-on-error into a scratch directory, whose placeholder
#      landing page is replaced by docs/landing/index.rst;
#   3. offline intersphinx: the generated conf.py's intersphinx_mapping (which would fetch the
#      inventories of docs.ansible.com and docs.python.org) is replaced by one local inventory,
#      made from docs/offline-intersphinx.txt, of the few docs.ansible.com targets the plugin
#      pages link to; nitpicky stays on, so any other reference that does not resolve is an error;
#   4. antsibull-docs collection + sphinx-build -W --keep-going -n (the generated build.sh's
#      commands, with --fail-on-error added).
#
# Environment:
#   VENV                     venv with ansible-core, antsibull-docs, sphinx and sphinx-ansible-theme
#                            (default: <repo>/.venv)
#   ANSIBLE_COLLECTIONS_PATH where upsun.support resolves to this checkout
#                            (default: <repo>/collections, see `make collections-link`)
#   DOCS_OUTPUT              where the HTML goes (default: <repo>/docs/docsite/build/html)
#   DOCS_SKIP_LINT           1 to skip step 1
#   DOCS_KEEP_SCRATCH        1 to keep the scratch directory (its path is printed)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VENV:-${repo_root}/.venv}"
collections_path="${ANSIBLE_COLLECTIONS_PATH:-${repo_root}/collections}"
output="${DOCS_OUTPUT:-${repo_root}/docs/docsite/build/html}"
collection=upsun.support

log() { printf 'docs/build.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in ansible-doc antsibull-docs sphinx-build; do
    [[ -x "${venv}/bin/${tool}" ]] || die "${venv}/bin/${tool} not found: set VENV to a venv with ansible-core, antsibull-docs, sphinx and sphinx-ansible-theme"
done
"${venv}/bin/python" -c 'import sphinx_ansible_theme' 2>/dev/null \
    || die "sphinx-ansible-theme is not installed in ${venv} (pip install sphinx-ansible-theme)"

# ansible-doc (and so antsibull-docs) must find this checkout as upsun.support, and only it.
export ANSIBLE_COLLECTIONS_PATH="${collections_path}"
export PATH="${venv}/bin:${PATH}"
found="$(ansible-galaxy collection list "${collection}" --format json 2>/dev/null \
    | "${venv}/bin/python" -c '
import json, sys
for path, colls in json.load(sys.stdin).items():
    if "upsun.support" in colls:
        print(path)
        break
')" || true
[[ -n "${found}" ]] || die "ANSIBLE_COLLECTIONS_PATH=${collections_path} has no upsun.support (run make collections-link)"
collection_dir="$(cd "${found}/upsun/support" && pwd -P)"
log "documenting ${collection_dir} (antsibull-docs $("${venv}/bin/python" -c 'from importlib.metadata import version; print(version("antsibull-docs"))'))"

# 1. lint
if [[ "${DOCS_SKIP_LINT:-0}" != 1 ]]; then
    log "antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs"
    (cd "${collection_dir}" && antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
        --validate-collection-refs dependent --disallow-unknown-collection-refs .)
fi

# 2. site template
scratch="$(mktemp -d "${TMPDIR:-/tmp}/upsun-support-docs.XXXXXX")"
cleanup() {
    if [[ "${DOCS_KEEP_SCRATCH:-0}" == 1 ]]; then
        log "scratch directory kept: ${scratch}"
    else
        rm -rf "${scratch}"
    fi
}
trap cleanup EXIT
log "antsibull-docs sphinx-init into ${scratch}"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "${scratch}" \
    --project "${collection}" --copyright 'upsun.support maintainers' \
    --title 'upsun.support collection documentation' --html-short-title "${collection}" \
    "${collection}" >/dev/null
# Our own landing page instead of sphinx-init's placeholder ("Welcome to my Ansible collection documentation"): it
# also lists what antsibull-docs does not index (playbooks, the event source, the credential types).
cp "${repo_root}/docs/landing/index.rst" "${scratch}/rst/index.rst"

# 3. offline intersphinx: a local inventory of docs/offline-intersphinx.txt only
"${venv}/bin/python" - "${scratch}/conf.py" "${repo_root}/docs/offline-intersphinx.txt" "${scratch}/ansible_devel.inv" <<'PY'
import re
import sys
import zlib

conf_path, targets_path, inventory_path = sys.argv[1:]
lines = []
with open(targets_path, encoding='utf-8') as handle:
    for number, line in enumerate(handle, 1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        fields = line.split(None, 3)
        if len(fields) != 4 or ':' not in fields[1]:
            sys.exit('{0}:{1}: expected NAME DOMAIN:ROLE URI TITLE'.format(targets_path, number))
        name, role, uri, title = fields
        lines.append('{0} {1} -1 {2} {3}\n'.format(name, role, uri, title))
with open(inventory_path, 'wb') as handle:
    handle.write(b'# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n'
                 b'# The remainder of this file is compressed using zlib.\n')
    handle.write(zlib.compress(''.join(lines).encode('utf-8')))

with open(conf_path, encoding='utf-8') as handle:
    conf = handle.read()
mapping = ("intersphinx_mapping = {\n"
           "    'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/', %r),\n"
           "}\n" % inventory_path)
conf, count = re.subn(r'(?ms)^intersphinx_mapping = \{.*?^\}\n', lambda match: mapping, conf)
if count != 1:
    sys.exit('docs/build.sh: found no intersphinx_mapping block to replace in {0}'.format(conf_path))
with open(conf_path, 'w', encoding='utf-8') as handle:
    handle.write(conf)
PY

# 4. RST for the collection, then HTML; any warning fails the build
mkdir -p "${scratch}/rst"
chmod og-w "${scratch}/rst"  # antsibull-docs wants that directory only writable by itself
log "antsibull-docs collection --use-current --fail-on-error"
antsibull-docs --config-file "${scratch}/antsibull-docs.cfg" collection --use-current --fail-on-error \
    --cleanup everything --dest-dir "${scratch}/rst" "${collection}"
log "sphinx-build -W --keep-going -n"
sphinx-build -M html "${scratch}/rst" "${scratch}/build" -c "${scratch}" -W --keep-going -n -q

grep -q 'Upsun support tickets from Ansible' "${scratch}/build/html/index.html" \
    || die "the landing page is not docs/landing/index.rst (did sphinx-init or antsibull-docs replace it?)"
rm -rf "${output}"
mkdir -p "$(dirname "${output}")"
cp -a "${scratch}/build/html" "${output}"
log "HTML in ${output}/index.html"
