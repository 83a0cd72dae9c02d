"""Staff-facing wording added by the transports (alerts themselves still carry their text)."""

from __future__ import annotations

HANDOFF_REPLY_HINT = "\n（回复本消息即答复业主；回复 /close 或「结束」结束人工服务）"
PHOTO_MISSING = "\n（图片文件已不存在）"
MAYBE_NOT_DELIVERED = ("【可能未送达】{kind} → {who}：「{text}」\n平台接口超时，无法确认对方是否收到；"
                       "为免重复，系统不会自动重发，请核实后视情况人工联系。")
