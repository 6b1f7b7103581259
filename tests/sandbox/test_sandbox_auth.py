# Copyright: (c) 2026, upsun.support maintainers
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Tests of the offline Upsun ticket API sandbox: the token exchange and bearer authentication."""

import time

import pytest

from sandbox_api import CLIENT, Api


# Token exchange ---------------------------------------------------------------------------------------------

def test_token_exchange(api):
    response = api.exchange()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["expires_in"] == 900 and body["token_type"] == "bearer" and len(body["access_token"]) > 20
    assert api.exchange().json()["access_token"] != body["access_token"]


@pytest.mark.parametrize("auth", [None, ("someone-else", ""), ("platform-api-user", "secret")])
def test_token_exchange_wrong_client(quick, auth):
    response = quick[1].exchange(auth=auth)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"] == "invalid_client"
    assert response.json()["error_description"]


def test_token_exchange_bad_token(quick):
    api = quick[1]
    response = api.exchange(api_token="not-a-token")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["error_description"]
    missing = api.session.post(f"{api.url}/oauth2/token", data={"grant_type": "api_token"}, auth=CLIENT)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"


def test_token_exchange_bad_grant(quick):
    api = quick[1]
    response = api.exchange(grant_type="password")
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_token_exchange_with_the_cli_client_id_in_the_body(quick):
    # The Upsun CLI sends client_id=upsun-cli in the form body instead of HTTP Basic; the auth server takes both.
    api = quick[1]
    form = {"grant_type": "api_token", "api_token": api.api_token, "client_id": "upsun-cli"}
    response = api.session.post(f"{api.url}/oauth2/token", data=form, timeout=10)
    assert response.status_code == 200, response.text
    access = response.json()["access_token"]
    listed = api.session.get(f"{api.url}/tickets", headers={"Authorization": f"Bearer {access}"}, timeout=10)
    assert listed.status_code == 200
    journaled = quick[0].journal(path="/oauth2/token")[0]
    assert journaled["body"]["client_id"] == "upsun-cli" and journaled["body"]["api_token"] == "<redacted>"


@pytest.mark.parametrize("client_id", ["someone-else", ""])
def test_token_exchange_refuses_another_client_id_in_the_body(quick, client_id):
    api = quick[1]
    form = {"grant_type": "api_token", "api_token": api.api_token, "client_id": client_id}
    response = api.session.post(f"{api.url}/oauth2/token", data=form, timeout=10)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_token_exchange_extra_api_tokens(sandbox_factory):
    client = sandbox_factory(api_tokens=["first-token", "second-token"])
    api = Api(client)
    assert api.exchange(api_token="second-token").status_code == 200
    assert api.exchange(api_token="sandbox-api-token").status_code == 400


# Bearer authentication --------------------------------------------------------------------------------------

def test_401_without_token(quick):
    api = quick[1]
    response = api.session.get(f"{api.url}/tickets")
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]
    wrong_scheme = api.session.get(f"{api.url}/tickets", auth=CLIENT)
    assert wrong_scheme.status_code == 401


def test_401_with_unknown_token(quick):
    api = quick[1]
    api.access_token = "made-up"
    response = api.call("GET", "/tickets")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_401_with_expired_token_then_reexchange(sandbox, api):
    assert api.call("GET", "/tickets").status_code == 200
    assert sandbox.expire_tokens() == 1
    response = api.call("GET", "/tickets")
    assert response.status_code == 401
    assert "expired" in response.json()["error"]
    api.login()
    assert api.call("GET", "/tickets").status_code == 200


def test_token_lifetime_option(sandbox_factory):
    api = Api(sandbox_factory("--token-lifetime", "1"))
    assert api.exchange().json()["expires_in"] == 1
    api.login()
    assert api.call("GET", "/tickets").status_code == 200
    time.sleep(1.2)
    assert api.call("GET", "/tickets").status_code == 401
