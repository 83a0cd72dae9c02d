"""Owner-facing wording in one table, so tone stays consistent and reviewable."""

WELCOME = "您好，欢迎关注物业管家！我们为您提供出行、用车、房屋、家政、养老、教育等贴心服务。"
MENU_HEADER = "请问需要什么帮助？我们的管家服务有："
MENU_FOOTER = "回复数字或直接告诉我您的需求即可，例如“明天上午想请个阿姨打扫卫生”。"
NOT_UNDERSTOOD = "抱歉，我没太明白您的意思。您可以回复“菜单”查看服务，或回复“人工”联系管家。"
GOODBYE = "好的，祝您生活愉快，有需要随时找我！"
THANKS = "不客气，很高兴为您服务！"
BUSY = "抱歉，系统有点忙，请稍后再试。"
