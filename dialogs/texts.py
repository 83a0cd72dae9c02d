"""Owner-facing wording in one table, so tone stays consistent and reviewable.

Templates use str.format fields; every text here passes the content guard before it is sent.
"""

from __future__ import annotations

from storage.money import PaymentMethod, owner_yuan
from storage.orders import Order, OrderStatus

WELCOME = "您好，欢迎关注！我是智能管家，可以帮您预约家政、维修等管家服务，查物业费和订单。"
OFFER_BINDING = "第一次使用请先回复“绑定”，绑定房屋只需一分钟。"
MENU_HEADER = "我们的管家服务有："
MENU_FOOTER = "回复数字查看，或直接说需求，如“明天上午请阿姨打扫卫生”。"
NOT_UNDERSTOOD = "抱歉，我没太明白您的意思。您可以回复“菜单”查看服务，或回复“人工”联系管家。"
GOODBYE = "再见，祝您生活愉快，有需要随时找我。"
THANKS = "不客气，很高兴为您服务！"
BUSY = "抱歉，系统有点忙，请过一分钟再试，或回复“人工”联系管家。"

# --- the dialog engine -------------------------------------------------------------------------
CHOICE_FOOTER = "回复数字即可。"
MULTI_FOOTER = "可多选，回复数字并用空格隔开，例如“1 3”。"
CANCELLED = "好的，已退出。有需要随时找我。"
WELCOME_BACK = "欢迎回来，我们接着上次的继续："
AGAIN = "{reason}\n{prompt}"
INTERRUPTED = "{answer}\n\n我们继续刚才的：{prompt}"
TOO_MANY_FAILURES = "抱歉，我没能听明白，已为您转接人工管家，管家会在这里回复您。"

# --- hand-off ----------------------------------------------------------------------------------
HANDOFF_OPENED = "已为您转接人工管家，管家会在这里回复您，请稍候。"
HANDOFF_CLOSED = "本次人工服务已结束，感谢您的耐心。有需要随时找我。"
STAFF_HANDOFF = "【转人工】{reason}\n业主：{owner}\n房屋：{household}\n最近消息：\n{recent}\n直接回复本消息即可答复业主。"
STAFF_FORWARD = "【业主消息 #{handoff_id}】{owner}：{text}"
STAFF_WINDOW_CLOSED = "业主最后一条消息已超过 48 小时，微信不允许再主动回复，请电话联系：{phone}"
STAFF_HANDOFF_CLOSED = "该会话已结束，回复不会发给业主。"
HANDOFF_REASONS = {
    "human_agent": "业主要求人工服务",
    "nlu_fallback": "机器人连续两次没听懂",
    "validation": "业主连续三次回答无效",
}

# --- binding -----------------------------------------------------------------------------------
BIND_COMMUNITY = "请选择您所在的小区："
BIND_NO_COMMUNITIES = "抱歉，暂时还没有开通服务的小区，请回复“人工”联系管家。"
BIND_BUILDING = "请问您住几号楼？（例如：3号楼，也可以一次说全，如“3号楼2单元301”）"
BIND_UNIT = "请问几单元？（没有单元请回复“无”）"
BIND_ROOM = "请问房号是多少？（例如：301）"
BIND_PHONE = "请留一个手机号，方便管家和服务人员联系您："
BIND_BAD_COMMUNITY = "没有找到这个小区。"
BIND_BAD_BUILDING = "楼号请回复数字，例如“3”或“3号楼”。"
BIND_BAD_UNIT = "单元请回复数字，例如“2”，没有单元请回复“无”。"
BIND_BAD_ROOM = "房号请回复数字，例如“301”。"
# Never a name from the roster: the owner did not give it, and a stranger could read it here.
BIND_VERIFIED = "绑定成功！已为您绑定{household}。"
BIND_BAD_PHONE = "这个号码不像是有效的手机号（应为1开头的11位数字）。"
BIND_PENDING = "已收到您的房屋信息（{household}），管家核实后会通知您，通常不超过一个工作日。"
BIND_ALREADY = "您已绑定{household}。如需更换房屋，请回复“人工”联系管家。"
BIND_WAITING = "您的房屋信息（{household}）正在等管家核实，通常不超过一个工作日。"
BIND_CONFIRMED_NOTICE = "您的房屋{household}已由管家核实，绑定成功！"
BIND_FIRST = "下单前需要先绑定房屋，只需几步："
STAFF_BIND_PENDING = "【待核实绑定 #{claim_id}】业主 #{owner_id} 申请绑定 {household}，电话 {phone}，花名册未匹配，请核实：\n/bind_ok {claim_id} 或 /bind_reject {claim_id} 原因"

