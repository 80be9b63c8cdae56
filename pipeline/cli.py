"""The `gazette` command: parse arguments into one Options object, call the API, map errors to
exit codes. No pipeline logic lives here."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from pipeline import __version__
from pipeline.errors import ExitCode, GazetteError
from pipeline.options import OUTPUT_FORMATS, Options

if TYPE_CHECKING:
    from pipeline.review.journal import OrphanCorrection

log = logging.getLogger("pipeline")


def _add_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("conversion options")
    group.add_argument("-l", "--language", default="vie", help="tesseract language(s) (default: vie)")
    group.add_argument("--dpi", type=int, default=300, help="rasterisation DPI for scanned PDFs (default: 300)")
    group.add_argument("--max-image-pixels", type=int, default=200_000_000, help="decompression-bomb guard")
    group.add_argument("--max-text-bytes", type=int, default=4 * 1024 * 1024, help="largest text input (4 MiB)")
    group.add_argument("--ocr-timeout", type=float, default=180.0, help="seconds per page (default: 180)")
    group.add_argument(
        "--file-timeout", type=float, default=7200.0, help="batch: seconds per file before it fails as stuck (7200)"
    )
    group.add_argument("--encoding", help="force the encoding of text inputs: utf-8, utf-16, cp1258, vni, tcvn3")
    group.add_argument("--no-deskew", dest="deskew", action="store_false", help="do not straighten pages")
    group.add_argument("--no-denoise", dest="denoise", action="store_false", help="do not remove specks")
    group.add_argument("--binarize", choices=("auto", "always", "never"), default="auto")
    group.add_argument(
        "--restore",
        choices=("auto", "always", "never"),
        default="auto",
        help="restore diacritics: auto = text that looks like English-model OCR, and low-confidence vie OCR words",
    )
    group.add_argument("--restore-below", type=float, default=0.6, help="OCR confidence below which words are restored")
    group.add_argument("--no-word-scores", dest="score_words", action="store_false", help="score restored words only")
    group.add_argument(
        "--no-vie-correction", dest="correct_vie", action="store_false", help="leave confident vie OCR words as read"
    )


def _add_formats(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--formats", default="json,txt", help=f"comma-separated: {', '.join(OUTPUT_FORMATS)} (default: json,txt)"
    )


def _add_text_io(parser: argparse.ArgumentParser) -> None:
    """Text in (file or stdin), text out (file or stdout): read by _read_text, written by _write_text."""
    parser.add_argument("input", help="text file, or - for standard input")
    parser.add_argument("-o", "--output", default="-", help="output file, or - for standard output (default)")
    parser.add_argument("--encoding", help="force the input encoding: utf-8, utf-16, cp1258, vni, tcvn3")


def _options(args: argparse.Namespace, **extra: object) -> Options:
    return Options(
        language=args.language,
        dpi=args.dpi,
        max_image_pixels=args.max_image_pixels,
        max_text_bytes=args.max_text_bytes,
        ocr_timeout=args.ocr_timeout,
        file_timeout=args.file_timeout,
        encoding=args.encoding,
        deskew=args.deskew,
        denoise=args.denoise,
        binarize=args.binarize,
        restore=args.restore,
        restore_below=args.restore_below,
        score_words=args.score_words,
        correct_vie=args.correct_vie,
        **extra,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gazette",
        description="Turn scanned Vietnamese provincial plans into clean, structured text.",
        epilog="Exit codes: 0 ok, 1 some files failed, 2 bad arguments, 3 bad input, "
        "4 missing dependency, 5 OCR error, 6 model error, 7 export error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"gazette {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    convert = commands.add_parser(
        "convert", help="convert files or folders into OUTDIR", description="Convert PDFs, images and text files."
    )
    convert.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders (walked recursively)")
    convert.add_argument("-o", "--output", required=True, type=Path, metavar="OUTDIR")
    _add_formats(convert)
    run = convert.add_argument_group("batch options (a rerun into the same OUTDIR skips files already done)")
    run.add_argument(
        "-j", "--jobs", type=int, metavar="N", help="worker processes (default: one per core; 0: in this process)"
    )
    run.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the files on a Dask cluster: its scheduler address (tcp://host:8786), or 'local'",
    )
    run.add_argument("--retry-failed", action="store_true", help="convert files that failed in an earlier run again")
    run.add_argument("--force", action="store_true", help="convert every file again, done or not")
    run.add_argument(
        "--progress",
        choices=("auto", "rich", "log", "none"),
        default="auto",
        help="a progress bar (rich), one log line per file (log) or nothing; auto: the bar on a terminal",
    )
    _add_options(convert)

    ocr = commands.add_parser("ocr", help="OCR one image or PDF and print its text", description="OCR one file.")
    ocr.add_argument("input", type=Path, metavar="IMAGE_OR_PDF")
    ocr.add_argument("--json", action="store_true", help="print the Document as JSON instead of text")
    _add_options(ocr)

    restore = commands.add_parser(
        "restore",
        help="restore Vietnamese diacritics in a text file, line by line",
        description="Restore text OCR'd with an English model. The output has the same lines as the input.",
    )
    _add_text_io(restore)
    restore.add_argument("--json", action="store_true", help="one JSON object per line with per-token confidences")

    segment = commands.add_parser(
        "segment",
        help="segment a plan's text into its structure (JSON)",
        description="Metadata, sections, tasks, agencies and timelines of a plan, as JSON (null if it is no plan).",
    )
    _add_text_io(segment)

    lexicon = commands.add_parser("lexicon", help="the agency lexicon", description="The agency lexicon.")
    actions = lexicon.add_subparsers(dest="action", required=True, metavar="ACTION")
    lookup = actions.add_parser(
        "lookup", help="print the canonical agency for each name, with its score", description="Look names up."
    )
    lookup.add_argument("names", nargs="+", metavar="NAME")
    lookup.add_argument("--split", action="store_true", help="read each NAME as a list of agencies")
    lookup.add_argument("--json", action="store_true", help="print the mentions as JSON lines")

    review = commands.add_parser(
        "review",
        help="correct converted documents in the browser",
        description="Serve the review app (Voilà) for OUT_DIR on localhost and print its URL. Corrections go to "
        "OUT_DIR/.gazette/corrections.jsonl as they are made.",
    )
    review.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="the folder `gazette convert -o` wrote")
    review.add_argument("--port", type=int, default=8866, help="local port (default: 8866)")
    review.add_argument("--reviewer", help="your name, recorded with every correction (default: your login name)")
    review.add_argument("--no-browser", dest="open_browser", action="store_false", help="only print the URL")

    export = commands.add_parser(
        "export",
        help="re-export converted documents with the reviewers' corrections applied",
        description="Re-write the outputs of every converted document in OUT_DIR with the corrections journal applied.",
    )
    export.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    _add_formats(export)

    resegment = commands.add_parser(
        "resegment",
        help="rebuild the plans of converted documents from their stored text (no OCR)",
        description="Rebuild every plan in OUT_DIR with the current segmenter and agency lexicon, from the "
        "stored text with the reviewers' corrections applied; rewrites the JSON (and documents.jsonl).",
    )
    resegment.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    corrections = commands.add_parser(
        "corrections", help="reviewers' corrections", description="Reviewers' corrections."
    )
    corrections_actions = corrections.add_subparsers(dest="action", required=True, metavar="ACTION")
    pairs = corrections_actions.add_parser(
        "export",
        help="write (OCR, corrected) line pairs and line images as training data",
        description="Every line with a correction: a {noisy, clean} JSON line (scripts/train_restore.py "
        "--extra-pairs reads it) and, for page images, a PNG crop with its .gt.txt in PAIRS-lines/.",
    )
    pairs.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    pairs.add_argument("-o", "--output", type=Path, required=True, metavar="PAIRS.jsonl")

    schema = commands.add_parser("schema", help="print the JSON schema of the output", description="JSON schema.")
    schema.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    return parser


def _cmd_convert(args: argparse.Namespace) -> int:
    from pipeline.batch import BatchOptions, convert_many, print_summary

    options = _options(args, formats=args.formats)
    batch = BatchOptions(
        jobs=args.jobs, dask=args.dask, force=args.force, retry_failed=args.retry_failed, progress=args.progress
    )
    if args.dask:  # Dask's own INFO lines (connections, plugins) would drown the file lines
        import distributed  # noqa: F401  (it sets its loggers' levels when imported: ours must come after)

        logging.getLogger("distributed").setLevel(logging.DEBUG if args.verbose >= 2 else logging.WARNING)
    summary = convert_many(args.inputs, args.output, options, batch)
    print_summary(summary)
    return summary.exit_code


def _cmd_ocr(args: argparse.Namespace) -> int:
    from pipeline.api import convert
    from pipeline.export import to_json, to_text

    document = convert(args.input, _options(args))
    sys.stdout.write(to_json(document) if args.json else to_text(document))
    return ExitCode.ok


def _read_text(source: str, encoding: str | None) -> str:
    """A text file (or stdin for '-') decoded as ingest decodes text inputs."""
    from pipeline.errors import InputError
    from pipeline.textenc import decode_text

    name = "<stdin>" if source == "-" else source
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read it: {exc.strerror or exc}", path=name) from exc
    return decode_text(data, path=name, encoding=encoding)[0]


def _write_text(target: str, text: str) -> None:
    from pipeline.files import atomic_write_text

    if target == "-":
        sys.stdout.write(text)
    else:
        atomic_write_text(target, text)


def _cmd_restore(args: argparse.Namespace) -> int:
    from pipeline.restore.api import restore_text

    lines = restore_text(_read_text(args.input, args.encoding))
    if args.json:
        rows = [
            {"line": n, "source": line.source, "text": line.text, "tokens": [asdict(t) for t in line.tokens]}
            for n, line in enumerate(lines, start=1)
        ]
        out = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    else:
        out = "\n".join(line.text for line in lines)
    _write_text(args.output, out)
    return ExitCode.ok


def _cmd_segment(args: argparse.Namespace) -> int:
    from pipeline.api import segment_text

    plan = segment_text(_read_text(args.input, args.encoding))
    out = plan.model_dump_json(indent=2, exclude_none=True) + "\n" if plan else "null\n"
    if plan is None:
        print(f"gazette: {args.input}: not a plan (no plan title or no sections found); wrote null", file=sys.stderr)
    _write_text(args.output, out)
    return ExitCode.ok


def _cmd_lexicon(args: argparse.Namespace) -> int:
    from pipeline.lexicon import default_lexicon

    lexicon = default_lexicon()
    for name in args.names:
        for m in lexicon.split(name) if args.split else [lexicon.mention(name)]:
            if args.json:
                print(m.model_dump_json(exclude_none=True, exclude={"span"}))
                continue
            found = m.canonical or "?"
            about = ", ".join(x for x in (m.kind, m.scope) if x)
            print(f"{m.text} → {found}  [{m.status} {m.score:.1f}{', ' + about if about else ''}]")
            if m.candidates:
                print("    nearest: " + "; ".join(f"{c.name} ({c.score:.1f})" for c in m.candidates))
    return ExitCode.ok


def _cmd_schema(args: argparse.Namespace) -> int:
    from pipeline.document import json_schema
    from pipeline.files import atomic_write_text

    text = json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        atomic_write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return ExitCode.ok


def _cmd_review(args: argparse.Namespace) -> int:
    from pipeline.review.app import serve

    return serve(args.out_dir, port=args.port, reviewer=args.reviewer, open_browser=args.open_browser)


def _report_orphans(orphans: list[OrphanCorrection]) -> None:
    if orphans:
        print(f"{len(orphans)} correction(s) not applied (kept in the journal):", file=sys.stderr)
        for orphan in orphans:
            record = orphan.record
            print(f"  {record.document} {record.token} by {record.reviewer}: {orphan.reason}", file=sys.stderr)


def _cmd_export(args: argparse.Namespace) -> int:
    from pipeline.review.corrections import export_outputs

    summary = export_outputs(args.out_dir, Options(formats=args.formats).formats)
    print(
        f"exported {summary.documents} document(s), {summary.corrected_tokens} corrected word(s): "
        f"{len(summary.written)} file(s) → {args.out_dir}"
    )
    _report_orphans(summary.orphans)
    for problem in summary.skipped:
        print(f"gazette: skipped {problem}", file=sys.stderr)
    return ExitCode.some_files_failed if summary.skipped else ExitCode.ok


def _cmd_resegment(args: argparse.Namespace) -> int:
    from pipeline.review.corrections import resegment_outputs

    summary = resegment_outputs(args.out_dir)
    print(f"rebuilt the plans of {summary.documents} document(s): {len(summary.written)} file(s) → {args.out_dir}")
    _report_orphans(summary.orphans)
    for problem in summary.skipped:
        print(f"gazette: skipped {problem}", file=sys.stderr)
    return ExitCode.some_files_failed if summary.skipped else ExitCode.ok


def _cmd_corrections(args: argparse.Namespace) -> int:
    from pipeline.review.corrections import export_line_pairs

    summary = export_line_pairs(args.out_dir, args.output)
    print(f"{summary.pairs} line pair(s) → {args.output}; {summary.crops} line image(s) → {summary.lines_folder}")
    _report_orphans(summary.orphans)
    for problem in [*summary.missing_images, *summary.skipped]:
        print(f"gazette: {problem}", file=sys.stderr)
    return ExitCode.some_files_failed if summary.skipped else ExitCode.ok


COMMANDS = {
    "convert": _cmd_convert,
    "ocr": _cmd_ocr,
    "restore": _cmd_restore,
    "segment": _cmd_segment,
    "lexicon": _cmd_lexicon,
    "schema": _cmd_schema,
    "review": _cmd_review,
    "export": _cmd_export,
    "resegment": _cmd_resegment,
    "corrections": _cmd_corrections,
}


class _Terminated(KeyboardInterrupt):
    """SIGTERM (a service manager, `kill`, a scheduler's time limit), handled as Ctrl-C is: the
    workers are stopped and the run files (errors.jsonl, documents.jsonl) written."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose + 1, 2)
    logging.basicConfig(level=level, format="%(message)s", stream=sys.stderr)
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if on_main_thread else None
    try:
        return int(COMMANDS[args.command](args))
    except ValidationError as exc:
        print(f"gazette: invalid option: {exc.errors()[0]['msg']}", file=sys.stderr)
        return ExitCode.bad_args
    except GazetteError as exc:
        print(f"gazette: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)
    except _Terminated:
        print("gazette: terminated (SIGTERM)", file=sys.stderr)
        return ExitCode.terminated
    except KeyboardInterrupt:
        print("gazette: interrupted", file=sys.stderr)
        return ExitCode.interrupted
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
