#!/usr/bin/env python3
"""Generate semantics.txt: merge semantics of the built-in Kubernetes 1.33 API types.

Why this exists: server-side apply and strategic merge patch need, per field,
the list/map/struct semantics and the patch strategy of every built-in type.
k8s-openapi's schemas do not carry them, but the Go type definitions do, as
comment markers (`// +listType=map`, `// +listMapKey=name`, `// +mapType=atomic`,
`// +structType=atomic`, `// +patchStrategy=merge`, `// +patchMergeKey=name`)
and as struct tags (`patchStrategy:"merge" patchMergeKey:"name"`). This script
reads them mechanically; it infers nothing that the source does not state.

Usage:

    python3 gen_semantics.py SRC_DIR                # table on stdout
    python3 gen_semantics.py SRC_DIR --out semantics.txt
    python3 gen_semantics.py SRC_DIR --check semantics.txt   # exit 1 if stale
    python3 gen_semantics.py SRC_DIR --stats        # counts on stderr

SRC_DIR holds one work tree per repository, each at tag kubernetes-1.33.0
(never commit it). Produce it with git:

    SRC=/tmp/k8s-src
    for r in api apimachinery apiextensions-apiserver kube-aggregator; do
      git clone --quiet --depth 1 --branch kubernetes-1.33.0 \
        https://github.com/kubernetes/$r "$SRC/$r"
    done

or, from existing clones, `mkdir -p "$SRC/$r" && git -C <clone-of-$r> archive
kubernetes-1.33.0 | tar -x -C "$SRC/$r"`. The tag resolves to these commits:

    kubernetes/api                      82c0029eaa2f5bdbfbbbce9305349a893e6c86dc
    kubernetes/apimachinery             955939ffb8198b47fe11e4e53121d529ee6f946b
    kubernetes/apiextensions-apiserver  1b7ab0f38c5b874936fb6cea84d68632bdd5ee44
    kubernetes/kube-aggregator          dd8452d79094950d629294460a0416fdc1eccb99

Output (one line per fact-bearing field or type, sorted bytewise, after a
comment header):

    <definition>[.<jsonField>] key=value ...

with keys, in this order: list= (atomic|set|map), keys= (listMapKey values,
comma-separated, in marker order), patch= (merge|replace|retainKeys|
merge,retainKeys), mergeKey=, map= (atomic|granular), struct= (atomic|granular).
A definition is named as the upstream OpenAPI names it: the Go import path with
its host reversed (k8s.io/api/core/v1.PodSpec -> io.k8s.api.core.v1.PodSpec).

Rules:
  * Field markers are read from the field's doc comment: the comment lines
    directly above it, up to the first blank line (as gengo does).
  * Type markers (+structType) are read from the type's doc comment.
  * A field's JSON name is the first element of its `json:"..."` tag; `json:"-"`
    fields are skipped; inline (`json:",inline"`, or embedded without a name)
    fields contribute the embedded type's fields to the parent definition.
  * patch=, mergeKey= and list= come from the struct tag (`patchStrategy:`,
    `patchMergeKey:`, and `listType:` which autoscaling/v2 uses) and/or the
    comment marker; if both are present they must agree (else: error).
  * A marker that does not fit the Go type (+listType on a []byte, which JSON
    carries as a string; +listType on meta/v1 Status.details, a struct) is
    still written, as upstream openapi-gen writes it; --stats lists them.
  * An inlined type's own +structType is not copied to the parent.
  * Skipped: types marked `+k8s:openapi-gen=false`, and types with a
    hand-written OpenAPI schema (an OpenAPISchemaType() method, e.g.
    apiextensions JSONSchemaPropsOrArray): their Go fields are not properties.
  * Any marker form or struct tag not listed here makes the generator fail
    rather than guess (e.g. +k8s:listType, or +listType on a named slice type).

Only the non-generated, non-test types*.go files of each package are read;
at this tag every merge marker of these packages lives in them.
"""

