# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The spool action (action/spool.py): spooling a record, and a flush deciding for each record whether to file it,
search for it, keep it or set it aside. The modules a flush runs (``_execute_module``) are a spec'd mock: what they
do on the wire is tested end to end (tests/e2e/test_secrets_and_spool.py, test_spool_hostile.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from unittest import mock

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar

from ansible_collections.upsun.support.plugins.action.spool import TICKET_INFO_MODULE, TICKET_MODULE, ActionModule
from ansible_collections.upsun.support.plugins.module_utils.footer import dedupe_reference

TOKEN = 'apitoken-SECRET-7c1e4b2a9f'
API = 'https://api.upsun.com'
TICKET = dict(subject='Deploy failed', description='The deploy hook exited 1.')


@pytest.fixture
def directory(tmp_path):
    return str(tmp_path / 'spool')


@pytest.fixture
def modules():
    """``_execute_module`` of the action, as a spec'd mock: each test says what the modules answer."""
    with mock.patch.object(ActionModule, '_execute_module', autospec=True) as execute:
        yield execute


def run(args, check_mode=False, task_vars=None):
    task = Task()
    task.args = args
    task.check_mode = check_mode
    loader = DataLoader()
    action = ActionModule(task=task, connection=mock.MagicMock(), play_context=PlayContext(), loader=loader,
                          templar=Templar(loader=loader), shared_loader_obj=None)
    return action.run(task_vars=task_vars or {})


def spool(directory, **args):
    result = run(dict(dict(ticket=TICKET, directory=directory, api_token=TOKEN), **args))
    assert result['changed'] is True, result
    return result['path']


def flush(directory, check_mode=False, **args):
    return run(dict(dict(state='flushed', directory=directory, api_token=TOKEN), **args), check_mode=check_mode)


def record(path):
    with open(path) as handle:
        return json.load(handle)


def calls(modules):
    """``(module name, its args)`` of each module the flush ran."""
    return [(call.kwargs['module_name'], call.kwargs['module_args']) for call in modules.call_args_list]


# --- spooling ---------------------------------------------------------------------------------------------------------


def test_spooling_writes_a_redacted_record_with_a_reference_in_a_private_directory(directory):
    path = spool(directory, ticket=dict(TICKET, description='curl -H "token: {0}"'.format(TOKEN)))

    assert os.path.dirname(path) == directory and oct(os.stat(directory).st_mode & 0o777) == '0o700'
    saved = record(path)
    assert saved['ticket']['subject'] == 'Deploy failed'
    assert saved['ticket']['dedupe_key'] and saved['may_exist'] is False
    assert TOKEN not in json.dumps(saved)


def test_spooling_in_check_mode_writes_nothing(directory):
    result = run(dict(ticket=TICKET, directory=directory, api_token=TOKEN), check_mode=True)

    assert result['changed'] is True and result['msg'] == 'Would spool the ticket "Deploy failed" (check mode).'
    assert not os.path.exists(directory)


def test_a_negative_may_exist_wait_is_refused_before_anything_is_written(directory):
    result = run(dict(ticket=TICKET, directory=directory, api_token=TOKEN, may_exist_wait=-1))

    assert result['failed'] is True and result['msg'] == 'may_exist_wait must be a number of seconds from 0 to 604800, got -1.0.'
    assert not os.path.exists(directory)


def test_a_bad_redaction_pattern_fails_naming_it(directory):
    result = run(dict(ticket=TICKET, directory=directory, api_token=TOKEN, redaction=dict(patterns=['(unclosed'])))
    assert result['failed'] is True and '(unclosed' in result['msg']


# --- flushing ---------------------------------------------------------------------------------------------------------


def test_each_record_is_filed_with_the_flush_s_connection_and_then_removed(directory, modules):
    path = spool(directory, api_token='token-of-the-spooling-run')
    key = record(path)['ticket']['dedupe_key']
    modules.return_value = dict(changed=True, ticket=dict(ticket_id=1001))

    result = flush(directory)

    [(name, args)] = calls(modules)
    assert name == TICKET_MODULE and args['api_token'] == TOKEN and args['subject'] == 'Deploy failed'
    assert args['dedupe_key'] == key and 'token-of-the-spooling-run' not in json.dumps(args)
    assert result['filed'] == [1001] and result['changed'] is True and result['failed'] is False
    assert not os.path.exists(path)


def test_a_ticket_already_open_is_counted_so(directory, modules):
    spool(directory)
    modules.return_value = dict(changed=False, ticket=dict(ticket_id=900))

    result = flush(directory)

    assert result['already_open'] == [900] and result['filed'] == [] and result['changed'] is False


def test_a_flush_in_check_mode_lists_the_records_and_runs_nothing(directory, modules):
    path = spool(directory)

    result = flush(directory, check_mode=True)

    assert result['would_file'] == [path] and result['changed'] is True
    modules.assert_not_called()
    assert os.path.exists(path)


def test_a_missing_spool_has_nothing_to_file(directory, modules):
    result = flush(directory)
    assert result['changed'] is False and result['filed'] == [] and 'nothing left in' in result['msg']
    modules.assert_not_called()


def test_without_credentials_no_record_is_touched(directory, modules):
    path = spool(directory)
    before = record(path)

    result = run(dict(state='flushed', directory=directory))

    assert result['failed'] is True and 'No Upsun credentials' in result['msg']
    modules.assert_not_called()
    assert record(path) == before


def test_a_record_spooled_against_another_api_is_kept_and_not_sent(directory, modules):
    path = spool(directory, api_url='https://other.example.com')

    result = flush(directory)

    modules.assert_not_called()
    [kept] = result['kept']
    assert kept['path'] == path and 'was spooled against the API https://other.example.com' in kept['error']
    assert result['failed'] is True and os.path.exists(path)


@pytest.mark.parametrize('status', [401, 408, 429, 500])
def test_a_refusal_worth_retrying_keeps_the_record_with_its_error(directory, modules, status):
    path = spool(directory)
    modules.return_value = dict(failed=True, msg='HTTP {0}'.format(status), status=status, url=API + '/tickets')

    result = flush(directory)

    assert [item['path'] for item in result['kept']] == [path] and result['set_aside'] == []
    assert record(path)['error'] == 'HTTP {0}'.format(status)


def test_a_ticket_the_api_refuses_for_good_is_set_aside_with_the_reason(directory, modules):
    path = spool(directory)
    modules.return_value = dict(failed=True, msg='priority is not valid', status=422, url=API + '/tickets')

    result = flush(directory)

    [aside] = result['set_aside']
    assert aside['path'] == path and aside['reason'] == 'the API refused it (HTTP 422): priority is not valid'
    assert not os.path.exists(path) and os.path.exists(aside['moved_to'])


def test_a_refusal_of_another_request_is_no_refusal_of_the_ticket(directory, modules):
    path = spool(directory)
    modules.return_value = dict(failed=True, msg='token refused', status=400, url=API + '/oauth2/token')

    result = flush(directory)

    assert result['set_aside'] == [] and [item['path'] for item in result['kept']] == [path]


def test_a_lost_answer_keeps_the_record_marked_may_exist(directory, modules):
    path = spool(directory)
    modules.return_value = dict(failed=True, msg='the answer was lost', may_exist=True)

    flush(directory)

    saved = record(path)
    assert saved['may_exist'] is True and saved['lost_at'] and saved['error'] == 'the answer was lost'


def test_a_ticket_that_may_exist_is_searched_for_and_not_posted_when_found(directory, modules):
    path = spool(directory, may_exist=True, ticket=dict(TICKET, dedupe_key='deploy-42'))
    reference = dedupe_reference('deploy-42')
    modules.return_value = dict(tickets=[dict(ticket_id=7, description='... ' + reference), dict(ticket_id=9, description='other')])

    result = flush(directory)

    assert calls(modules) == [(TICKET_INFO_MODULE, dict(api_token=TOKEN, search=reference))]
    assert result['already_open'] == [7] and not os.path.exists(path)


def test_a_ticket_that_may_exist_and_is_not_found_waits_before_it_is_posted_again(directory, modules):
    path = spool(directory, may_exist=True, ticket=dict(TICKET, dedupe_key='deploy-42'))
    modules.return_value = dict(tickets=[])

    result = flush(directory)

    assert [name for name, dummy in calls(modules)] == [TICKET_INFO_MODULE]
    [waiting] = result['waiting']
    assert waiting['path'] == path and 'posted again from' in waiting['error']


def test_a_ticket_that_may_exist_is_posted_again_once_the_wait_is_over(directory, modules):
    spool(directory, may_exist=True, ticket=dict(TICKET, dedupe_key='deploy-42'))
    modules.side_effect = [dict(tickets=[]), dict(changed=True, ticket=dict(ticket_id=1002))]

    result = flush(directory, may_exist_wait=0)

    assert [name for name, dummy in calls(modules)] == [TICKET_INFO_MODULE, TICKET_MODULE]
    assert result['filed'] == [1002]


def test_a_ticket_that_may_exist_without_a_dedupe_key_is_kept_for_a_person_to_check(directory, modules):
    path = spool(directory, may_exist=True)

    result = flush(directory)

    modules.assert_not_called()
    [kept] = result['kept']
    assert kept['path'] == path and 'has no dedupe key to check: look for it in the Upsun console' in kept['error']


def test_a_failed_search_keeps_the_record(directory, modules):
    path = spool(directory, may_exist=True, ticket=dict(TICKET, dedupe_key='deploy-42'))
    modules.return_value = dict(failed=True, msg='search refused')

    result = flush(directory)

    [kept] = result['kept']
    assert kept['path'] == path and kept['error'].endswith('the search for it failed: search refused')


def test_the_modules_warnings_are_the_flush_s(directory, modules):
    spool(directory)
    modules.return_value = dict(changed=True, ticket=dict(ticket_id=1001), warnings=['retried once'])

    assert flush(directory)['warnings'] == ['retried once']
