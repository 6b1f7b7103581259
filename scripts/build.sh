#!/usr/bin/env bash
# Build the release tarball the way a fresh clone would: from the synced copy
# (git-tracked + untracked-but-not-ignored files only, see sync-copy.sh), so
# caches, venvs and build output lying around the checkout cannot leak in.
# Writes .build/dist/upsun-support-<version>.tar.gz, lists its contents, and
# fails if anything that must never ship made it into the tarball.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${VENV:-${repo_root}/.venv}"
copy_root="${repo_root}/.build/ansible_collections/upsun/support"
dist="${repo_root}/.build/dist"

"${repo_root}/scripts/sync-copy.sh"
mkdir -p "${dist}"
version="$("${venv}/bin/python" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["version"])' \
    "${copy_root}/galaxy.yml")"
tarball="${dist}/upsun-support-${version}.tar.gz"
rm -f "${tarball}"
(cd "${copy_root}" && "${venv}/bin/ansible-galaxy" collection build --force --output-path "${dist}" .)

echo "== contents of ${tarball#"${repo_root}/"}"
tar -tzvf "${tarball}"

# Paths that are never part of a release (development and test machinery).
forbidden='^(\.build|\.venv[^/]*|venv|collections|\.git|\.ci|\.ansible|tests/output|tests/unit|tests/e2e|tests/sandbox|scripts)(/|$)|(^|/)(__pycache__|\.pytest_cache)(/|$)|\.py[co]$'
if leaked="$(tar -tzf "${tarball}" | grep -E "${forbidden}")"; then
    echo "build: the tarball contains files that must not ship (fix build_ignore in galaxy.yml):" >&2
    printf '  %s\n' "${leaked}" >&2
    exit 1
fi
echo "build: $(tar -tzf "${tarball}" | grep -cv '/$') files, $(du -h "${tarball}" | cut -f1) -> ${tarball#"${repo_root}/"}"
