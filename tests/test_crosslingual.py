"""English questions: CC-CEDICT word translation restricted to the knowledge base's words."""

from assistant.retrieval.crosslingual import Dictionary, english_words, stem


def test_stemming_and_content_words():
    assert stem("offices") == "office" and stem("policies") == "policy" and stem("process") == "process"
    assert english_words("How does the Party committee run its offices?") == ["party", "committee", "run", "office"]


def test_translations_come_from_the_dictionary_and_only_known_words_survive():
    d = Dictionary.bundled()
    vocabulary = {"党委", "保密", "社区", "办公室", "风险"}
    concepts = d.concepts(
        "Party committee confidentiality risks in the community office",
        known=lambda zh: zh in vocabulary,
        frequency=lambda zh: 1.0,
    )
    found = {c.word: c.translations for c in concepts}
    assert found["party committee"] == ("党委",)  # a dictionary phrase beats word-by-word
    assert found["confidentiality"] == ("保密",)  # the knowledge base's word for it, not 机密性 or 保密协议
    assert found["community"] == ("社区",) and found["office"] == ("办公室",)
    assert found["risk"] == ("风险",)
    unknown = {c.word: c for c in d.concepts("xyzzyq", known=lambda zh: True, frequency=lambda zh: 1.0)}
    assert unknown["xyzzyq"].translations == () and not unknown["xyzzyq"].in_dictionary
