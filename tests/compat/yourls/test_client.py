"""The PyPI `yourls` client (1.2.3) against a live kurz: every action it has.

Run by tests/api/yourls_client.rs with KURZ_URL (the server) and KURZ_SIGNATURE (a key's
YOURLS token) in the environment, and nothing seeded. Exits non-zero on the first mismatch,
naming it.
"""

import os
import sys
from datetime import datetime, timedelta

import requests
from yourls import (
    YOURLSClient,
    YOURLSHTTPError,
    YOURLSNoLoopError,
    YOURLSNoURLError,
)

base = os.environ["KURZ_URL"]
api = base + "/yourls-api.php"
client = YOURLSClient(api, signature=os.environ["KURZ_SIGNATURE"])


def check(what, got, expected):
    if got != expected:
        sys.exit(f"{what}: expected {expected!r}, got {got!r}")
    print(f"ok: {what}")


def raises(what, error, call):
    try:
        call()
    except error as e:
        print(f"ok: {what} ({type(e).__name__}: {e})")
        return e
    sys.exit(f"{what}: expected {error.__name__}")


first = client.shorten("https://example.com/python?a=1", keyword="py", title="From Python")
check("shorten: short URL", first.shorturl, base + "/py")
check("shorten: keyword", first.keyword, "py")
check("shorten: long URL", first.url, "https://example.com/python?a=1")
check("shorten: title", first.title, "From Python")
check("shorten: ip", first.ip, "")
if abs(datetime.utcnow() - first.date) > timedelta(minutes=5):
    sys.exit(f"shorten: date {first.date} is not now (UTC)")
second = client.shorten("https://example.com/second")
check("shorten without keyword: a keyword", bool(second.keyword), True)

# YOURLS answers a duplicate long URL (and a keyword taken) with HTTP 400, which this client
# raises as an HTTP error; YOURLS's document is in the error's response.
error = raises(
    "shorten: the same long URL again",
    YOURLSHTTPError,
    lambda: client.shorten("https://example.com/python?a=1"),
)
duplicate = error.response.json()
check("duplicate: the code", duplicate["code"], "error:url")
check("duplicate: the first short URL", duplicate["shorturl"], base + "/py")
check("duplicate: the message", "already exists" in duplicate["message"], True)
error = raises(
    "shorten: a keyword taken",
    YOURLSHTTPError,
    lambda: client.shorten("https://example.com/third", keyword="py"),
)
check("keyword taken: the code", error.response.json()["code"], "error:keyword")
raises("shorten: no URL", YOURLSNoURLError, lambda: client.shorten(""))
raises("shorten: a short URL", YOURLSNoLoopError, lambda: client.shorten(base + "/py"))

check("expand: a keyword", client.expand("py"), "https://example.com/python?a=1")
check("expand: a short URL", client.expand(base + "/py"), "https://example.com/python?a=1")
raises("expand: unknown", YOURLSHTTPError, lambda: client.expand("nothing-here"))

# Two clicks on py, one on the second link (redirects not followed).
for slug in ["py", "py", second.keyword]:
    answer = requests.get(f"{base}/{slug}", allow_redirects=False)
    check(f"click on {slug}", answer.status_code, 302)
deadline = datetime.now() + timedelta(seconds=10)
while client.url_stats("py").clicks < 2 or client.url_stats(second.keyword).clicks < 1:
    if datetime.now() > deadline:
        sys.exit("url_stats: the clicks were not counted within 10 s")

stats = client.url_stats("py")
check("url_stats: clicks", stats.clicks, 2)
check("url_stats: short URL", stats.shorturl, base + "/py")

links, totals = client.stats("top", 2)
check("stats top: order", [link.shorturl for link in links], [base + "/py", second.shorturl])
check("stats top: total links", totals.total_links, 2)
check("stats top: total clicks", totals.total_clicks, 3)
links, _ = client.stats("bottom", 1)
check("stats bottom", links[0].shorturl, second.shorturl)
links, _ = client.stats("last", 2)
check("stats last", [link.shorturl for link in links], [second.shorturl, base + "/py"])
links, _ = client.stats("top", 1, start=1)
check("stats with start", links[0].shorturl, second.shorturl)
links, _ = client.stats("rand", 2)
check("stats rand", sorted(link.shorturl for link in links), sorted([base + "/py", second.shorturl]))

db = client.db_stats()
check("db_stats: links", db.total_links, 2)
check("db_stats: clicks", db.total_clicks, 3)

raises(
    "a wrong signature",
    YOURLSHTTPError,
    lambda: YOURLSClient(api, signature="0" * 32).db_stats(),
)
print("all YOURLS client checks passed")
