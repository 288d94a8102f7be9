"""Validates Okta emulator responses against Okta's published OpenAPI schemas.

Usage: okta_openapi_check.py SPEC_PATH < cases.json
`cases.json` is a JSON array of {"name": ..., "schema": "User", "array": bool, "body": ...}.
Each body (or each element, when `array` is true) is validated against
components.schemas[schema] of the spec with OpenAPI 3.0 rules (nullable, readOnly ...).
Prints one line per case; exits 1 listing every failure when any case fails.
"""

import json
import sys

import yaml
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4


def main(spec_path):
    with open(spec_path, encoding="utf-8") as f:
        spec = yaml.load(f, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    resource = Resource.from_contents(spec, default_specification=DRAFT4)
    registry = Registry().with_resource("spec.yaml", resource)
    cases = json.load(sys.stdin)
    failures = []
    for case in cases:
        schema = {"$ref": f"spec.yaml#/components/schemas/{case['schema']}"}
        validator = OAS30Validator(schema, registry=registry)
        bodies = case["body"] if case.get("array") else [case["body"]]
        if case.get("array") and not bodies:
            failures.append(f"{case['name']}: expected a non-empty array to validate")
            continue
        for i, body in enumerate(bodies):
            errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
            for e in errors:
                path = "/".join(str(p) for p in e.absolute_path)
                failures.append(f"{case['name']}[{i}] ({case['schema']}) at /{path}: {e.message}")
        print(f"{case['name']}: {len(bodies)} body(ies) checked against {case['schema']}")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)
    print(f"all {len(cases)} cases valid")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: okta_openapi_check.py SPEC_PATH < cases.json", file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
