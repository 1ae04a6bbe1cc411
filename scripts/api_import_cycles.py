#!/usr/bin/env python3
"""Reports the largest import cycle (strongly connected component) among the files of api/src."""
import os, re, sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "api", "src")
root = os.path.normpath(root)
files = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if f.endswith(".rs"):
            p = os.path.join(d, f)
            files[os.path.relpath(p, root)] = open(p).read()

def module_file(parts):
    """The file that defines module path `parts` (longest prefix that is a file)."""
    for n in range(len(parts), 0, -1):
        base = "/".join(parts[:n])
        for cand in (base + ".rs", base + "/mod.rs"):
            if cand in files:
                return cand
    return None

def module_of(rel):
    parts = rel[:-3].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return parts

ref = re.compile(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)")
group = re.compile(r"\b(crate|super)::\{([^}]*)\}")
edges = {f: set() for f in files}
for f, text in files.items():
    text = re.sub(r"//[^\n]*", "", text)
    mod = module_of(f)
    def resolve(kind, path):
        base = [] if kind == "crate" else mod[:-1]
        t = module_file(base + path)
        if t and t != f:
            edges[f].add(t)
    for kind, rest in ref.findall(text):
        resolve(kind, rest.strip(":").split("::"))
    for kind, inner in group.findall(text):
        for item in inner.split(","):
            item = item.strip().split(" ")[0]
            if item:
                resolve(kind, item.split("::"))

# Tarjan's strongly connected components.
index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        sccs.append(sorted(comp))
for v in sorted(files):
    if v not in index:
        visit(v)
sccs.sort(key=len, reverse=True)
print(f"largest import cycle: {len(sccs[0])} files")
for c in sccs:
    if len(c) > 1:
        print(f"  {len(c)}: {' '.join(c)}")
