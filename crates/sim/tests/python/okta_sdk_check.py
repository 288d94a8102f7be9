"""Drives the Okta emulator with Okta's official Python SDK (`okta` 3.4.6).

Usage: okta_sdk_check.py BASE_URL TOKEN PAGE_SIZE
Lists every user and every group page by page (following the SDK's own pagination),
lists one group's members, creates a user, reads it back by login, and prints one JSON
object with what it saw; the Rust test compares that with the emulator's state.
Exits non-zero, with the reason on stderr, when the SDK fails.
"""

import asyncio
import json
import os
import sys

# The SDK refuses plain-http org URLs unless this is set (the client setting is ignored).
os.environ["OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"] = "true"

from okta.client import Client as OktaClient  # noqa: E402
from okta.models import CreateUserRequest  # noqa: E402
from okta.pagination import paginate_pages  # noqa: E402


def fail(what, err):
    print(f"okta SDK failed to {what}: {err}", file=sys.stderr)
    sys.exit(1)


async def all_pages(method, what, page_size, **kwargs):
    """Reads every page with the SDK's own cursor pagination (`okta.pagination`)."""
    items, pages = [], 0
    async for page, _number, _has_more in paginate_pages(method, limit=page_size, **kwargs):
        items.extend(page)
        pages += 1
    # paginate_pages stops quietly on an error; repeat the first call to surface it.
    if pages == 0:
        _, _, err = await method(limit=page_size, **kwargs)
        fail(what, err or "no page was returned")
    return items, pages


async def main(base_url, token, page_size):
    config = {"orgUrl": base_url, "token": token, "rateLimit": {"maxRetries": 1}}
    async with OktaClient(config) as client:
        users, user_pages = await all_pages(client.list_users, "list users", page_size)
        groups, group_pages = await all_pages(client.list_groups, "list groups", page_size)
        # Everyone (the BUILT_IN group, every user): its members span several pages.
        # (By type: the SDK's GroupProfile variants do not all expose `name`.)
        biggest = next(g.id for g in groups if "BUILT_IN" in str(g.type))
        members, member_pages = await all_pages(
            client.list_group_users, "list group members", page_size, group_id=biggest
        )
        body = CreateUserRequest.from_dict(
            {
                "profile": {
                    "firstName": "Sdk",
                    "lastName": "Created",
                    "email": "sdk.created@example.com",
                    "login": "sdk.created@example.com",
                },
                "credentials": {"password": {"value": "Abcd1234!x"}},
            }
        )
        created, _, err = await client.create_user(body, activate=True)
        if err:
            fail("create a user", err)
        fetched, _, err = await client.get_user("sdk.created@example.com")
        if err:
            fail("get the created user by login", err)
        statuses = {}
        for u in users:
            status = u.status.value if hasattr(u.status, "value") else str(u.status)
            statuses[status] = statuses.get(status, 0) + 1
        print(
            json.dumps(
                {
                    "users": len(users),
                    "user_ids": sorted({u.id for u in users}),
                    "user_pages": user_pages,
                    "user_statuses": statuses,
                    "groups": len(groups),
                    "group_pages": group_pages,
                    "first_group": biggest,
                    "members": len(members),
                    "member_pages": member_pages,
                    "created_id": created.id,
                    "created_status": created.status.value
                    if hasattr(created.status, "value")
                    else str(created.status),
                    "fetched_id": fetched.id,
                }
            )
        )


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print("usage: okta_sdk_check.py BASE_URL TOKEN PAGE_SIZE", file=sys.stderr)
        sys.exit(2)
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
