"""A stand-in for Google, and the Google sign-in scenarios both transports run.

- `GoogleKeys`: the throwaway RSA keys of tests/data/google-test-keys.json, signing ID
  tokens as Google's keys would (the Rust tests use the same file);
- `FakeGoogle`: a local JWKS endpoint publishing any of them, counting its fetches, able
  to fail;
- `check_google_sign_in(client, google)`: every rule of the Google routes, through a
  `client` that sends a request to the API however the transport does (local-api over
  HTTP, or the function bootstraps under the Lambda emulator).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tests.e2e.standin import JsonHandler, StandIn

ROOT = Path(__file__).resolve().parents[2]
KEYS_FILE = ROOT / "tests" / "data" / "google-test-keys.json"
CLIENT_ID = "test-client.apps.googleusercontent.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class GoogleKeys:
    """The test keys, by index: 0 published first, 1 rotated in."""

    def __init__(self) -> None:
        self.keys = json.loads(KEYS_FILE.read_text())["keys"]

    def kid(self, index: int) -> str:
        return self.keys[index]["kid"]

    def jwks(self, indices: list[int]) -> dict[str, Any]:
        fields = ("kty", "alg", "use", "kid", "n", "e")
        return {"keys": [{name: self.keys[i][name] for name in fields} for i in indices]}

    def sign(self, index: int, header: dict[str, Any], claims: dict[str, Any]) -> str:
        """A JWS of `claims` under `header`, signed RS256 by key `index` whatever the header says."""
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        der = base64.b64decode(self.keys[index]["pkcs8"])
        key = serialization.load_der_private_key(der, password=None)
        signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg]
        return f"{signing_input}.{b64url(signature)}"

    def id_token(self, claims: dict[str, Any], index: int = 0) -> str:
        return self.sign(index, {"alg": "RS256", "kid": self.kid(index), "typ": "JWT"}, claims)


def claims(sub: str, email: str | None, **changes: Any) -> dict[str, Any]:
    """A valid ID token's claims for CLIENT_ID, issued now; `changes` set (None removes)."""
    now = int(time.time())
    values: dict[str, Any] = {"iss": "https://accounts.google.com", "azp": CLIENT_ID, "aud": CLIENT_ID, "sub": sub,
                              "email": email, "email_verified": True, "name": "Grace Hopper", "iat": now,
                              "nbf": now - 5, "exp": now + 3600}
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


class FakeGoogle(StandIn):
    """Google's JWKS endpoint on a loopback port, serving keys `published` with
    `Cache-Control: public, max-age=3600`; a context manager."""

    PATH = "/oauth2/v3/certs"

    def __init__(self, published: list[int] | None = None):
        self.keys = GoogleKeys()
        self.published = [0] if published is None else published
        self.failing = False
        self.fetches = 0
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                fake.fetches += 1
                if fake.failing or self.path != FakeGoogle.PATH:
                    return self.answer(503 if fake.failing else 404, None)
                self.answer(200, fake.keys.jwks(fake.published), {"cache-control": "public, max-age=3600"})

        super().__init__(Handler, self.PATH)

    def env(self) -> dict[str, str]:
        """What a function, or local-api, is given to accept this stand-in's tokens."""
        return {"GOOGLE_CLIENT_IDS": CLIENT_ID, "GOOGLE_JWKS_URL": self.url}


def rejected_credentials(keys: GoogleKeys) -> list[tuple[str, str]]:
    """Credentials that are not valid Google ID tokens for us, each for one reason."""
    now = int(time.time())
    valid = claims("109000000000000000001", "mallory@example.com")
    header = {"alg": "RS256", "kid": keys.kid(0), "typ": "JWT"}

    def encoded(value: dict[str, Any]) -> str:
        return b64url(json.dumps(value).encode())

    hs256_input = f"{encoded({**header, 'alg': 'HS256'})}.{encoded(valid)}"
    public_key_as_secret = keys.jwks([0])["keys"][0]["n"].encode()
    hs256 = f"{hs256_input}.{b64url(hmac.new(public_key_as_secret, hs256_input.encode(), hashlib.sha256).digest())}"
    good = keys.id_token(valid)
    head, _, signature = good.split(".")
    return [
        ("alg none", f"{encoded({'alg': 'none', 'typ': 'JWT'})}.{encoded(valid)}."),
        ("HS256 signed with the public key", hs256),
        ("signed by another key than its kid's", keys.sign(1, header, valid)),
        ("unknown kid", keys.sign(0, {**header, "kid": "not-a-google-key"}, valid)),
        ("bad signature", f"{head}.{encoded({**valid, 'sub': '1'})}.{signature}"),
        ("wrong audience", keys.id_token({**valid, "aud": "someone-else.apps.googleusercontent.com"})),
        ("wrong issuer", keys.id_token({**valid, "iss": "https://accounts.example.com"})),
        ("expired", keys.id_token({**valid, "exp": now - 300})),
        ("string exp", keys.id_token({**valid, "exp": str(now + 3600)})),
        ("issued in the future", keys.id_token({**valid, "iat": now + 600})),
        ("not yet valid", keys.id_token({**valid, "nbf": now + 600})),
        ("missing sub", keys.id_token({k: v for k, v in valid.items() if k != "sub"})),
        ("garbage", "this is not a token"),
    ]


