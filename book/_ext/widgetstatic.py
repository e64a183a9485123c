"""Static HTML for widgets that bring no stand-in of their own (progress bars, mostly).

Why: the site has no kernel, so widget views are dropped (``nb_mime_priority_overrides``)
and an output falls back to its next representation. ``bertnli.widgets`` ships a
``text/html`` stand-in, but a tqdm progress bar in a notebook is an ipywidget whose only
other representation is the ``text/plain`` captured when it *started*: "0%| | 0/63".
The executed notebook also stores every widget's final state (``metadata.widgets``), so
we draw that state as plain HTML: the bar as it ended, 100% and its timing.
"""

from __future__ import annotations

import html
from typing import Any

from myst_nb.core.execute.base import NotebookClientBase
from nbformat import NotebookNode

VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"
REF = "IPY_MODEL_"
_ORIGINAL = NotebookClientBase.code_cell_outputs


def _children(state: dict, model: dict, depth: int) -> str:
    refs = model.get("state", {}).get("children", [])
    return "".join(_render(state, r[len(REF):] if isinstance(r, str) and r.startswith(REF) else r, depth + 1)
                   for r in refs)


def _render(state: dict, model_id: str, depth: int = 0) -> str:
    """HTML for one widget model and its children; "" for what has no static form."""
    model = state.get(model_id)
    if model is None or depth > 20:
        return ""
    name = model.get("model_name", "")
    s = model.get("state", {})
    desc = html.escape(str(s.get("description", "") or ""))
    label = f"<span>{desc}</span> " if desc else ""
    if name in ("HBoxModel", "GridBoxModel"):
        return f'<div style="display:flex;flex-wrap:wrap;gap:0.5em;align-items:center">{_children(state, model, depth)}</div>'
    if name in ("VBoxModel", "BoxModel", "AccordionModel", "TabModel"):
        return f'<div style="display:flex;flex-direction:column;gap:0.3em">{_children(state, model, depth)}</div>'
    if name in ("HTMLModel", "HTMLMathModel"):
        return f"<span>{s.get('value', '')}</span>"  # widget HTML is HTML by definition
    if name == "LabelModel":
        return f"<span>{html.escape(str(s.get('value', '')))}</span>"
    if name in ("FloatProgressModel", "IntProgressModel"):
        value, top = s.get("value", 0) or 0, s.get("max", 100) or 100
        return f'{label}<progress value="{value}" max="{top}" style="min-width:12em"></progress>'
    if name in ("TextModel", "TextareaModel", "IntTextModel", "FloatTextModel", "IntSliderModel",
                "FloatSliderModel", "DropdownModel", "ToggleButtonsModel", "RadioButtonsModel", "CheckboxModel"):
        value = s.get("value", "")
        if name in ("DropdownModel", "ToggleButtonsModel", "RadioButtonsModel"):
            labels, index = s.get("_options_labels", []), s.get("index")
            value = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else ""
        return f"{label}<code>{html.escape(str(value))}</code>"
    if name == "ButtonModel":
        return f"<button disabled>{desc}</button>"
    return ""


def static_widget_html(output: dict, widget_state: dict) -> str | None:
    """The final state of ``output``'s widget as HTML, or None when it cannot be drawn."""
    view = output.get("data", {}).get(VIEW) or {}
    body = _render(widget_state, view.get("model_id", ""))
    return f'<div class="bertnli-widget-static">{body}</div>' if body else None


def code_cell_outputs(self: Any, cell_index: int):
    """myst-nb's outputs of a cell, with a ``text/html`` drawn for widgets that lack one."""
    count, outputs = _ORIGINAL(self, cell_index)
    widgets = (self.notebook.get("metadata", {}).get("widgets") or {}).get(STATE, {}).get("state", {})
    if not widgets:
        return count, outputs
    fixed = []
    for out in outputs:
        data = out.get("data") if out.get("output_type") in ("display_data", "execute_result") else None
        if data and VIEW in data and "text/html" not in data:
            drawn = static_widget_html(out, widgets)
            if drawn is not None:
                out = NotebookNode({**out, "data": NotebookNode({**data, "text/html": drawn})})
        fixed.append(out)
    return count, fixed


def setup(app: Any) -> dict[str, Any]:
    NotebookClientBase.code_cell_outputs = code_cell_outputs
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
