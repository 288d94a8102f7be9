"""Reads the Okta emulator's user profile schema with Okta's official Python SDK (`okta` 3.4.6).

Usage: okta_schema_check.py BASE_URL TOKEN
Calls `get_user_schema("default")`, which deserializes Okta's `UserSchema` model, and
prints one JSON object: the base and custom attribute names the SDK saw, and the
custom attributes' types. Exits non-zero, with the reason on stderr, when the SDK fails.
"""

import asyncio
import json
import os
import sys

# The SDK refuses plain-http org URLs unless this is set (the client setting is ignored).
os.environ["OKTA_TESTING_TESTINGDISABLEHTTPSCHECK"] = "true"

from okta.client import Client as OktaClient  # noqa: E402


async def main(base_url, token):
    config = {"orgUrl": base_url, "token": token, "rateLimit": {"maxRetries": 1}}
    async with OktaClient(config) as client:
        schema, _resp, err = await client.get_user_schema("default")
        if err is not None or schema is None:
            print(f"okta SDK failed to read the user schema: {err}", file=sys.stderr)
            sys.exit(1)
        base = schema.definitions.base.properties
        custom = schema.definitions.custom.properties
        base_names = sorted(base.to_dict().keys()) if hasattr(base, "to_dict") else sorted(base)
        custom_dict = custom if isinstance(custom, dict) else custom.to_dict()
        print(
            json.dumps(
                {
                    "name": schema.name,
                    "base": base_names,
                    "custom": sorted(custom_dict.keys()),
                    "custom_types": {
                        k: (v.get("type") if isinstance(v, dict) else str(v.type.value if hasattr(v.type, "value") else v.type))
                        for k, v in custom_dict.items()
                    },
                    "required": list(schema.definitions.base.required or []),
                }
            )
        )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
