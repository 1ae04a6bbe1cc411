"""Writes a large OpenAPI 3.1 document and a revision of it with a handful of changes,
for timing `docintel-governance diff` against `optic diff` (governance/benches/large_spec.sh).

The base is the size of the largest public APIs (≥ 5 MB, ≥ 500 operations): every
operation takes parameters and a body and answers a schema at the head of a $ref chain
30 deep; there are self-recursive (a tree) and mutually recursive schemas, unions and
enums (`--flat`: no chains and no recursion, for tools that cannot take them). The
revision changes six things, four of them breaking.

    python3 large_spec.py OUT_DIR [--operations 600] [--flat]
"""

import argparse
import copy
import json
import os
import random

TEXT = (
    "A field documented at length, as large public APIs do: what it means, when it is "
    "present, which values it takes and how it relates to the rest of the resource. "
)


def schema_name(i):
    return f"Resource{i:04d}"


def component(rng, i, count, chain, flat):
    props = {}
    for p in range(12):
        kind = rng.choice(["string", "integer", "number", "boolean", "enum", "array", "date"])
        name = f"field_{p:02d}"
        if kind == "enum":
            props[name] = {"type": "string", "enum": ["alpha", "beta", "gamma", "delta"],
                           "description": TEXT}
        elif kind == "array":
            props[name] = {"type": "array", "items": {"type": "string", "maxLength": 64},
                           "maxItems": 50, "description": TEXT}
        elif kind == "date":
            props[name] = {"type": "string", "format": "date-time", "description": TEXT}
        elif kind == "integer":
            props[name] = {"type": "integer", "minimum": 0, "maximum": 100000,
                           "description": TEXT}
        else:
            props[name] = {"type": kind, "description": TEXT}
    if flat:
        props["owner"] = {"$ref": "#/components/schemas/Problem"}
    else:
        # A deep chain: every schema refers to the next one of its chain.
        if (i + 1) % chain != 0 and i + 1 < count:
            props["next"] = {"$ref": f"#/components/schemas/{schema_name(i + 1)}"}
        props["owner"] = {"oneOf": [{"$ref": "#/components/schemas/User"},
                                    {"$ref": "#/components/schemas/Team"}]}
        props["tree"] = {"$ref": "#/components/schemas/Node"}
    return {"type": "object", "required": ["field_00", "field_01", "owner"],
            "properties": props, "description": TEXT}


def operation(i, verb, resource):
    op = {
        "operationId": f"{verb}_{i}",
        "summary": f"{verb} number {i}",
        "description": TEXT,
        "parameters": [
            {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 20,
                                                        "maximum": 100}},
            {"name": "mode", "in": "query",
             "schema": {"type": "string", "enum": ["fast", "full", "lazy"]}},
            {"name": "X-Request-Id", "in": "header", "schema": {"type": "string"}},
        ],
        "responses": {
            "200": {
                "description": "ok",
                "headers": {"ETag": {"required": True, "schema": {"type": "string"}}},
                "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{resource}"}}},
            },
            "404": {"description": "missing", "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}}}},
        },
    }
    if verb == "post":
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{resource}"}}}}
    return op


def base_document(operations, flat, seed=7):
    rng = random.Random(seed)
    count = 1500
    chain = 30
    schemas = {schema_name(i): component(rng, i, count, chain, flat) for i in range(count)}
    schemas["Node"] = {"type": "object", "properties": {
        "label": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}
    schemas["User"] = {"type": "object", "properties": {
        "uid": {"type": "string"}, "team": {"$ref": "#/components/schemas/Team"}}}
    schemas["Team"] = {"type": "object", "properties": {
        "tid": {"type": "string"},
        "members": {"type": "array", "items": {"$ref": "#/components/schemas/User"}}}}
    schemas["Problem"] = {"type": "object", "required": ["type", "title"], "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}}}
    paths = {}
    for i in range(operations // 2):
        # Each resource heads a chain: the response is 30 references deep.
        resource = schema_name((i * chain) % count)
        paths[f"/collection{i}/{{id}}"] = {
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "get": operation(i, "get", resource),
            "post": operation(i, "post", resource),
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Large", "version": "1.0.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def revision(base):
    rev = copy.deepcopy(base)
    paths = rev["paths"]
    schemas = rev["components"]["schemas"]
    # 1. an operation removed (breaking)
    del paths["/collection2/{id}"]["post"]
    # 2. a required property removed 20 references down a chain (breaking)
    deep = schemas[schema_name(20)]
    deep["required"] = [r for r in deep["required"] if r != "field_01"]
    del deep["properties"]["field_01"]
    # 3. a request enum narrowed (breaking)
    paths["/collection1/{id}"]["get"]["parameters"][1]["schema"]["enum"] = ["fast", "full"]
    # 4. a response property's type widened (breaking)
    schemas["Problem"]["properties"]["status"] = {"type": ["integer", "string"]}
    # 5. a description changed, 6. an operation added (not breaking)
    schemas[schema_name(3)]["description"] = "Reworded."
    paths["/brand-new"] = {"get": operation(99999, "get", schema_name(0))}
    return rev


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--operations", type=int, default=600)
    parser.add_argument("--flat", action="store_true",
                        help="no reference chains and no recursion (the same size otherwise)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    base = base_document(args.operations, args.flat)
    for name, doc in (("base.json", base), ("rev.json", revision(base))):
        with open(os.path.join(args.out, name), "w") as f:
            json.dump(doc, f, indent=1)
    ops = sum(1 for item in base["paths"].values() for m in item if m in ("get", "post"))
    size = os.path.getsize(os.path.join(args.out, "base.json"))
    print(f"base.json: {size / 1e6:.1f} MB, {ops} operations, "
          f"{len(base['components']['schemas'])} schemas")


if __name__ == "__main__":
    main()