import argparse
import os
import re
import sys

GENERATOR = "testserver/src/schema/gen_semantics.py"
TAG = "kubernetes-1.33.0"

# (repository, commit of TAG, Go module path, packages under it). Served by a
# default 1.33 apiserver; beta groups are off by default and not listed.
API_GROUPS = [
    "core/v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2",
    "rbac/v1", "coordination/v1", "discovery/v1", "events/v1", "networking/v1",
    "policy/v1", "storage/v1", "scheduling/v1", "node/v1", "certificates/v1",
    "admissionregistration/v1", "authentication/v1", "authorization/v1",
    "flowcontrol/v1",
]
SOURCES = [
    ("api", "82c0029eaa2f5bdbfbbbce9305349a893e6c86dc", "k8s.io/api", API_GROUPS),
    ("apimachinery", "955939ffb8198b47fe11e4e53121d529ee6f946b",
     "k8s.io/apimachinery", ["pkg/apis/meta/v1"]),
    ("apiextensions-apiserver", "1b7ab0f38c5b874936fb6cea84d68632bdd5ee44",
     "k8s.io/apiextensions-apiserver", ["pkg/apis/apiextensions/v1"]),
    ("kube-aggregator", "dd8452d79094950d629294460a0416fdc1eccb99",
     "k8s.io/kube-aggregator", ["pkg/apis/apiregistration/v1"]),
]

# Markers this generator understands; every other `// +name` is ignored.
FIELD_MARKERS = ("listType", "listMapKey", "patchStrategy", "patchMergeKey",
                 "mapType", "structType")
VALUES = {
    "listType": {"atomic", "set", "map"},
    "mapType": {"atomic", "granular"},
    "structType": {"atomic", "granular"},
    "patchStrategy": {"merge", "replace", "retainKeys", "merge,retainKeys"},
}
KEY_ORDER = ("list", "keys", "patch", "mergeKey", "map", "struct")

MARKER_RE = re.compile(r"^//\s*\+([A-Za-z][\w.:/()-]*)(?:=(.*))?$")
TAG_RE = re.compile(r'(\w+):"((?:[^"\\]|\\.)*)"')
IMPORT_RE = re.compile(r'^\s*(?:([\w.]+)\s+)?"([^"]+)"\s*$')
# Types with their own OpenAPI schema: their Go fields are not JSON properties.
CUSTOM_OPENAPI_RE = re.compile(
    r"^func \((?:\w+ )?\*?(\w+)\) (?:OpenAPISchemaType|OpenAPIDefinition|"
    r"OpenAPIV3Definition|OpenAPIV3OneOfTypes)\(")
TYPE_RE = re.compile(r"^type\s+(\w+)\s+(.+?)\s*(?://.*)?$")


class GenError(Exception):
    """A source construct the generator will not guess about."""


def die(msg):
    raise GenError(msg)


def definition_prefix(import_path):
    """k8s.io/api/core/v1 -> io.k8s.api.core.v1 (upstream OpenAPI naming)."""
    host, _, rest = import_path.partition("/")
    return ".".join(reversed(host.split("."))) + "." + rest.replace("/", ".")


class GoType:
    """One top-level type declaration: struct fields or an underlying type."""

    def __init__(self, pkg, name, where, markers, underlying):
        self.pkg = pkg              # Package
        self.name = name
        self.where = where          # "file:line" for messages
        self.markers = markers      # list of (name, value) from the doc comment
        self.underlying = underlying  # "struct" or a type expression
        self.fields = []            # list of Field (structs only)

    @property
    def definition(self):
        return definition_prefix(self.pkg.path) + "." + self.name

    def marker_values(self, key):
        return [v for k, v in self.markers if k == key]


