# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Where and when a failure happened, for a ticket: the CI job running it, the time in UTC."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os

# Where common CI systems say which job is running, to link the ticket to it.
CI_JOB_URL_VARIABLES = ('CI_JOB_URL', 'BUILD_URL', 'CIRCLE_BUILD_URL', 'BUILDKITE_BUILD_URL')


def ci_job_url(environ=None):
    """The URL of the CI job running this, when a known CI system says it."""
    environ = os.environ if environ is None else environ
    if environ.get('GITHUB_RUN_ID') and environ.get('GITHUB_REPOSITORY'):
        return '{0}/{1}/actions/runs/{2}'.format(
            environ.get('GITHUB_SERVER_URL') or 'https://github.com', environ['GITHUB_REPOSITORY'], environ['GITHUB_RUN_ID'])
    for name in CI_JOB_URL_VARIABLES:
        if environ.get(name):
            return environ[name]
    return None


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
