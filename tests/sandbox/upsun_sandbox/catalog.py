# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixed reference data the sandbox serves: categories, priorities and the fake account's identifiers."""

# The fake user that owns the sandbox API token: submitter of every ticket, and
# requester when the request names none.
SANDBOX_USER_ID = "5b1e2c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e"

DEFAULT_API_TOKEN = "sandbox-api-token"
CLIENT_ID = "platform-api-user"
# The Upsun CLI's own client, sent as client_id in the form body rather than over HTTP Basic.
CLI_CLIENT_ID = "upsun-cli"
RECIPIENT = "support@upsun.com"

CATEGORIES = (
    ("access", "Access"),
    ("billing_question", "Billing question"),
    ("complaint", "Complaint"),
    ("compliance_question", "Compliance question"),
    ("configuration_change", "Configuration change"),
    ("general_question", "General question"),
    ("incident_outage", "Incident / outage"),
    ("bug_report", "Bug report"),
    ("report_a_gui_bug", "Report a GUI bug"),
    ("onboarding", "Onboarding"),
    ("close_my_account", "Close my account"),
)

PRIORITIES = (
    ("low", "Low", "General questions",
     "Questions about how to use the platform, and issues with no impact on your applications."),
    ("normal", "Normal", "Minor impact",
     "Issues with a limited impact: a non-critical feature is not working as expected."),
    ("high", "High", "Significant impact",
     "A production application is degraded, or a development environment is unusable."),
    ("urgent", "Urgent", "Production down",
     "A production application is down or severely impaired, with no workaround."),
)

# Values the sandbox gives fields that support staff (not the requester) would set.
TICKET_DEFAULTS = {
    "type": "problem",
    "status": "new",
    "priority": "normal",
    "recipient": RECIPIENT,
    "assignee_id": None,
    "has_incidents": False,
    "due": None,
    "tags": [],
    "ticket_group": "Support",
    "support_plan": "Standard",
    "queue": "Support",
    "issue_type": None,
    "resolution_time": None,
    "response_time": None,
    "project_url": None,
    "region": None,
    "environment": None,
    "ticket_sharing_status": None,
    "application_ticket_url": None,
    "infrastructure_ticket_url": None,
    "jira": [],
}

# Every field of the API's Ticket object, in the order the reference documents them.
TICKET_FIELDS = (
    "ticket_id", "created", "updated", "type", "subject", "description", "priority", "followup_tid",
    "status", "recipient", "requester_id", "submitter_id", "assignee_id", "organization_id",
    "collaborator_ids", "has_incidents", "due", "tags", "subscription_id", "ticket_group",
    "support_plan", "affected_url", "queue", "issue_type", "resolution_time", "response_time",
    "project_url", "region", "category", "environment", "ticket_sharing_status",
    "application_ticket_url", "infrastructure_ticket_url", "jira", "zd_ticket_url",
)

# Ticket fields a create request may set directly (attachments are kept apart).
CREATE_FIELDS = (
    "subject", "description", "requester_id", "priority", "subscription_id", "organization_id",
    "affected_url", "followup_tid", "category", "collaborator_ids",
)


def category_list() -> list[dict]:
    """The answer of GET /tickets/category."""
    return [{"id": ident, "label": label} for ident, label in CATEGORIES]


def priority_list() -> list[dict]:
    """The answer of GET /tickets/priority."""
    return [
        {"id": ident, "label": label, "short_description": short, "description": long}
        for ident, label, short, long in PRIORITIES
    ]