class Field:
    """One struct field line with its doc-comment markers and struct tag."""

    def __init__(self, owner, go_name, type_expr, tags, markers, where):
        self.owner = owner
        self.go_name = go_name      # None for embedded fields
        self.type_expr = type_expr
        self.tags = tags
        self.markers = markers
        self.where = where

    def json(self):
        """(json name or None if skipped, inline?)"""
        if "json" not in self.tags:
            if self.go_name is None:
                return None, True   # embedded without tag: encoding/json inlines
            if not self.go_name[0].isupper():
                return None, False  # unexported
            die(f"{self.where}: exported field {self.go_name} has no json tag")
        name, *opts = self.tags["json"].split(",")
        if name == "-" and not opts:
            return None, False
        if name == "":
            if "inline" in opts or self.go_name is None:
                return None, True
            die(f"{self.where}: field {self.go_name} has an empty json name")
        return name, False


class Package:
    def __init__(self, path):
        self.path = path            # Go import path
        self.types = {}             # name -> GoType
        self.imports = {}           # file -> {alias: import path}
        self.custom_openapi = set()  # type names with a hand-written schema


KNOWN_TAGS = {"json", "protobuf", "patchStrategy", "patchMergeKey", "listType"}


def parse_tags(raw):
    tags = {}
    for k, v in TAG_RE.findall(raw):
        if k in tags:
            die(f"duplicate struct tag key {k} in `{raw}`")
        if k not in KNOWN_TAGS:
            die(f"unhandled struct tag key {k} in `{raw}`")
        tags[k] = v
    if TAG_RE.sub("", raw).strip():
        die(f"cannot parse struct tag `{raw}`")
    return tags


def parse_markers(comment_lines):
    out = []
    for line in comment_lines:
        m = MARKER_RE.match(line)
        if not m:
            continue
        name, value = m.group(1), (m.group(2) or "").strip()
        if name in FIELD_MARKERS:
            out.append((name, value))
        elif name.rsplit(":", 1)[-1] in FIELD_MARKERS or (
                name == "k8s:openapi-gen" and value.startswith("x-kubernetes-")):
            # e.g. +k8s:listType=map or +k8s:openapi-gen=x-kubernetes-list-type:map
            die(f"unhandled marker form: {line}")
    return out


def parse_file(pkg, path, rel):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    imports = {}
    pkg.imports[rel] = imports
    comment = []         # current contiguous comment block
    prev_comment = []    # the block before it (separated by a blank line)
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i].rstrip()
        stripped = line.strip()
        i += 1
        if stripped.startswith("//"):
            comment.append(stripped)
            continue
        if stripped == "":
            if comment:
                prev_comment, comment = comment, []
            continue
        if stripped.startswith("/*"):
            # License header and the like; markers never live in block comments.
            while i <= n and "*/" not in lines[i - 1]:
                i += 1
            comment, prev_comment = [], []
            continue
        doc, before = comment, prev_comment
        comment, prev_comment = [], []
        if stripped.startswith("import"):
            if stripped == "import (":
                while i < n and lines[i].strip() != ")":
                    s = lines[i].strip()
                    i += 1
                    if s and not s.startswith("//"):
                        add_import(imports, s, rel, i)
                i += 1
            else:
                add_import(imports, stripped[len("import"):].strip(), rel, i)
            continue
        if stripped.startswith("type ("):
            die(f"{rel}:{i}: grouped type declarations are not handled")
        m = CUSTOM_OPENAPI_RE.match(line)
        if m:
            pkg.custom_openapi.add(m.group(1))
        if not line.startswith("type "):
            # Skip any other top-level construct (func, var, const) wholesale.
            if line.endswith("{") or line.endswith("("):
                closer = "}" if line.endswith("{") else ")"
                while i < n and lines[i].rstrip() != closer:
                    i += 1
                i += 1
            continue
        m = TYPE_RE.match(line)
        if not m:
            die(f"{rel}:{i}: cannot parse type declaration: {line}")
        name, rest = m.group(1), m.group(2)
        stray = [k for k, _ in parse_markers(before)]
        if stray:
            die(f"{rel}:{i}: markers {stray} for type {name} are separated "
                "from it by a blank line")
        openapi = "// +k8s:openapi-gen=false" not in doc
        where = f"{rel}:{i}"
        markers = parse_markers(doc)
        if rest == "struct {":
            t = GoType(pkg, name, where, markers, "struct")
            i = parse_struct_body(t, lines, i, rel)
        elif re.fullmatch(r"struct\s*\{\s*\}", rest):
            t = GoType(pkg, name, where, markers, "struct")
        elif rest.startswith("struct"):
            die(f"{where}: cannot parse struct declaration: {line}")
        else:
            if markers:
                # e.g. +listType on `type Verbs []string` would apply to every
                # field of that type; none exist at this tag.
                die(f"{where}: markers {markers} on non-struct type {name} "
                    "are not handled")
            t = GoType(pkg, name, where, markers, rest)
        t.openapi = openapi
        if name in pkg.types:
            die(f"{where}: type {name} declared twice")
        pkg.types[name] = t


