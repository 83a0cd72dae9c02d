"""One classification of every inbound WeChat message, ending at a typed event (or none).

- owner messages: text, voice, image, video, shortvideo, location, link, file;
- owner actions: subscribe, unsubscribe, SCAN, CLICK, VIEW, scancode_*, pic_*, location_select;
- platform notifications: everything else WeChat documents (send results, kf_*, card, invoice,
  qualification, subscribe_msg_*, the LOCATION auto-report, device, wifi …);
- unknown: a MsgType WeChat does not document.

Only the first two become an InboundMessage for the dialogs; only they create an owner, touch
`last_message_at` or open the 48-hour window. Notifications and unknowns are answered `success`
by the webhook and counted by kind, so the label set stays bounded (documented names only).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.wechat.protocol import message_kind, to_event
from dialogs.events import InboundMessage


class Category(StrEnum):
    """Who a message is from, as far as the hub is concerned."""

    OWNER_MESSAGE = "owner_message"
    OWNER_ACTION = "owner_action"
    NOTIFICATION = "notification"
    UNKNOWN = "unknown"


# Events WeChat documents that are the platform telling us something, not an owner acting.
# Lower-case, as compared. An event not listed here (and not an owner action) is still a
# notification, counted as "other_event".
NOTIFICATION_EVENTS = frozenset({
    "templatesendjobfinish", "masssendjobfinish", "publishjobfinish", "location",
    "kf_create_session", "kf_close_session", "kf_switch_session",
    "card_pass_check", "card_not_pass_check", "user_get_card", "user_gifting_card", "user_del_card",
    "user_consume_card", "user_pay_from_pay_cell", "user_view_card", "user_enter_session_from_card",
    "update_member_card", "card_sku_remind", "card_pay_order", "submit_membercard_user_info",
    "user_authorize_invoice", "submit_invoice_title", "user_invoice_status_change", "cloud_invoice_invoiceresult_event",
    "qualification_verify_success", "qualification_verify_fail", "naming_verify_success", "naming_verify_fail",
    "annual_renew", "verify_expired", "subscribe_msg_popup_event", "subscribe_msg_change_event",
    "subscribe_msg_sent_event", "merchant_order", "shakearoundusershake",
    "shakearoundlotterybind", "wificonnected", "user_scan_product", "user_scan_product_enter_session",
    "user_scan_product_async", "user_scan_product_verify_action", "poi_check_notify", "wxa_nickname_audit",
    "weapp_audit_success", "weapp_audit_fail", "weapp_audit_delay", "view_limited", "media_id",
    "giftcard_pay_done", "giftcard_send_to_friend", "giftcard_user_accept", "apply_merchant_audit_info",
    "create_map_poi_audit_info", "open_store_audit_info", "add_store_audit_info", "modify_store_audit_info",
    "user_info_modified", "user_authorization_revoke", "user_authorization_cancellation", "freepublishjobfinish",
})
DEVICE_TYPES = frozenset({"device_text", "device_event", "device_status", "hardware"})


@dataclass(frozen=True)
class Classified:
    """A parsed message's category, its metric label, and (for owners) the typed event."""

    category: Category
    kind: str
    event: InboundMessage | None = None

    @property
    def from_owner(self) -> bool:
        """True when the message reaches the dialogs."""
        return self.event is not None


def classify(fields: dict[str, str]) -> Classified:
    """Decide what a parsed message is; raises MalformedMessage for an owner message without a sender."""
    msg_type = fields.get("MsgType", "")
    kind = message_kind(fields)
    if kind is not None:
        category = Category.OWNER_ACTION if msg_type == "event" else Category.OWNER_MESSAGE
        return Classified(category, str(kind), to_event(fields))
    if msg_type == "event":
        name = fields.get("Event", "").lower()
        return Classified(Category.NOTIFICATION, name if name in NOTIFICATION_EVENTS else "other_event")
    if msg_type in DEVICE_TYPES:
        return Classified(Category.NOTIFICATION, msg_type)
    return Classified(Category.UNKNOWN, "unknown")
