"""Adds a user to the Confluence emulator through its JSON-RPC service with
atlassian-python-api's `add_user` (a client nobody here wrote), then signs in as
that user over REST with the password it was given.

Usage: confluence_rpc_check.py BASE_URL USERNAME PASSWORD
Exit status 0 when every check holds; any failure raises with the reason.
"""

import sys

from atlassian import Confluence


def main() -> None:
    base_url, username, password = sys.argv[1:4]
    confluence = Confluence(url=base_url, username=username, password=password)

    # add_user posts {"jsonrpc":"2.0","method":"addUser","params":[RemoteUser, password]}.
    confluence.add_user("grace@example.com", "Grace Hopper", "grace", "grace-pw-1")

    grace = confluence.get_user_details_by_username("grace", expand="status")
    assert grace["displayName"] == "Grace Hopper", grace
    assert grace["status"] == "Active", grace

    as_grace = Confluence(url=base_url, username="grace", password="grace-pw-1")
    me = as_grace.get_current_user()
    assert me["username"] == "grace", me


if __name__ == "__main__":
    main()
