"""Writes the join_token seed corpus: tokens as JoinTokens::issue_at would issue them.

The tokens are HS256 JWTs over the secret the fuzz target uses (SECRET in
fuzz_targets/join_token.rs), header {"typ":"JWT","alg":"HS256"}, claims
{"aud":"attend:join","sub":…,"mtg":…,"iat":…,"exp":…} in that order, compact JSON, base64url
without padding. The target checks every token that verifies against an independent
HMAC-SHA256 over the same secret and decodes its claims itself, so the seeds only need to be
real tokens, not byte-identical to attend's own encoding (some deliberately are not: an `aud`
list, another audience, a bearer token). Run: python3 make_join_token_seeds.py (in fuzz/).
"""

import base64
import hashlib
import hmac
import json

SECRET = b"attend-fuzz-join-token-secret-0123456789"
ISSUED = 1_740_823_200  # 2025-03-01T10:00:00Z; the target verifies at 10:30


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims: dict, secret: bytes = SECRET, header: dict | None = None) -> str:
    header = header or {"typ": "JWT", "alg": "HS256"}
    signing_input = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + b64(
        json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(mac)


def join(sub: str, mtg: str, ttl: int) -> dict:
    return {"aud": "attend:join", "sub": sub, "mtg": mtg, "iat": ISSUED, "exp": ISSUED + ttl}


SEEDS = {
    # live, for the meeting the target expects (m-1) and for another one
    "live_m1": token(join("u-1", "m-1", 7200)),
    "live_other_meeting": token(join("u-2", "m-2", 7200)),
    "live_unicode": token(join("ü-ß-\u2603", "m-1", 3600)),
    # expired
    "expired": token(join("u-1", "m-1", 1)),
    "expired_at_now": token(join("u-1", "m-1", 1800)),
    # signed by us but not a join token: a bearer token, another audience, an aud list
    "bearer": token({"sub": "u-1", "role": "admin", "groups": [], "exp": 4_000_000_000}),
    "other_audience": token({**join("u-1", "m-1", 7200), "aud": "attend:api"}),
    "audience_list": token({**join("u-1", "m-1", 7200), "aud": ["attend:join"]}),
    # missing or empty claims
    "no_exp": token({"aud": "attend:join", "sub": "u-1", "mtg": "m-1", "iat": ISSUED}),
    "empty_sub": token(join("", "m-1", 7200)),
    "huge_exp": token({**join("u-1", "m-1", 0), "exp": 9_223_372_036_854_775_807}),
    # another secret, another algorithm, alg none
    "other_secret": token(join("u-1", "m-1", 7200), secret=b"x" * 40),
    "hs512_header": token(join("u-1", "m-1", 7200), header={"typ": "JWT", "alg": "HS512"}),
    "alg_none": b64(b'{"typ":"JWT","alg":"none"}') + "." + b64(
        json.dumps(join("u-1", "m-1", 7200), separators=(",", ":")).encode()
    ) + ".",
}

for name, value in SEEDS.items():
    with open(f"seeds/join_token/{name}.txt", "w", encoding="utf-8") as f:
        f.write(value)
