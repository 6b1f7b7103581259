# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tickets and pages of GET /tickets as the fake API serves them, for the tests of listings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def ticket(ticket_id, **fields):
    result = {'ticket_id': ticket_id, 'subject': 'Ticket {0}'.format(ticket_id), 'status': 'open', 'description': ''}
    result.update(fields)
    return result


def page(tickets, next_page=None):
    links = {'self': {'href': '/tickets'}}
    if next_page:
        links['next'] = {'href': 'https://api.upsun.com/tickets?search=x&page={0}'.format(next_page)}
    return {'count': len(tickets), 'tickets': tickets, '_links': links}


def by_page(pages, count=None):
    """An answer for GET /tickets that serves ``pages[n - 1]`` for ``page=n``, the last one past the end.

    ``count`` is the API's count of matching tickets on every page: all of them unless given.
    """
    total = sum(len(item['tickets']) for item in pages) if count is None else count

    def answer(call):
        served = dict(pages[min(int(call.query['page'][0]), len(pages)) - 1])
        if total is not False:
            served['count'] = total
        else:
            served.pop('count', None)
        return 200, served
    return answer
