#!/usr/bin/env bash
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# `make demo`: a deploy fails on purpose, its rescue files an Upsun support ticket, and the ticket is printed.
#
#   1. starts the offline sandbox of the Upsun API (tests/sandbox) on a free local port,
#   2. points the collection at it with the Upsun CLI's environment variables,
#   3. runs tests/demo/deploy.yml, whose deploy step fails and whose rescue files the ticket
#      (the play then fails with the deploy's error, as it should),
#   4. prints the ticket the sandbox received, and stops the sandbox.
#
# Exit status 0 when the ticket was filed. Needs the tool venv ($VENV, default .venv: `make venv`) and the
# collections/ link to this checkout (`make collections-link`).
set -euo pipefail

# shellcheck source=scripts/tool-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/tool-env.sh"
use_tool_env demo.sh "run 'make demo', which sets it up"
# The play runs on the implicit localhost: no inventory needed, and no warning about it.
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

# 1. The sandbox, on a free local port.
start_sandbox demo.sh --quiet

# 2. Where the API is and which token to use: the same variables as the Upsun CLI. Unset the URLs and set a real
#    token, and the same playbook files a real ticket.
export UPSUN_CLI_API_URL="${url}" UPSUN_CLI_AUTH_URL="${url}" UPSUN_CLI_TOKEN=sandbox-api-token
echo "Upsun API sandbox at ${url}"
echo

# 3. The play fails (exit status 2): the role files the ticket, then re-raises the deploy's error.
play_status=0
ansible-playbook "${repo_root}/tests/demo/deploy.yml" \
    -e "demo_deploy_log=${work}/deploy.log" -e "deploy_failure_ticket_spool_dir=${work}/spool" \
    || play_status=$?

# 4. What the API received.
"${python}" - "${url}" "${play_status}" <<'PYTHON'
import base64
import sys

from upsun_sandbox.control import SandboxClient

url, play_status = sys.argv[1], sys.argv[2]
tickets = SandboxClient(url).tickets()
print("=" * 72)
if not tickets:
    sys.exit("No ticket was filed (ansible-playbook exit status {0}): see the output above.".format(play_status))
ticket = tickets[-1]
print("The deploy failed (ansible-playbook exit status {0}), and the rescue filed this ticket:".format(play_status))
print()
print("  Ticket:      {0}".format(ticket["ticket_id"]))
print("  Subject:     {0}".format(ticket["subject"]))
print("  Priority:    {0}".format(ticket["priority"]))
print("  Category:    {0}".format(ticket["category"]))
print("  URL:         {0}".format(ticket["zd_ticket_url"]))
for attachment in ticket["attachments"]:
    print("  Attachment:  {0} ({1} bytes)".format(attachment["filename"], attachment["size"]))
print()
print("Its description:")
print("\n".join("  | " + line for line in ticket["description"].splitlines()))
for attachment in ticket["attachments"]:
    print()
    print("The attached {0}, secrets redacted:".format(attachment["filename"]))
    content = base64.b64decode(attachment["data"]).decode("utf-8", "replace")
    print("\n".join("  | " + line for line in content.splitlines()))
print("=" * 72)
PYTHON
