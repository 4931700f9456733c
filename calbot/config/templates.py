"""The draft templates: a sandboxed Jinja environment, checked in full when loaded.

Built-in templates live in the package folder `calbot/templates/` (one per action per
language, plus the private talking points for `boundary`). `outputs.templates_dir` may hold
files by the same names; each one replaces the built-in file of that name and nothing else.
Files starting with "_" are partials for `{% include %}` / `{% import %}`.

Whitespace: `trim_blocks` and `lstrip_blocks` are on, so a line holding only a block tag
leaves no trace, and a block tag at the very end of a text line also eats that line's
newline (end such lines with text or an expression, e.g. `{{ "?" if is_key else "." }}`).
Runs of blank lines in the output collapse to one.

Everything is validated at load: every template compiles, uses only known variables, and
renders a representative sample meeting into "Subject: ..." + blank line + body. Any
failure is a `ConfigError` naming the template file.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2
import jinja2.meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from calbot.config.template_files import BUILTIN_DIR, checked_marker, files_state
from calbot.core.draft import TemplateFailed, all_template_names, make_draft
from calbot.core.draft_context import CONTEXT_KEYS, NOTES_KEYS
from calbot.core.draft_samples import sample_contexts
from calbot.core.draft_text import split_rendered
from calbot.core.messages import Say
from calbot.core.model import Decision, Draft, Meeting
from calbot.core.settings import CoreSettings
from calbot.core.untrusted import one_line
from calbot.errors import ConfigError

TEMPLATES_KEY = "outputs.templates_dir"


@dataclass(frozen=True, slots=True)
class Templates:
    """Compiled, validated templates. `render` never reloads from disk."""

    env: ImmutableSandboxedEnvironment
    compiled: Mapping[str, jinja2.Template]
    paths: Mapping[str, str]  # template name -> the file it came from
    overridden: frozenset[str]  # names that come from the user's templates_dir

    def path_of(self, name: str) -> str:
        return self.paths.get(name, name)

    def render(self, name: str, context: Mapping[str, object]) -> str:
        template = self.compiled.get(name)
        if template is None:
            raise ConfigError(str(BUILTIN_DIR), name, "no such template")
        key = TEMPLATES_KEY if name in self.overridden else name
        return _render(template, dict(context), self.path_of(name), key)

    def draft(
        self,
        meeting: Meeting,
        decision: Decision,
        settings: CoreSettings,
        say: Say,
        opening: int = 0,
    ) -> Draft:
        """`make_draft` with these templates. A template that renders no draft for this
        meeting is a ConfigError naming its file, as every other template failure is."""
        try:
            return make_draft(meeting, decision, settings, self, say, opening)
        except TemplateFailed as exc:
            raise ConfigError(self.path_of(exc.name), exc.name, exc.reason) from None


def _error_line(exc: BaseException, path: str) -> int | None:
    """The template line a render error happened on (Jinja rewrites tracebacks)."""
    lineno = getattr(exc, "lineno", None)
    if isinstance(lineno, int):
        return lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == path:
            return frame.lineno
    return None


def _render(template: jinja2.Template, context: dict[str, object], path: str, key: str) -> str:
    try:
        return template.render(context)
    except jinja2.UndefinedError as exc:
        line = _error_line(exc, path)
        where = f"line {line}: " if line else ""
        reason = f"{where}unknown variable: {one_line(exc.message or '')}"
        raise ConfigError(path, key, reason) from None
    except Exception as exc:  # a template is user code: any failure is a config problem
        line = _error_line(exc, path)
        where = f"line {line}: " if line else ""
        reason = one_line(str(exc)) or type(exc).__name__
        raise ConfigError(path, key, f"{where}cannot render: {reason}") from None


def _environment(search: list[str]) -> ImmutableSandboxedEnvironment:
    from calbot.config.cache_dir import cache_dir

    # Compiled templates kept across runs, keyed by the template's source checksum (Jinja
    # checks it): compiling the 21 built-in templates is most of loading them.
    folder = cache_dir("templates")
    return ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(search, encoding="utf-8"),
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(folder)) if folder else None,
        autoescape=False,  # plain-text mail
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )


# Loaded templates by folder and the state of its files: the config check and the scan each
# load them, and compiling and checking is the same work both times.
_LOADED: dict[tuple[object, ...], Templates] = {}


def load_templates(templates_dir: str = "", config_path: str = "<config>") -> Templates:
    """Load, compile and check every template; the user's folder overrides by file name.
    Once per process for the same files (a changed file loads again)."""
    state = files_state(templates_dir)
    key = (templates_dir, state)
    loaded = _LOADED.get(key)
    if loaded is None:
        marker = checked_marker(templates_dir, state)
        checked = marker is not None and marker.exists()
        loaded = _LOADED[key] = _load_templates(templates_dir, config_path, check=not checked)
        if marker is not None and not checked:
            with contextlib.suppress(OSError):
                marker.touch()
    return loaded


def _load_templates(templates_dir: str, config_path: str, *, check: bool = True) -> Templates:
    known = all_template_names()
    search: list[str] = []
    user_files: dict[str, Path] = {}
    if templates_dir:
        folder = Path(templates_dir).expanduser()
        if not folder.is_dir():
            raise ConfigError(config_path, TEMPLATES_KEY, f"not a folder: {folder}")
        search.append(str(folder))
        for path in sorted(folder.glob("*.j2")):
            if path.name in known or path.name.startswith("_"):
                user_files[path.name] = path
            else:
                raise ConfigError(
                    str(path),
                    TEMPLATES_KEY,
                    "unknown template name (expected e.g. reschedule.vi.txt.j2, "
                    "boundary_notes.en.txt.j2, or _partial.j2)",
                )
    search.append(str(BUILTIN_DIR))
    env = _environment(search)

    paths: dict[str, str] = {}
    compiled: dict[str, jinja2.Template] = {}
    names = list(known) + [n for n in user_files if n not in known]
    for name in names:
        path = user_files.get(name) or BUILTIN_DIR / name
        key = TEMPLATES_KEY if name in user_files else name
        paths[name] = str(path)
        try:
            source = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(str(path), key, "template file is missing") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(str(path), key, f"cannot read: {one_line(str(exc))}") from None
        try:
            ast = env.parse(source, name, str(path)) if check else None
            compiled[name] = env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(
                str(path), key, f"line {exc.lineno}: syntax error: {one_line(exc.message or '')}"
            ) from None
        except jinja2.TemplateError as exc:  # e.g. a missing include
            raise ConfigError(str(path), key, one_line(str(exc))) from None
        if name not in known or ast is None:
            continue  # a partial: checked where it is included (or all checked before)
        _action, _lang, is_notes = known[name]
        allowed = NOTES_KEYS if is_notes else CONTEXT_KEYS
        unknown = sorted(jinja2.meta.find_undeclared_variables(ast) - allowed)
        if unknown:
            raise ConfigError(str(path), key, f"unknown variable: {', '.join(unknown)}")

    templates = Templates(env=env, compiled=compiled, paths=paths, overridden=frozenset(user_files))
    if not check:
        return templates
    for name, (action, lang, is_notes) in known.items():
        key = TEMPLATES_KEY if name in user_files else name
        for context in sample_contexts(action, lang, notes=is_notes):
            text = templates.render(name, context)
            if is_notes:
                continue
            try:
                split_rendered(text)
            except ValueError as exc:
                raise ConfigError(paths[name], key, str(exc)) from None
    return templates
