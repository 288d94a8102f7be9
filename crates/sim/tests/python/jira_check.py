"""Drives the Jira emulator with atlassian-python-api (a client nobody here
wrote): creates a user, adds it to a group, reads the group's members and
deactivates the user, and reads the application roles' licence figures, checking
what Jira-shaped answers it gets back.

Usage: jira_check.py BASE_URL USERNAME PASSWORD
Exit status 0 when every check holds; any failure raises with the reason.
"""

import json
import sys

from atlassian import Jira


def main() -> None:
    base_url, username, password = sys.argv[1:4]
    jira = Jira(url=base_url, username=username, password=password, cloud=False)

    info = jira.get_server_info()
    assert info["versionNumbers"][0] >= 8, info

    me = jira.myself()
    assert me["name"] == username, me

    created = jira.user_create(
        "py.user", "py.user@example.com", "Py User", password="s3cret-Pw", notification=False
    )
    assert created["name"] == "py.user", created
    assert created["key"], created

    jira.create_group("python-team")
    group = jira.add_user_to_group(username="py.user", group_name="python-team")
    assert group["name"] == "python-team", group

    page = jira.get_all_users_from_group("python-team", include_inactive_users=True)
    names = [u["name"] for u in page["values"]]
    assert names == ["py.user"], page
    assert page["isLast"] is True and page["total"] == 1, page

    jira.user_deactivate("py.user")
    after = jira.user("py.user")
    assert after["active"] is False, after
    assert after["key"] == created["key"], after

    active_only = jira.get_all_users_from_group("python-team", include_inactive_users=False)
    assert active_only["values"] == [], active_only

    roles = jira.get_all_application_roles()
    keys = sorted(r["key"] for r in roles)
    assert "jira-software" in keys, roles
    software = jira.get_application_role("jira-software")
    assert software["key"] == "jira-software", software
    assert isinstance(software["userCount"], int) and software["userCount"] >= 1, software
    assert software["hasUnlimitedSeats"] is True and software["numberOfSeats"] == -1, software

    print(json.dumps({"key": created["key"], "members": names, "active": after["active"],
                      "roles": keys}))


if __name__ == "__main__":
    main()
