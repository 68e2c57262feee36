"""The words around an answer, per language: its lead, a refusal, a partial answer, a declined request."""

from __future__ import annotations

FRAMING = {
    "zh": {
        "lead": "根据知识库中的文件：",
        "refusal": "知识库中没有找到能回答这个问题的内容。",
        "empty": "知识库里还没有文件，无法回答。请先导入文件：在“知识库”页上传，或运行 python -m assistant ingest 文件夹。",
        "nearest": "以下是最接近的段落，仅供参考，它们并不回答这个问题：",
        "partial": "文件提到了{subject}，但没有写明{missing}。",
        "subject_absent": "{subject}：文件中没有找到相关内容。",
        "drafting": "我只能根据知识库中的文件回答问题并标明出处，不能代写文稿、纪要或方案。"
        "可以问文件里写了什么，例如“机关是怎样落实在职党员双报到制度的？”",
        "courtesy": "不客气。还有什么问题，请直接问，例如“机关是怎样落实在职党员双报到制度的？”",
        "ready": "好的。有问题请直接问，例如“机关是怎样落实在职党员双报到制度的？”",
        "unclear": "这个问题没有说明要问什么内容，请把问题说完整，例如“机关是怎样落实在职党员双报到制度的？”",
    },
    "en": {
        "lead": "According to the documents (quoted in the original Chinese):",
        "refusal": "The knowledge base does not contain an answer to this question.",
        "empty": "The knowledge base holds no documents yet, so there is nothing to answer from. Add files first: upload "
        "them on the Knowledge base tab, or run python -m assistant ingest FOLDER.",
        "nearest": "The nearest passages, for reference only — they do not answer the question:",
        "partial": "The documents mention {subject}, but do not state {missing}.",
        "subject_absent": "{subject}: the documents say nothing about this.",
        "drafting": "I answer questions from the documents, citing them; I cannot draft documents, minutes or "
        "plans. Ask what the documents say, for example “How do offices run the 双报到 system?”",
        "courtesy": "You're welcome. Ask anything the documents may answer, for example “How do offices run the 双报到 "
        "system?”",
        "ready": "OK. Ask anything the documents may answer, for example “How do offices run the 双报到 system?”",
        "unclear": "The question does not say what it is about; please ask it in full, for example "
        "“How do offices run the 双报到 system?”",
    },
}
