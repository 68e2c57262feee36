"""The chat's export files: written per answer, and their temp folder gone with the chat that made it."""

from __future__ import annotations

import gc

from assistant.app.ui.exports import ExportFiles
from assistant.conversations.export import answer_json
from tests.test_conversations import sample_answer


def test_each_answer_gets_its_two_files_and_the_folder_goes_with_the_chat():
    exports = ExportFiles()
    folder = exports.folder
    word, md = exports.buttons({**answer_json(sample_answer()), "question": "机关怎样落实双报到？"})
    assert word["interactive"] and md["interactive"]
    assert word["value"].endswith(".docx") and md["value"].endswith(".md")
    assert (folder / word["value"].split("/")[-2] / word["value"].split("/")[-1]).read_bytes()[:2] == b"PK"
    assert not exports.buttons(None)[0]["interactive"]
    exports.close()
    assert not folder.exists()
    other = ExportFiles()
    other_folder = other.folder
    del other
    gc.collect()
    assert not other_folder.exists()  # a chat dropped without close() leaves nothing in /tmp either
