"""Checks the SCIM emulator with scim2-tester (PyPI), a conformance checker nobody
here wrote: discovery, then create, read, query, replace and delete of Users and
Groups. Prints one line per check and exits 1 when any check that ran failed.

Usage: scim_conformance_check.py BASE_URL TOKEN
"""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def main() -> int:
    base, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
    client = SyncSCIMClient(http)
    results = check_server(client)
    failed = 0
    for r in results:
        status = r.status.name if hasattr(r.status, "name") else str(r.status)
        description = (r.description or "").strip().splitlines()[0] if r.description else ""
        print(f"{status}\t{r.title}\t{description}\t{r.reason or ''}")
        if r.status == Status.ERROR:
            failed += 1
    print(f"checks: {len(results)}, errors: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
