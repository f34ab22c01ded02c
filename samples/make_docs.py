"""Write the sample .docx files under samples/docs/ with python-docx.

    python samples/make_docs.py

One Chinese document (an online shop's returns policy) and one English one (a support team's
onboarding guide), each with headings, lists, a table with merged cells and a FAQ section, so
that every part of the reader and the embedded generator has something to work on.
"""

from __future__ import annotations

from pathlib import Path

import docx
from docx.enum.style import WD_STYLE_TYPE

HERE = Path(__file__).resolve().parent / "docs"


def returns_policy_zh(path: Path) -> None:
    d = docx.Document()
    d.add_heading("星辰商城退货与退款政策", level=0)
    d.add_heading("第一章 总则", level=1)
    d.add_paragraph("本政策适用于星辰商城自营及第三方商家销售的全部商品。我们希望每一位顾客都能放心购物。")
    d.add_heading("1.1 适用范围", level=2)
    d.add_paragraph("以下商品不适用七天无理由退货：", style="List Bullet")
    for item in ("定制类商品", "鲜活易腐类商品", "已拆封的音像制品和计算机软件", "交付的报纸、期刊"):
        d.add_paragraph(item, style="List Bullet 2")
    d.add_heading("第二章 退货政策", level=1)
    d.add_heading("2.1 退货条件", level=2)
    d.add_paragraph("顾客自签收之日起七天内可申请无理由退货。商品应保持原有品质和功能，附件、赠品、说明书齐全。")
    d.add_paragraph("申请退货的步骤如下：")
    for step in ("登录账户，进入“我的订单”", "选择需要退货的商品，点击“申请退货”", "按页面提示填写退货原因并提交",
                 "审核通过后，按指定地址寄回商品"):
        d.add_paragraph(step, style="List Number")
    d.add_heading("2.2 退款时效", level=2)
    d.add_paragraph("仓库确认收货后，退款将在一至三个工作日内原路退回。不同支付方式的到账时间如下表所示。")
    table = d.add_table(rows=4, cols=3)
    table.style = "Table Grid"
    header = table.cell(0, 0).merge(table.cell(0, 1))
    header.text = "支付方式与渠道"
    table.cell(0, 2).text = "到账时间"
    rows = [("支付宝", "余额", "即时到账"), ("微信支付", "零钱", "即时到账"), ("银行卡", "借记卡或信用卡", "三至七个工作日")]
    for r, (a, b, c) in enumerate(rows, start=1):
        table.cell(r, 0).text, table.cell(r, 1).text, table.cell(r, 2).text = a, b, c
    d.add_heading("第三章 常见问题", level=1)
    faq = [("商品有破损，运费由谁承担？", "因商品质量问题产生的退货运费由星辰商城承担。"),
           ("退货后优惠券会退回吗？", "未过期的优惠券会在退款完成后返还至您的账户。"),
           ("超过七天还能退货吗？", "超过七天的，如商品存在质量问题，仍可在十五天内申请换货或维修。")]
    for q, a in faq:
        d.add_paragraph(f"问：{q}")
        d.add_paragraph(f"答：{a}")
    d.save(str(path))


def onboarding_en(path: Path) -> None:
    d = docx.Document()
    # A house style based on Heading 2, as many company templates have: still a heading.
    section = d.styles.add_style("Section Heading", WD_STYLE_TYPE.PARAGRAPH)
    section.base_style = d.styles["Heading 2"]
    d.add_heading("Support Team Onboarding Guide", level=0)
    d.add_heading("Your First Week", level=1)
    d.add_paragraph("Welcome to the support team. This guide explains how we answer customers, which tools we "
                    "use and whom to ask when you are stuck. Read it before your first shift.")
    d.add_paragraph("Tools you will use", style="Section Heading")
    for tool in ("The ticket desk, for every customer conversation", "The order console, to look up and refund orders",
                 "The knowledge base, for approved answers"):
        d.add_paragraph(tool, style="List Bullet")
    d.add_paragraph("Answering a ticket", style="Section Heading")
    for step in ("Read the whole conversation before replying.", "Check the order in the order console.",
                 "Answer with the approved text from the knowledge base, adapted to the customer.",
                 "Tag the ticket with its topic and close it."):
        d.add_paragraph(step, style="List Number")
    d.add_heading("Service Levels", level=1)
    d.add_paragraph("We promise customers a first answer within the times below. Urgent tickets are those about "
                    "payments or account access.")
    table = d.add_table(rows=4, cols=3)
    table.style = "Table Grid"
    for c, text in enumerate(("Channel", "Priority", "First answer within")):
        table.cell(0, c).text = text
    table.cell(1, 0).merge(table.cell(2, 0)).text = "Email"
    table.cell(1, 1).text, table.cell(1, 2).text = "Normal", "24 hours"
    table.cell(2, 1).text, table.cell(2, 2).text = "Urgent", "4 hours"
    table.cell(3, 0).text, table.cell(3, 1).text, table.cell(3, 2).text = "Live chat", "Any", "2 minutes"
    d.add_heading("FAQ", level=1)
    faq = [("Can I give a refund without asking a lead?", "Yes, for orders under 50 euros. Above that, ask your lead."),
           ("What if the knowledge base has no answer?", "Write the best answer you can, then propose it as a new "
                                                         "article so the next person has it.")]
    for q, a in faq:
        d.add_paragraph(f"Q: {q}")
        d.add_paragraph(f"A: {a}")
    d.save(str(path))


if __name__ == "__main__":
    HERE.mkdir(exist_ok=True)
    returns_policy_zh(HERE / "returns_policy_zh.docx")
    onboarding_en(HERE / "onboarding_en.docx")
    print(f"wrote {HERE / 'returns_policy_zh.docx'} and {HERE / 'onboarding_en.docx'}")
