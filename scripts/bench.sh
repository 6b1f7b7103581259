#!/usr/bin/env bash
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# `make bench`: the benchmarks, each against an offline sandbox of the Upsun API that it starts itself.
#
#   tests/bench/bench_module.py  the ticket module ad hoc, against ansible.builtin.ping and a uri playbook
#   tests/bench/bench_role.py    the deploy_failure_ticket role on a deploy failing on many hosts (when present)
#
# Both always run; the exit status is 1 when either misses a target. Needs the tool venv ($VENV, default .venv:
# `make venv`) and the collections/ link to this checkout (`make collections-link`).
set -euo pipefail

# shellcheck source=scripts/tool-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/tool-env.sh"
use_tool_env bench.sh "run 'make bench', which sets it up"

status=0
echo "== tests/bench/bench_module.py"
"${python}" "${repo_root}/tests/bench/bench_module.py" || status=1
if [[ -f "${repo_root}/tests/bench/bench_role.py" ]]; then
    echo
    echo "== tests/bench/bench_role.py"
    "${python}" "${repo_root}/tests/bench/bench_role.py" || status=1
fi
exit "${status}"
