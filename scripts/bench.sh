#!/usr/bin/env bash
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# `make bench`: the benchmarks, each against offline sandboxes of the Upsun API that it starts itself. Each one
# prints its figures with their baseline (measured in the same run) and target, and PASS or FAIL:
#
#   tests/bench/bench_module.py    ad hoc: the ticket module against ansible.builtin.ping (and a uri playbook)
#   tests/bench/bench_paging.py    paging: ticket_info over 40 pages, each request 50 ms slow, against one page
#   tests/bench/bench_callback.py  callback: a successful 200-host run with ticket_on_failure, against one without
#   tests/bench/bench_role.py      role: a deploy failing on 200 hosts with the role in its rescue, against a re-raise
#   tests/bench/bench_redaction.py redaction: a 50 MB CI log against one regular expression, and 1 MB of hostile input
#
# All of them always run (23 to 27 minutes on 2 CPUs); the last line names the missed targets, and the exit status
# is 1 when one is missed. Not part of `make test`: timings on a shared machine move by more than some targets.
# Needs the tool venv ($VENV, default .venv: `make venv`) and the collections/ link to this checkout
# (`make collections-link`).
set -euo pipefail

# shellcheck source=scripts/tool-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/tool-env.sh"
use_tool_env bench.sh "run 'make bench', which sets it up"

# The ad hoc benchmark counts instructions under valgrind, which do not move with the machine's speed as wall time
# does; without valgrind it falls back to wall time and says so.
if ! command -v valgrind >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
        echo "installing valgrind with apt-get (the ad hoc benchmark counts instructions with it)"
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends valgrind >/dev/null; } \
            || echo "could not install valgrind: the ad hoc benchmark judges wall time instead" >&2
    else
        echo "valgrind is missing and cannot be installed here (needs root and apt-get): the ad hoc benchmark judges wall time instead" >&2
    fi
fi
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), load average $(cut -d' ' -f1-3 /proc/loadavg)"
missed=()
for bench in module paging callback role redaction; do
    echo
    echo "== tests/bench/bench_${bench}.py"
    "${python}" "${repo_root}/tests/bench/bench_${bench}.py" || missed+=("${bench}")
done
echo
if ((${#missed[@]})); then
    echo "make bench: targets missed: ${missed[*]} (of module, paging, callback, role, redaction); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
    exit 1
fi
echo "make bench: every target met (module, paging, callback, role, redaction); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
