#!/usr/bin/env python3
r"""Generates `schema.txt`, the protobuf schema table the testserver decoder embeds.

The table lists every protobuf message reachable from the API groups a Kubernetes
apiserver serves, with each field's number, JSON name and type, plus the mapping from
`apiVersion` to protobuf package. `mod.rs` parses it at first use.

Inputs are the upstream sources laid out by Go import path under one directory, each
package directory holding its `generated.proto` and the package's `.go` files:

    ROOT/k8s.io/api/core/v1/{generated.proto,types.go,doc.go,...}
    ROOT/k8s.io/apimachinery/pkg/apis/meta/v1/...
    ROOT/k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1/...
    ROOT/k8s.io/kube-aggregator/pkg/apis/apiregistration/v1/...

The `.go` files supply what the `.proto` files cannot: the JSON name where it differs
from the protobuf field name (`uID` is `uid`, `ref` is `$ref`), fields embedded inline in
JSON (`Volume.volumeSource`), scalars whose zero value JSON omits, and the API group
of each package (`const GroupName`, else `+groupName=` in doc.go). Never commit these upstream files; only this script and its output.

How to run (from the workspace root, with git clones of kubernetes/api,
kubernetes/apimachinery, kubernetes/apiextensions-apiserver and
kubernetes/kube-aggregator):

    TAG=kubernetes-1.33.0 ROOT=$(mktemp -d)
    for repo in api apimachinery apiextensions-apiserver kube-aggregator; do
      git -C "$CLONES/$repo" ls-tree -r --name-only "$TAG" > "$ROOT/files"
      for dir in $(grep 'generated.proto$' "$ROOT/files" | xargs -n1 dirname); do
        grep "^$dir/[^/]*\.\(proto\|go\)$" "$ROOT/files" | grep -v '_test.go$' |
        while read -r path; do
          mkdir -p "$ROOT/k8s.io/$repo/$dir"
          git -C "$CLONES/$repo" show "$TAG:$path" > "$ROOT/k8s.io/$repo/$path"
        done
      done
    done
    python3 testserver/src/protobuf/gen_schema.py --tag "$TAG" "$ROOT" \
      > testserver/src/protobuf/schema.txt

Output format (one record a line, `#` starts a comment line):

    @group <apiVersion> <protobuf package>
    <full message name>[ !list] <field> <field> ...

where each field is `number:jsonName:type`. `type` is a protobuf scalar (`string`,
`int64`, ...), a message name (bare when in the message's own package, else fully
qualified), `[]T` for a repeated field, or `map<K,V>` for a map. The JSON name
`(inline)` marks a field whose message is merged into the parent's JSON object; a
JSON name ending in `?` marks a scalar Go holds by value with `omitempty`, whose zero
value Go's JSON encoder leaves out (a pointer's zero, `replicas: 0`, has no `?`). `!list`
marks a message that wraps a Go slice type (`+protobuf.nullable=true`, e.g. `ExtraValue`):
its JSON form is the array in its single repeated field.
"""

import argparse
import os
import re
import sys
from collections import deque

SCALARS = {
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
    "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
}

# Protobuf packages whose messages are all roots of the table: the built-in API groups
# a Kubernetes 1.33 apiserver serves, plus the apimachinery packages they share.
DEFAULT_ROOTS = [
    "k8s.io.api.admissionregistration.v1",
    "k8s.io.api.apps.v1",
    "k8s.io.api.authentication.v1",
    "k8s.io.api.authorization.v1",
    "k8s.io.api.autoscaling.v1",
    "k8s.io.api.autoscaling.v2",
    "k8s.io.api.batch.v1",
    "k8s.io.api.certificates.v1",
    "k8s.io.api.coordination.v1",
    "k8s.io.api.core.v1",
    "k8s.io.api.discovery.v1",
    "k8s.io.api.events.v1",
    "k8s.io.api.flowcontrol.v1",
    "k8s.io.api.networking.v1",
    "k8s.io.api.node.v1",
    "k8s.io.api.policy.v1",
    "k8s.io.api.rbac.v1",
    "k8s.io.api.scheduling.v1",
    "k8s.io.api.storage.v1",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1",
    "k8s.io.apimachinery.pkg.api.resource",
    "k8s.io.apimachinery.pkg.apis.meta.v1",
    "k8s.io.apimachinery.pkg.runtime",
    "k8s.io.apimachinery.pkg.util.intstr",
    "k8s.io.kube_aggregator.pkg.apis.apiregistration.v1",
]