class Client(Protocol):
    """Sends one request to the API: its status and JSON body."""

    def __call__(self, method: str, path: str, body: Any = None, bearer: str | None = None) -> tuple[int, Any]: ...


def check_google_sign_in(send: Client, google: FakeGoogle, email_domain: str) -> None:
    """Every rule of `POST /auth/google`, `POST /me/identities/google` and the sign-in
    methods of `GET /me`, on a store where no address at `email_domain` is taken yet."""
    keys = google.keys
    grace, ada = f"grace@{email_domain}", f"ada@{email_domain}"

    def sign_in(token: str) -> tuple[int, Any]:
        return send("POST", "/auth/google", {"credential": token})

    # A first sign-in makes the account (201), a second signs in to it (200).
    status, first = sign_in(keys.id_token(claims("109000000000000000010", grace)))
    assert status == 201 and first["user"]["email"] == grace, (status, first)
    assert first["user"]["sign_in_methods"] == ["google"] and first["access_token"] and first["device_token"], first
    status, again = sign_in(keys.id_token(claims("109000000000000000010", grace.upper())))
    assert (status, again["user"]["id"]) == (200, first["user"]["id"]), (status, again)
    status, me = send("GET", "/me", bearer=again["access_token"])
    assert (status, me["user"]["sign_in_methods"]) == (200, ["google"]), me

    # A Google-only account has no password: login answers as for a wrong one, signup 409.
    status, login = send("POST", "/login", {"email": grace, "password": "any password at all"})
    assert (status, login["error"]["code"]) == (401, "invalid_credentials"), login
    status, signup = send("POST", "/signup", {"email": grace, "password": "a-fine-passphrase", "display_name": "G"})
    assert (status, signup["error"]["code"]) == (409, "email_taken"), signup

    # No silent takeover of a password account; its owner links Google from inside it.
    status, ada_session = send("POST", "/signup", {"email": ada, "password": "a-fine-passphrase", "display_name": "Ada"})
    assert status == 201, ada_session
    ada_google = keys.id_token(claims("109000000000000000020", ada))
    status, exists = sign_in(ada_google)
    assert (status, exists["error"]["code"]) == (409, "account_exists"), exists
    status, linked = send("POST", "/me/identities/google", {"credential": ada_google}, ada_session["access_token"])
    assert status == 200 and linked["user"]["sign_in_methods"] == ["password", "google"], linked
    status, via_google = sign_in(ada_google)
    assert (status, via_google["user"]["id"]) == (200, ada_session["user"]["id"]), via_google
    status, taken = send("POST", "/me/identities/google",
                         {"credential": keys.id_token(claims("109000000000000000010", grace))},
                         ada_session["access_token"])
    assert (status, taken["error"]["code"]) == (409, "identity_taken"), taken
    status, unauthenticated = send("POST", "/me/identities/google", {"credential": ada_google})
    assert (status, unauthenticated["error"]["code"]) == (401, "unauthorized"), unauthenticated

    # A new account needs an email Google has verified.
    for unverified in (claims("109000000000000000030", f"eve@{email_domain}", email_verified=False),
                       claims("109000000000000000031", None)):
        status, refused = sign_in(keys.id_token(unverified))
        assert (status, refused["error"]["code"]) == (403, "email_not_verified"), (unverified, refused)

    # Google's key rotation needs no restart: a token of a newly published key is accepted
    # (before any unknown kid below has used up the refetch its interval allows).
    google.published = [0, 1]
    status, rotated = sign_in(keys.id_token(claims("109000000000000000040", f"rotated@{email_domain}"), index=1))
    assert status == 201, rotated
    google.published = [0]

    # Every broken rule is the same 401; a missing credential names the field.
    for reason, token in rejected_credentials(keys):
        status, refused = sign_in(token)
        assert (status, refused["error"]["code"]) == (401, "invalid_credentials"), (reason, status, refused)
    status, missing = send("POST", "/auth/google", {})
    assert (status, missing["error"]["details"][0]["field"]) == (422, "credential"), missing



def check_racing_first_sign_ins(senders: list[Client], google: FakeGoogle, email: str) -> None:
    """First sign-ins of one Google account at once, one through each of `senders`, make
    one account: one 201, the others 200 for the same account."""
    token = google.keys.id_token(claims("109000000000000000050", email))
    with ThreadPoolExecutor(len(senders)) as pool:
        answers = list(pool.map(lambda send: send("POST", "/auth/google", {"credential": token}), senders))
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * (len(senders) - 1) + [201], answers
    assert len({body["user"]["id"] for _, body in answers}) == 1, answers
