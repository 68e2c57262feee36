"""English questions: CC-CEDICT word translation restricted to the knowledge base's words."""

from assistant.retrieval.crosslingual import Dictionary, derived_forms, english_words, stem


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


def test_british_spellings_meet_the_dictionarys_american_glosses():
    assert "neighborhood" in derived_forms("neighbourhood") and "organize" in derived_forms("organise")
    assert derived_forms("hour") == [] and derived_forms("four") == []  # "our" inside a short word is not British
    d = Dictionary.bundled()
    found = {
        c.word: c.translations
        for c in d.concepts("neighbourhood", known=lambda zh: zh == "社区", frequency=lambda zh: 0.1)
    }
    assert found["neighbourhood"] == ("社区",)


def test_a_phrase_inside_a_longer_gloss_is_found():
    # 批示: "written comments from a superior" -- the question says only "written comments".
    d = Dictionary.bundled()
    found = {
        c.word: c.translations
        for c in d.concepts(
            "leaders' written comments", known=lambda zh: zh in {"批示", "领导"}, frequency=lambda zh: 0.1
        )
    }
    assert found["written comment"] == ("批示",)


def test_work_and_party_are_left_out_when_their_plain_translation_says_nothing():
    # 工作 is a stop word of keyword search; 党 is far commoner than 一行/各方 (a travelling "party").
    d = Dictionary.bundled()
    share = {"党": 0.2, "一行": 0.05, "各方": 0.03, "保密": 0.15}
    concepts = d.concepts(
        "party confidentiality work",
        known=lambda zh: zh in share,
        frequency=lambda zh: share.get(zh, 0.0),
        usable=lambda zh: zh != "工作",
    )
    assert [c.word for c in concepts] == ["confidentiality"]


def _kb_reader(passages: list[set[str]]):
    vocabulary = set().union(*passages)
    return dict(
        known=lambda zh: zh in vocabulary,
        frequency=lambda zh: sum(zh in p for p in passages) / len(passages),
        together=lambda a, b: any(a in p and b in p for p in passages),
    )


def test_half_a_gloss_alone_in_the_corpus_is_not_a_translation():
    # 省会 is "provincial capital": for the capital of France it would make a far-off question look answerable.
    d = Dictionary.bundled()
    kb = _kb_reader([{"省会", "办公厅", "强省会"}, {"保密", "办公室"}])
    found = {c.word: c for c in d.concepts("What is the capital of France?", **kb)}
    assert found["capital"].translations == () and found["capital"].in_dictionary
    assert found["france"].translations == ()


def test_the_sample_knowledge_base_reads_english_questions(corpus_kb):
    """On the sample corpus: what a user would check for the questions the issue names."""
    concepts = corpus_kb.analyse("How do offices handle confidentiality work?").concepts
    assert any("保密" in c.alternatives for c in concepts)  # the word the Chinese twin finds its passages by
    assert "work" not in {c.label for c in concepts}  # 工作 is ignored by keyword search, so "work" is too
    france = corpus_kb.analyse("What is the capital of France?")
    assert not any("省会" in c.alternatives for c in france.concepts) and "省会" not in france.tokens
    assert "编发" in corpus_kb.analyse("How many information items did the office compile and issue?").tokens
    # English leans on the translated keywords more than on the embedding's weak English-to-Chinese match.
    assert corpus_kb.analyse("How do offices handle confidentiality work?").keyword_weight == 0.6
    assert corpus_kb.analyse("机关怎样做好保密工作？").keyword_weight is None  # the setting's
    english = "How many leaders' instructions and official documents did the municipal Party committee general office process?"
    assert "6037件" in corpus_kb.retrieve(english, k=1)[0].text  # 批示 via "instructions", 市委, 办理


def test_office_terms_give_the_official_english_that_cc_cedict_lacks():
    # CC-CEDICT knows 市委 only as "municipal committee" and 批示 not as "instructions"; the office terms
    # file adds the renderings English-speaking users and official translations actually use.
    d = Dictionary.bundled()
    vocabulary = {"市委", "省委", "党委", "批示", "指示", "值班", "八小时以外", "办公室"}
    found = {
        c.word: c.translations
        for c in d.concepts(
            "How does the city Party committee office handle written instructions, duty rosters and "
            "conduct after work hours?",
            known=lambda zh: zh in vocabulary,
            frequency=lambda zh: 0.1,
        )
    }
    assert found["city party committee"] == ("市委",)  # not 党委 from "party committee" alone
    assert "批示" in found["written instruction"]
    assert "值班" in found["duty roster"]
    assert found["work hour"] == ("八小时以外",)


def test_every_office_term_line_is_a_cc_cedict_entry():
    from assistant.retrieval.crosslingual import OFFICE_TERMS

    lines = [line for line in OFFICE_TERMS.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    assert len(lines) > 100
    heads = [line.split(" ")[1] for line in lines]
    assert len(heads) == len(set(heads)), "a term is listed twice"
    for line in lines:
        head, simplified, rest = line.split(" ", 2)
        assert head == simplified and rest.startswith("[-] /") and rest.endswith("/"), line


def test_a_phrase_the_knowledge_base_never_uses_is_not_translated_word_by_word():
    # "World War II" is 二战 / 第二次世界大战: a knowledge base without them does not hold it, even though
    # 世界 and 战争 occur in it separately; a phrase it does use is still translated ("party committee").
    d = Dictionary.bundled()
    vocabulary = {"世界", "战争", "结束", "党委"}
    found = {
        c.word: c.translations
        for c in d.concepts("When did World War II end?", known=lambda zh: zh in vocabulary, frequency=lambda zh: 0.1)
    }
    assert found["world war"] == ()
    assert "world" not in found and "war" not in found
    assert found["end"] == ("结束",)
    kept = {
        c.word: c.translations
        for c in d.concepts(
            "world affairs and party committee", known=lambda zh: zh in vocabulary, frequency=lambda zh: 0.1
        )
    }
    assert kept["party committee"] == ("党委",) and kept["world"] == ("世界",)


def test_capitals_in_a_chinese_question_are_codes_not_english_to_translate(corpus_kb):
    # LEFT JOIN once read as 左右 + 联合 and the database question was answered from a Party branch's "联合共建".
    question = "SQL里LEFT JOIN和INNER JOIN有什么区别？"
    query = corpus_kb.analyse(question)
    assert {"左右", "联合", "参加"}.isdisjoint(query.tokens) and {"sql", "join"} <= set(query.tokens)
    assert corpus_kb.ask(question).refused
    # Lower-case English in a Chinese question is still translated: "mechanism" finds 机制.
    assert "机制" in corpus_kb.analyse("市委办公室推进的一体化督查闭环 mechanism 包括哪四个环节？").tokens
