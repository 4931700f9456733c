"""Routing, scopes, query parameters and JSON shapes, all read from the discovery documents
that ship inside googleapiclient (the same ones `build()` uses), so the fake agrees with the
client about every path, parameter and field name."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient

DOCS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
SCOPE_PREFIX = "https://www.googleapis.com/auth/"
MAIL_FULL = "https://mail.google.com/"


def full_scope(scope: str) -> str:
    """'calendar.events' -> 'https://www.googleapis.com/auth/calendar.events'."""
    if "://" in scope:
        return scope
    if scope in ("", "mail.google.com"):
        return MAIL_FULL
    return SCOPE_PREFIX + scope


@dataclass(frozen=True)
class Method:
    route: str  # "calendar.events.list", "gmail.drafts.create", "gmail.users.getProfile"
    api: str  # "calendar" | "gmail"
    http_method: str
    regex: re.Pattern[str]
    n_vars: int
    scopes: frozenset[str]
    query_params: frozenset[str]
    request_ref: str | None
    response_ref: str | None


@dataclass(frozen=True)
class Api:
    name: str
    schemas: dict[str, Any]
    methods: tuple[Method, ...]


def route_name(api: str, method_id: str) -> str:
    parts = method_id.split(".")
    if api == "gmail" and len(parts) > 3 and parts[1] == "users":
        parts = [parts[0], *parts[2:]]
    return ".".join(parts)


def _walk(resources: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for res in resources.values():
        out.extend(res.get("methods", {}).values())
        out.extend(_walk(res.get("resources", {})))
    return out


VERSIONS = {"calendar": "calendar.v3", "gmail": "gmail.v1"}


@cache
def api(name: str) -> Api:
    name = VERSIONS.get(name, name)
    doc = json.loads((DOCS / f"{name}.json").read_text(encoding="utf-8"))
    short = doc["name"]
    global_params = set(doc.get("parameters", {}))
    methods = []
    for m in _walk(doc["resources"]):
        flat = "/" + doc["servicePath"] + m.get("flatPath", m["path"])
        n_vars = flat.count("{")
        pattern = re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(flat))
        pattern = re.sub(
            r"\(\?P<([^>]+)>", lambda mm: "(?P<" + re.sub(r"\W", "_", mm[1]) + ">", pattern
        )
        qp = {k for k, v in m.get("parameters", {}).items() if v.get("location") == "query"}
        methods.append(
            Method(
                route=route_name(short, m["id"]),
                api=short,
                http_method=m["httpMethod"],
                regex=re.compile(pattern + "$"),
                n_vars=n_vars,
                scopes=frozenset(m.get("scopes", [])),
                query_params=frozenset(qp | global_params),
                request_ref=m.get("request", {}).get("$ref"),
                response_ref=m.get("response", {}).get("$ref"),
            )
        )
    methods.sort(key=lambda x: x.n_vars)
    return Api(short, doc["schemas"], tuple(methods))


def resolve(http_method: str, path: str) -> tuple[Method, dict[str, str]] | None:
    """The discovery method serving this request, with its (still URL-encoded) path params."""
    for name in ("calendar.v3", "gmail.v1"):
        for m in api(name).methods:
            if m.http_method != http_method:
                continue
            match = m.regex.match(path)
            if match:
                return m, match.groupdict()
    return None


def method_by_route(route: str) -> Method | None:
    for name in ("calendar.v3", "gmail.v1"):
        for m in api(name).methods:
            if m.route == route:
                return m
    return None


# --- shapes -----------------------------------------------------------------------------


def check_shape(
    schemas: dict[str, Any], schema: dict[str, Any], value: Any, where: str, errors: list[str]
) -> None:
    """Append to `errors` every unknown property or wrong type in `value` (null is allowed
    anywhere: PATCH uses it to clear a field)."""
    if "$ref" in schema:
        schema = schemas[schema["$ref"]]
    if value is None:
        return
    kind = schema.get("type", "object" if "properties" in schema else "any")
    if kind == "object":
        if not isinstance(value, dict):
            errors.append(f"{where}: expected an object, got {type(value).__name__}")
            return
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, sub in value.items():
            if props is not None and key in props:
                check_shape(schemas, props[key], sub, f"{where}.{key}", errors)
            elif extra is not None:
                check_shape(schemas, extra, sub, f"{where}.{key}", errors)
            else:
                errors.append(f"{where}: unknown property {key!r}")
    elif kind == "array":
        if not isinstance(value, list):
            errors.append(f"{where}: expected an array, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            check_shape(schemas, schema.get("items", {}), item, f"{where}[{i}]", errors)
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(f"{where}: expected a string, got {type(value).__name__}")
    elif kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        if schema.get("format") in ("int64", "uint64") and isinstance(value, str):
            ok = value.lstrip("-").isdigit()
        if not ok:
            errors.append(f"{where}: expected an integer, got {value!r}")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(f"{where}: expected a number, got {value!r}")
    elif kind == "boolean" and not isinstance(value, bool):
        errors.append(f"{where}: expected a boolean, got {value!r}")


def shape_errors(api_name: str, ref: str, value: Any, where: str = "body") -> list[str]:
    a = api(api_name)
    errors: list[str] = []
    check_shape(a.schemas, {"$ref": ref}, value, where, errors)
    return errors


def schema_properties(api_name: str, ref: str) -> set[str]:
    return set(api(api_name).schemas[ref].get("properties", {}))


# --- partial responses (fields=) ----------------------------------------------------------

FieldTree = dict[str, "FieldTree | None"]


def parse_fields(text: str) -> FieldTree:
    """Google's `fields` syntax: `a,b/c,d(e,f/g),*`."""
    pos = 0

    def parse_list() -> FieldTree:
        nonlocal pos
        tree: FieldTree = {}
        while pos < len(text):
            m = re.compile(r"\s*([A-Za-z0-9_$*@.-]+(?:/[A-Za-z0-9_$*@.-]+)*)\s*").match(text, pos)
            if not m:
                raise ValueError(f"bad fields syntax at {pos}: {text!r}")
            pos = m.end()
            path = m[1].split("/")
            sub: FieldTree | None = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = parse_list()
                if pos >= len(text) or text[pos] != ")":
                    raise ValueError(f"unbalanced parentheses in fields: {text!r}")
                pos += 1
            node: FieldTree | None = sub
            for name in reversed(path[1:]):
                node = {name: node}
            _merge(tree, path[0], node)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            break
        return tree

    tree = parse_list()
    if pos != len(text):
        raise ValueError(f"bad fields syntax at {pos}: {text!r}")
    return tree


def _merge(tree: FieldTree, key: str, node: FieldTree | None) -> None:
    if key not in tree:
        tree[key] = node
        return
    old = tree[key]
    if old is None or node is None:
        tree[key] = None
        return
    for k, v in node.items():
        _merge(old, k, v)


def apply_fields(tree: FieldTree | None, value: Any) -> Any:
    if tree is None:
        return value
    if isinstance(value, list):
        return [apply_fields(tree, v) for v in value]
    if not isinstance(value, dict):
        return value
    if "*" in tree:
        return {k: apply_fields(tree.get(k, tree["*"]), v) for k, v in value.items()}
    return {k: apply_fields(tree[k], value[k]) for k in tree if k in value}
