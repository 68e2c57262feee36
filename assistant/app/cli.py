"""Command line: python -m assistant ingest|ask|retrieve|eval|feedback|audit|users|list|delete|stats|serve — wired here."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.app.cli_admin import ADMIN_COMMANDS, add_admin_commands
from assistant.errors import AssistantError
from assistant.models.chat import MODES
from assistant.results import to_jsonable


def _common(default) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--home", default=default, help="folder of the index and prepared models (default: $ASSISTANT_HOME)"
    )
    common.add_argument(
        "--kb", default=default, help="knowledge base name inside home (default: $ASSISTANT_KB or 'default')"
    )
    return common


def _filter_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--office", help="only documents of this issuing office (contained in its name: 市委办公厅)")
    p.add_argument("--type", dest="doc_type", help="only documents of this 文种 (通知, 意见, 讲话, 经验材料, …)")
    p.add_argument("--since", help="only documents dated on or after YYYY-MM-DD (成文日期)")
    p.add_argument("--until", help="only documents dated on or before YYYY-MM-DD")


def _filters(args: argparse.Namespace) -> dict[str, str]:
    return {key: getattr(args, key) for key in ("office", "doc_type", "since", "until") if getattr(args, key)}


def citation_meta(office: str | None, date: str | None, doc_number: str | None, superseded: str | None = None) -> str:
    """ " 市委办公厅 · 2023-03-05 · 沪府办发〔2023〕12号": what a citation line says of its document ('' if nothing);
    a replaced document says so last ("已被《…》（2024-03-01）替代")."""
    parts = [part for part in (office, date, doc_number, superseded) if part]
    return (" " + " · ".join(parts)) if parts else ""


def _parser() -> argparse.ArgumentParser:
    # --home/--kb work before or after the command; SUPPRESS keeps the subcommand's absent
    # option from overwriting one given before it.
    parser = argparse.ArgumentParser(prog="python -m assistant", description=__doc__, parents=[_common(None)])
    common = _common(argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", parents=[common], help="add files or folders to the knowledge base")
    p.add_argument("paths", nargs="+", help="files or folders (searched recursively)")
    p.add_argument(
        "--prune",
        action="store_true",
        help="remove documents that were ingested from these folders but are no longer there",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("list", parents=[common], help="list the documents in the knowledge base")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("delete", parents=[common], help="remove documents by source path")
    p.add_argument("sources", nargs="+", help="source paths as shown by `list`")

    p = sub.add_parser("stats", parents=[common], help="counts and sizes of the knowledge base")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("ask", parents=[common], help="answer a question with citations")
    p.add_argument("question")
    p.add_argument(
        "--mode",
        choices=MODES,
        default=None,
        help="extractive (no language model), openai, ollama or local (default: $ASSISTANT_ANSWER_MODE)",
    )
    p.add_argument(
        "--stream", action="store_true", help="print the model's words as they come, then the verified answer"
    )
    p.add_argument(
        "--history",
        action="append",
        default=[],
        metavar="QUESTION",
        help="an earlier question of the conversation (repeat, oldest first): the question is a follow-up",
    )
    _filter_flags(p)
    p.add_argument("--json", action="store_true", help="print the Answer as JSON")
    p.add_argument(
        "--export",
        metavar="FILE",
        help="also write the answer with its footnoted sources to FILE: .docx (Word) or .md (Markdown)",
    )

    p = sub.add_parser("retrieve", parents=[common], help="show the passages retrieved for a question")
    p.add_argument("question")
    p.add_argument("--k", type=int, default=None, help="number of passages (default: settings.top_k)")
    _filter_flags(p)
    p.add_argument("--json", action="store_true", help="print the passages as JSON")

    p = sub.add_parser("eval", parents=[common], help="retrieval/refusal metrics on a JSONL set or BEIR folder")
    p.add_argument("file", help="JSONL question set, or a BEIR folder (corpus.jsonl, queries.jsonl, qrels.tsv)")
    p.add_argument("--limit", type=int, default=None, help="BEIR: evaluate only the first N queries")
    p.add_argument(
        "--mode",
        choices=MODES,
        default=None,
        help="JSONL sets: also measure the answers of this mode (coverage, support, citations, refusals)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = sub.add_parser("feedback", parents=[common], help="the 👍/👎 feedback given in the chat")
    fb = p.add_subparsers(dest="action", required=True)
    q = fb.add_parser("export", parents=[common], help="write the feedback as a question set for `eval` (JSONL)")
    q.add_argument("file", help="the question file to write, e.g. bench/feedback.jsonl")
    q.add_argument("--rating", choices=("up", "down"), help="only this rating (default: both)")
    q = fb.add_parser("list", parents=[common], help="show the feedback given so far")
    q.add_argument("--json", action="store_true")

    add_admin_commands(sub, common)  # audit, users (cli_admin.py)

    p = sub.add_parser("serve", parents=[common], help="start the browser chat")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--kbs", metavar="NAMES", help="knowledge bases to serve: a,b or '*' (default $ASSISTANT_SERVE_KBS)")

    p = sub.add_parser(
        "config", parents=[common], help="print the effective settings and where each came from (secrets masked)"
    )
    p.add_argument("--json", action="store_true", help="print {setting: {value, source}} as JSON")
    return parser


def _open(args: argparse.Namespace):
    from assistant.api import Assistant

    overrides = {"kb": args.kb} if args.kb else {}
    return Assistant.open(args.home, **overrides)


def _print_json(value) -> None:
    print(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2))


def _ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from assistant.kb.progress import TextRate

    kb = _open(args)
    bar = tqdm(total=0, unit="file", file=sys.stderr, disable=args.json)

    rate = TextRate()
    where = ["index"]

    def show() -> None:
        bar.set_postfix_str(" · ".join([where[0], *rate.describe()]), refresh=False)
        bar.refresh()

    def progress(done: int, total: int, source: str) -> None:
        bar.total = total
        bar.n = done
        where[0] = Path(source).name if source else "index"
        show()

    def on_text(embedded: int, expected: int) -> None:
        rate.update(embedded, expected)
        show()

    report = kb.ingest([Path(p) for p in args.paths], progress=progress, prune=args.prune, on_text=on_text)
    bar.close()
    if args.json:
        _print_json(report)
    else:
        print(
            f"added {len(report.added)}, updated {len(report.updated)}, unchanged {len(report.unchanged)}, "
            f"duplicates {len(report.duplicates)}, removed {len(report.removed)}, failed {len(report.failed)}, "
            f"skipped {len(report.skipped)} ({report.chunks_added} chunks written, {report.seconds:.1f} s)"
        )
        for source, original in report.duplicates:
            print(f"  duplicate {source}: same content as {original}, stored once")
        for source in report.removed:
            print(f"  removed {source}: no longer in the folder")
        for source, warning in report.warnings:
            print(f"  warning {source}: {warning}")
        for source, reason in report.failed:
            print(f"  FAILED  {source}: {reason}")
        for source, reason in report.skipped:
            print(f"  skipped {source}: {reason}")
    return 1 if report.failed else 0


def _list(args: argparse.Namespace) -> int:
    docs = _open(args).documents()
    if args.json:
        _print_json(docs)
        return 0
    for d in docs:
        state = "" if d.complete else "  [INCOMPLETE: ingest the file again]"
        meta = citation_meta(d.office, d.date, d.doc_number) + (f" [{d.doc_type}]" if d.doc_type else "")
        print(f"{d.ingested_at}  {d.n_chunks:>4} chunks  《{d.title}》{meta}  {d.source}{state}")
    print(f"{len(docs)} documents from {len({d.source for d in docs})} files")
    return 0


def _delete(args: argparse.Namespace) -> int:
    for source in _open(args).delete(args.sources):
        print(f"deleted {source}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    stats = _open(args).stats()
    if args.json:
        _print_json(stats)
    else:
        for key, value in stats.items():
            print(f"{key}: {value}")
    return 0


def _ask(args: argparse.Namespace) -> int:
    if args.export:  # a path that cannot be written is reported before the question is answered
        from assistant.conversations.export import FORMATS, writable_target

        writable_target(Path(args.export), FORMATS)
    kb = _open(args)
    try:
        if args.stream and not args.json:
            answer = None
            wrote = False
            for item in kb.stream(args.question, history=args.history, mode=args.mode, filters=_filters(args)):
                if isinstance(item, str):
                    if (args.mode or kb.settings.answer_mode) != "extractive":
                        print(item, end="", flush=True, file=sys.stderr)  # raw words; the verified text follows
                        wrote = True
                else:
                    answer = item
            if wrote:
                print("\n", file=sys.stderr)
        else:
            answer = kb.ask(args.question, history=args.history, mode=args.mode, filters=_filters(args))
    finally:
        kb.close()
    assert answer is not None  # kb.stream() always ends with the Answer
    if args.export:
        from assistant.conversations.export import export_answer

        print(f"exported to {export_answer(answer, args.export)}", file=sys.stderr)
    if args.json:
        _print_json(answer)
        return 0
    if answer.searched and answer.searched != answer.question:
        print(f"(searched: {answer.searched})")
    if answer.partial:
        print(f"[partial answer — not stated in the documents: {'; '.join(answer.missing)}]")
    print(answer.text)
    if answer.citations:
        print()
        seen = set()
        for c in answer.citations:
            if c.n in seen:
                continue
            seen.add(c.n)
            where = f"{c.source}" + (f", p. {c.page}" if c.page else "")
            meta = citation_meta(c.office, c.date, c.doc_number, c.superseded)
            print(f"[{c.n}] 《{c.title}》{meta}{(' — ' + c.section) if c.section else ''} — {where}")
    if answer.unsupported:
        print(f"\n{len(answer.unsupported)} sentence(s) not supported by any passage (flagged in the text).")
    return 0


def _retrieve(args: argparse.Namespace) -> int:
    passages = _open(args).retrieve(args.question, k=args.k, filters=_filters(args))
    if not passages and _filters(args):
        print("no document matches the filters (--office/--type/--since/--until); widen or drop them", file=sys.stderr)
    if args.json:
        _print_json(passages)
        return 0
    for i, p in enumerate(passages, 1):
        meta = citation_meta(p.office, p.date, p.doc_number, p.superseded)
        print(
            f"{i}. score {p.score:.4f}  《{p.title}》{meta} {p.section}\n   {p.source} [{p.start}:{p.end}]\n   {p.text}\n"
        )
    return 0


def _eval(args: argparse.Namespace) -> int:
    from assistant.api import Assistant
    from assistant.eval.metrics import beir_kb_name, evaluate_beir, evaluate_questions, format_report

    target = Path(args.file)
    if target.is_dir():
        # The corpus is indexed into the knowledge base it is evaluated in: never the user's own,
        # but `beir-<folder>` in the same home (built once, reused while the corpus is unchanged).
        name = args.kb or beir_kb_name(target)
        print(f"evaluating in the knowledge base {name!r}", file=sys.stderr)
        with Assistant.open(args.home, kb=name) as kb:
            report = evaluate_beir(kb, target, limit=args.limit)
    elif target.is_file():
        report = evaluate_questions(_open(args), target, mode=args.mode)
    else:
        raise AssistantError(f"{target}: no such file or folder")
    if args.json:
        _print_json(report)
    else:
        print(format_report(report))
    return 0


def _feedback(args: argparse.Namespace) -> int:
    """Feedback is read from the knowledge base's conversation store; no model is loaded."""
    from assistant.conversations.feedback import RATINGS, export_feedback
    from assistant.conversations.store import FILE_NAME, open_store
    from assistant.settings import Settings

    settings = Settings.load(args.home, **({"kb": args.kb} if args.kb else {}))
    if not (Path(settings.kb_dir) / FILE_NAME).is_file():
        raise AssistantError(
            f"no feedback yet in the knowledge base {settings.kb!r} ({settings.kb_dir}): rate answers with 👍/👎 "
            "in the chat (python -m assistant serve) first"
        )
    items = open_store(settings.kb_dir).feedback()
    if args.action == "export":
        ratings = (args.rating,) if args.rating else RATINGS
        written = export_feedback(items, args.file, ratings)
        print(f"wrote {written} question(s) to {args.file}; check them with: python -m assistant eval {args.file}")
        return 0
    if args.json:
        _print_json(items)
        return 0
    for item in items:
        mark = "👍" if item.rating == "up" else "👎"
        comment = f" — {item.comment}" if item.comment else ""
        print(f"{mark} [{item.mode}] {item.question}{comment}")
    print(f"{len(items)} feedback item(s)")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from assistant.app.shelf import Shelf
    from assistant.app.ui import serve
    from assistant.settings import Settings

    overrides = {"kb": args.kb} if args.kb else {}
    overrides |= {"serve_kbs": args.kbs} if args.kbs is not None else {}
    serve(Shelf.open(Settings.load(args.home, **overrides)), host=args.host, port=args.port)
    return 0


