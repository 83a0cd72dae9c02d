"""Scrubbing owners' private details out of text the whole merchant group reads.

Job cards go to every merchant, so the free-text notes an owner typed are shown without phone
numbers (however written: separators, full-width digits, Chinese numerals), room numbers, ID-card
numbers, WeChat ids and names. Only the merchant who wins the job gets the notes as written.
The rule errs on the side of hiding: any run of three or more digits is masked, because a room
number is three or four digits and nothing a merchant needs before 接单 depends on one.
"""

from __future__ import annotations

import re
import unicodedata

MASK = "***"
# 幺 is how 一 is read out in phone numbers; 两 appears in spoken rooms (两零一).
_CN_DIGITS = "〇零一二三四五六七八九幺两"
_DIGIT = rf"[0-9{_CN_DIGITS}]"
# What people put between digit groups: spaces, dots, dashes, slashes, brackets, commas.
_SEP = r"[\s.\-_·•—–/\\,，、()（）+＋]"
# A run of digit-like characters, separators allowed inside, an ID card's final X included.
_DIGIT_RUN = re.compile(rf"(?:\+?86{_SEP}*)?{_DIGIT}(?:{_SEP}*{_DIGIT})+(?:[Xx](?![A-Za-z]))?")
# Quantities a merchant does need ("200元", "90平", "3小时"); only short runs may be one.
_UNIT_AFTER = re.compile(r"\s*(?:元|块|平|米|㎡|小时|分钟|天|个|次|岁|斤|公斤|件|台|间|套|层)")
_SPOKEN_NUMBER = rf"[0-9{_CN_DIGITS}十百千]+"
_ROOM = re.compile(
    rf"(?:房间号|房号|门牌号?|室号)\s*[:：是为]?\s*{_SPOKEN_NUMBER}"
    rf"|{_SPOKEN_NUMBER}\s*(?:号房|室|房间(?!号)|房(?!间)|户)"
    rf"|{_SPOKEN_NUMBER}\s*单元(?:\s*{_SPOKEN_NUMBER}\s*(?:号|室)?)?"
    rf"|(?<![0-9]){_DIGIT}{{1,2}}\s*[-－]\s*{_DIGIT}{{1,2}}\s*[-－]\s*{_DIGIT}{{1,4}}"
)
_ID_WORDS = re.compile(r"(?:身份证|证件)(?:号码?|号)?\s*[:：是为]?\s*[0-9Xx*\s]{6,}")
_WECHAT_ID = re.compile(r"(?:微信号?|vx|VX|wx|WX|QQ|qq|邮箱)\s*[:：是为]?\s*[A-Za-z0-9_.@\-]{5,}")
_EMAIL = re.compile(r"[A-Za-z0-9_.+\-]+@[A-Za-z0-9\-]+\.[A-Za-z0-9.\-]+")

# Common surnames (most of the population); a name is a surname plus one or two characters.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰"
    "焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁"
    "蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂"
    "全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
# Without a cue word, a surname is only taken for one when followed by a title (张先生) or after
# 老/小 (老王); characters that are also everyday words (和, 时, 于, 成, 管 …) are left out there.
_EVERYDAY = set("和时应全明商路成单向常文安关解师司车项连景党宫管边池查麻冷米柏宗华蓝游古吉简农穆牛万于余甘童")
_TITLE_SURNAMES = "".join(ch for ch in SURNAMES if ch not in _EVERYDAY)
_HONORIFICS = "先生|女士|小姐|太太|夫人|阿姨|大姐|大哥|大爷|大妈|奶奶|爷爷|老师|师傅|老板|叔叔|阿姨"
_COMPOUND = "欧阳|司马|上官|诸葛|东方|皇甫|尉迟|公孙|慕容|令狐|长孙|宇文|司徒|夏侯"
_SURNAME = rf"(?:{_COMPOUND}|[{SURNAMES}])"
_TITLE_SURNAME = rf"(?:{_COMPOUND}|[{_TITLE_SURNAMES}])"
_HAN = r"[\u4e00-\u9fff]"
# After these the next one to three characters are a name, whatever they are.
_STRONG = re.compile(rf"(?:我叫|我姓|叫我|名叫|名字(?:是|叫)?|姓名|联系人|称呼)\s*[:：]?\s*(?P<name>{_HAN}{{1,3}})")
# After these only a surname starts a name (我是业主 is not one).
_WEAK = re.compile(rf"(?:我是|本人|找|业主|户主)\s*[:：]?\s*(?P<name>{_SURNAME}{_HAN}{{1,2}})")
_NOT_NAMES = ("业主", "租户", "房东", "住户", "本人", "家属")
_TITLED = re.compile(rf"{_TITLE_SURNAME}(?=\s*(?:{_HONORIFICS}))")
_NICK = re.compile(rf"[老小阿]{_TITLE_SURNAME}")


def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch
    if unicodedata.category(ch) in ("Nd", "No"):  # full-width, circled, other scripts' digits
        value = unicodedata.digit(ch, None)
        return str(value) if value is not None else ch
    if "\uff21" <= ch <= "\uff5a":  # full-width Latin letters (an ID's X, a WeChat id)
        return unicodedata.normalize("NFKC", ch)
    return ch  # Chinese punctuation stays as the owner wrote it


def _fold(text: str) -> str:
    """Digits and Latin letters in every width as ASCII, so one set of patterns covers them."""
    return "".join(_fold_char(ch) for ch in text)


def _digit_count(run: str) -> int:
    return sum(1 for ch in run if ch.isdigit() or ch in _CN_DIGITS)


def _mask_digits(match: re.Match[str]) -> str:
    run = match.group(0)
    count = _digit_count(run)
    if count < 3:
        return run
    text = match.string
    if count <= 5 and run[-1].isdigit() and _UNIT_AFTER.match(text, match.end()):
        return run  # a price or a size, not a room or a phone
    if not any(ch.isdigit() for ch in run) and count < 5:
        return run  # short Chinese-numeral runs are ordinary words (一二三, 三四五天)
    return MASK


def _mask_name(match: re.Match[str]) -> str:
    if match.group("name").startswith(_NOT_NAMES):
        return match.group(0)
    return match.group(0)[: match.start("name") - match.start()] + MASK


def scrub(text: str) -> str:
    """The text with phone numbers, room and ID numbers, contact ids and names replaced by ***."""
    out = _fold(text)
    for pattern in (_EMAIL, _WECHAT_ID, _ID_WORDS, _ROOM):
        out = pattern.sub(MASK, out)
    out = _DIGIT_RUN.sub(_mask_digits, out)
    out = _STRONG.sub(_mask_name, out)
    out = _WEAK.sub(_mask_name, out)
    out = _TITLED.sub(MASK, out)
    out = _NICK.sub(MASK, out)
    return re.sub(r"\*{3}(?:\s*\*{3})+", MASK, out).strip()
