#!/usr/bin/env bash
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# `make sandbox`: the offline sandbox of the Upsun API in the foreground, for trying the collection by hand.
#
# Prints the variables to export in another shell (the Upsun CLI's own names, which the collection reads), then
# serves until Ctrl-C. SANDBOX_PORT picks the port (default: a free one); SANDBOX_ARGS passes more options to the
# sandbox (`python -m upsun_sandbox --help` lists them; tests/sandbox/README.md tells what they do).
set -euo pipefail

# shellcheck source=scripts/tool-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/tool-env.sh"
use_tool_env sandbox.sh "run 'make sandbox', which sets it up"

trap 'exit 0' INT TERM
read -r -a extra <<<"${SANDBOX_ARGS:-}"
# In the foreground: a log line per request on stderr.
start_sandbox sandbox.sh "${extra[@]}"

cat <<TEXT
The Upsun API sandbox listens at ${url} (its token is sandbox-api-token). In another shell:

  export ANSIBLE_COLLECTIONS_PATH='${repo_root}/collections'
  export UPSUN_CLI_API_URL='${url}' UPSUN_CLI_AUTH_URL='${url}' UPSUN_CLI_TOKEN=sandbox-api-token
  '${venv}/bin/ansible' localhost -m upsun.support.ticket -a "subject='Deploy failed' description='See the CI log' priority=high"
  '${venv}/bin/ansible' localhost -m upsun.support.ticket_info

Its tickets are kept in memory until it stops. Ctrl-C stops it. Requests:
TEXT
wait "${sandbox_pid}"
