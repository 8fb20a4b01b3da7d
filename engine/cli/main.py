"""The ``restyle`` command line: stylize, styles, demo (+ serve, keys, fetch-weights, doctor)."""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
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
    run.add_argument("--threads", type=int,
                     help="CPU threads (default: all cores); with --ray, each worker's (default: its share of the smallest node)")
    run.add_argument("--seed", type=int, default=0, help="random seed (optimize method)")
    run.add_argument("--engine", metavar="ENDPOINT", help="run on a running engine (`restyle serve`), e.g. tcp://127.0.0.1:5555")
    run.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                     help="run the images on Ray workers: a Ray started here, or the cluster at ADDRESS (or RAY_ADDRESS); "
                          "needs pip install 'restyle[ray]' and paths every node can reach")
    run.add_argument("--ray-workers", type=int, metavar="N",
                     help="with --ray: workers, each with a warm Stylizer (default: one per GPU, else one per node)")
    run.add_argument("--ray-gpus-per-worker", type=float, metavar="G",
                     help="with --ray: GPUs each worker reserves (default 1 when the cluster has GPUs, else 0)")
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
        """End the bar's line, if one was drawn."""
        if self.drawn:
            sys.stderr.write("\n")
            self.drawn = False

    def clear(self) -> None:
        """Wipe the bar's line, so that a line printed next starts at its beginning."""
        if self.drawn:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.drawn = False


def cmd_stylize(args: argparse.Namespace) -> int:
    """``restyle stylize``: one image, or several with the same settings (the nets stay loaded), here or on Ray."""
    from ..outputs import check_outputs, output_paths

    region_args = [_region_arg(values) for values in args.region]
    _check_style_arguments(args, bool(region_args))
    _check_ray_arguments(args)
    if args.ray is not None:  # stylize_files names and checks the outputs itself, before it touches Ray
        from .ray_run import stylize_on_ray

        outcomes = stylize_on_ray(args, _stylize_request(args, region_args), lambda outcome: _report(args, outcome))
    else:
        styles = args.style or [style for _, style, _ in region_args]
        jobs = output_paths(args.content, args.output, styles)
        check_outputs([out for _, out in jobs], args.overwrite)
        outcomes = _stylize_here(args, jobs, _stylize_request(args, region_args))
    failed = sum(outcome.failed for outcome in outcomes)
    if failed:
        others = "; the others were written" if len(outcomes) > 1 else ""
        print(f"restyle: {failed} of {len(outcomes)} images failed{others}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _stylize_here(args: argparse.Namespace, jobs: Sequence[tuple[str, str]], request: dict[str, Any]) -> list:
    """Stylize ``jobs`` one after the other in this process (or on ``--engine``); their outcomes, each reported."""
    from ..batch import FileOutcome, stylize_file
    from ..outputs import make_folders

    outcomes = []
    bar = ProgressBar(not (args.quiet or args.json))
    with contextlib.ExitStack() as stack:
        if args.engine:
            from .remote import RemoteStylizer

            run = stack.enter_context(RemoteStylizer(args.engine, args.style, request))
        else:
            run = _local_runner(args, request, bar)
        make_folders([out for _, out in jobs])
        for content, output in jobs:
            try:
                outcome = stylize_file(run, content, output, args.overwrite, args.strip_metadata)
            except RestyleError as exc:
                if len(jobs) == 1:
                    raise
                outcome = FileOutcome.failure(content, output, exc)
            finally:
                bar.close()
            _report(args, outcome)
            outcomes.append(outcome)
    return outcomes


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


def _local_runner(args: argparse.Namespace, request: dict[str, Any], bar: ProgressBar) -> Callable[[Any], tuple[Any, str]]:
    from ..batch import stylizer_runner
    from ..stylizer import Stylizer

    return stylizer_runner(Stylizer(device=args.device, threads=args.threads), args.style, seed=args.seed,
                           progress=bar, **request)


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


def _check_ray_arguments(args: argparse.Namespace) -> None:
    """--ray-workers and --ray-gpus-per-worker go with --ray, which does not go with --engine."""
    if args.ray is None:
        given = [flag for flag, value in (("--ray-workers", args.ray_workers), ("--ray-gpus-per-worker",
                 args.ray_gpus_per_worker)) if value is not None]
        if given:
            raise CliError(f"{', '.join(given)} needs --ray", "add --ray (a Ray here) or --ray ADDRESS (a cluster)")
    elif args.engine:
        raise CliError("--ray and --engine both say where to run", "choose one")
    else:
        from .ray_run import ray_address

        ray_address(args.ray)


def _read_mask(path: str):
    from ..imaging.io import read_image

    pixels = read_image(path)
    if pixels.ndim == 3 and pixels.shape[2] == 3:
        return pixels.mean(axis=2).astype("float32") / (65535.0 if pixels.dtype.itemsize == 2 else 255.0)
    return pixels


def _report(args: argparse.Namespace, outcome: Any) -> None:
    """Print what one file gave: a summary line (JSON with ``--json``) and its notes, or its error."""
    if outcome.failed:
        print(f"restyle: error: {outcome.source}: {outcome.error}" + (f" ({outcome.hint})" if outcome.hint else ""),
              file=sys.stderr)
        return
    width, height = outcome.size
    summary = {
        "input": outcome.source,
        "output": outcome.output,
        "size": [width, height],
        "styles": _summary_styles(args),
        "method": getattr(args, "method", None) or "auto",
        "device": outcome.device,
        "seconds": round(outcome.seconds, 3),
        "notes": list(outcome.notes),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{outcome.source} -> {outcome.output}  ({width}x{height}, {outcome.seconds:.2f}s on {outcome.device})")
        for note in outcome.notes:
            print(f"restyle: note: {outcome.output}: {note}", file=sys.stderr)


def _summary_styles(args: argparse.Namespace) -> list[str]:
    if getattr(args, "region", None):
        return [values[1] for values in args.region]
    return list(args.style) if isinstance(args.style, list) else [args.style]


def cmd_demo(args: argparse.Namespace) -> int:
    """``restyle demo``: the bundled photo, stylized with a preset."""
    from ..batch import write_result
    from ..imaging.metadata import ImageMetadata
    from ..imaging.photo import Photo
    from ..outputs import check_output
    from ..samples import SAMPLE_CREDIT, sample_photo
    from ..stylizer import Stylizer

    check_output(args.output, args.overwrite)
    started = time.perf_counter()
    stylizer = Stylizer()
    photo = Photo(sample_photo(), ImageMetadata())
    result = stylizer.stylize(photo.working, args.style)
    if not args.json:
        print(f"sample photo: {SAMPLE_CREDIT}")
    _report(args, write_result("astronaut.jpg (bundled)", args.output, result, photo, str(stylizer.device), started,
                               args.overwrite))
    return EXIT_OK


def cmd_styles(args: argparse.Namespace) -> int:
    """``restyle styles``: list presets, or render a contact sheet."""
    from ..nets.presets import PRESETS

    if args.sheet:
        from .contact_sheet import preset_sheet
        from ..imaging.io import read_image, write_image
        from ..outputs import check_output

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

