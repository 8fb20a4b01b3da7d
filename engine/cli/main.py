"""The ``restyle`` command line: stylize, styles, demo (+ serve, keys, fetch-weights, doctor)."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from ..errors import Cancelled, RestyleError
from ..progress import Progress

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class CliError(RestyleError):
    """A usage error found by the CLI itself (exit code 2)."""

    code = "bad_input"


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(message, f"see `{self.prog} --help`")


def build_parser() -> argparse.ArgumentParser:
    """The full ``restyle`` argument parser."""
    parser = ArgumentParser(prog="restyle", description="Neural style transfer for photos and paintings.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", parser_class=ArgumentParser)

    run = commands.add_parser("stylize", help="stylize an image file")
    run.add_argument("content", nargs="+", help="the image(s) to stylize; with several, -o names a folder")
    run.add_argument("-s", "--style", action="append", metavar="IMG|preset:NAME",
                     help="a style image or preset:NAME; repeat to blend several")
    run.add_argument("--weights", type=_float_list, help="blend weights, one per --style, e.g. 0.7,0.3")
    run.add_argument("--method", choices=["arbitrary", "preset", "optimize"],
                     help="default: preset for presets, arbitrary for style images")
    run.add_argument("--strength", type=float, default=1.0, help="0..1 (default 1)")
    run.add_argument("--preserve-colors", nargs="?", const="luminance", default="off",
                     choices=["off", "luminance", "histogram"], help="keep the content's colours (default luminance)")
    run.add_argument("--style-scale", type=_style_scale, default=1.0, metavar="SCALE|auto",
                     help="stroke size: >1 bigger, <1 finer (0.25..8); auto: the strokes of a 1024 px picture "
                          "at any size (default 1)")
    run.add_argument("--detail", type=float, metavar="0..1",
                     help="above style scale 1: how sharp the big strokes' edges are, 0 (soft, faster) to 1 (default)")
    run.add_argument("--mask", help="stylize only where this mask is white (grayscale image, or its alpha)")
    run.add_argument("--feather", type=float, default=0.0, metavar="PX", help="soften the mask edge by PX pixels")
    run.add_argument("--invert-mask", action="store_true", help="stylize where the mask is black")
    run.add_argument("--region", action="append", nargs="+", metavar="ARG", default=[],
                     help="--region MASK STYLE [STRENGTH]: stylize where MASK is white with STYLE (image or "
                          "preset:NAME) at STRENGTH (default 1); "
                          "repeat for several regions (instead of --style/--mask; --feather and --invert-mask apply to each)")
    run.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                     help="method-specific option, e.g. --option iterations=300 (optimize)")
    run.add_argument("--device", default="auto", help="auto, cpu or cuda")
    run.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    run.add_argument("--seed", type=int, default=0, help="random seed (optimize method)")
    run.add_argument("--engine", metavar="ENDPOINT", help="run on a running engine (`restyle serve`), e.g. tcp://127.0.0.1:5555")
    _add_output_args(run)
    run.add_argument("--strip-metadata", action="store_true",
                     help="write no EXIF, XMP or resolution (the colour profile stays: without it colours change)")
    run.set_defaults(handler=cmd_stylize)

    styles = commands.add_parser("styles", help="list the built-in preset styles")
    styles.add_argument("--sheet", metavar="OUT.png", help="render a contact sheet of every preset")
    styles.add_argument("--photo", help="photo for the contact sheet (default: the bundled sample)")
    styles.add_argument("--json", action="store_true", help="print JSON")
    styles.add_argument("--overwrite", action="store_true", help="replace an existing sheet")
    styles.set_defaults(handler=cmd_styles)

    demo = commands.add_parser("demo", help="stylize the bundled sample photo with a preset")
    demo.add_argument("--style", default="preset:blue-swirl", help="default preset:blue-swirl")
    _add_output_args(demo, default_output="restyle-demo.png")
    demo.set_defaults(handler=cmd_demo)

    doctor = commands.add_parser("doctor", help="check the installation and say what to fix")
    doctor.set_defaults(handler=cmd_doctor)

    for module in ("engine.server.serve", "engine.cli.weights"):
        _optional_commands(module, commands)
    return parser


def _optional_commands(module: str, commands: Any) -> None:
    import importlib

    try:
        importlib.import_module(module).add_commands(commands)
    except ImportError:
        pass


def _add_output_args(parser: argparse.ArgumentParser, default_output: Optional[str] = None) -> None:
    parser.add_argument("-o", "--output", default=default_output, help="output file (.png, .jpg, .webp, .tif)")
    parser.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    parser.add_argument("--json", action="store_true", help="print a JSON summary instead of text")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _float_list(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, got {text!r}") from None


def _style_scale(text: str):
    """``--style-scale``: "auto" or a number."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or auto, got {text!r}") from None


