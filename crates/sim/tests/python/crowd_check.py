"""Drives the Crowd emulator with python-crowd (the `crowd` package on PyPI, a
client nobody here wrote): application auth ping, creating a user and a group,
direct membership, reading groups and members, deactivation through its
GET-then-PUT of the whole user, a password change, removals, and the answers it
expects for repeats and missing entities.

Usage: crowd_check.py BASE_URL APPLICATION PASSWORD
Exit status 0 when every check holds; any failure raises with the reason.
"""

import sys

import crowd


def main() -> None:
    base_url, application, password = sys.argv[1:4]
    cs = crowd.CrowdServer(base_url, application, password)

    assert cs.auth_ping() is True, "the application signs in (404 for an unknown resource)"
    assert crowd.CrowdServer(base_url, application, "wrong").auth_ping() is False
    assert cs.get_cookie_conf()["name"], "config/cookie answers"

    made = cs.add_user(
        "py.user",
        password="s3cret-Pw1!",
        email="py.user@example.com",
        first_name="Py",
        last_name="User",
        display_name="Py User",
    )
    assert made is True, made
    again = cs.add_user("py.user", password="x", email="py.user@example.com")
    assert again is False, "a user that exists is refused"
    try:
        cs.add_user("PY.USER", password="x", email="p@example.com", raise_on_error=True)
        raise AssertionError("expected a refusal naming the existing user")
    except RuntimeError as e:
        assert "already exists" in str(e), e

    user = cs.get_user("py.user")
    assert user["name"] == "py.user" and user["active"] is True, user
    assert user["email"] == "py.user@example.com" and user["display-name"] == "Py User", user
    assert cs.user_exists("py.user") is True
    assert cs.user_exists("nobody") is None

    assert cs.create_group("python-team") is None
    assert "exists" in cs.create_group("python-team"), "a group that exists is refused"

    assert cs.add_user_to_group("py.user", "python-team") is True
    assert cs.add_user_to_group("py.user", "python-team") is False, "409 for a repeat"
    assert cs.add_user_to_group("py.user", "no-such-group") is False
    assert cs.get_groups("py.user") == ["python-team"]
    assert cs.get_nested_groups("py.user") == ["python-team"]
    assert cs.get_nested_group_users("python-team") == ["py.user"]
    assert cs.get_groups("nobody") is None

    assert cs.set_active("py.user", False) is True
    after = cs.get_user("py.user")
    assert after["active"] is False, after
    assert after["email"] == "py.user@example.com", "the whole user was sent back"
    assert cs.set_active("nobody", False) is None

    assert cs.change_password("py.user", "n3w-Pw!") is True

    assert cs.remove_user_from_group("py.user", "python-team") is True
    assert cs.remove_user_from_group("py.user", "python-team") is False
    assert cs.get_groups("py.user") == []

    assert cs.remove_group("python-team") is None
    assert "does not exist" in cs.remove_group("python-team")
    print("ok")


if __name__ == "__main__":
    main()