def add_import(imports, spec, rel, lineno):
    m = IMPORT_RE.match(spec)
    if not m:
        die(f"{rel}:{lineno}: cannot parse import {spec}")
    alias, path = m.group(1), m.group(2)
    if alias in ("_", "."):
        if alias == ".":
            die(f"{rel}:{lineno}: dot imports are not handled")
        return
    imports[alias or path.rsplit("/", 1)[-1]] = path


def parse_struct_body(t, lines, i, rel):
    comment = []
    n = len(lines)
    while i < n:
        raw = lines[i].rstrip()
        s = raw.strip()
        i += 1
        if raw == "}":
            return i
        if s == "":
            comment = []
            continue
        if s.startswith("//"):
            comment.append(s)
            continue
        if s.startswith("/*"):
            # Prose only (core/v1 DaemonEndpoint); it detaches any doc comment.
            while i <= n and "*/" not in lines[i - 1]:
                i += 1
            comment = []
            continue
        where = f"{rel}:{i}"
        # Split off the struct tag and a trailing comment.
        tag_raw = ""
        if "`" in s:
            if s.count("`") != 2:
                die(f"{where}: cannot parse field: {s}")
            head, tag_raw, tail = s.split("`")
            if tail.strip() and not tail.strip().startswith("//"):
                die(f"{where}: unexpected text after struct tag: {s}")
        else:
            head = s.split("//", 1)[0]
        words = head.split()
        if len(words) == 1:
            go_name, type_expr = None, words[0]
        elif len(words) == 2 and re.fullmatch(r"\w+", words[0]):
            go_name, type_expr = words
        else:
            die(f"{where}: cannot parse field: {s}")
        if "{" in type_expr and type_expr != "[]interface{}" \
                and not type_expr.startswith("map[string]interface{}"):
            die(f"{where}: anonymous struct/interface fields are not handled: {s}")
        t.fields.append(Field(t, go_name, type_expr, parse_tags(tag_raw),
                              parse_markers(comment), where))
        comment = []
    die(f"{rel}: unterminated struct {t.name}")


