"""The ``rag`` command. Thin: parse arguments, call the library, print."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from rag.cli.common import JsonOpt, progress_bars
from rag.cli.common import fail as _fail
from rag.cli.common import print_json as _print_json
from rag.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="述职报告检索、问答、起草与摘要")
index_app = typer.Typer(no_args_is_help=True, help="索引信息与维护")
bench_app = typer.Typer(no_args_is_help=True, help="基准测试：打印数据与同次运行的基线对比")
app.add_typer(index_app, name="index")
app.add_typer(bench_app, name="bench")


@contextmanager
def _user_errors() -> Iterator[None]:
    """Known failures become one clear line on stderr and a non-zero exit, not a traceback."""
    from rag.documents.errors import DocumentError
    from rag.drafting.section import DraftError
    from rag.index.embeddings import EmbedderError
    from rag.index.index import IndexError_
    from rag.llm.base import LLMError
    from rag.prompts import PromptError
    from rag.retrieval import QueryError

    try:
        yield
    except (DocumentError, DraftError, EmbedderError, IndexError_, QueryError, LLMError, PromptError) as exc:
        _fail(str(exc))


def _settings() -> Settings:
    return Settings()


def _open_index(settings: Settings):
    from rag.index.index import Index

    return Index(settings)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="文件或文件夹（递归）")],
    as_json: JsonOpt = False,
) -> None:
    """导入 .txt/.md/.docx/.pdf/.doc/.wps 报告及扫描件、照片（.png/.jpg/.tif，文字识别）到索引
    （幂等：未变化的文件不会重复导入）。"""
    settings = _settings()
    with _user_errors():
        index = _open_index(settings)
        update, close = progress_bars(
            {"files": "文件", "pages": "文字识别（页）", "embed": "向量化"}, leave=False
        )
        try:
            result = index.ingest(paths, progress=update)
        finally:
            close()
    summary = result.to_json()
    if as_json:
        _print_json(summary)
    else:
        for f in result.files:
            if f.status == "error":
                typer.echo(f"错误：{f.error}", err=True)
            else:
                typer.echo(f"{f.status:9} {f.source}  报告 {f.reports}  分块 {f.chunks}")
        typer.echo(
            f"新增 {summary['added']}，替换 {summary['replaced']}，未变 {summary['unchanged']}，"
            f"出错 {summary['errors']}；本次写入报告 {summary['reports']}、分块 {summary['chunks']}"
        )
    if not result.ok:
        raise typer.Exit(1)


@index_app.command("info")
def index_info(as_json: JsonOpt = False) -> None:
    """索引里的文档、报告、分块数量，嵌入模型与位置。"""
    settings = _settings()
    with _user_errors():
        info = _open_index(settings).info()
    if as_json:
        _print_json(info)
        return
    typer.echo(f"位置：{info['index_dir']}（Chroma：{info['chroma']}）")
    typer.echo(f"嵌入模型：{info['embedder'] or '（尚未导入）'}")
    typer.echo(f"文档 {info['documents']}，报告 {info['reports']}，分块 {info['chunks']}")
    for d in info["documents_list"]:
        typer.echo(f"  {d['source']}  报告 {d['reports']}  分块 {d['chunks']}  sha256 {d['sha256'][:12]}")


@index_app.command("reconcile")
def index_reconcile(as_json: JsonOpt = False) -> None:
    """检查并修复 Chroma、关键词索引与清单之间的不一致（例如导入被中断后）。"""
    with _user_errors():
        fixed = _open_index(_settings()).reconcile()
    _print_json(fixed) if as_json else typer.echo(f"已修复：{fixed}")


@app.command()
def remove(source: Annotated[str, typer.Argument(help="文档（索引中的路径或文件名）")]) -> None:
    """从所有索引中删除一个文档的分块。"""
    with _user_errors():
        index = _open_index(_settings())
        key = index.resolve_source(source)
        n = index.remove(key)
    typer.echo(f"已删除 {key}：{n} 个分块")


def _print_passages(passages: list) -> None:
    for i, p in enumerate(passages, 1):
        c = p.chunk
        where = f"{c.source} {c.start}-{c.end}"
        typer.echo(f"[{i}] {p.score:.4f}  {c.report_title}（{where}）{' > '.join(c.heading_path)}")
        typer.echo(f"    {c.text[:200]}{'…' if len(c.text) > 200 else ''}")


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="查询；省略则进入交互检索")] = None,
    k: Annotated[int, typer.Option("-k", help="返回条数")] = 5,
    where: Annotated[list[str] | None, typer.Option("--where", help="过滤 key=value，可多次")] = None,
    as_json: JsonOpt = False,
) -> None:
    """混合检索（向量 + BM25），可按 role/year/level/section/source 过滤。"""
    from rag.retrieval import hybrid_search, parse_where

    with _user_errors():
        filters = parse_where(where)
        index = _open_index(_settings())
        queries = [query] if query is not None else _interactive_queries()
        for q in queries:
            try:
                passages = hybrid_search(index, q, k=k, where=filters)
            except Exception as exc:
                if query is not None:
                    raise
                typer.echo(f"错误：{exc}", err=True)
                continue
            if as_json:
                _print_json([p.to_json() for p in passages])
            else:
                _print_passages(passages) if passages else typer.echo("（没有结果）")


def _interactive_queries() -> Iterator[str]:
    typer.echo("输入问题检索，空行或 Ctrl-D 退出。", err=True)
    while True:
        try:
            line = input("检索> ").strip()
        except EOFError:
            return
        if not line:
            return
        yield line


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="问题")],
    k: Annotated[int, typer.Option("-k", help="检索条数")] = 4,
    where: Annotated[list[str] | None, typer.Option("--where", help="过滤 key=value，可多次")] = None,
    variant: Annotated[str, typer.Option(help="提示词变体 prompts/ask/<variant>.yaml")] = "default",
    as_json: JsonOpt = False,
) -> None:
    """依据已导入的报告回答问题，逐句标注出处并核对数字。"""
    from rag.ask import AskResult, chat_stream
    from rag.llm.factory import create_llm
    from rag.retrieval import parse_where

    settings = _settings()
    with _user_errors():
        filters = parse_where(where)
        index = _open_index(settings)
        llm = create_llm(settings)
        result: AskResult | None = None
        for event in chat_stream(index, llm, question, k=k, where=filters, variant=variant):
            if isinstance(event, AskResult):
                result = event
            elif not as_json:
                typer.echo(event, nl=False)
    assert result is not None
    if as_json:
        _print_json(result.to_json())
        return
    typer.echo("")
    _print_grounding(result)


def _print_grounding(result) -> None:
    for c in result.citations:
        mark = "（自动）" if c.auto else ""
        ocr = f"，{c.ocr_note()}" if c.ocr_confidence is not None else ""
        typer.echo(f"  [{c.n}]{mark} {c.report_title}（{c.source} {c.start}-{c.end}{ocr}）：{c.quote}")
    for sentence in result.unsupported:
        typer.echo(f"  ⚠ 未能在引用资料中核实数字：{sentence}")
    typer.echo(f"（{result.model}，提示 {result.prompt_id}@{result.prompt_hash}）", err=True)


@app.command()
def draft(
    role: Annotated[str, typer.Option("--role", help="职务，如 副乡长")],
    section: Annotated[
        str, typer.Option("--section", help="部分：存在问题 / 履职情况 / 下步打算 …")
    ] = "履职情况",
    year: Annotated[int | None, typer.Option("--year")] = None,
    topic: Annotated[str, typer.Option("--topic", help="侧重点")] = "",
    fact: Annotated[
        list[str] | None, typer.Option("--fact", help="你的事实（次数、金额、项目名），可多次")
    ] = None,
    facts_file: Annotated[
        Path | None,
        typer.Option("--facts-file", help="每行一条事实的文本文件；--whole 时每行“部分：事实”或 .yaml/.json"),
    ] = None,
    outline_only: Annotated[bool, typer.Option("--outline", help="只列整篇报告的提纲")] = False,
    whole: Annotated[bool, typer.Option("--whole", help="起草整篇报告（各部分依次起草，附结尾）")] = False,
    sections: Annotated[
        str | None,
        typer.Option(
            "--sections", help="--whole 的提纲，逗号分隔（默认 履职情况,存在问题,原因分析,下步打算）"
        ),
    ] = None,
    name: Annotated[str, typer.Option("--name", help="--whole：述职人姓名（空则留待补充）")] = "",
    length: Annotated[int, typer.Option("--length", help="大致字数")] = 400,
    variant: Annotated[str, typer.Option(help="提示词变体 prompts/draft/<variant>.yaml")] = "default",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="草稿写入 .docx（GB/T 9704 版式，附起草依据核对表）")
    ] = None,
    evidence: Annotated[
        Path | None,
        typer.Option("--evidence", help="起草依据核对表写入 .xlsx 或 .csv（每句的来源与待补充项）"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """按同类报告的结构和文风起草一个部分；没有依据的数字、人名、地名一律换成【待补充：…】。"""
    if out is not None and out.suffix.lower() != ".docx":
        _fail(f"{out}: 草稿只能写入 .docx（不是 {out.suffix or '无扩展名'}）")
    if evidence is not None and evidence.suffix.lower() not in (".xlsx", ".csv"):
        _fail(f"{evidence}: 核对表只支持 .xlsx 或 .csv（不是 {evidence.suffix or '无扩展名'}）")
    if whole:
        from rag.cli.draft_report import outline_request, run_whole

        with _user_errors():
            req = outline_request(
                role=role, year=year, topic=topic, sections=sections, facts=fact or [],
                facts_file=facts_file, length=length, name=name,
            )  # fmt: skip
            run_whole(_settings(), req, variant=variant, out=out, evidence=evidence, as_json=as_json)
        return
    from rag.drafting.section import DraftRequest, DraftResult, draft_stream, outline
    from rag.llm.factory import create_llm

    facts = list(fact or [])
    if facts_file is not None:
        try:
            facts += [
                line.strip() for line in facts_file.read_text(encoding="utf-8").splitlines() if line.strip()
            ]
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"{facts_file}: 无法读取事实文件（{exc}）— 请提供 UTF-8 文本，每行一条事实")
    settings = _settings()
    with _user_errors():
        req = DraftRequest(
            role=role, section=section, year=year, topic=topic, facts=tuple(facts), length=length
        )
        index = _open_index(settings)
        llm = create_llm(settings)
        if outline_only:
            result = outline(index, llm, req)
        else:
            result = None
            for event in draft_stream(index, llm, req, variant=variant):
                if isinstance(event, DraftResult):
                    result = event
                elif not as_json and sys.stderr.isatty():
                    typer.echo(event, nl=False, err=True)  # live preview; the guarded text follows
    assert result is not None
    if out is not None or evidence is not None:
        _export_draft(result, out, evidence)
    if as_json:
        _print_json(result.to_json())
        return
    typer.echo(result.text)
    if result.placeholders:
        typer.echo("\n待补充：")
        for p in result.placeholders:
            origin = f"（模型原写“{p['original']}”）" if p["original"] else ""
            typer.echo(f"  - {p['label']}{origin}")
    for c in result.citations:
        typer.echo(f"  [{c.n}] 参考 {c.report_title}（{c.source} {c.start}-{c.end}）：{c.quote[:60]}")
    for fact in result.facts_unused:
        typer.echo(f"  ⚠ 未用上的事实：{fact}")
    if result.length:
        n, lo, hi = result.length["chars"], result.length["min"], result.length["max"]
        note = "" if result.length["in_range"] else "（不在范围内）"
        typer.echo(f"字数 {n}，同类部分的范围 {lo}–{hi} 字{note}", err=True)
    if result.longest_copy.get("chars"):
        lc = result.longest_copy
        typer.echo(f"与单篇往年报告相同的最长一段：{lc['chars']} 字（{lc['report_title']}）", err=True)


def _export_draft(result, out: Path | None, evidence: Path | None) -> None:
    """The draft as .docx with its evidence appended, and/or the evidence table; notes on stderr."""
    from rag.cli.common import write_draft_files
    from rag.deliver.draft_evidence import from_result
    from rag.export import draft_title

    req = result.request
    title = draft_title(req.role, req.section, req.year)
    write_draft_files(title, result.text, from_result(result, title), out, evidence)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址（默认仅本机）")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 7860,
) -> None:
    """启动网页界面（起草 / 汇编摘要 / 问答 / 知识库 / 评测）和 REST API（/api，文档见 /docs）。"""
    from ui.app import serve as run_server
    from ui.auth import AuthConfigError

    settings = _settings()
    typer.echo(f"界面：http://{host}:{port}/   API 文档：http://{host}:{port}/docs", err=True)
    try:
        run_server(settings, host=host, port=port)
    except AuthConfigError as exc:
        _fail(str(exc))


@bench_app.command("ingest")
def bench_ingest_cmd(
    path: Annotated[Path, typer.Option(help="要导入的语料")] = Path("seeds"),
    repeat: Annotated[int, typer.Option(help="重复次数，取中位数")] = 3,
    ocr_pages: Annotated[int, typer.Option(help="文字识别测速的扫描页数（0 跳过）")] = 4,
    as_json: JsonOpt = False,
) -> None:
    """导入吞吐（分块/秒）与同次运行中直接调用嵌入模型的吞吐之比；
    扫描件文字识别（页/秒）与同一批页面上直接运行 tesseract 之比。"""
    from rag.bench.ingest import bench_ingest

    with _user_errors():
        figures = bench_ingest(_settings(), path, repeat=repeat, ocr_pages=ocr_pages)
    if as_json:
        _print_json(figures)
    else:
        for key, value in figures.items():
            typer.echo(f"{key:32} {value}")


@bench_app.command("soak")
def bench_soak_cmd(
    clients: Annotated[int, typer.Option(help="并发客户端数")] = 8,
    seconds: Annotated[float, typer.Option(help="持续秒数（到时自动停止）")] = 20.0,
    url: Annotated[
        str | None, typer.Option(help="已在运行的服务（仅限本机地址）；省略则临时启动一个")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """对本机 HTTP API 做有界的并发压测：请求数、错误数、p50/p95 延迟。"""
    from rag.bench.soak import SoakError, local_server, soak

    settings = _settings()
    try:
        if url:
            figures = soak(url, clients=clients, seconds=seconds)
        else:
            with local_server(settings) as local:
                figures = soak(local, clients=clients, seconds=seconds)
    except SoakError as exc:
        _fail(str(exc))
    if as_json:
        _print_json(figures)
    else:
        for key, value in figures.items():
            typer.echo(f"{key:16} {value}")


def _register_subcommands() -> None:
    """Commands that live in their own modules (summarize, check/eval, benchmarks)."""
    from rag.cli.bench import register as register_bench
    from rag.cli.doctor import register as register_doctor
    from rag.cli.eval import register as register_eval
    from rag.cli.summarize import register as register_summarize

    register_summarize(app)
    register_doctor(app)
    register_eval(app)
    register_bench(bench_app)


_register_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
