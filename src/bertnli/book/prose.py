"""Chapter prose that states a computed number: the output of a code cell, not markup.

Why: a MyST role such as ``{glue:text}`` or a ``{{ }}`` substitution is filled in only by the
book build; JupyterLab, Notebook 7, VS Code and Colab show it as typed. A code cell's Markdown
output, by contrast, is rendered everywhere. So a paragraph that states a measured figure is a
code cell tagged with its language (``lang-en`` / ``lang-ko``, like the prose cells) and
``remove-input``, whose one line is ``say(f\"\"\"...\"\"\")``: the site shows only the sentence
(``book/_ext/langmarks.py`` carries the language tag to the output, for the language switch),
and a notebook shows the sentence under its source.
"""

from __future__ import annotations

import ast
import re
import string
import textwrap

from IPython.display import Markdown, display


def say(text: str) -> None:
    """Show ``text`` (Markdown, usually an f-string of computed values) as the cell's output.

    Leading and trailing blank lines and a common indentation are dropped, so the string can
    start on the line after its opening quotes. Returns None: a returned value, the cell's last
    expression, would be shown a second time.
    """
    if not isinstance(text, str):
        raise TypeError(
            f"say() takes the paragraph as a str (an f-string), not {type(text).__name__}"
        )
    display(Markdown(textwrap.dedent(text).strip("\n")))


def template_of(source: str) -> str | None:
    """The paragraph a prose cell says, as written (``{name:.1%}`` fields unfilled), or None
    when ``source`` is not a prose cell: code whose last statement is ``say(f\"\"\"...\"\"\")``.

    Why: the checks of the prose (both languages state the same figures, Korean style, glossary
    terms) read these cells like the Markdown ones, without running the chapter.
    """
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return None
    last = body[-1] if body else None
    if not (
        isinstance(last, ast.Expr)
        and isinstance(last.value, ast.Call)
        and isinstance(last.value.func, ast.Name)
        and last.value.func.id == "say"
        and len(last.value.args) == 1
        and not last.value.keywords
    ):
        return None
    literal = ast.get_source_segment(source, last.value.args[0]) or ""
    quoted = re.fullmatch(r'[fF]?("""|\'\'\')(.*)\1', literal, flags=re.S)
    if quoted is None:
        return None
    return textwrap.dedent(quoted.group(2)).strip("\n")


def fields_of(template: str) -> list[str]:
    """The expressions of a template's ``{...}`` fields, in order (``{{`` is a literal brace)."""
    return [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