# --- order intake ------------------------------------------------------------------------------
ORDER_SERVICE = "请问需要什么服务？可连时间一起说，如“明天上午打扫卫生”。"
ORDER_TIME = "好的，为您预约{service}。请问什么时间方便？比如“明天上午”“周六下午3点”或“尽快”。"
ORDER_ADDRESS = "请问服务地址是？"
ORDER_PHONE = "请留一个联系电话："
ORDER_CONFIRM = "请确认您的预约：{service}，{time}\n地址：{address}\n电话：{phone}\n回复“1”确认下单，“2”取消。"
ORDER_BAD_SERVICE = "抱歉，没找到这项服务。"
ORDER_BAD_TIME = "抱歉，我没听出时间。"
ORDER_PAST_TIME = "这个时间已经过去了。"
ORDER_BAD_CONFIRM = "抱歉，我没看懂您的回复。"
ORDER_CONFIRM_AGAIN = "预约{service}（{time}）待确认，回复“1”下单，“2”取消。"
ORDER_CREATED = "下单成功！订单号 {code}。{worker}接单后我会通知您。"
ORDER_DROPPED = "好的，这次预约已取消，有需要随时找我。"
ORDER_ASAP = "尽快"
CANCEL_ORDER_NONE = "您目前没有进行中的订单。"
CANCEL_ORDER_CONFIRM = "确定要取消订单 {code}（{service}，{time}）吗？取消请回复“是”，保留请回复“否”。"
CANCEL_ORDER_DONE = "订单 {code} 已取消。"
CANCEL_ORDER_KEPT = "好的，订单 {code} 保留不变。"
CANCEL_ORDER_TOO_LATE = "服务人员已经上门，订单 {code} 不能在线取消了，请回复“人工”联系管家。"

# --- inquiries ---------------------------------------------------------------------------------
LINE_SERVICES = "{line}包含以下服务："
SERVICE_DETAIL = "【{name}】{description}\n参考价格：{price}\n需要的话回复“预约”。"
PRICE_UNKNOWN_SERVICE = "请问想了解哪项服务的价格？"
PROPERTY_FEE = "{community}的物业费约为每户每月{amount}元，以物业服务中心账单为准。"
PROPERTY_FEE_UNKNOWN = "{community}的物业费信息还没录入，请回复“人工”咨询管家。"
BIND_BEFORE_FEE = "查询物业费需要先绑定房屋，回复“绑定”即可。"
ORDERS_NONE = "您目前没有进行中的订单。"
ORDERS_HEADER = "您进行中的订单："
ORDER_LINE = "{code}｜{service}｜{time}｜{status}{merchant}"
ACTIVITIES_NONE = "近期没有社区活动，有新活动我会通知您。"
ACTIVITIES_HEADER = "近期社区活动："
ACTIVITY_LINE = "{when}｜{title}{place}"

# --- surveys -----------------------------------------------------------------------------------
SURVEY_NONE = "目前没有想和您聊的话题，谢谢关注。"
SURVEY_PICK = "目前有这些调研，请选择："
SURVEY_INTRO = "【{title}】{intro}（随时回复“取消”可退出，下次接着答）"
SURVEY_INVITE = "您好，想和您聊聊【{title}】。{intro}"
SURVEY_DONE = "就聊到这里，谢谢您！我们会根据大家的需要安排服务。"
SURVEY_ALREADY = "您已经参加过【{title}】了，谢谢！"
SURVEY_REMINDER = "您好，上次的【{title}】还没聊完，回复“问卷”就能接着聊，随时可以回复“取消”。"  # scheduler/jobs.py
SURVEY_OPTIONAL = "（可回复“跳过”）"
SURVEY_BAD_CHOICE = "请回复选项前的数字。"
SURVEY_BAD_YESNO = "请回复“{yes}”或“{no}”。"
SURVEY_BAD_SCALE = "请回复1到5的数字，5分最满意。"
SURVEY_BAD_NUMBER = "请回复一个数字。"
SURVEY_EMPTY = "这个问题需要您回答一下。"
SURVEY_PAUSED = "好的，先聊到这里，已答的内容都保存了。下次回复“问卷”可以接着聊。"
SURVEY_RESUMED = "继续上次未完成的【{title}】："

