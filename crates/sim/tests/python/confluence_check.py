"""Reads users, groups and members from the Confluence emulator with
atlassian-python-api (a client nobody here wrote) and checks what it sees.

Usage: confluence_check.py BASE_URL USERNAME PASSWORD EXPECTED_MEMBERS SEATS_USED SEATS_MAX
Exit status 0 when every check holds; any failure raises with the reason.
"""

import json
import sys

from atlassian import Confluence


def main() -> None:
    base_url, username, password, expected_members, seats_used, seats_max = sys.argv[1:7]
    confluence = Confluence(url=base_url, username=username, password=password)

    me = confluence.get_current_user()
    assert me["username"] == username, f"current user is {me!r}"

    alice = confluence.get_user_details_by_username("alice", expand="status")
    assert alice["displayName"] == "Alice Example", alice
    assert alice["status"] == "Active", alice
    by_key = confluence.get_user_details_by_userkey(alice["userKey"])
    assert by_key["username"] == "alice", by_key

    bob = confluence.get_user_details_by_username("bob", expand="status")
    assert bob["status"] == "Deactivated", bob

    groups = [g["name"] for g in confluence.get_all_groups()]
    assert "developers" in groups, groups
    assert "confluence-users" in groups, groups

    # get_all_members pages 50 at a time: more members than that proves paging.
    members = confluence.get_all_members("developers", expand="status")
    names = sorted(m["username"] for m in members)
    assert len(names) == int(expected_members), f"{len(names)} members: {names[:5]}..."
    assert len(set(names)) == len(names), "a member was returned twice"
    assert "bob" in names and "alice" in names, names[:5]

    confluence.create_group("made-by-python")

    # The licence resource: seats in use, allowed and left, each as {"count": n}.
    used = confluence.get_license_user_count()["count"]
    allowed = confluence.get_license_max_users()["count"]
    left = confluence.get_license_remaining()["count"]
    assert used == int(seats_used), f"userCount {used}"
    assert allowed == int(seats_max), f"maxUsers {allowed}"
    assert left == allowed - used, f"remainingSeats {left}"

    print(json.dumps({"groups": len(groups), "members": len(names)}))


if __name__ == "__main__":
    main()
