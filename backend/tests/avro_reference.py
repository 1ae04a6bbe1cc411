"""Schema histories for the differential test of docintel's Avro checker
(backend/tests/avro_reference.rs), judged by the reference implementations.

For each generated history (v1, v2[, v3]) it prints the verdict of every registry mode as
computed with PyPI `avro`'s ReaderWriterCompatibilityChecker (a port of the Java checker
Confluent's registry runs), and, for every writer/reader pair the reference calls
compatible, whether fastavro really reads data written with the writer schema using the
reader schema.

The reference is given each schema with relative aliases qualified first: the Avro
specification resolves a relative alias against the namespace of the type it names, and
Java's parser does, but the Python port compares the raw alias with the writer's full name.
Cases where that matters are marked `relative_alias`, with the unqualified verdicts too.

One rule is an opt-in in docintel: the specification promotes `bytes` to `string`, and so
does docintel by default, but bytes that are not UTF-8 cannot be read as a string (fastavro
fails on them, and so would any reader), so its opt-in rule refuses a reader `string` for a
writer `bytes`, also as the first string-or-bytes branch of a reader union (see
NoBytesAsString). Each case carries `verdicts` (the reference as is, docintel's default)
and `verdicts_docintel` (the reference with that one rule changed, docintel's opt-in);
`bytes_as_string_failures` records fastavro failing on such data.

    python3 avro_reference.py --cases 400 --seed 19 > cases.json
"""

import argparse
import copy
import io
import json
import random
import sys

import avro.schema
import fastavro
from avro.compatibility import (
    ReaderWriterCompatibilityChecker,
    SchemaCompatibilityType,
    type_mismatch,
)