FIELD_RE = re.compile(
    r"^(optional|required|repeated)\s+([.\w]+)\s+(\w+)\s*=\s*(\d+)\s*(\[[^\]]*\])?\s*;$"
)
MAP_RE = re.compile(r"^map\s*<\s*(\w+)\s*,\s*([.\w]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;$")
MESSAGE_RE = re.compile(r"^message\s+(\w+)\s*\{$")
UNSUPPORTED_RE = re.compile(r"^(enum|oneof|extend|service|group)\b")

GO_STRUCT_RE = re.compile(r"^type\s+(\w+)\s+struct\s*\{\s*$")
GO_TAG_RE = re.compile(r"`([^`]*)`")
GO_TAG_VALUE_RE = re.compile(r'(\w+):"([^"]*)"')
GROUP_NAME_RE = re.compile(r"^//\s*\+groupName=(\S*)\s*$")
GROUP_CONST_RE = re.compile(r'^const\s+GroupName\s*=\s*"([^"]*)"')


class SchemaError(Exception):
    """The upstream sources do not have the shape this script understands."""


class Message:
    """One protobuf message: its fields as (number, proto name, label, type)."""

    def __init__(self, package, name, is_list):
        self.package = package
        self.name = name
        self.is_list = is_list
        # (number, proto_name, kind, type_or_value, map_key); kind in single/repeated/map
        self.fields = []

    @property
    def full_name(self):
        return f"{self.package}.{self.name}"


def parse_proto(path):
    """Parses one go-to-protobuf generated.proto into (package, go_package, messages)."""
    package = None
    go_package = None
    messages = []
    current = None
    comments = []
    with open(path, encoding="utf-8") as f:
        in_block_comment = False
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if in_block_comment:
                if "*/" in line:
                    in_block_comment = False
                continue
            if line.startswith("/*"):
                in_block_comment = "*/" not in line
                continue
            if line.startswith("//"):
                comments.append(line)
                continue
            where = f"{path}:{lineno}"
            if not line:
                if current is None:
                    comments = []
                continue
            if UNSUPPORTED_RE.match(line):
                raise SchemaError(f"{where}: unsupported construct: {line}")
            if m := re.match(r"^package\s+([.\w]+)\s*;$", line):
                package = m.group(1)
            elif m := re.match(r'^option\s+go_package\s*=\s*"([^"]+)"\s*;$', line):
                go_package = m.group(1)
            elif re.match(r"^(syntax|import|option)\s", line):
                pass
            elif m := MESSAGE_RE.match(line):
                if current is not None:
                    raise SchemaError(f"{where}: nested messages are not supported")
                if package is None:
                    raise SchemaError(f"{where}: message before package")
                is_list = any("+protobuf.nullable=true" in c for c in comments)
                current = Message(package, m.group(1), is_list)
                messages.append(current)
            elif line == "}":
                if current is None:
                    raise SchemaError(f"{where}: unbalanced brace")
                current = None
            elif m := FIELD_RE.match(line):
                if current is None:
                    raise SchemaError(f"{where}: field outside a message")
                label, typ, name, number = m.group(1, 2, 3, 4)
                kind = "repeated" if label == "repeated" else "single"
                current.fields.append((int(number), name, kind, typ, None))
            elif m := MAP_RE.match(line):
                if current is None:
                    raise SchemaError(f"{where}: field outside a message")
                key, value, name, number = m.group(1, 2, 3, 4)
                if key not in SCALARS:
                    raise SchemaError(f"{where}: map key must be a scalar: {key}")
                current.fields.append((int(number), name, "map", value, key))
            else:
                raise SchemaError(f"{where}: cannot parse: {line}")
            comments = []
    if current is not None:
        raise SchemaError(f"{path}: unterminated message {current.name}")
    if package is None or go_package is None:
        raise SchemaError(f"{path}: missing package or go_package")
    return package, go_package, messages


