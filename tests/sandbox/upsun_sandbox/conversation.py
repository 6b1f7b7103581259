# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A ticket's conversation as the Console's comment endpoints show it (not in the OpenAPI document).

Each ticket has comments, oldest first here, newest first in GET /comments/{ticket_id}; the first one is the
ticket's description, written by its submitter, carrying the ticket's attachments. A comment's attachments are an
object keyed by file name: {file_name, uri, content_type}; the sandbox also keeps the data, for its control API.
"""

import copy
import mimetypes

# How the sandbox answers the comment endpoints: serves them, or refuses them as a live API may (they are not
# promised to API clients): 404 as an unknown route, 403 as a forbidden one, 405 as a method not allowed.
COMMENT_MODES = ("serve", "refuse-404", "refuse-403", "refuse-405")

FIRST_COMMENT_ID = 5001


def content_type(filename: str) -> str:
    """The media type support staff would see for a file name."""
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def make_comment(comment_id: int, ticket: dict, body: str, author_id: str, created_at: str,
                 attachments: list[dict], public: bool = True) -> dict:
    """A stored comment: the API's fields, plus "_files" (the attachments' data) for the control API."""
    base = ticket["zd_ticket_url"].rsplit("/support/tickets/", 1)[0]
    shown = {}
    for item in attachments:
        uri = f"{base}/attachments/{comment_id}/{item['filename']}"
        shown[item["filename"]] = {"file_name": item["filename"], "uri": uri,
                                   "content_type": content_type(item["filename"])}
    return {
        "comment_id": comment_id,
        "ticket_id": ticket["ticket_id"],
        "created_at": created_at,
        "body": body,
        "author_id": author_id,
        "public": public,
        "attachments": shown,
        "_files": copy.deepcopy(attachments),
    }


def api_view(comment: dict) -> dict:
    """What the API answers of a stored comment."""
    return {name: copy.deepcopy(value) for name, value in comment.items() if name != "_files"}


def dump_view(comment: dict) -> dict:
    """What the control API shows of a stored comment: its fields and its files (filename, size, data)."""
    shown = api_view(comment)
    shown["files"] = copy.deepcopy(comment["_files"])
    return shown


def attachment_list(comments: list[dict]) -> list[dict]:
    """GET /comments/{ticket_id}/attachments: every file of the conversation, oldest first."""
    return [{"filename": item["file_name"], "uri": item["uri"], "content_type": item["content_type"]}
            for comment in comments for item in comment["attachments"].values()]
