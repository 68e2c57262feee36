"""Facts a question asks for by name — an amount, contact details, which newspaper or company, a score, a post — and the words that state them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answering.answer_types import NUMERAL, POST


@dataclass(frozen=True)
class FactSlot:
    """A fact a question asks for by name — a budget, a phone number, which company — that documents state only
    with its own words or values: when no sentence about the question has them, the documents do not say it."""

    name: str
    asked: re.Pattern[str]  # the question asks for this fact
    stated: re.Pattern[str]  # a sentence that states it
    missing: dict[str, str]  # what a partial answer says is not stated, per language


_MONEY_WORDS = r"预算|经费|费用|资金|工资|薪酬|薪资|薪水|补贴|津贴|补助|奖金|价格|金额|成本|报酬|开支"
FACT_SLOTS = (
    FactSlot(
        "money",
        re.compile(
            # not "spend" or "value of": "spend their study time", "the value of Party building" ask no amount
            rf"{_MONEY_WORDS}|(?:住宿|伙食|交通|差旅|会议|培训|办公|补助|通讯|餐|会|学|电|水|话)费|多少钱|花了多少|\b(?:budgets?|costs?|salar(?:y|ies)|wages?|allowances?|subsid(?:y|ies)"
            r"|fees?|prices?|funding|bonus(?:es)?|expenditures?|how much money)\b",
            re.I,
        ),
        re.compile(rf"\d\s*(?:万|亿)?元|[一二两三四五六七八九十百千万亿]元|{_MONEY_WORDS}"),
        {"zh": "具体金额", "en": "the amount"},
    ),
    FactSlot(
        "contact",
        re.compile(
            r"电话|手机号|号码|邮箱|电子邮件|地址|网址|传真|联系方式|热线|\b(?:phone|telephone|e-?mail|website|fax"
            r"|hotline|contact (?:number|details|information)|(?:postal|mailing|office) address|what is the address)\b",
            re.I,
        ),
        re.compile(r"\d{3,4}[-－]\d{7,8}|1\d{10}|@|www\.|电话|手机|邮箱|网址|传真|热线|地址|联系方式"),
        {"zh": "联系方式", "en": "the contact details"},
    ),
    FactSlot(
        "outlet",
        re.compile(
            # not a bare "newspaper": "Which official was interviewed by the newspaper?" asks who
            r"哪家(?:媒体|报纸|报社|电视台)|(?:什么|哪个|哪份)(?:报纸|报|媒体|电视台)|报社|\b(?:which|what) (?:newspaper|paper|outlet|"
            r"media|TV station|magazine)s?\b",
            re.I,
        ),
        # a named paper or station, not "本报记者"
        re.compile(r"[\u4e00-\u9fff]{2,8}(?:日报|晚报|时报|报社|电视台|广播电台|新闻网)|《[^》]{1,12}报》"),
        {"zh": "具体媒体", "en": "the newspaper or outlet"},
    ),
    FactSlot(
        "organisation",
        re.compile(
            r"哪家|哪所|(?:什么|哪个|哪些)(?:公司|企业|大学|高校|学校|学院|厂家|厂商)|供应商|承建|中标|开发商"
            r"|\b(?:which|what) (?:\w+ )?(?:company|companies|firms?|vendors?|suppliers?|universit(?:y|ies)"
            r"|schools?|colleges?|contractors?|banks?)\b",
            re.I,
        ),
        re.compile(r"公司|集团|企业|大学|高校|学院|校|厂|银行|研究院|研究所"),  # 校: 党校, 学校
        {"zh": "具体单位", "en": "the organisation"},
    ),
    FactSlot(
        "qualification",
        re.compile(
            r"学历|学位|(?:什么|哪个|所学)专业|毕业(?:于|院校|学校)|职称"
            # "to what degree" asks how far, not for a diploma
            r"|(?<!to )\bwhat degrees?\b|\b(?:academic|university|bachelor'?s?|master'?s?) degrees?\b|\bdegrees? in\b"
            r"|\b(?:qualifications?|majored|major in|graduated from|diplomas?|academic background)\b",
            re.I,
        ),
        re.compile(r"学历|学位|博士|硕士|本科|大专|研究生|学士|毕业于|职称|专业"),
        {"zh": "学历或专业", "en": "the qualifications"},
    ),
    FactSlot(
        "score",
        re.compile(
            r"及格|分数线|合格线|多少分|几分|满分|得分|\b(?:pass(?:ing)? (?:mark|score|grade)|scores?|marks)\b", re.I
        ),
        re.compile(rf"{NUMERAL}\s*分(?!之|钟|别|析|工|类|管|批|层|解)|及格|合格线|分数线"),
        {"zh": "具体分数", "en": "the score"},
    ),
    FactSlot(
        "placing",
        # "What ranking did the branches get in the assessment?": a place in a list, not any praise
        re.compile(r"排名|名次|第几名|排第几|\b(?:ranking|ranked)\b", re.I),
        re.compile(rf"第\s*{NUMERAL}\s*[名位]|排名|名次|位列|位居|榜首|前\s*{NUMERAL}\s*名"),
        {"zh": "具体名次", "en": "the ranking"},
    ),
    FactSlot(
        "document",
        # "施艳辉当时漏字的是哪份文件？": which document, by its title or number
        re.compile(
            r"(?:哪份|哪个|哪一份|哪篇|什么)(?:文件|通知|材料|文稿|报告|讲话)|\bwhich (?:document|file|notice|report)s?\b",
            re.I,
        ),
        re.compile(r"《[^》]{2,40}》|[〔\[（(]\d{4}[〕\]）)]\s*\d+\s*号"),
        {"zh": "具体是哪份文件", "en": "which document"},
    ),
    FactSlot(
        "post",
        re.compile(
            r"(?:什么|哪个|何)职务|职务是|职位|职级|什么级别|级别是|担任什么|\b(?:job title|position|rank)\b|\bwhat post\b",
            re.I,
        ),
        # a rank states it too: "级别为正处级", "副厅级"
        re.compile(
            POST.pattern + r"|调研员|科员|干事|委员|主席|秘书|馆长|院长|队长|专员|职务|职级|[正副]?[部厅局处科股]级"
        ),
        {"zh": "具体职务", "en": "the post"},
    ),
    FactSlot(
        "sanction",
        re.compile(
            r"处分|处罚|罚款|惩罚|惩处|追责|\b(?:penalt(?:y|ies)|punish(?:ed|ment|ments)?|sanctions?"
            r"|disciplinary (?:action|measures?)|fined)\b",
            re.I,
        ),
        re.compile(
            r"处分|处罚|罚款|惩罚|惩处|警告|记过|降级|撤职|开除|问责|追究|追责|通报批评|诫勉|一票否决|取消.{0,8}资格"
        ),
        {"zh": "具体处理方式", "en": "the penalty"},
    ),
)


def asked_fact(question: str) -> FactSlot | None:
    """The named fact the question asks for (a budget, a phone number, which company…), or None."""
    return next((slot for slot in FACT_SLOTS if slot.asked.search(question)), None)