# --- follow-up and feedback --------------------------------------------------------------------
FOLLOWUP_ASK = "您好，您的订单 {code}（{service}）已完成。请为本次服务打分：1到5分，5分最满意，回复数字即可。"
FOLLOWUP_BAD_RATING = "请回复1到5的数字，5分最满意。"
FOLLOWUP_COMMENT = "谢谢您的评分！还有什么意见或建议吗？没有的话回复“没有”。"
FOLLOWUP_SORRY = "非常抱歉这次没让您满意。请说说遇到了什么问题，我会转给物业负责人。"
FOLLOWUP_DONE = "感谢您的反馈，我们会继续努力！"
FOLLOWUP_COMPLAINT_DONE = "您的意见已转给负责人，我们会尽快联系您处理。"
RATE_NO_ORDER = "您还没有已完成的订单可以评价。"
RATE_ALREADY = "订单 {code} 您已经评价过了，谢谢！"
STAFF_COMPLAINT = "【投诉 #{id}】业主 {owner}（{household}）{order}：{text}"

# --- pushes --------------------------------------------------------------------------------
UNSUBSCRIBED = "好的，以后不再给您推送活动和优惠信息，订单通知照常发送。回复“恢复推送”可重新接收。"
RESUBSCRIBED = "好的，已恢复推送，只给您发和您有关的活动和优惠。"

# --- issue 16: service lines per community (立项) -------------------------------------------------
SERVICE_NOT_OFFERED = (
    "抱歉，{community}暂时还没有开通{service}。我已经记下您的需要，物业安排新服务时会参考。"
)
SERVICE_OFFERED_NOW = "目前可以为您安排：{lines}。"
SERVICE_NONE_OFFERED = "目前您的小区还没有开通管家服务。"
SERVICE_NOT_OFFERED_HELP = "需要人工帮助，请回复“人工”。"
# --- issue 14: household verification, limits, owner-confirmed amounts --------------------------
BIND_PENDING_NOTE = "核实前您可以咨询问题、参与调研；预约的服务会在核实后为您安排。"
BIND_ROSTER_NOTICE = "您的房屋 {household} 已与物业登记信息核对一致，绑定成功！"
BIND_REJECTED_NOTICE = "很抱歉，您申请绑定的房屋（{household}）未通过核实：{reason}。如信息有误，可回复“绑定”重新填写，或回复“人工”联系管家。"
BIND_CONFLICT_NOTICE = "提醒：有人申请绑定您的房屋（{household}），管家会先与您核实，未核实前不会生效。如果不是您的家人，请回复“人工”告诉管家。"
ORDER_CREATED_AWAITING = "已记下您的预约，订单号 {code}。您的房屋正在等待管家核实（一个工作日内），核实后为您安排服务人员，并通知您。"
ORDER_RELEASED = "您的房屋已核实，订单 {code}（{service}）正在为您安排服务人员，接单后会通知您。"
# The line the released order's history shows staff (storage.orders.release).
ORDER_RELEASED_NOTE = "房屋核实通过，开始派单"
ORDER_CANCELLED_UNVERIFIED = "很抱歉，因房屋未通过核实，您的订单 {code}（{service}）已取消。如有疑问请回复“人工”。"
ORDER_LIMIT = "您目前有 {count} 个进行中的订单，已到上限。请等其中一单完成后再预约；回复“我的订单”查看进度，或回复“人工”联系管家。"
ORDER_DUPLICATE = "您刚才已经预约过同样的服务（订单号 {code}），不用重复下单。回复“我的订单”可查看进度。"
REPORT_LIMIT = "您这一小时已经报修 {count} 次，管家都收到了，最近一条是工单号 W{id}。情况紧急请直接致电物业服务中心，或回复“人工”。"
AMOUNT_DISPUTED = "好的，订单 {code} 的金额先不记账，已转给管家核对，管家会在一个工作日内联系您。"
AMOUNT_NONE = "您目前没有需要确认金额的订单。如有疑问请回复“人工”。"
STAFF_BIND_CONFLICT = "【绑定冲突 #{claim_id}】{household} 已有核实业主 #{existing_id}，业主 #{owner_id}（电话 {phone}）又申请绑定。已提醒原业主，请核实：\n/bind_ok {claim_id} 或 /bind_reject {claim_id} 原因"
STAFF_BIND_OVERDUE = "【绑定超时 #{claim_id}】{household}（电话 {phone}）已等待 {waited}，请尽快核实：/bind_ok {claim_id} 或 /bind_reject {claim_id} 原因"
STAFF_AMOUNT_DISPUTED = "【金额有误】业主对订单 {code}（{service}）登记的 {amount}元（{method}）有异议，请在一个工作日内联系业主核对：{phone}"
# --- issue 12: photos, videos, links, files, voice and locations -------------------------------
MEDIA_NOTED = "收到您发来的{kind}。我还看不懂{kind}的内容，请用文字告诉我需要什么，例如“预约修水管”或“楼道灯坏了”。需要人工请回复“人工”。"
MEDIA_IN_FORM = "收到您发来的内容，不过这一步需要您打字回复。"
MEDIA_ATTACHED_ORDER = "收到{kind}，会附在这张订单里，接单的师傅可以查看。"
MEDIA_ADDED_TO_REPORT = "收到{kind}，已附在工单号 W{id}，物业处理时可以查看。"
MEDIA_REPORT_FULL = "工单号 W{id} 的附件已经够多了，物业会先按现有情况处理。需要补充请回复“人工”。"
VOICE_NEEDS_TEXT = "抱歉，我暂时听不了语音。请您打字告诉我，也可以长按语音选“转文字”后复制发给我。"
LOCATION_NOTED = "收到您的位置：{place}。如需上门服务，请告诉我要预约什么，例如“明天上午修水管”。"
LOCATION_IN_FORM = "收到您的位置，不过这一步需要您打字回复。"
LOCATION_AS_ADDRESS = "好的，地址按您发的位置：{place}。"
LOCATION_NOTED_IN_ORDER = "收到您的位置，已记在订单备注里。"
LOCATION_ADDED_TO_REPORT = "收到您的位置，已附在工单号 W{id}，方便物业找到现场。"
STAFF_ISSUE_MEDIA = "【物业报修 W{id} 补充】{household}：{media}"
# --- issue 14: staff authority on hand-offs (staff-chat texts) ----------------------------------
STAFF_NOT_REGISTERED = "抱歉，只有登记在册的物业工作人员才能答复业主或结束人工服务，本条消息未发送。"
STAFF_OUT_OF_SCOPE = "抱歉，这位业主所在的小区不在您的负责范围内，本条消息未发送，请由负责该小区的同事处理。"

