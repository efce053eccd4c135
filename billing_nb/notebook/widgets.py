"""ipywidgets for the analyst: confirm the bucket, tick and execute actions.

Reactive, never blocking (Run All does not wait for a click, and no blocking-wait
library works with ipykernel 7): the Confirm handler records the decision and
re-renders steps 3-5 into Output widgets; Execute runs only the ticked actions and
re-renders steps 4-5. Handlers write case.json themselves through the Case.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from ..actions import Plan
from ..analysis.classify import Bucket, Classification
from ..records.markup import escape_html

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
        self._on_confirm = on_confirm
        self.confirm.on_click(self._clicked)
        super().__init__([w.HBox([self.dropdown, self.confirm]), self.status])

    def _clicked(self, _button: w.Button) -> None:
        bucket = Bucket(self.dropdown.value)
        self._on_confirm(bucket)
        self.status.value = f"<b>Confirmed:</b> {bucket.value}"


class ActionChecklist(w.VBox):
    """One unticked checkbox per planned action, with its preview, and Execute.

    Actions already carried out (``done``: action id -> status) are shown ticked and
    disabled, so the analyst is never offered the same write twice.
    """

    def __init__(self, plan: Plan, on_execute: Callable[[list[str]], None],
                 done: dict[str, str] | None = None) -> None:
        done = done or {}
        self.boxes: dict[str, w.Checkbox] = {}
        rows: list[w.Widget] = []
        for action in plan.actions:
            status = done.get(action.id)
            label = f"{action.id} — {status}" if status else action.id
            box = w.Checkbox(value=bool(status), description=label, indent=False, disabled=bool(status),
                             layout=w.Layout(width="auto"))
            self.boxes[action.id] = box
            money = f" — {action.amount.format()}" if action.amount else ""
            flags = ("reversible" if action.reversible else "NOT reversible") + (
                ", moves money" if action.moves_money else "")
            text = escape_html(f"{action.preview}{money} ({flags})")  # previews quote Stripe data
            rows.append(w.VBox([box, w.HTML(f"<small>{text}</small>")]))
        self.execute = w.Button(description="Execute ticked", button_style="danger", icon="play",
                                disabled=not plan.actions)
        self.status = w.HTML(
            "<b>Executed:</b> " + escape_html(", ".join(f"{a} ({st})" for a, st in done.items())) if done else "")
        self._on_execute = on_execute
        self.execute.on_click(self._clicked)
        super().__init__([*rows, self.execute, self.status])

    def ticked(self) -> list[str]:
        """Ticked actions not yet carried out."""
        return [aid for aid, box in self.boxes.items() if box.value and not box.disabled]

    def _clicked(self, _button: w.Button) -> None:
        chosen = self.ticked()
        if not chosen:
            self.status.value = "<i>Nothing ticked: nothing executed.</i>"
            return
        self._on_execute(chosen)  # the handler re-renders step 3 with a new checklist