class Universe:
    """All parsed packages; resolves type expressions across them."""

    def __init__(self):
        self.packages = {}

    def lookup(self, pkg, file_imports, type_expr):
        """GoType named by type_expr (after stripping '*'), or None if the
        type is builtin, unnamed, or from a package not parsed here."""
        e = type_expr.lstrip("*")
        if not re.fullmatch(r"(\w+\.)?\w+", e):
            return None
        if "." in e:
            alias, name = e.split(".")
            path = file_imports.get(alias)
            if path is None:
                die(f"unknown package qualifier {alias} in {type_expr}")
            p = self.packages.get(path)
            return p.types.get(name) if p else None
        return pkg.types.get(e)

    def kind(self, field):
        """The field's JSON shape: 'list', 'map', 'struct', 'bytes' ([]byte, a
        string in JSON), 'opaque' (hand-written schema) or 'scalar'."""
        e = field.type_expr
        seen = set()
        pkg, imports = field.owner.pkg, field.owner.pkg.imports[field.where.split(":")[0]]
        while True:
            e = e.lstrip("*")
            if e == "[]byte":
                return "bytes"       # base64 string in JSON, not a JSON list
            if e.startswith("[]"):
                return "list"
            if e.startswith("map["):
                return "map"
            t = self.lookup(pkg, imports, e)
            if t is None:
                return "scalar"      # builtin or external (Quantity, Time, ...)
            if t.name in t.pkg.custom_openapi:
                return "opaque"      # hand-written schema (JSONSchemaPropsOrBool)
            if t.underlying == "struct":
                return "struct"
            if (t.pkg.path, t.name) in seen:
                return "scalar"
            seen.add((t.pkg.path, t.name))
            pkg = t.pkg
            imports = t.pkg.imports[t.where.split(":")[0]]
            e = t.underlying

    def struct_of(self, field):
        pkg = field.owner.pkg
        imports = pkg.imports[field.where.split(":")[0]]
        t = self.lookup(pkg, imports, field.type_expr)
        if t is None or t.underlying != "struct":
            die(f"{field.where}: inline field of non-struct type {field.type_expr}")
        return t


def one(values, what, where):
    if len(set(values)) > 1:
        die(f"{where}: conflicting {what}: {values}")
    return values[0] if values else None


def field_facts(u, f, stats):
    """(shape, facts) of a declared field; facts maps KEY_ORDER keys to values."""
    mk = {}
    for k, v in f.markers:
        mk.setdefault(k, []).append(v)
    for k, vs in mk.items():
        for v in vs:
            if k in VALUES and v not in VALUES[k]:
                die(f"{f.where}: unknown value +{k}={v}")
            if k != "listMapKey" and len(vs) > 1:
                die(f"{f.where}: marker +{k} repeated")
    facts = {}
    kind = u.kind(f)
    # autoscaling/v2 also writes listType as a struct tag (`listType:"atomic"`).
    list_type = one(mk.get("listType", []) + ([f.tags["listType"]] if "listType" in f.tags
                                             else []), "listType (tag vs marker)", f.where)
    if list_type is not None and list_type not in VALUES["listType"]:
        die(f"{f.where}: unknown listType {list_type}")
    if list_type:
        facts["list"] = list_type
    if mk.get("listMapKey"):
        if list_type != "map":
            die(f"{f.where}: +listMapKey without +listType=map")
        facts["keys"] = ",".join(mk["listMapKey"])
    elif list_type == "map":
        die(f"{f.where}: +listType=map without +listMapKey")
    patch = one([v for v in (f.tags.get("patchStrategy"),) if v is not None]
                + mk.get("patchStrategy", []), "patch strategy (tag vs marker)", f.where)
    if patch is not None:
        if patch not in VALUES["patchStrategy"]:
            die(f"{f.where}: unknown patchStrategy {patch}")
        facts["patch"] = patch
    merge_key = one([v for v in (f.tags.get("patchMergeKey"),) if v is not None]
                    + mk.get("patchMergeKey", []), "patch merge key (tag vs marker)",
                    f.where)
    if merge_key is not None:
        facts["mergeKey"] = merge_key
    for key, out in (("mapType", "map"), ("structType", "struct")):
        v = one(mk.get(key, []), key, f.where)
        if v:
            facts[out] = v
    # Tag present without the marker, or the reverse: not a conflict, reported.
    for tag, marker in (("patchStrategy", "patchStrategy"),
                        ("patchMergeKey", "patchMergeKey")):
        if (tag in f.tags) != (marker in mk):
            stats["tag_marker_mismatch"].append(
                f"{f.owner.definition}.{f.json()[0]}: {tag} "
                + ("tag only" if tag in f.tags else "marker only"))
    # Shape checks. A marker that does not fit the field's Go type is still
    # emitted (it is what the source states, and upstream openapi-gen emits it
    # too, only logging); it is listed in --stats so the consumer can judge.
    fits = {"list": ("list",), "keys": ("list",), "mergeKey": ("list",),
            "map": ("map", "struct"), "struct": ("struct",)}
    for key, kinds in fits.items():
        if key in facts and kind not in kinds:
            stats["misplaced"].append(
                f"{f.owner.definition}.{f.json()[0]}: {key}={facts[key]} on a "
                + ("[]byte (JSON string)" if kind == "bytes" else kind) + " field")
    return kind, facts