def parse_go_json_names(directory):
    """Reads a Go package's struct tags: {struct: {field number: GoField}}.

    Fields without a json tag, or with `json:"-"`, are left out unless embedded: they
    belong to types with hand-written JSON marshalling, which the decoder
    special-cases by message name.
    """
    structs = {}
    for entry in sorted(os.listdir(directory)):
        if not entry.endswith(".go") or entry.endswith("_test.go"):
            continue
        current = None
        with open(os.path.join(directory, entry), encoding="utf-8") as f:
            for raw in f:
                line = raw.strip()
                if m := GO_STRUCT_RE.match(line):
                    current = structs.setdefault(m.group(1), {})
                    continue
                if current is None:
                    continue
                if line == "}":
                    current = None
                    continue
                tag = GO_TAG_RE.search(line)
                if not tag:
                    continue
                values = dict(GO_TAG_VALUE_RE.findall(tag.group(1)))
                proto = values.get("protobuf")
                if proto is None or proto == "-":
                    continue
                parts = proto.split(",")
                if len(parts) < 2 or not parts[1].isdigit():
                    continue
                number = int(parts[1])
                declaration = line[: tag.start()].split()
                embedded = len(declaration) == 1
                if "json" not in values:
                    if embedded:
                        current[number] = GoField(None, False)
                    continue
                json_name, *options = values["json"].split(",")
                if json_name == "-":
                    continue
                if json_name == "":
                    if embedded:
                        current[number] = GoField(None, False)
                    continue
                # A field held by value (not a pointer, slice or map) and tagged
                # omitempty: Go's JSON drops its zero value.
                by_value = not declaration[-1].startswith(("*", "[]", "map["))
                current[number] = GoField(json_name, by_value and "omitempty" in options)
    return structs


class GoField:
    """What a Go struct tag says of one field: its JSON name (None when embedded
    inline) and whether JSON omits its zero value."""

    def __init__(self, json_name, omit_zero):
        self.json_name = json_name
        self.omit_zero = omit_zero


def parse_group_name(directory):
    """A Go package's API group: its `const GroupName`, else doc.go's `+groupName=`."""
    for entry in sorted(os.listdir(directory)):
        if not entry.endswith(".go") or entry.endswith("_test.go"):
            continue
        with open(os.path.join(directory, entry), encoding="utf-8") as f:
            for line in f:
                if m := GROUP_CONST_RE.match(line.strip()):
                    return m.group(1)
    path = os.path.join(directory, "doc.go")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if m := GROUP_NAME_RE.match(line.strip()):
                    return m.group(1)
    return None


def resolve(type_name, package, known):
    """Resolves a protobuf type reference the way protoc does for unnested messages."""
    if type_name in SCALARS:
        return type_name
    if type_name.startswith("."):
        full = type_name[1:]
        if full in known:
            return full
        raise SchemaError(f"unknown message type {type_name}")
    scope = package.split(".")
    while True:
        candidate = ".".join(scope + [type_name])
        if candidate in known:
            return candidate
        if not scope:
            raise SchemaError(f"unknown message type {type_name} in {package}")
        scope.pop()


