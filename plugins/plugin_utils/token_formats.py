# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Well-known token formats of providers (GitHub, GitLab, Slack, AWS, Google, Stripe, npm, PyPI...), JWTs whatever
their payload, and the webhook URLs whose path is the secret.

A token is looked for only at the start of a word of 16 token characters or more (or right after a token found
in the same word); a JWT only when its first part decodes to a JSON object with a JWT header field.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import re

from ansible_collections.upsun.support.plugins.plugin_utils.text_spans import disjoint, masked


_PROVIDER_TOKENS = (
    # GitHub, GitLab (personal, deploy, runner, pipeline trigger, CI job, feed, OAuth app, incoming mail, agent)
    r'gh[pousr]_[A-Za-z0-9]{30,}', r'github_pat_[A-Za-z0-9_]{40,}',
    r'gl(?:pat|dt|rt|ptt|cbt|ft|soat|imt|oas|agent|ffct)-[A-Za-z0-9_-]{16,}', r'GR1348941[A-Za-z0-9_-]{20,}',
    # Slack
    r'xox[abposre]-[A-Za-z0-9-]{10,}', r'xapp-[A-Za-z0-9-]{10,}',
    # AWS access key ids, Google API keys and OAuth tokens and client secrets
    r'(?:AKIA|ASIA|AGPA|AIDA|AROA|ABIA|ACCA|ANPA|ANVA|AIPA)[0-9A-Z]{16}', r'AIza[0-9A-Za-z_-]{35}',
    r'ya29\.[0-9A-Za-z_-]{20,}', r'GOCSPX-[A-Za-z0-9_-]{20,}',
    # Stripe, Square, Shopify, Mailchimp, Mailgun, SendGrid, Twilio API keys
    r'(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}', r'whsec_[A-Za-z0-9]{20,}', r'sq0(?:csp|atp)-[A-Za-z0-9_-]{22,}',
    r'EAAA[A-Za-z0-9_-]{60}', r'shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}', r'key-[0-9a-f]{32}',
    r'SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}', r'SK[0-9a-fA-F]{32}',
    # npm, PyPI, Docker Hub, RubyGems, NuGet, Artifactory, Hugging Face
    r'npm_[A-Za-z0-9]{36,}', r'pypi-[A-Za-z0-9_-]{50,}', r'dckr_pat_[A-Za-z0-9_-]{20,}', r'rubygems_[0-9a-f]{48}',
    r'oy2[a-z0-9]{43}', r'AKC[a-zA-Z0-9]{60,}', r'hf_[A-Za-z]{34,}',
    # HashiCorp Vault and Terraform Cloud, Doppler, Pulumi, Atlassian, DigitalOcean, Heroku, Sentry, New Relic,
    # Grafana, Databricks, Postman, Linear, OpenAI, Anthropic, age
    r'hv[sbr]\.[A-Za-z0-9_-]{20,}', r'dp\.(?:pt|st|sa|ct)\.[A-Za-z0-9]{40,}',
    r'pul-[a-f0-9]{40}', r'AT(?:ATT|CTT)[A-Za-z0-9_=-]{20,}', r'do[opr]_v1_[a-f0-9]{64}', r'HRKU-[A-Za-z0-9_-]{20,}',
    r'sntr[ysu]_[A-Za-z0-9_=+/-]{20,}', r'NRAK-[A-Z0-9]{27}', r'gl(?:sa|c)_[A-Za-z0-9_+/=-]{32,}',
    r'dapi[0-9a-f]{32}', r'PMAK-[A-Za-z0-9-]{20,}', r'lin_api_[A-Za-z0-9]{40}',
    r'sk-(?:proj|svcacct|admin|ant-api03|ant)-[A-Za-z0-9_-]{20,}', r'sk-[A-Za-z0-9]{48}', r'AGE-SECRET-KEY-1[A-Z0-9]{58}',
    # Mailchimp, Telegram bots (after "<bot id>:"), Terraform Cloud, Discord bots
    r'[0-9a-f]{32}-us[0-9]{1,2}', r'(?<=[0-9]:)AA[A-Za-z0-9_-]{33}', r'[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_-]{60,}',
    r'[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}',
)
_TOKEN = re.compile(r'(?:{0})(?![A-Za-z0-9_-])'.format('|'.join(_PROVIDER_TOKENS)))
# Where a token may be: a run of 16 token characters (lower-cased text), and the word it starts.
TOKEN_RUN_PATTERN = r'[a-z0-9_-]{16}'
_TOKEN_WORD = re.compile(r'[A-Za-z0-9_.-]{16,}')
# Three to five base64url parts; the first one must decode to a JSON object with a JWT header field.
_JWT = re.compile(r'e[wy][A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){2,4}')
_JWT_HEADER_FIELDS = ('"alg"', '"typ"', '"enc"', '"kid"', '"cty"')
# Webhook URLs whose path is the secret.
_WEBHOOK = re.compile(r'(?i)(?:hooks\.slack\.com/(?:services|workflows|triggers)/|discord(?:app)?\.com/api/webhooks/[0-9]+/'
                      r'|\.webhook\.office\.com/webhookb2/|chat\.googleapis\.com/v1/spaces/[A-Za-z0-9_-]+/messages\?)'
                      r'(?P<secret>[A-Za-z0-9_%=&/@.-]+)')


def _is_jwt(token):
    header = token.split('.', 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(header + '=' * (-len(header) % 4)).decode('utf-8', 'replace')
    except (binascii.Error, ValueError):
        return False
    return decoded.lstrip().startswith('{') and any(field in decoded for field in _JWT_HEADER_FIELDS)


def _token_spans(text):
    """The provider tokens and JWTs, each at the start of a word (or right after one found in the same word)."""
    spans = []
    for word in _TOKEN_WORD.finditer(text):
        pos = word.start()
        while pos < word.end():
            match = _TOKEN.match(text, pos)
            if match is None:
                match = _JWT.match(text, pos)
                match = match if match is not None and _is_jwt(match.group(0)) else None
            if match is None:
                break
            spans.append(match.span())
            pos = match.end()
            while pos < word.end() and text[pos] in '.-_':
                pos += 1
    return spans


def mask_token_formats(text, replacement, lowered):
    spans = _token_spans(text)
    if 'hook' in lowered or 'chat.googleapis' in lowered:
        spans.extend(match.span('secret') for match in _WEBHOOK.finditer(text))
    return masked(text, disjoint(spans), replacement)