def expanded_fields(u, t, stack=()):
    """(json name, declared Field) for t, inline fields expanded in place."""
    if t.name in stack:
        die(f"{t.where}: recursive inline embedding")
    out = []
    for f in t.fields:
        name, inline = f.json()
        if inline:
            if f.markers or any(k in f.tags for k in ("patchStrategy", "patchMergeKey")):
                die(f"{f.where}: markers on an inline field are not handled")
            inner = u.struct_of(f)
            # An inlined type's own +structType describes its own definition,
            # not the parent's (upstream OpenAPI does not propagate it either).
            out.extend(expanded_fields(u, inner, stack + (t.name,)))
        elif name is not None:
            out.append((name, f))
    seen = set()
    for name, f in out:
        if name in seen:
            die(f"{t.where}: duplicate json field {name} in {t.name}")
        seen.add(name)
    return out


def load(src):
    u = Universe()
    for repo, _commit, module, pkgs in SOURCES:
        for p in pkgs:
            d = os.path.join(src, repo, p)
            if not os.path.isdir(d):
                die(f"missing {d}: see the top of this script for how to produce "
                    "the source directory")
            pkg = Package(module + "/" + p)
            u.packages[pkg.path] = pkg
            files = sorted(fn for fn in os.listdir(d)
                           if fn.startswith("types") and fn.endswith(".go")
                           and not fn.endswith("_test.go")
                           and "generated" not in fn)
            if not files:
                die(f"no types*.go in {d}")
            for fn in files:
                parse_file(pkg, os.path.join(d, fn), os.path.join(repo, p, fn))
    return u


def render(facts):
    return " ".join(f"{k}={facts[k]}" for k in KEY_ORDER if k in facts)


def described(t):
    """Is t a struct whose Go fields are the properties of its OpenAPI definition?"""
    return (t.underlying == "struct" and t.openapi
            and t.name not in t.pkg.custom_openapi)


def generate(u):
    stats = {"tag_marker_mismatch": [], "misplaced": [], "lists_with": [],
             "lists_without": [], "maps": [], "fields_declared": 0, "skipped": []}
    lines = set()
    declared = {}   # id(Field) -> (kind, facts): each Go field evaluated once
    for pkg in u.packages.values():
        for t in pkg.types.values():
            if not described(t):
                if t.underlying == "struct":
                    dropped = [f"{f.go_name}: +{k}={v}" for f in t.fields
                               for k, v in f.markers]
                    stats["skipped"].append(
                        t.definition + (" (openapi-gen=false)" if not t.openapi
                                        else " (hand-written OpenAPI schema)")
                        + (f"; markers not emitted: {dropped}" if dropped else ""))
                continue
            st = t.marker_values("structType")
            other = [k for k, _ in t.markers if k != "structType"]
            if other:
                die(f"{t.where}: markers {other} on a struct type are not handled")
            if len(st) > 1:
                die(f"{t.where}: +structType repeated")
            if st:
                if st[0] not in VALUES["structType"]:
                    die(f"{t.where}: unknown +structType={st[0]}")
                lines.add(f"{t.definition} struct={st[0]}")
            for f in t.fields:
                name, inline = f.json()
                if inline or name is None:
                    continue
                kind, facts = field_facts(u, f, stats)
                declared[id(f)] = (kind, facts)
                stats["fields_declared"] += 1
                label = f"{t.definition}.{name}"
                if kind == "list":
                    stats["lists_with" if "list" in facts else "lists_without"].append(
                        label + (" (" + render(facts) + ")" if facts else ""))
                elif kind == "map":
                    stats["maps"].append((label, facts.get("map")))
    for pkg in u.packages.values():
        for t in pkg.types.values():
            if not described(t):
                continue
            for name, f in expanded_fields(u, t):
                if id(f) not in declared:
                    die(f"{f.where}: inlined field from a skipped type")
                _, facts = declared[id(f)]
                if facts:
                    lines.add(f"{t.definition}.{name} {render(facts)}")
    return sorted(lines), stats


