"""Drives the Okta emulator's Event Hooks API with Okta's official Python SDK (`okta` 3.4.6).

Usage: okta_event_hooks_check.py BASE_URL TOKEN
Starts a hook receiver on 127.0.0.1 that echoes Okta's verification challenge, then with the
SDK's own models creates an event hook pointing at it (HEADER authScheme), lists it, reads it,
verifies it, replaces its event types, deactivates and deletes it. Prints one JSON object with
what the SDK saw; the Rust test compares it with the emulator's state. Exits non-zero, with the
reason on stderr, when the SDK fails (including when it cannot parse an answer).
"""

import asyncio
import http.server
import json
import os
import sys
import threading

# The SDK refuses plain-http org URLs unless this is set (the client setting is ignored).
os.environ["OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"] = "true"

from okta.client import Client as OktaClient  # noqa: E402
from okta.models import EventHook  # noqa: E402

SECRET = "sdk-hook-secret"
seen_auth = []


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the standard library's name)
        seen_auth.append(self.headers.get("Authorization"))
        challenge = self.headers.get("x-okta-verification-challenge", "")
        body = json.dumps({"verification": challenge}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


def fail(what, err):
    print(f"okta SDK failed to {what}: {err}", file=sys.stderr)
    sys.exit(1)


def hook_body(uri, items):
    return EventHook.from_dict(
        {
            "name": "sdk hook",
            "events": {"type": "EVENT_TYPE", "items": items},
            "channel": {
                "type": "HTTP",
                "version": "1.0.0",
                "config": {
                    "uri": uri,
                    "headers": [{"key": "X-Extra", "value": "x"}],
                    "authScheme": {"type": "HEADER", "key": "Authorization", "value": SECRET},
                },
            },
        }
    )


async def main(base_url, token):
    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_address[1]}/hooks/okta/sdk"
    config = {"orgUrl": base_url, "token": token, "rateLimit": {"maxRetries": 1}}
    out = {}
    async with OktaClient(config) as client:
        created, _, err = await client.create_event_hook(hook_body(uri, ["user.session.start"]))
        if err:
            fail("create an event hook", err)
        out["created_status"] = created.status
        out["created_verification"] = str(created.verification_status.value)
        out["auth_key"] = created.channel.config.auth_scheme.key
        out["auth_value_hidden"] = created.channel.config.auth_scheme.value is None
        listed, _, err = await client.list_event_hooks()
        if err:
            fail("list event hooks", err)
        out["listed"] = [h.id for h in listed]
        fetched, _, err = await client.get_event_hook(created.id)
        if err:
            fail("get the event hook", err)
        out["fetched_uri"] = fetched.channel.config.uri
        verified, _, err = await client.verify_event_hook(created.id)
        if err:
            fail("verify the event hook", err)
        out["verified"] = str(verified.verification_status.value)
        out["receiver_auth"] = seen_auth
        replaced, _, err = await client.replace_event_hook(
            created.id, hook_body(uri, ["user.session.start", "user.lifecycle.suspend"])
        )
        if err:
            fail("replace the event hook", err)
        out["replaced_items"] = replaced.events.items
        deactivated, _, err = await client.deactivate_event_hook(created.id)
        if err:
            fail("deactivate the event hook", err)
        out["deactivated_status"] = deactivated.status
        _, _, err = await client.delete_event_hook(created.id)
        if err:
            fail("delete the event hook", err)
        out["id"] = created.id
    server.shutdown()
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