def _options(pairs: Sequence[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CliError(f"--option {pair!r} is not KEY=VALUE", "e.g. --option iterations=300")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


def _default_output(content: str, styles: Sequence[str]) -> str:
    first = styles[0]
    label = first.split(":", 1)[1] if first.startswith("preset:") else Path(first).stem
    return f"{Path(content).stem}_{label}.png"


class ProgressBar:
    """A one-line progress bar on stderr (only drawn on a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.drawn = False

    def __call__(self, report: Progress) -> None:
        if not self.enabled or report.total <= 1 and report.done >= report.total:
            return
        width = 30
        filled = int(width * report.done / max(1, report.total))
        eta = f" {report.eta_s:5.1f}s left" if report.eta_s is not None and report.done < report.total else ""
        sys.stderr.write(f"\r{report.stage:>9} [{'#' * filled}{'.' * (width - filled)}] {report.done}/{report.total}{eta}  ")
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")


def cmd_stylize(args: argparse.Namespace) -> int:
    """``restyle stylize``: one image, or several with the same settings (the nets stay loaded)."""
    from ..imaging.photo import read_photo
    from .output_check import check_outputs, make_folders

    region_args = [_region_arg(values) for values in args.region]
    _check_style_arguments(args, bool(region_args))
    styles = args.style or [style for _, style, _ in region_args]
    jobs = output_paths(args.content, args.output, styles)
    check_outputs([out for _, out in jobs], args.overwrite)
    request = _stylize_request(args, region_args)
    failed = 0
    with contextlib.ExitStack() as stack:
        if args.engine:
            from .remote import RemoteStylizer

            run = stack.enter_context(RemoteStylizer(args.engine, args.style, request))
        else:
            run = _local_runner(args, request)
        make_folders([out for _, out in jobs])
        for content, output in jobs:
            started = time.perf_counter()
            try:
                photo = read_photo(content)
                result, device = run(photo.working)
                _write_result(args, content, output, result, started, device, photo)
            except RestyleError as exc:
                if len(jobs) == 1:
                    raise
                failed += 1
                print(f"restyle: error: {content}: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""), file=sys.stderr)
    if failed:
        print(f"restyle: {failed} of {len(jobs)} images failed; the others were written", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _stylize_request(args: argparse.Namespace, region_args: Sequence[tuple[str, str, float]]) -> dict[str, Any]:
    """The keyword arguments of ``Stylizer.stylize`` (less content, style, seed, progress) from the options."""
    options = _options(args.option)
    request = dict(
        weights=args.weights, method=args.method, strength=args.strength,
        preserve_colors=False if args.preserve_colors == "off" else args.preserve_colors,
        style_scale=args.style_scale, mask=_read_mask(args.mask) if args.mask else None, feather=args.feather,
        invert_mask=args.invert_mask, options=options or None,
    )
    if args.detail is not None:  # left out, the engine's default; an older engine is not asked for it
        request["detail"] = args.detail
    if not region_args:
        return request
    from ..stylizer import Region

    regions = [Region(_read_mask(path), style, None, strength, args.feather, args.invert_mask)
               for path, style, strength in region_args]
    return dict(request, mask=None, weights=None, strength=1.0, feather=0.0, invert_mask=False, regions=regions)


def output_paths(contents: Sequence[str], output: Optional[str], styles: Sequence[str]) -> list[tuple[str, str]]:
    """(input, output file) pairs: ``output`` is the file for one input (or a folder: an existing one,
    or a path ending in a separator), the folder for several."""
    names_folder = output is not None and (Path(output).is_dir() or output.endswith(("/", os.sep)))
    if len(contents) == 1 and not names_folder:
        return [(contents[0], output or _default_output(contents[0], styles))]
    folder = Path(output or ".")
    if folder.exists() and not folder.is_dir():
        raise CliError(f"{folder} is a file; with {len(contents)} images -o names a folder", "give a folder with -o")
    pairs = [(content, str(folder / _default_output(content, styles))) for content in contents]
    seen: dict[str, str] = {}
    for content, out in pairs:
        if out in seen:
            raise CliError(f"{seen[out]} and {content} would both be written to {out}", "give the images different names")
        seen[out] = content
    return pairs


def _local_runner(args: argparse.Namespace, request: dict[str, Any]) -> Callable[[Any], tuple[Any, str]]:
    from ..stylizer import Stylizer

    stylizer = Stylizer(device=args.device, threads=args.threads)

    def run(pixels: Any) -> tuple[Any, str]:
        bar = ProgressBar(not (args.quiet or args.json))
        try:
            return stylizer.stylize(pixels, args.style, seed=args.seed, progress=bar, **request), str(stylizer.device)
        finally:
            bar.close()

    return run


def _region_arg(values: Sequence[str]) -> tuple[str, str, float]:
    """(mask path, style, strength) of one ``--region MASK STYLE [STRENGTH]``."""
    if len(values) not in (2, 3):
        raise CliError(f"--region takes MASK STYLE [STRENGTH], got {len(values)} value(s): {' '.join(values)}",
                       "e.g. --region sky.png preset:frost 0.8; put the images to stylize before --region")
    try:
        strength = float(values[2]) if len(values) == 3 else 1.0
    except ValueError:
        raise CliError(f"--region strength must be a number, got {values[2]!r}",
                       "e.g. --region sky.png preset:frost 0.8; put the images to stylize before --region") from None
    return values[0], values[1], strength


def _check_style_arguments(args: argparse.Namespace, with_regions: bool) -> None:
    """Either --style (with an optional --mask and --weights) or --region."""
    if not with_regions:
        if not args.style:
            raise CliError("no style given: pass --style IMG|preset:NAME", "or --region MASK STYLE for region-wise styles")
        return
    clashes = [flag for flag, given in (("--style", args.style), ("--mask", args.mask), ("--weights", args.weights)) if given]
    if clashes:
        raise CliError(f"--region replaces {', '.join(clashes)}", "give each region its own style: --region MASK STYLE [STRENGTH]")


def _read_mask(path: str):
    from ..imaging.io import read_image

    pixels = read_image(path)
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        return pixels.mean(axis=2).astype("float32") / (65535.0 if pixels.dtype.itemsize == 2 else 255.0)
    return pixels


def _write_result(args: argparse.Namespace, source: str, output: str, result, started: float, device: str,
                  photo: Any) -> int:
    from ..imaging.photo import write_photo

    notes = write_photo(output, result, photo, overwrite=args.overwrite,
                        strip_metadata=getattr(args, "strip_metadata", False))
    seconds = time.perf_counter() - started
    summary = {
        "input": source,
        "output": output,
        "size": [int(result.shape[1]), int(result.shape[0])],
        "styles": _summary_styles(args),
        "method": getattr(args, "method", None) or "auto",
        "device": device,
        "seconds": round(seconds, 3),
        "notes": notes,
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{summary['input']} -> {output}  ({result.shape[1]}x{result.shape[0]}, {seconds:.2f}s on {device})")
        for note in notes:
            print(f"restyle: note: {output}: {note}", file=sys.stderr)
    return EXIT_OK


def _summary_styles(args: argparse.Namespace) -> list[str]:
    if getattr(args, "region", None):
        return [values[1] for values in args.region]
    return list(args.style) if isinstance(args.style, list) else [args.style]


def cmd_demo(args: argparse.Namespace) -> int:
    """``restyle demo``: the bundled photo, stylized with a preset."""
    from ..imaging.metadata import ImageMetadata
    from ..imaging.photo import Photo
    from .output_check import check_output
    from ..samples import SAMPLE_CREDIT, sample_photo
    from ..stylizer import Stylizer

    check_output(args.output, args.overwrite)
    started = time.perf_counter()
    stylizer = Stylizer()
    photo = Photo(sample_photo(), ImageMetadata())
    result = stylizer.stylize(photo.working, args.style)
    if not args.json:
        print(f"sample photo: {SAMPLE_CREDIT}")
    return _write_result(args, "astronaut.jpg (bundled)", args.output, result, started, str(stylizer.device), photo)


def cmd_styles(args: argparse.Namespace) -> int:
    """``restyle styles``: list presets, or render a contact sheet."""
    from ..nets.presets import PRESETS

    if args.sheet:
        from .contact_sheet import preset_sheet
        from ..imaging.io import read_image, write_image
        from .output_check import check_output

        check_output(args.sheet, args.overwrite)
        photo = read_image(args.photo) if args.photo else None
        write_image(args.sheet, preset_sheet(photo), overwrite=args.overwrite)
        print(f"contact sheet of {len(PRESETS)} presets -> {args.sheet}")
    elif args.json:
        print(json.dumps([{"index": p.index, "name": p.name, "label": p.label} for p in PRESETS]))
    else:
        for p in PRESETS:
            print(f"{p.index:2d}  preset:{p.name}")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """``restyle doctor``: check each part of the installation and say what to fix."""
    from .doctor import run_checks

    problems = 0
    for check in run_checks():
        mark = "ok " if check.ok else "FAIL"
        print(f"[{mark}] {check.name}: {check.detail}")
        problems += not check.ok
    return EXIT_OK if problems == 0 else EXIT_FAILED


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``restyle`` command; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.version:
            from .. import __version__

            print(f"restyle {__version__}")
            return EXIT_OK
        handler = getattr(args, "handler", None) or getattr(args, "func", None)
        if handler is None:
            parser.print_help()
            return EXIT_BAD_INPUT
        return int(handler(args) or 0)
    except Cancelled:
        print("restyle: cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print("\nrestyle: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except RestyleError as exc:
        print(f"restyle: error: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""), file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # a bug: one line, a pointer, the traceback only on request
        if os.environ.get("RESTYLE_DEBUG"):
            raise
        print(f"restyle: internal error: {type(exc).__name__}: {exc} (rerun with RESTYLE_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_FAILED

