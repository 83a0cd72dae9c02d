"""Every form the engine can run, by flow: the one table to read to see which dialogs exist."""

from __future__ import annotations

from dialogs import binding, confirm, followup, order, survey
from dialogs.form import Form
from dialogs.state import Flow

FORMS: dict[Flow, Form] = {
    Flow.BINDING: binding.FORM,  # community → building → unit → room → phone
    Flow.ORDER: order.ORDER_FORM,  # [binding] → service → time → address → phone → confirm
    Flow.CANCEL_ORDER: confirm.FORM,  # a cancel pending from the previous release
    Flow.SURVEY: survey.FORM,  # [pick] → questions (with when-clauses)
    Flow.FOLLOWUP: followup.FORM,  # rating → comment
    Flow.CONFIRM: confirm.FORM,  # yes → the action; anything else is a new message (hub)
}