# --- issue 13: no action on a guess, two requests in one message, phone-sized answers -----------
GREETING = "您好，我是智能管家，可以帮您预约家政、维修等管家服务，查物业费和订单。直接说需求就行，回复“菜单”看全部服务。"
GREETING_UNBOUND = "您好，我是智能管家，可以帮您预约家政、维修等管家服务，查物业费和订单。第一次使用请先回复“绑定”绑定房屋。"
WELCOME_HOW = "直接说需求就行，回复“菜单”看全部服务。"
WELCOME_BIND = "第一次使用请先回复“绑定”绑定房屋，之后直接说需求就行。"
SERVICES_IN_FORM = "我们有{lines}等管家服务。"
# Affirm/deny with nothing pending: we did not ask anything, so a bare 好的 would be a guess.
NOTHING_PENDING = "请问需要我帮您做什么？直接告诉我需求就行，回复“菜单”看全部服务，或回复“人工”联系管家。"
MISSED_MESSAGE = "抱歉，您是没收到哪条消息？订单进展可回复“我的订单”查看，其他情况请回复“人工”联系管家。"
NOTHING_TO_CANCEL = "目前没有进行中的事项。有需要随时找我。"
PRICE_WHICH_IN_FORM = "想了解哪项服务的价格？请说服务名称，如“钟点工多少钱”。"
ORDER_DATE_ONLY = "，具体时间服务人员会和您约"
CONFIRM_UNSUBSCRIBE = "您是想以后不再接收活动和优惠推送吗？订单通知照常发送。确认请回复“是”。"
CONFIRM_RESUBSCRIBE = "您是想重新接收活动和优惠推送吗？确认请回复“是”。"
CONFIRM_COMPLAINT = "您是想投诉“{text}”吗？确认后我会转给物业负责人处理。确认请回复“是”。"
CONFIRM_REPORT = "您是要报修“{text}”吗？确认后我会转给物业工作人员处理。确认请回复“是”。"
CONFIRM_RATE = "您是要给订单 {code}（{service}）打{score}分吗？确认请回复“是”。"
CONFIRM_AGAIN = "确认请回复“是”，不需要请回复“否”。"
CONFIRM_DECLINED = "好的，这次不做处理。有需要随时找我。"
CONFIRM_LAPSED = "刚才的确认已经超时，我没有做任何处理。如果还需要，请再告诉我一次。"
# The owner said they do not want what the words also name ("我不需要保洁服务").
NEGATED_ORDER = "好的，不为您预约{service}。以后需要的话，直接告诉我就行。"
NEGATED_ORDER_ANY = "好的，先不为您预约。以后需要的话，直接告诉我就行。"
NEGATED_CANCEL_ORDER = "好的，您的订单保持不变。如需取消，请回复“取消订单”。"
NEGATED_ACTION = "好的，这次不做处理。有需要随时找我，或回复“人工”联系管家。"
# Two requests in one message: the second action waits for the first (nothing silently dropped).
ALSO_LATER = "您还提到“{text}”，这件办完后请再发给我一次。"
# Order status as owners read it (storage's labels say 商家, which owners never read).
OWNER_STATUS = {"pending_dispatch": "等待接单", "accepted": "已接单"}
# An address with nothing else, from an owner not yet bound (the NLU never binds on an address alone).
ADDRESS_ALONE = "您是想绑定房屋吗？请回复“绑定”，我一步步帮您办好。"