def header():
    out = [
        f"# Generated by {GENERATOR}; do not edit. Regenerate with:",
        f"#   python3 {GENERATOR} SRC_DIR --out testserver/src/schema/semantics.txt",
        "# Merge semantics of the built-in API types, read from Go markers and struct",
        "# tags (+listType, +listMapKey, +mapType, +structType, patchStrategy,",
        "# patchMergeKey). Only what the source states; absent = not stated.",
        "# Sources (tag " + TAG + "):",
    ]
    for repo, commit, module, pkgs in SOURCES:
        out.append(f"#   github.com/kubernetes/{repo} @ {TAG} ({commit})")
        for p in pkgs:
            out.append(f"#     {module}/{p}")
    out.append("# Format: <definition>[.<jsonField>] "
               + " ".join(f"{k}=" for k in KEY_ORDER))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", help="directory with api/, apimachinery/, "
                    "apiextensions-apiserver/, kube-aggregator/ at " + TAG)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--out", help="write the table here instead of stdout")
    g.add_argument("--check", help="compare with this file; exit 1 if it differs")
    ap.add_argument("--stats", action="store_true", help="print counts to stderr")
    args = ap.parse_args()
    try:
        u = load(args.src)
        body, stats = generate(u)
    except GenError as e:
        print(f"gen_semantics: error: {e}", file=sys.stderr)
        return 2
    text = "\n".join(header() + body) + "\n"
    if args.stats:
        print_stats(body, stats)
    if args.check:
        with open(args.check, encoding="utf-8") as f:
            if f.read() != text:
                print(f"gen_semantics: {args.check} is stale", file=sys.stderr)
                return 1
        return 0
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def print_stats(body, stats):
    e = sys.stderr
    count = lambda s: sum(1 for l in body if s in l.split(" ", 1)[1])  # noqa: E731
    print(f"table lines (facts): {len(body)}", file=e)
    print(f"declared JSON fields scanned: {stats['fields_declared']}", file=e)
    w, wo = stats["lists_with"], stats["lists_without"]
    print(f"declared list fields: {len(w) + len(wo)} "
          f"(with +listType: {len(w)}, without: {len(wo)})", file=e)
    for l in wo:
        print(f"  no listType: {l}", file=e)
    print(f"declared map fields: {len(stats['maps'])} (with +mapType: "
          f"{sum(1 for _, v in stats['maps'] if v)})", file=e)
    for s in ("list=atomic", "list=set", "list=map", "map=atomic", "map=granular",
              "struct=atomic", "struct=granular", "patch="):
        print(f"lines with {s}: {count(s)}", file=e)
    for m in stats["skipped"]:
        print(f"  type skipped: {m}", file=e)
    for m in stats["misplaced"]:
        print(f"  marker not fitting the Go type: {m}", file=e)
    for m in stats["tag_marker_mismatch"]:
        print(f"  tag/marker mismatch: {m}", file=e)


if __name__ == "__main__":
    sys.exit(main())