def _config(args: argparse.Namespace) -> int:
    """The effective settings (default < ASSISTANT_CONFIG file < env < --home/--kb); opens no knowledge base."""
    from assistant.settings import Settings
    from assistant.settings_sources import CONFIG_ENV

    settings = Settings.load(args.home, **({"kb": args.kb} if args.kb else {}))
    shown = settings.effective()  # secrets are '**********' here already
    if args.json:
        print(
            json.dumps(
                {"config_file": str(settings.config_file) if settings.config_file else None, "settings": shown},
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    print(
        f"# settings file: {settings.config_file}"
        if settings.config_file
        else f"# settings file: none (set {CONFIG_ENV}=path.toml to use one)"
    )
    width = max(map(len, shown))
    for name, item in shown.items():
        print(f"{name:<{width}}  {json.dumps(item['value'], ensure_ascii=False):<40}  {item['source']}")
    print(f"# kb_dir = {settings.kb_dir}\n# models_dir = {settings.models_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {
        "ingest": _ingest,
        "ask": _ask,
        "retrieve": _retrieve,
        "eval": _eval,
        "feedback": _feedback,
        **ADMIN_COMMANDS,
        "serve": _serve,
        "list": _list,
        "delete": _delete,
        "stats": _stats,
        "config": _config,
    }
    try:
        return handlers[args.command](args)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
