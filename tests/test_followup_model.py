"""The chat model words follow-ups; whether a question is one is the rules' decision, the same in every mode."""

from assistant.retrieval.followup_model import rewrite_with_model

SHUANG = "机关是怎样落实在职党员“双报到”制度的？"


class Recording:
    """A chat model that records what it is asked and answers with a fixed rewrite."""

    def __init__(self, reply: str):
        self.reply, self.calls = reply, 0

    def complete(self, messages, max_tokens=64):
        self.calls += 1
        return self.reply


def test_a_complete_question_is_searched_as_typed_without_asking_the_model():
    chat = Recording("机关落实双报到制度的预算是多少？")
    question = "市委办公厅2023年的预算是多少？"
    assert rewrite_with_model(chat, question, [SHUANG]) == question and chat.calls == 0


def test_a_follow_up_is_worded_by_the_model_when_its_rewrite_is_plausible():
    chat = Recording("机关是怎样落实保密工作的？")
    assert rewrite_with_model(chat, "那保密工作呢？", [SHUANG]) == "机关是怎样落实保密工作的？" and chat.calls == 1
