"""The 8 butler lines and their 33 canonical service names, in PRODUCT.md order."""

from __future__ import annotations

SERVICES_BY_LINE: dict[str, list[str]] = {
    "旅行管家": ["国内游", "出境游", "自驾游", "自助游", "旅游特产及工艺纪念品"],
    "车管家": ["学车", "修车", "买车", "审车", "保险", "违章处理"],
    "房管家": ["房屋中介", "装修"],
    "理财管家": ["代缴费", "小额互助基金"],
    "养老管家": ["体检", "家庭矛盾纠纷", "养老保健", "陪聊", "业余爱好老年大学"],
    "配送管家": ["节庆团购", "日用品配送", "快递最后一公里"],
    "家政管家": ["钟点工", "护理", "水电暖气管道", "家居家电维修", "废品回收置换"],
    "教育管家": ["补课", "业余爱好", "问题少年", "就业", "志愿者"],
}

SERVICES: tuple[str, ...] = tuple(s for names in SERVICES_BY_LINE.values() for s in names)

LINE_OF_SERVICE: dict[str, str] = {
    s: line for line, names in SERVICES_BY_LINE.items() for s in names
}
