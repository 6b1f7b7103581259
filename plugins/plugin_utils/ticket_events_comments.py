# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Support's answers for the ``upsun.support.ticket_events`` source: a ``commented`` event for each new public comment.

A comment moves its ticket's ``updated``, so a ticket's conversation is read only when the ticket watch takes a
version of it whose ``updated`` moved (the listings may show that late: the comments are then read late, never
missed). A comment is new when it was made at or after the second the source started watching and has not been
emitted before (the ids emitted are kept, and saved in the state file). The ticket's description, the oldest
comment of its conversation, is never a ``commented`` event. A ticket seen, or read, within the second of its
``updated`` is read (again) at the next poll: another comment may come later in that second, and would not move
``updated``. A read that fails is tried again at the next poll; comment endpoints that the API refuses end the
reading for the rest of the run, with one warning.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.upsun.support.plugins.module_utils.comments import CommentsRefusedError, conversation
from ansible_collections.upsun.support.plugins.module_utils.errors import UpsunError
from ansible_collections.upsun.support.plugins.plugin_utils.ticket_events_arguments import LOGGER, SOURCE_NAME
from ansible_collections.upsun.support.plugins.plugin_utils.ticket_events_watch import make_event, parse_time


class CommentWatch:
    """Which tickets' conversations are due for a read, which comments were emitted, and the events of new ones."""

    def __init__(self, enabled=True):
        self.enabled = enabled
        # ids of the tickets whose conversation is to be read at the next poll
        self.due = set()
        # (ticket_id, comment_id) of every comment emitted
        self.emitted = set()
        self.refused = False

    def note(self, events, tickets, asked, first=False):
        """Make due the tickets of a poll asked at ``asked`` whose conversation may hold news.

        Those of its ``events`` whose ``updated`` moved (or that the watch had not seen), but at the first poll;
        and those of its listing ``tickets`` seen within the second of their ``updated``, where a comment later in
        that second would not move it.
        """
        if not self.enabled:
            return
        if not first:
            self.due.update(event['ticket']['ticket_id'] for event in events if _updated_moved(event))
        second = asked.replace(microsecond=0)
        self.due.update(ticket['ticket_id'] for ticket in tickets
                        if isinstance(ticket, dict) and ticket.get('ticket_id') is not None
                        and _within_second(ticket, second))

    def read(self, client, known, since, retry_in):
        """The ``commented`` events of the due tickets (``known``: ticket_id -> ticket), oldest comment first.

        Blocking: run it in a thread. ``since`` is when the source started watching: older comments are not news.
        """
        if not self.enabled or self.refused:
            return []
        events = []
        for ticket_id in sorted(self.due, key=str):
            ticket = known.get(ticket_id)
            asked = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
            try:
                events.extend(self._read_one(client, ticket, since))
            except CommentsRefusedError as exc:
                self.refused = True
                LOGGER.warning('%s: %s The source goes on without commented events until it is restarted; set its '
                               'comments argument to false not to ask.', SOURCE_NAME, exc.msg)
                break
            except UpsunError as exc:
                LOGGER.warning('%s: reading the comments of ticket %s failed: %s Trying again in %g s.',
                               SOURCE_NAME, ticket_id, exc.msg, retry_in)
                break
            if ticket is None or not _within_second(ticket, asked):
                self.due.discard(ticket_id)
        return sorted(events, key=lambda event: _age(event['comment']))

    def _read_one(self, client, ticket, since):
        """The events of the new public comments of ``ticket``; remember them as emitted."""
        updated = parse_time((ticket or {}).get('updated'))
        if updated is None or updated < since:
            # no comment of it can be newer than its updated time
            return []
        events = []
        for comment in _answers(conversation(client, ticket), ticket):
            key = (ticket['ticket_id'], comment.get('comment_id'))
            created = parse_time(comment.get('created_at'))
            if comment.get('public') is not True or key[1] is None or created is None or created < since:
                continue
            if key not in self.emitted:
                self.emitted.add(key)
                events.append(make_event(ticket, 'commented', None, comment=comment))
        return events

    def state(self):
        """What a restart needs: the tickets due for a read and the comments emitted."""
        return dict(due=sorted(self.due, key=str),
                    emitted=[list(key) for key in sorted(self.emitted, key=lambda key: (str(key[0]), str(key[1])))])

    def restore(self, state):
        """Resume from ``state()`` of an earlier run (None: a state written without it); ValueError if it is not one."""
        if state is None:
            return
        due = state.get('due') if isinstance(state, dict) else None
        emitted = state.get('emitted') if isinstance(state, dict) else None
        if not isinstance(due, list) or not isinstance(emitted, list) or not all(
                _is_id(ident) for ident in due) or not all(
                isinstance(key, list) and len(key) == 2 and _is_id(key[0]) and _is_id(key[1]) for key in emitted):
            raise ValueError('its comments are not those of this source')
        self.due = set(due)
        self.emitted = set(tuple(key) for key in emitted)


def _updated_moved(event):
    """Whether the event's ticket is new to the watch or has another ``updated`` than the version seen before."""
    previous = event.get('previous')
    return event.get('change') != 'commented' and (not previous or 'updated' in previous)


def _answers(comments, ticket):
    """The comments but the description: the oldest one, when it was made as the ticket was (the same second)."""
    created = parse_time(ticket.get('created'))
    if comments and (created is None or (parse_time(comments[0].get('created_at')) or created) <= created):
        return comments[1:]
    return comments


def _within_second(ticket, asked):
    """Whether a read ``asked`` (whole seconds) came within the second of the ticket's ``updated``, or before it."""
    updated = parse_time(ticket.get('updated'))
    return updated is not None and updated >= asked


def _is_id(value):
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def _age(comment):
    number = comment.get('comment_id')
    return (parse_time(comment.get('created_at')), str(number).zfill(20))
