"""Names owners read for services whose catalog names are internal or awkward.

The canonical names (PRODUCT.md) stay the keys of the data and the NLU; only what is shown
changes. Each display name fits a 15-character list item.
"""

from __future__ import annotations

DISPLAY_NAMES = {
    "问题少年": "青少年成长辅导",
    "快递最后一公里": "快递代收代送",
    "钟点工": "钟点工保洁",
    "家庭矛盾纠纷": "家庭矛盾调解",
    "旅游特产及工艺纪念品": "旅游特产和纪念品",
    "业余爱好老年大学": "老年大学",
    "小额互助基金": "邻里互助基金",
    "水电暖气管道": "水电暖气维修",
    "家居家电维修": "家电维修",
    "违章处理": "交通违章代办",
    "代缴费": "生活缴费代办",
    "废品回收置换": "废品回收",
    "陪聊": "陪伴聊天",
    "房屋中介": "房屋买卖和租赁",
    "护理": "居家护理",
    "就业": "就业指导",
    "志愿者": "志愿服务",
    "补课": "课业辅导",
    "业余爱好": "兴趣培训",
}


def display(name: str) -> str:
    """The owner-facing name of a canonical service name (itself when it reads well)."""
    return DISPLAY_NAMES.get(name, name)
