"""calbot never sends. The one Gmail scope that can leave drafts, `gmail.compose`,
can also send, so "never sends" is a property of calbot's code, not of its token: this
module finds, in Python source, anything that could send mail or make Calendar e-mail the
attendees. `calbot doctor` runs it over the installed package; the test suite runs it too.

It is deliberately blunt: any use of an attribute named like a send method (`.send`, also
when only looked up and called later), `getattr`/`methodcaller` with such a name, Gmail's
`messages().insert(...)`/`.import_(...)` (they put mail in a mailbox), `smtplib` (imported,
or named to `importlib`/`__import__`), an IMAP `MOVE`/`COPY` (imapclient's `.move`/`.copy`
of messages to a folder — such as Sent — or the raw commands), and a Calendar write with
`sendUpdates`/`sendNotifications` other than "none"/False. The IMAP sink only APPENDs to
Drafts and removes its own drafts by UID: nothing it writes can reach Sent."""

from __future__ import annotations

import ast
from pathlib import Path

__all__ = ["SEND_NAMES", "package_send_calls", "send_calls"]

SEND_NAMES = frozenset({"send", "send_message", "sendmail", "send_draft", "send_mail", "import_"})
_NOTIFY_KEYWORDS = frozenset({"sendUpdates", "sendNotifications"})
# imapclient's methods that put messages in another folder (Sent among them)
_IMAP_TRANSFERS = frozenset({"move", "copy", "uid_move", "uid_copy"})
# imaplib-level calls that take a raw IMAP command name as their first argument
_RAW_COMMANDS = frozenset({"uid", "_command", "_simple_command", "_command_and_check", "xatom"})
_TRANSFER_WORDS = frozenset({"MOVE", "COPY", "UID MOVE", "UID COPY"})


def send_calls(tree: ast.AST) -> list[str]:
    """One line per place in `tree` that could send, e.g. "line 12: .send"."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in SEND_NAMES:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Call):
            found.extend(_call_problems(node))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names]
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if "smtplib" in names or module == "smtplib":
                found.append(f"line {node.lineno}: import smtplib")
    return found


def _call_problems(node: ast.Call) -> list[str]:
    found = []
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
    if name in {"getattr", "methodcaller", "attrgetter"} and any(
        isinstance(a, ast.Constant) and a.value in SEND_NAMES for a in node.args
    ):
        found.append(f"line {node.lineno}: {name}({_names(node.args)})")
    if isinstance(func, ast.Attribute) and func.attr == "insert" and _on_messages(func.value):
        found.append(f"line {node.lineno}: messages().insert")
    found.extend(_imap_and_smtp(node, name))
    for kw in node.keywords:
        if kw.arg in _NOTIFY_KEYWORDS and not (
            isinstance(kw.value, ast.Constant) and kw.value.value in ("none", False)
        ):
            found.append(f"line {node.lineno}: {kw.arg}={ast.unparse(kw.value)}")
    return found


def _imap_and_smtp(node: ast.Call, name: str) -> list[str]:
    """IMAP MOVE/COPY (messages to another folder, e.g. Sent) and smtplib by name."""
    found = []
    first = node.args[0] if node.args else None
    word = (
        first.value.upper()
        if isinstance(first, ast.Constant) and isinstance(first.value, str)
        else ""
    )
    folder_given = len(node.args) >= 2 or any(kw.arg == "folder" for kw in node.keywords)
    if isinstance(node.func, ast.Attribute) and name in _IMAP_TRANSFERS and folder_given:
        found.append(f"line {node.lineno}: IMAP .{name}")
    if name in _RAW_COMMANDS and word in _TRANSFER_WORDS:
        found.append(f"line {node.lineno}: IMAP {word}")
    if any(isinstance(a, ast.Constant) and a.value == "smtplib" for a in node.args):
        found.append(f"line {node.lineno}: {name}('smtplib')")
    return found


def _on_messages(node: ast.expr) -> bool:
    """`node` is a call chain ending in `.messages()` (Gmail's messages resource)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "messages"
    )


def _names(args: list[ast.expr]) -> str:
    return ", ".join(repr(a.value) for a in args if isinstance(a, ast.Constant))


def package_send_calls(root: Path | None = None) -> tuple[int, dict[str, list[str]]]:
    """(modules read, {module path: problems}) for every `.py` file under `root` (default:
    the installed calbot package). A file that cannot be read or parsed is a problem too:
    what cannot be checked is not known to be safe."""
    root = root or Path(__file__).resolve().parents[1]
    files = sorted(root.rglob("*.py"))
    problems: dict[str, list[str]] = {}
    for path in files:
        name = str(path.relative_to(root.parent))
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (OSError, SyntaxError, UnicodeDecodeError, ValueError) as exc:
            problems[name] = [f"unreadable: {type(exc).__name__}"]
            continue
        if hits := send_calls(tree):
            problems[name] = hits
    return len(files), problems
