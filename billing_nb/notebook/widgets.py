"""ipywidgets for the analyst: confirm the bucket, tick and execute actions.

Reactive, never blocking (Run All does not wait for a click, and no blocking-wait
library works with ipykernel 7): the Confirm handler records the decision and
re-renders steps 3-5; Execute runs only the ticked actions and re-renders them.
Handlers write case.json themselves through the Case. Each widget's plain-text form
(what a notebook shows where the widget state was not saved) says what it is in words.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from ..actions import Plan
from ..analysis.classify import Bucket, Classification
from ..records.markup import escape_html, math_inert_html

__all__ = ["BucketPicker", "ActionChecklist"]


class BucketPicker(w.VBox):
    """A dropdown preset to the suggestion and a Confirm button."""

    def __init__(self, classification: Classification, on_confirm: Callable[[Bucket], None]) -> None:
        self.dropdown = w.Dropdown(
            options=[(b.value, b) for b in Bucket], value=classification.suggested,
            description="Bucket:",
        )
        self.confirm = w.Button(description="Confirm", button_style="primary", icon="check")
        self.status = w.HTML("<i>Not confirmed yet: the case stays pending until you confirm.</i>")
        self.confirmed: Bucket | None = None
        self._on_confirm = on_confirm
        self.confirm.on_click(self._clicked)
        super().__init__([w.HBox([self.dropdown, self.confirm]), self.status])

    def __repr__(self) -> str:
        if self.confirmed is not None:
            return f"[bucket picker: confirmed {self.confirmed.value}]"
        return f"[bucket picker: suggested {Bucket(self.dropdown.value).value}, not confirmed]"

    def _clicked(self, _button: w.Button) -> None:
        bucket = Bucket(self.dropdown.value)
        self._on_confirm(bucket)
        self.confirmed = bucket
        self.status.value = f"<b>Confirmed:</b> {escape_html(bucket.value)}"


class ActionChecklist(w.VBox):
    """One unticked checkbox per planned action, with its preview, a line saying what
    Execute will do, and Execute.

    Actions already carried out (``done``: action id -> status) are shown ticked and
    disabled, so the analyst is never offered the same write twice. ``describe(ids)``
    words the ticked actions ("refund $148.58 to visa ••4242 and cancel Pro now; access
    ends today") before anything runs.
    """

    def __init__(self, plan: Plan, on_execute: Callable[[list[str]], None],
                 done: dict[str, str] | None = None, describe: Callable[[list[str]], str] | None = None,
                 shown: Plan | None = None) -> None:
        done = done or {}
        # ``shown``: the plan as its record holds it (masked), whose previews are what a row says;
        # the ids ticked and sent to Execute stay the live plan's
        words = dict(zip(plan.ids, (shown or plan).actions, strict=True))
        self.done = dict(done)
        self.boxes: dict[str, w.Checkbox] = {}
        self._describe = describe
        rows: list[w.Widget] = []
        for action in plan.actions:
            status = done.get(action.id)
            label = f"{action.id} — {status}" if status else action.id
            box = w.Checkbox(value=bool(status), description=label, indent=False, disabled=bool(status),
                             layout=w.Layout(width="auto"))
            box.observe(self._ticked_changed, names="value")
            self.boxes[action.id] = box
            money = f" — {action.amount.format()}" if action.amount else ""
            flags = ("reversible" if action.reversible else "NOT reversible") + (
                ", moves money" if action.moves_money else "")
            line = f"<small>{escape_html(words[action.id].preview + money)} ({flags})</small>"
            rows.append(w.VBox([box, w.HTML(math_inert_html(line, inline=True))]))
        self.summary = w.HTML("<i>Nothing ticked.</i>")
        self.execute = w.Button(description="Execute ticked", button_style="danger", icon="play",
                                disabled=not plan.actions)
        self.status = w.HTML(
            "<b>Executed:</b> " + escape_html(", ".join(f"{a} ({st})" for a, st in done.items())) if done else "")
        self._on_execute = on_execute
        self.execute.on_click(self._clicked)
        super().__init__([*rows, self.summary, self.execute, self.status])

    def __repr__(self) -> str:
        if self.done:
            return "[action checklist: executed " + ", ".join(f"{a} ({s})" for a, s in self.done.items()) + "]"
        return f"[action checklist: {len(self.boxes)} planned actions, none executed]"

    def ticked(self) -> list[str]:
        """Ticked actions not yet carried out."""
        return [aid for aid, box in self.boxes.items() if box.value and not box.disabled]

    def confirmation(self) -> str:
        """What Execute would do now, in words."""
        chosen = self.ticked()
        if not chosen:
            return "Nothing ticked."
        said = self._describe(chosen) if self._describe else ", ".join(chosen)
        return f"Execute will {said}."

    def _ticked_changed(self, _change: object) -> None:
        text = escape_html(self.confirmation())
        self.summary.value = math_inert_html(f"<b>{text}</b>" if self.ticked() else f"<i>{text}</i>", inline=True)

    def _clicked(self, _button: w.Button) -> None:
        chosen = self.ticked()
        if not chosen:
            self.status.value = "<i>Nothing ticked: nothing executed.</i>"
            return
        self.execute.disabled = True  # one click, one run: the handler re-renders step 3 with a new checklist
        self.status.value = math_inert_html("<i>Executing " + escape_html(", ".join(chosen)) + " …</i>", inline=True)
        self._on_execute(chosen)