def short(type_name, package):
    """Writes a resolved type bare when it lives in `package`."""
    prefix = package + "."
    if type_name.startswith(prefix) and "." not in type_name[len(prefix):]:
        return type_name[len(prefix):]
    return type_name


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", help="directory holding k8s.io/... package directories")
    parser.add_argument("--tag", default="unknown", help="upstream tag, for the header")
    parser.add_argument(
        "--package",
        action="append",
        dest="packages",
        help="root protobuf package (repeatable; default: the built-in API groups)",
    )
    args = parser.parse_args()
    roots = args.packages or DEFAULT_ROOTS

    messages = {}
    package_dirs = {}
    for dirpath, _dirnames, filenames in os.walk(args.root):
        for filename in sorted(filenames):
            if not filename.endswith(".proto"):
                continue
            package, go_package, parsed = parse_proto(os.path.join(dirpath, filename))
            package_dirs[package] = (dirpath, go_package)
            for message in parsed:
                if message.full_name in messages:
                    raise SchemaError(f"duplicate message {message.full_name}")
                messages[message.full_name] = message

    missing = [p for p in roots if p not in package_dirs]
    if missing:
        raise SchemaError(f"root packages not found: {', '.join(missing)}")

    # Walk from the roots through field types to find every reachable message.
    reachable = set()
    queue = deque(name for name, m in messages.items() if m.package in roots)
    resolved = {}
    while queue:
        name = queue.popleft()
        if name in reachable:
            continue
        reachable.add(name)
        message = messages[name]
        fields = []
        for number, proto_name, kind, typ, key in message.fields:
            full = resolve(typ, message.package, messages)
            fields.append((number, proto_name, kind, full, key))
            if full not in SCALARS:
                queue.append(full)
        resolved[name] = fields

    go_names = {}
    renamed = inlined = omit_zero = 0
    lines = []
    for name in sorted(reachable):
        message = messages[name]
        directory, _ = package_dirs[message.package]
        if message.package not in go_names:
            go_names[message.package] = parse_go_json_names(directory)
        tags = go_names[message.package].get(message.name, {})
        if message.is_list:
            fields = resolved[name]
            if len(fields) != 1 or fields[0][2] != "repeated":
                raise SchemaError(f"{name}: list wrapper without one repeated field")
        record = [name + (" !list" if message.is_list else "")]
        for number, proto_name, kind, full, key in sorted(resolved[name]):
            json_name = proto_name
            go = tags.get(number)
            if go is None:
                pass
            elif go.json_name is None:
                # Go promotes an embedded struct's fields; an embedded scalar
                # (Duration's time.Duration) has hand-written JSON instead.
                if full not in SCALARS:
                    json_name = "(inline)"
                    inlined += 1
            else:
                if go.json_name != proto_name:
                    json_name = go.json_name
                    renamed += 1
                if go.omit_zero and kind == "single" and full in SCALARS:
                    json_name += "?"
                    omit_zero += 1
            typ = short(full, message.package)
            if kind == "repeated":
                typ = "[]" + typ
            elif kind == "map":
                typ = f"map<{key},{typ}>"
            record.append(f"{number}:{json_name}:{typ}")
        lines.append(" ".join(record))

    groups = []
    for package in sorted(roots):
        directory, go_package = package_dirs[package]
        group = parse_group_name(directory)
        if group is None:
            continue
        version = go_package.rsplit("/", 1)[-1]
        api_version = f"{group}/{version}" if group else version
        groups.append(f"@group {api_version} {package}")

    field_count = sum(len(resolved[n]) for n in reachable)
    out = sys.stdout
    out.write(f"# Generated by gen_schema.py from upstream {args.tag}; do not edit.\n")
    out.write(
        f"# {len(reachable)} messages, {field_count} fields, {len(groups)} group versions; "
        f"{renamed} fields renamed, {inlined} inlined, {omit_zero} omit zero per Go json tags.\n"
    )
    out.write("# Format: see gen_schema.py.\n")
    for line in groups:
        out.write(line + "\n")
    for line in lines:
        out.write(line + "\n")
    print(
        f"{len(reachable)} messages, {field_count} fields, {len(groups)} groups, "
        f"{renamed} renamed, {inlined} inlined, {omit_zero} omit zero",
        file=sys.stderr,
    )


if __name__ == "__main__":
    try:
        main()
    except SchemaError as err:
        sys.exit(f"gen_schema: {err}")
