"""Owner-facing wording in one table, so tone stays consistent and reviewable.

Templates use str.format fields; every text here passes the content guard before it is sent.
"""

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
BIND_BAD_PHONE = "这个号码不像是有效的手机号（应为1开头的11位数字）。"
BIND_VERIFIED = "绑定成功！{name}您好，已为您绑定{household}。"
BIND_PENDING = "已收到您的房屋信息（{household}），管家核实后会通知您，通常不超过一个工作日。"
BIND_ALREADY = "您已绑定{household}。如需更换房屋，请回复“人工”联系管家。"
BIND_WAITING = "您的房屋信息（{household}）正在等管家核实，通常不超过一个工作日。"
BIND_CONFIRMED_NOTICE = "您的房屋{household}已由管家核实，绑定成功！"
BIND_FIRST = "下单前需要先绑定房屋，只需几步："
STAFF_BIND_PENDING = "【待核实绑定】业主 #{owner_id} 申请绑定 {household}，电话 {phone}，花名册未匹配，请核实。"

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
ISSUE_REPORTED = "已收到，工单号 W{id}，已转物业处理，谢谢您的反馈！"
STAFF_ISSUE = "【物业报修 W{id}】{household}：{text}"

# --- surveys -----------------------------------------------------------------------------------
SURVEY_NONE = "目前没有想和您聊的话题，谢谢关注。"
SURVEY_PICK = "目前有这些调研，请选择："
SURVEY_INTRO = "【{title}】{intro}（随时回复“取消”可退出，下次接着答）"
SURVEY_INVITE = "您好，想和您聊聊【{title}】。{intro}"
SURVEY_DONE = "就聊到这里，谢谢您！我们会根据大家的需要安排服务。"
SURVEY_ALREADY = "您已经参加过【{title}】了，谢谢！"
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
COMPLAINT_RECORDED = "非常抱歉给您带来不好的体验！您的投诉已记录并转给负责人，我们会尽快联系您。"
STAFF_COMPLAINT = "【投诉 #{id}】业主 {owner}（{household}）{order}：{text}"

# --- pushes --------------------------------------------------------------------------------
UNSUBSCRIBED = "好的，以后不再给您推送活动和优惠信息，订单通知照常发送。回复“恢复推送”可重新接收。"
RESUBSCRIBED = "好的，已恢复推送，只给您发和您有关的活动和优惠。"

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