# What the owner reads at each step; {service} {code} are filled in.
OWNER_TEXTS: dict[OrderStatus, str] = {
    OrderStatus.ACCEPTED: "您预约的{service}（订单 {code}）已由{merchant}接单，上门前会按您留的电话联系您。",
    OrderStatus.ON_THE_WAY: "您预约的{service}（订单 {code}）：师傅已出发，请保持电话畅通。",
    OrderStatus.ARRIVED: "您预约的{service}（订单 {code}）：师傅已到达，请开门接待。",
    OrderStatus.COMPLETED: "您预约的{service}（订单 {code}）已完成，金额{amount}元（{method}）。款项由物业统一代收。如有问题，请回复“人工”联系管家。",
    OrderStatus.FAILED: "很抱歉，您预约的{service}（订单 {code}）本次未能完成（{reason}）。管家会联系您重新安排，您也可以回复“人工”。",
}
ON_ACCOUNT_SUFFIX = "本单已记入您本月的物业账单，月底统一结算。"
COLLECTED_BY_PROPERTY = "款项由物业统一代收。"  # replaced by ON_ACCOUNT_SUFFIX for 挂账
WORKER = "服务人员"
ON_BILL = "记入物业账单"
NO_REASON = "原因未说明"


def owner_text(order: Order, status: OrderStatus, **extra: str) -> str:
    """What the owner reads when their order reaches `status`."""
    values = {
        "service": order.service.name,
        "code": order.code,
        "merchant": order.merchant.name if order.merchant else WORKER,
        "amount": owner_yuan(order.amount_fen or 0),
        # Owners never read 挂账: it is 记入物业账单 to them.
        "method": ON_BILL if order.payment_method == PaymentMethod.ON_ACCOUNT else order.payment_method or "",
        "reason": order.failure_reason or NO_REASON,
    }
    values.update(extra)
    text = OWNER_TEXTS[status].format(**values)
    if status == OrderStatus.COMPLETED and order.payment_method == PaymentMethod.ON_ACCOUNT:
        text = text.replace(COLLECTED_BY_PROPERTY, ON_ACCOUNT_SUFFIX)
    return text


# The amount a merchant reported, for the owner to confirm (storage/amounts.py; never 挂账 or 商家).
AMOUNT_ASK = (
    "您的订单 {code}（{service}）服务人员登记的金额是 {amount}元，付款方式：{method}。\n"
    "金额无误请点击或回复“确认金额”；不对请点“金额有误”，管家会联系您。"
)
AMOUNT_ASK_ON_ACCOUNT = "记入本月物业账单"


def amount_ask(order: Order, amount_fen: int, method: PaymentMethod) -> str:
    words = AMOUNT_ASK_ON_ACCOUNT if method == PaymentMethod.ON_ACCOUNT else method
    return AMOUNT_ASK.format(code=order.code, service=order.service.name, amount=owner_yuan(amount_fen), method=words)
