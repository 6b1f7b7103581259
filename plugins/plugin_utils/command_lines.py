# -*- coding: utf-8 -*-
# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Secrets on command lines and in prompts: secret-looking flags (``--password x``, ``-storepass x``), the short
flags and positional arguments known commands take a password with (``mysql -pX``, ``docker login -p X``,
``htpasswd -b``...), and answers to password prompts (``Password for '...': x``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.upsun.support.plugins.module_utils.masking import trie_pattern
from ansible_collections.upsun.support.plugins.plugin_utils.secret_names import looks_secret, secret_names
from ansible_collections.upsun.support.plugins.plugin_utils.text_spans import disjoint, masked


_FLAG_VALUE = re.compile(r'(?:=|[ \t]+)(?P<secret>"[^"\n]*"|\'[^\'\n]*\'|(?!-)[^\s"\']+)')
# Commands whose short flags take a password; each is read up to the end of its command (| ; & or the line).
_COMMAND = re.compile(r'(?P<command>mysql(?:dump|admin|import|check|sh)?|mariadb(?:-dump|-admin)?|docker|podman'
                      r'|nerdctl|buildah|skopeo|oras|helm|sshpass|redis-cli|keytool|jarsigner|openssl|htpasswd'
                      r'|ldap(?:search|modify|add|delete|whoami|passwd|compare)|sqlcmd|bcp|smbclient|rpcclient|zip|unzip'
                      r'|7za?|mongo(?:sh|dump|restore|import|export)?|npm|yarn|pnpm|sqlplus)(?:\.exe)?(?![\w-])'
                      r'(?P<args>[^\n|;&]*)', re.IGNORECASE)
_ATTACHED = r'(?P<secret>"[^"\n]*"|\'[^\'\n]*\'|[^\s"\']+)'
_SPACED = r'[ \t]+(?P<secret>"[^"\n]*"|\'[^\'\n]*\'|(?!-)[^\s"\']+)'
_COMMAND_FLAGS = {
    'mysql': re.compile(r'(?<!\S)-p' + _ATTACHED),  # also 7z
    'login': re.compile(r'(?<!\S)-p(?:[ \t]+(?!-))?' + _ATTACHED),
    'sshpass': re.compile(r'(?<!\S)-p[ \t]*' + _ATTACHED),
    'redis-cli': re.compile(r'(?<!\S)-a[ \t]*' + _ATTACHED),
    'keytool': re.compile(r'(?<!\S)-(?:src|dest|new)?(?:store|key)?pass(?:word)?' + _SPACED),
    'openssl': re.compile(r'(?<!\S)-(?:passin|passout|pass|password|k|kfile)[ \t]+(?:pass:)' + _ATTACHED),
    'ldap': re.compile(r'(?<!\S)-w[ \t]*' + _ATTACHED),
    'sqlcmd': re.compile(r'(?<!\S)-P[ \t]*' + _ATTACHED),
    'smbclient': re.compile(r'(?<!\S)(?:-U|--user(?:name)?)[ =\t]*[^\s%]+%' + _ATTACHED),
    'zip': re.compile(r'(?<!\S)-P' + _SPACED),
    'mongo': re.compile(r'(?<!\S)-p' + _SPACED),
    'sqlplus': re.compile(r'(?<!\S)[^\s/@-][^\s/@]{0,60}/(?P<secret>[^\s@/"\']+)(?=@|\s|$)'),
}
_COMMAND_KINDS = (('mysql', 'mysql'), ('mariadb', 'mysql'), ('sshpass', 'sshpass'), ('redis-cli', 'redis-cli'),
                  ('keytool', 'keytool'), ('jarsigner', 'keytool'), ('openssl', 'openssl'), ('ldap', 'ldap'),
                  ('sqlcmd', 'sqlcmd'), ('bcp', 'sqlcmd'), ('smbclient', 'smbclient'), ('rpcclient', 'smbclient'),
                  ('zip', 'zip'), ('unzip', 'zip'), ('7z', 'mysql'), ('mongo', 'mongo'), ('sqlplus', 'sqlplus'))
COMMANDS = ('mysql', 'mariadb', 'docker', 'podman', 'nerdctl', 'buildah', 'skopeo', 'oras', 'helm', 'sshpass',
            'redis-cli', 'keytool', 'jarsigner', 'openssl', 'htpasswd', 'ldap', 'sqlcmd', 'bcp', 'smbclient',
            'rpcclient', 'zip', '7z', 'mongo', 'npm', 'yarn', 'pnpm', 'sqlplus')
_COMMAND_FINDER = re.compile(trie_pattern(COMMANDS))
_COMMAND_WORD_CHARS = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./-')
_LOGIN = re.compile(r'(?<!\S)login(?!\S)')
_HTPASSWD_WORD = re.compile(r'\S+')
_CONFIG_SET = re.compile(r'(?<!\S)config[ \t]+set[ \t]+(?P<name>\S+)(?:[ \t]+|=)' + _ATTACHED)
_PROMPT_FINDER = re.compile('pass(?:word|phrase|code)[ \t]+for[ \t]')
_PROMPT = re.compile(r'(?i)(?:password|passphrase|passcode)[ \t]+for[ \t]+[^\n]{1,200}?:[ \t]+(?P<secret>\S+)')


def _command_kind(command):
    command = command.lower()
    for start, kind in _COMMAND_KINDS:
        if command.startswith(start):
            return kind
    return command


def _command_spans(match):
    """The spans (in the match's args) of the passwords its command takes as short flags or positional arguments."""
    kind = _command_kind(match.group('command'))
    args = match.group('args')
    if kind in ('docker', 'podman', 'nerdctl', 'buildah', 'skopeo', 'oras', 'helm'):
        login = _LOGIN.search(args)
        return [found.span('secret') for found in _COMMAND_FLAGS['login'].finditer(args, login.end())] if login else []
    if kind in ('npm', 'yarn', 'pnpm'):
        return [found.span('secret') for found in _CONFIG_SET.finditer(args)
                if looks_secret(re.split(r'[:/.]', found.group('name'))[-1])]
    if kind == 'htpasswd':
        return _htpasswd_password(args)
    regex = _COMMAND_FLAGS.get(kind)
    return [found.span('secret') for found in regex.finditer(args)] if regex else []


def _htpasswd_password(args):
    """htpasswd -b[cmBdsp...] [file] user password: the last positional argument of batch mode."""
    words = list(_HTPASSWD_WORD.finditer(args))
    flags = ''.join(word.group(0)[1:] for word in words if word.group(0).startswith('-'))
    positional = [word for word in words if not word.group(0).startswith('-')]
    wanted = 2 if 'n' in flags else 3
    if 'b' not in flags or len(positional) < wanted:
        return []
    return [positional[wanted - 1].span()]


def _commands(text, lowered):
    """The matches of ``_COMMAND`` where a command name starts a word (each one read to the end of its command)."""
    pos = 0
    while True:
        found = _COMMAND_FINDER.search(lowered, pos)
        if found is None:
            return
        start = found.start()
        match = None if start and text[start - 1] in _COMMAND_WORD_CHARS else _COMMAND.match(text, start)
        if match is not None:
            yield match
        pos = match.end() if match is not None else found.end()


def mask_flags(text, replacement, lowered):
    """Secret-looking flags (--password x, -storepass x), the short flags of known commands, and prompts."""
    spans = [(0, 0)]
    for start, end, name in secret_names(text, lowered):
        dashes = len(name) - len(name.lstrip('-'))
        value = _FLAG_VALUE.match(text, end) if dashes in (1, 2) and start >= spans[-1][1] and looks_secret(name[dashes:]) \
            else None
        if value is not None:
            spans.append(value.span('secret'))
    for match in _commands(text, lowered):
        offset = match.start('args')
        spans.extend((offset + start, offset + end) for start, end in _command_spans(match))
    for found in _PROMPT_FINDER.finditer(lowered):
        match = _PROMPT.match(text, found.start())
        if match is not None:
            spans.append(match.span('secret'))
    spans = [(start + 1, end - 1) if text[start:start + 1] in ('"', "'") and end - start >= 2 else (start, end)
             for start, end in spans if start < end]
    return masked(text, disjoint(spans), replacement)
