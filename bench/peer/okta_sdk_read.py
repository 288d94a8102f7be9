"""Reads a whole Okta org with Okta's official Python SDK (`okta` 3.4.6), the way its
documentation shows: the SDK's cursor pagination (`okta.pagination`, whose docstrings
are the SDK's paging examples) over `list_users` (with the filter that includes DEPROVISIONED users, as usersync
reads them), then `list_groups`, then
`list_group_users` for each group in turn. No tuning: the helper's default page size
(200), the SDK's default rate-limit handling (a 429 is retried twice, after waiting
for the window to reset), one request at a time as the documented loops do.

Usage: OKTA_API_TOKEN=... okta_sdk_read.py BASE_URL [DEADLINE_SECONDS]
(the token comes from the environment so it never shows in a process list).

Prints one JSON object: users, groups and memberships seen, pages fetched, seconds,
and whether it finished. With a deadline, it stops starting new listings once the
deadline has passed and reports how far it got (the benchmark projects the rest).
Exits non-zero, with the reason on stderr, when the SDK fails.
"""

import asyncio
import json
import os
import sys
import time

# The SDK refuses plain-http org URLs unless this is set (the client setting is ignored).
os.environ["OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"] = "true"

from okta.client import Client as OktaClient  # noqa: E402
from okta.pagination import PaginationHelper  # noqa: E402

PAGE_SIZE = 200  # okta.pagination's default

# A plain listing leaves DEPROVISIONED users out; usersync reads them (a deactivated
# user must be deactivated in the target), so the SDK reads the same data, with the
# documented filter that includes them, as usersync's client does.
EVERY_USER = 'lastUpdated gt "1970-01-01T00:00:00.000Z"'


def fail(what, err):
    print(f"okta SDK failed to {what}: {err}", file=sys.stderr)
    sys.exit(1)


async def read_all(method, what, counter, **kwargs):
    """`okta.pagination.paginate_pages`, step for step, except that an error fails the
    read instead of ending it quietly (the helper stops on an error as if the listing
    were complete). Counts the pages it fetched."""
    items, after = [], None
    while True:
        data, response, err = await method(limit=PAGE_SIZE, after=after, **kwargs)
        if err:
            fail(what, err)
        counter["pages"] += 1
        items.extend(data or [])
        after = PaginationHelper.extract_next_cursor(response.headers)
        if not data or not after:
            return items


async def main(base_url, token, deadline):
    started = time.monotonic()
    counter = {"pages": 0}
    async with OktaClient({"orgUrl": base_url, "token": token}) as client:
        users = await read_all(
            client.list_users, "list users", counter, filter=EVERY_USER
        )
        groups = await read_all(client.list_groups, "list groups", counter)
        memberships = 0
        groups_done = 0
        for group in groups:
            if deadline is not None and time.monotonic() - started > deadline:
                break
            members = await read_all(
                client.list_group_users,
                f"list the members of group {group.id}",
                counter,
                group_id=group.id,
            )
            memberships += len(members)
            groups_done += 1
    print(
        json.dumps(
            {
                "users": len(users),
                "groups": len(groups),
                "groups_read": groups_done,
                "memberships": memberships,
                "pages": counter["pages"],
                "seconds": time.monotonic() - started,
                "finished": groups_done == len(groups),
            }
        )
    )


if __name__ == "__main__":
    token = os.environ.get("OKTA_API_TOKEN", "")
    if len(sys.argv) not in (2, 3) or not token:
        print(
            "usage: OKTA_API_TOKEN=... okta_sdk_read.py BASE_URL [DEADLINE_SECONDS]",
            file=sys.stderr,
        )
        sys.exit(2)
    limit = float(sys.argv[2]) if len(sys.argv) == 3 else None
    asyncio.run(main(sys.argv[1], token, limit))
