#!/usr/bin/env bash
# Copy the collection's files (git-tracked, plus untracked ones that are not
# ignored, i.e. what a fresh clone plus work in progress would have) into
# .build/ansible_collections/upsun/support, the layout ansible-test requires.
# Stale files are removed; the copy's tests/output/ (ansible-test results and
# caches) and .git/ are kept.  Prints nothing on success.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
copy_root="${COPY_ROOT:-${repo_root}/.build/ansible_collections/upsun/support}"

log() { printf 'sync-copy.sh: %s\n' "$*" >&2; }

files=()
mkdir -p "${copy_root}"
# ansible-test looks for a .git upward from the collection root; without
# one here it would find this checkout's, in which .build/ is ignored, and
# see no files at all.  An empty repository makes it list the copy's files
# (as untracked, honouring the copied .gitignore).
if [[ ! -d "${copy_root}/.git" ]]; then
    git -C "${copy_root}" init --quiet
fi
# remove everything but .git and tests/output (ansible-test's results and caches)
find "${copy_root}" -mindepth 1 -maxdepth 1 ! -name tests ! -name .git -exec rm -rf {} +
if [[ -d "${copy_root}/tests" ]]; then
    find "${copy_root}/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
fi
while IFS= read -r -d '' rel; do
    # skip files deleted from the work tree but still in the index
    if [[ -e "${repo_root}/${rel}" || -L "${repo_root}/${rel}" ]]; then
        files+=("${rel}")
    fi
done < <(git -C "${repo_root}" ls-files -z --cached --others --exclude-standard)
if ((${#files[@]} == 0)); then
    log "no files to copy (is ${repo_root} a git work tree?)"
    exit 1
fi
printf '%s\0' "${files[@]}" \
    | tar -C "${repo_root}" --null --no-recursion -T - -cf - \
    | tar -C "${copy_root}" -xf -
