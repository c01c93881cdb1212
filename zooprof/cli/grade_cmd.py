"""`zooprof grade SUBMISSIONS --assignment FILE`: a class's submissions checked, scored and ranked."""

from __future__ import annotations

import typer


def grade(
    submissions: str = typer.Argument(
        ..., help="A folder with one results .db or one folder of result files per student."
    ),
    assignment: str = typer.Option(..., "--assignment", "-a", help="The assignment file (TOML) the class ran."),
    output: str = typer.Option("grades.csv", "--output", "-o", help="The grades CSV."),
    report: str = typer.Option(
        None, "--report", help="Also write the class report (HTML): each cell across submissions."
    ),
) -> None:
    """Completeness, consistency (edited rows), sanity and class outliers per submission; a ranked CSV."""
    from pathlib import Path

    from zooprof.result.document import write_atomic
    from zooprof.sweep.grading import class_report_html, grades_csv
    from zooprof.sweep.grading import grade as run_grade
    from zooprof.sweep.matrix import load_assignment

    spec = load_assignment(assignment)
    subs = run_grade(spec, Path(submissions))
    path = write_atomic(Path(output), grades_csv(subs))
    for rank, s in enumerate(subs, start=1):
        why = "; ".join(s.tampered[:1] + s.issues[:2] + s.outliers[:1])
        typer.echo(f"{rank:>3}. {s.name}: {s.score:g} ({s.complete}/{s.required} cells)" + (f" - {why}" if why else ""))
    typer.echo(f"wrote {path}", err=True)
    if report:
        page = write_atomic(Path(report), class_report_html(spec, subs))
        typer.echo(f"wrote {page}", err=True)
