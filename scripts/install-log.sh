# shellcheck shell=bash
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Sourced by the scripts that install packages (bootstrap-venv.sh, tests/release/matrix.sh): the installers' output
# (pip, uv) goes to a log file under .build/logs/, not to the terminal or the CI log.
#
#   new_install_log REPO_ROOT NAME   sets install_log to REPO_ROOT/.build/logs/NAME.log, emptied
#   show_install_log WHAT            after a failure, on stderr: the log whole in CI (CI set), its last 40 lines
#                                    elsewhere, then "WHAT failed (log: PATH)"

new_install_log() {
    install_log="$1/.build/logs/$2.log"
    mkdir -p "${install_log%/*}"
    : >"${install_log}"
}

show_install_log() {
    # (this machine's pip configuration warns once per package about absent local indexes: left out)
    if [[ -n "${CI:-}" ]]; then
        grep -v "^WARNING: Location 'file:" "${install_log}" >&2 || true
    else
        grep -v "^WARNING: Location 'file:" "${install_log}" | tail -n 40 >&2 || true
    fi
    printf '%s failed (log: %s)\n' "$1" "${install_log}" >&2
}
