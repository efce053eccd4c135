"""ipywidgets for the analyst: confirm the bucket, tick and execute actions.

Reactive, never blocking (Run All does not wait for a click, and no blocking-wait
library works with ipykernel 7): the Confirm handler records the decision and
re-renders steps 3-5 into Output widgets; Execute runs only the ticked actions and
re-renders steps 4-5. Handlers write case.json themselves through the Case.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from .actions import Plan
from .classify import Bucket, Classification

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
    """One unticked checkbox per planned action, with its preview, and Execute."""

    def __init__(self, plan: Plan, on_execute: Callable[[list[str]], None]) -> None:
        self.boxes: dict[str, w.Checkbox] = {}
        rows: list[w.Widget] = []
        for action in plan.actions:
            box = w.Checkbox(value=False, description=action.id, indent=False,
                             layout=w.Layout(width="auto"))
            self.boxes[action.id] = box
            money = f" — {action.amount.format()}" if action.amount else ""
            flags = ("reversible" if action.reversible else "NOT reversible") + (
                ", moves money" if action.moves_money else "")
            rows.append(w.VBox([box, w.HTML(f"<small>{action.preview}{money} ({flags})</small>")]))
        self.execute = w.Button(description="Execute ticked", button_style="danger", icon="play",
                                disabled=not plan.actions)
        self.status = w.HTML("")
        self._on_execute = on_execute
        self.execute.on_click(self._clicked)
        super().__init__([*rows, self.execute, self.status])

    def ticked(self) -> list[str]:
        return [aid for aid, box in self.boxes.items() if box.value]

    def _clicked(self, _button: w.Button) -> None:
        chosen = self.ticked()
        if not chosen:
            self.status.value = "<i>Nothing ticked: nothing executed.</i>"
            return
        self._on_execute(chosen)
        self.status.value = f"<b>Executed:</b> {', '.join(chosen)}"
