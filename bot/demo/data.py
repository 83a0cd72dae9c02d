"""The demo's cast: communities, owners, merchants, staff and chats, with their fake credentials.

The simulator reads the cast from here (it plays these people on WeChat and Telegram); the seeder
writes the same cast into the database through the repositories. Nothing here is a real account.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Fake credentials the demo server and the simulated platforms share.
WECHAT_TOKEN = "butler-demo-token"
WECHAT_AES_KEY = "DemoDemoDemoDemoDemoDemoDemoDemoDemoDemo123"  # 43 chars, like the console's key
WECHAT_APP_ID = "wxd3m0butler0001"
WECHAT_APP_SECRET = "demo-app-secret"
WECHAT_ACCOUNT = "gh_butler_demo"
WECHAT_TEMPLATE_ORDER = "DEMO-ORDER-NOTICE"
# The demo's WeCom (企业微信) self-built app, played by bot/devtools/fake_wecom.py.
WECOM_CORP_ID = "ww-demo-corp"
WECOM_SECRET = "demo-wecom-secret"
WECOM_AGENT_ID = 1000002
WECOM_TOKEN = "butler-demo-wecom-token"
TELEGRAM_TOKEN = "7000000001:DEMO-butler-hub-telegram-bot-token"
TELEGRAM_WEBHOOK_SECRET = "butler-demo-webhook-secret"
TELEGRAM_BOT_ID = 7000000001
MERCHANT_CHAT_ID = -1001000000001
STAFF_CHAT_ID = -1001000000002


@dataclass(frozen=True)
class DemoCommunity:
    """A 小区 with its monthly property fee receivable (yuan) and household count."""

    name: str
    property_fee_monthly_yuan: int
    households: int


@dataclass(frozen=True)
class DemoOwner:
    """An owner; `bound` owners already have their household on file."""

    openid: str
    name: str
    community: str
    building: str
    unit: str
    room: str
    phone: str
    bound: bool
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoMerchant:
    """A merchant in the Telegram merchant group; `expired` means its qualification lapsed."""

    name: str
    telegram_id: int
    services: tuple[str, ...]
    communities: tuple[str, ...] = ()
    expired: bool = False
    credit_level: int = 3

    @property
    def wecom_userid(self) -> str:
        """Their member userid in the demo's WeCom app (`butler demo --merchants wecom`)."""
        return f"demo_merchant_{self.telegram_id % 100}"


@dataclass(frozen=True)
class DemoStaff:
    """A staff member on WeChat and in the Telegram staff chat."""

    name: str
    telegram_id: int
    openid: str
    role: str
    communities: tuple[str, ...] = field(default_factory=tuple)


COMMUNITIES = (
    DemoCommunity("翠苑", property_fee_monthly_yuan=186_000, households=1_200),
    DemoCommunity("阳光花园", property_fee_monthly_yuan=142_500, households=960),
)

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
_GIVEN = ("秀英", "建国", "丽华", "志强", "海燕", "国庆", "晓梅", "俊杰", "桂兰", "文博")
_TAGS = (("有车",), ("有老人",), ("有孩子",), ("有车", "有孩子"), (), ("养宠物",))


def _owners() -> tuple[DemoOwner, ...]:
    owners = []
    for i in range(30):
        community = COMMUNITIES[i % 2].name
        building, unit, room = str(1 + i % 6), str(1 + i % 3), f"{1 + i % 18}0{1 + i % 4}"
        owners.append(
            DemoOwner(
                openid=f"o_demo_owner_{i + 1:02d}",
                name=f"{_SURNAMES[i]}{_GIVEN[i % len(_GIVEN)]}",
                community=community,
                building=building,
                unit=unit,
                room=room,
                phone=f"1380571{i + 1:04d}",
                # Two in three are bound; the rest are in the roster but have not bound yet.
                bound=i % 3 != 2,
                tags=_TAGS[i % len(_TAGS)],
            )
        )
    return tuple(owners)


OWNERS = _owners()

MERCHANTS = (
    DemoMerchant("张师傅家政", 7100000001, ("钟点工", "护理", "废品回收置换"), credit_level=5),
    DemoMerchant("李记家电维修", 7100000002, ("家居家电维修", "水电暖气管道"), credit_level=4),
    DemoMerchant("安康养老服务", 7100000003, ("体检", "养老保健", "陪聊"), communities=("翠苑",)),
    # Qualification lapsed: the hub must refuse it jobs until renewed (PRODUCT.md rule 5).
    DemoMerchant("老刘水电", 7100000004, ("水电暖气管道", "家居家电维修", "钟点工"), expired=True),
)

STAFF = (
    DemoStaff("王经理", 7200000001, "o_demo_staff_wang", role="admin"),
    DemoStaff("陈客服", 7200000002, "o_demo_staff_chen", role="staff", communities=("翠苑",)),
)

# (title, community, days from today, place, description)
ACTIVITIES = (
    ("重阳节社区义诊", "翠苑", 6, "翠苑社区广场", "三甲医院医生免费量血压、测血糖，老人可带病历咨询。"),
    ("周末亲子手工课", "阳光花园", 9, "阳光花园会所二楼", "做一盏灯笼带回家，名额 20 组。"),
)


def owner_by_openid(openid: str) -> DemoOwner | None:
    """A demo owner by openid."""
    return next((o for o in OWNERS if o.openid == openid), None)