MODES = [
    "BACKWARD",
    "BACKWARD_TRANSITIVE",
    "FORWARD",
    "FORWARD_TRANSITIVE",
    "FULL",
    "FULL_TRANSITIVE",
    "NONE",
]
NUMERIC = ["int", "long", "float", "double"]
PRIMITIVES = ["int", "long", "float", "double", "string", "bytes", "boolean"]
DEFAULTS = {
    "int": 0,
    "long": 7,
    "float": 1.5,
    "double": 2.5,
    "string": "x",
    "bytes": "\u00ff",
    "boolean": False,
    "null": None,
}
NS = "com.acme"


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.counter = 0

    def name(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    def type_(self, depth):
        r = self.rng.random()
        if depth >= 2 or r < 0.45:
            return self.rng.choice(PRIMITIVES)
        if r < 0.55:
            return {"type": "enum", "name": self.name("Kind"), "namespace": NS,
                    "symbols": ["A", "B", "C"][: self.rng.randint(2, 3)]}
        if r < 0.62:
            return {"type": "fixed", "name": self.name("Hash"), "namespace": NS,
                    "size": self.rng.choice([4, 8, 16])}
        if r < 0.75:
            return self.record(depth + 1)
        if r < 0.83:
            return {"type": "array", "items": self.type_(depth + 1)}
        if r < 0.90:
            return {"type": "map", "values": self.type_(depth + 1)}
        first = self.rng.choice(["null", "int", "string"])
        second = self.rng.choice([t for t in PRIMITIVES if t != first])
        return [first, second]

    def record(self, depth=0, name=None):
        fields = [{"name": f"f{i}", "type": self.type_(depth)}
                  for i in range(self.rng.randint(2, 4))]
        return {"type": "record", "name": name or self.name("Rec"), "namespace": NS,
                "fields": fields}

    def base(self):
        if self.rng.random() < 0.12:
            # A recursive type: a linked list.
            return {"type": "record", "name": "Node", "namespace": NS, "fields": [
                {"name": "value", "type": self.rng.choice(NUMERIC)},
                {"name": "next", "type": ["null", "Node"], "default": None},
            ]}
        return self.record(name="Event")


def walk(schema, visit, path=()):
    """Calls visit(holder, key, node) for every schema position (field types, items…)."""
    if isinstance(schema, dict):
        t = schema.get("type")
        if t == "record":
            for f in schema["fields"]:
                visit(f, "type", f["type"])
                walk(f["type"], visit)
        elif t == "array":
            visit(schema, "items", schema["items"])
            walk(schema["items"], visit)
        elif t == "map":
            visit(schema, "values", schema["values"])
            walk(schema["values"], visit)
    elif isinstance(schema, list):
        for i, branch in enumerate(schema):
            visit(schema, i, branch)
            walk(branch, visit)


def positions(schema):
    found = []
    walk(schema, lambda holder, key, node: found.append((holder, key, node)))
    return found


def records(schema):
    found = [schema] if isinstance(schema, dict) and schema.get("type") == "record" else []
    for _, _, node in positions(schema):
        if isinstance(node, dict) and node.get("type") == "record":
            found.append(node)
    return found


def named(schema, kind):
    found = [schema] if isinstance(schema, dict) and schema.get("type") == kind else []
    for _, _, node in positions(schema):
        if isinstance(node, dict) and node.get("type") == kind:
            found.append(node)
    return found


def default_for(t):
    if isinstance(t, str):
        return DEFAULTS.get(t, None)
    if isinstance(t, list):
        return default_for(t[0])
    kind = t["type"]
    if kind == "enum":
        return t["symbols"][0]
    if kind == "fixed":
        return "\u0000" * t["size"]
    if kind == "array":
        return []
    if kind == "map":
        return {}
    if kind == "record":
        return {f["name"]: default_for(f["type"]) for f in t["fields"]}
    return None


def set_default(field, t):
    """A default for a field of type `t`, or none when `t` is a reference by name."""
    first = t[0] if isinstance(t, list) else t
    if isinstance(first, str) and first not in DEFAULTS:
        field.pop("default", None)
    else:
        field["default"] = default_for(t)


def rename_refs(schema, old, new):
    def visit(holder, key, node):
        if node == old or node == f"{NS}.{old}":
            holder[key] = new
    walk(schema, visit)


# Each mutation edits the schema in place and returns its family name, or None when it
# does not apply to this schema.
def m_add_field(g, s):
    rec = g.rng.choice(records(s))
    t = g.rng.choice(PRIMITIVES)
    field = {"name": g.name("added"), "type": t}
    with_default = g.rng.random() < 0.5
    if with_default:
        field["default"] = DEFAULTS[t]
    rec["fields"].append(field)
    return "field added " + ("with default" if with_default else "without default")


def m_remove_field(g, s):
    rec = g.rng.choice(records(s))
    if len(rec["fields"]) < 2:
        return None
    gone = rec["fields"].pop(g.rng.randrange(len(rec["fields"])))
    return "field removed " + ("with default" if "default" in gone else "without default")


def m_toggle_default(g, s):
    rec = g.rng.choice(records(s))
    f = g.rng.choice(rec["fields"])
    if "default" in f:
        del f["default"]
        return "field default dropped"
    set_default(f, f["type"])
    return "field default added" if "default" in f else None


def m_retype(g, s):
    spots = [(h, k, n) for h, k, n in positions(s) if n in PRIMITIVES]
    if not spots:
        return None
    holder, key, node = g.rng.choice(spots)
    if node in NUMERIC:
        new = g.rng.choice([t for t in NUMERIC + ["string"] if t != node])
    elif node in ("string", "bytes"):
        new = "bytes" if node == "string" else "string"
        if g.rng.random() < 0.2:
            new = "int"
    else:
        new = g.rng.choice(["string", "int"])
    if isinstance(holder, list) and new in holder:
        return None
    if isinstance(holder, dict) and "default" in holder:
        holder["default"] = DEFAULTS[new]
    holder[key] = new
    return f"type {node} → {new}"


def m_union(g, s):
    spots = [(h, k, n) for h, k, n in positions(s) if not isinstance(h, list)]
    holder, key, node = g.rng.choice(spots)
    if isinstance(node, list):
        if g.rng.random() < 0.5 and len(node) > 1:
            node.pop(g.rng.randrange(len(node)))
            family = "union narrowed"
        else:
            extra = [t for t in PRIMITIVES + ["null"] if t not in node]
            node.append(g.rng.choice(extra))
            family = "union widened"
        if isinstance(holder, dict) and "default" in holder:
            set_default(holder, node[0])
        return family
    if node == "null":
        return None
    if g.rng.random() < 0.7:
        holder[key] = ["null", node] if g.rng.random() < 0.5 else [node, "null"]
        family = "made a union"
    else:
        holder[key] = ["string", node] if node != "string" else ["int", node]
        family = "made a union"
    if isinstance(holder, dict) and "default" in holder:
        set_default(holder, holder[key][0])
    return family


def m_enum(g, s):
    enums = named(s, "enum")
    if not enums:
        return None
    e = g.rng.choice(enums)
    r = g.rng.random()
    if r < 0.35:
        e["symbols"].append(g.name("S"))
        return "enum symbol added"
    if r < 0.6 and len(e["symbols"]) > 1:
        gone = e["symbols"].pop()
        if e.get("default") == gone:
            del e["default"]
        return "enum symbol removed"
    if "default" in e:
        del e["default"]
        return "enum default dropped"
    e["default"] = e["symbols"][0]
    return "enum default added"


def m_rename(g, s):
    kind = g.rng.choice(["record", "enum", "fixed"])
    candidates = named(s, kind)
    if not candidates:
        return None
    target = g.rng.choice(candidates)
    old = target["name"]
    new = g.name(old.rstrip("0123456789") + "Renamed")
    target["name"] = new
    rename_refs(s, old, new)
    how = g.rng.choice(["without alias", "with relative alias", "with full alias",
                        "with a wrong alias"])
    if how == "with relative alias":
        target["aliases"] = [old]
    elif how == "with full alias":
        target["aliases"] = [f"{target['namespace']}.{old}"]
    elif how == "with a wrong alias":
        target["aliases"] = [f"org.elsewhere.{old}"]
    return f"{kind} renamed {how}"


def m_rename_field(g, s):
    rec = g.rng.choice(records(s))
    f = g.rng.choice(rec["fields"])
    old = f["name"]
    f["name"] = g.name(old + "_renamed")
    with_alias = g.rng.random() < 0.6
    if with_alias:
        f["aliases"] = [old]
    return "field renamed " + ("with alias" if with_alias else "without alias")


def m_fixed(g, s):
    fixed = named(s, "fixed")
    if not fixed:
        return None
    f = g.rng.choice(fixed)
    f["size"] = f["size"] * 2
    return "fixed resized"


def m_namespace(g, s):
    s["namespace"] = "org.moved"
    return "namespace changed"


def m_nest(g, s):
    spots = [(h, k, n) for h, k, n in positions(s)
             if isinstance(h, dict) and not isinstance(n, list)]
    if not spots:
        return None
    holder, key, node = g.rng.choice(spots)
    holder[key] = ({"type": "array", "items": node} if g.rng.random() < 0.5
                   else {"type": "map", "values": node})
    if "default" in holder:
        holder["default"] = [] if holder[key]["type"] == "array" else {}
    return "wrapped in " + holder[key]["type"]


MUTATIONS = [m_add_field, m_remove_field, m_toggle_default, m_retype, m_union, m_enum,
             m_rename, m_rename_field, m_fixed, m_namespace, m_nest]
WEIGHTS = [3, 3, 2, 4, 3, 3, 4, 3, 1, 1, 1]


def mutate(g, schema):
    for _ in range(50):
        s = copy.deepcopy(schema)
        families = []
        for _ in range(1 if g.rng.random() < 0.75 else 2):
            m = g.rng.choices(MUTATIONS, WEIGHTS)[0]
            family = m(g, s)
            if family:
                families.append(family)
        # A mutation inside a record type leaves defaults of that type stale.
        for rec in records(s):
            for f in rec["fields"]:
                if "default" in f:
                    set_default(f, f["type"])
        if families and valid(s):
            return s, families
    raise RuntimeError("no mutation applied")


def valid(s):
    try:
        avro.schema.parse(json.dumps(s))
        fastavro.parse_schema(copy.deepcopy(s), named_schemas={})
        return True
    except Exception:
        return False


def qualify_aliases(schema):
    """The schema with every relative alias of a named type qualified by its namespace."""
    s = copy.deepcopy(schema)
    changed = False
    for kind in ("record", "enum", "fixed"):
        for node in named(s, kind):
            aliases = node.get("aliases") or []
            qualified = [a if "." in a else f"{node['namespace']}.{a}" for a in aliases]
            if qualified != aliases:
                node["aliases"] = qualified
                changed = True
    return s, changed


class NoBytesAsString(ReaderWriterCompatibilityChecker):
    """The reference checker, except that a writer's bytes are never read as a string:
    not directly, and not through a reader union whose first string-or-bytes branch is a
    string (the specification resolves a union by its first matching branch, which is
    what fastavro does)."""

    def calculate_compatibility(self, reader, writer, location):
        if writer.type == "bytes":
            if reader.type == "string":
                return type_mismatch(reader, writer, location)
            if reader.type == "union":
                first = next((b for b in reader.schemas if b.type in ("string", "bytes")), None)
                if first is not None and first.type == "string":
                    return type_mismatch(reader, writer, location)
        return super().calculate_compatibility(reader, writer, location)


def reads(writer, reader, checker=ReaderWriterCompatibilityChecker):
    """Whether `reader` reads what `writer` writes, per the reference checker."""
    w = avro.schema.parse(json.dumps(writer))
    r = avro.schema.parse(json.dumps(reader))
    result = checker().get_compatibility(r, w)
    return result.compatibility is SchemaCompatibilityType.compatible


def verdicts(history, checker=ReaderWriterCompatibilityChecker):
    """Each mode's verdict for the last schema after the earlier ones, as Confluent's
    registry composes the pair check."""
    *earlier, new = history
    out = {}
    for mode in MODES:
        if mode == "NONE":
            out[mode] = True
            continue
        against = earlier if mode.endswith("TRANSITIVE") else earlier[-1:]
        ok = True
        for old in against:
            if mode.startswith(("BACKWARD", "FULL")) and not reads(old, new, checker):
                ok = False
            if mode.startswith(("FORWARD", "FULL")) and not reads(new, old, checker):
                ok = False
        out[mode] = ok
    return out


class Unsatisfiable(Exception):
    """A recursive type with no way to end (e.g. `next: Node` after `null` was removed)."""


def datum(g, schema, names, depth=0):
    if depth > 40:
        raise Unsatisfiable()
    if isinstance(schema, list):
        branches = schema
        if depth > 4 and "null" in branches:
            return None
        branch = g.rng.choice(branches)
        if branch == "bytes" and "string" in branches:
            # fastavro's writer picks the string branch for any bytes value in such a
            # union; bytes it can also decode keep the value round-trippable.
            return "é".encode() * g.rng.randrange(3)
        return datum(g, branch, names, depth + 1)
    if isinstance(schema, str):
        if schema in names:
            return datum(g, names[schema], names, depth + 1)
        if schema in (f"{NS}.Node",):
            return datum(g, names["Node"], names, depth + 1)
        return {
            "null": None,
            "boolean": g.rng.random() < 0.5,
            "int": g.rng.randint(-2**31, 2**31 - 1),
            "long": g.rng.randint(-2**62, 2**62),
            "float": g.rng.choice([0.5, -3.25, 1e10]),
            "double": g.rng.uniform(-1e6, 1e6),
            "string": g.rng.choice(["", "héllo", "x" * 40]),
            "bytes": bytes(g.rng.randrange(256) for _ in range(g.rng.randrange(6))),
        }[schema]
    kind = schema["type"]
    if kind in ("record", "enum", "fixed"):
        names[schema["name"]] = schema
    if kind == "record":
        return {f["name"]: datum(g, f["type"], names, depth + 1) for f in schema["fields"]}
    if kind == "enum":
        return g.rng.choice(schema["symbols"])
    if kind == "fixed":
        return bytes(g.rng.randrange(256) for _ in range(schema["size"]))
    if kind == "array":
        return [datum(g, schema["items"], names, depth + 1) for _ in range(g.rng.randrange(3))]
    if kind == "map":
        return {f"k{i}": datum(g, schema["values"], names, depth + 1)
                for i in range(g.rng.randrange(3))}
    return datum(g, kind, names, depth)


def fastavro_reads(g, writer, reader):
    """Writes a few random values with `writer` and reads them back with `reader`; returns
    None when every value was read, else the error."""
    w = fastavro.parse_schema(copy.deepcopy(writer), named_schemas={})
    r = fastavro.parse_schema(copy.deepcopy(reader), named_schemas={})
    for _ in range(4):
        try:
            value = datum(g, writer, {})
        except Unsatisfiable:
            return None
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, w, value)
        buf.seek(0)
        try:
            fastavro.schemaless_reader(buf, w, r)
        except Exception as e:  # noqa: BLE001 - any failure to read is the finding
            return f"{type(e).__name__}: {e}"
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    g = Gen(random.Random(args.seed))
    cases = []
    while len(cases) < args.cases:
        v1 = g.base()
        if not valid(v1):
            continue
        history, families = [v1], []
        for _ in range(1 if g.rng.random() < 0.7 else 2):
            nxt, fam = mutate(g, history[-1])
            history.append(nxt)
            families += fam
        qualified = []
        relative = False
        for s in history:
            q, changed = qualify_aliases(s)
            qualified.append(q)
            relative |= changed
        case = {
            "families": families,
            "history": history,
            "verdicts": verdicts(qualified),
            "verdicts_docintel": verdicts(qualified, NoBytesAsString),
            "relative_alias": relative,
        }
        if relative:
            case["verdicts_unqualified"] = verdicts(history)
        # fastavro must read whatever docintel's rules say it can; where only the
        # reference's bytes-as-string promotion allows it, record what fastavro did.
        problems, bytes_as_string = [], []
        for i, w in enumerate(qualified):
            for j, r in enumerate(qualified):
                if i == j or not reads(w, r):
                    continue
                err = fastavro_reads(g, history[i], history[j])
                if not err:
                    continue
                found = {"writer": i + 1, "reader": j + 1, "error": err}
                if reads(w, r, NoBytesAsString):
                    problems.append(found)
                else:
                    bytes_as_string.append(found)
        case["fastavro_failures"] = problems
        case["bytes_as_string_failures"] = bytes_as_string
        cases.append(case)
    json.dump(cases, sys.stdout)


if __name__ == "__main__":
    main()
