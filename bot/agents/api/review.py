"""The weekly review for agents: raise and read issues, list, add and complete to-dos, read rocks
and report their track and milestones, give this week's headline. Thin: the rules are in
store/domain/review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response

from otp_bot.bot.agents.api import review_answers as answers
from otp_bot.bot.agents.api import review_schemas as rs
from otp_bot.bot.agents.api.auth import Caller, Db
from otp_bot.bot.agents.api.idempotency import idempotency_key
from otp_bot.bot.agents.api.problems import responses
from otp_bot.store.domain.agents.request_keys import MAX_KEY
from otp_bot.store.domain.review.issues import get_issue

router = APIRouter(tags=["review"], responses=responses(401))

KeyHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=MAX_KEY)]
SeatQuery = Annotated[str | None, Query(max_length=64, description="Only this seat's.")]
Id = Annotated[int, Path(ge=1)]


def _created(response: Response, request: Request, created: bool, location: str) -> None:
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"{request.scope.get('root_path', '')}{location}"


# ---------------------------------------------------------------- issues


@router.post(
    "/issues",
    status_code=201,
    response_model=rs.Issue,
    responses={
        200: {"model": rs.Issue, "description": "Already raised with this key: the same issue"},
        **responses(400, 403, 404, 409, 413, 422),
    },
)
def raise_issue(
    body: rs.IssueIn, actor: Caller, db: Db, request: Request, response: Response, header_key: KeyHeader = None
) -> rs.Issue:
    """Raise an issue for the weekly review: it goes to the bottom of the open list, owned by
    `seat` (default: the first seat the token holds). `draft` or `message` says what it came
    from. 201 with the new issue; 200 with the same issue when its idempotency key was seen
    before with the same content (409 with other content)."""
    key = idempotency_key(body.key, header_key)
    with db.session() as session:
        raised = answers.raise_issue(
            session,
            actor,
            body.title,
            seat=body.seat,
            detail=body.detail,
            draft=body.draft,
            message=body.message,
            key=key,
        )
    _created(response, request, raised.created, f"/issues/{raised.issue.id}")
    return raised.issue


@router.get("/issues", response_model=rs.Issues, responses=responses(404, 422))
def list_issues(
    _actor: Caller,
    db: Db,
    seat: SeatQuery = None,
    status: Annotated[
        answers.IssueStatus, Query(description="`open`: open and discussed, by rank; `all`: the closed ones too.")
    ] = "open",
    limit: Annotated[int, Query(ge=1, le=answers.MAX_ISSUES, description="At most this many.")] = 100,
) -> rs.Issues:
    """The issues list: open and discussed issues by rank (1 first), of every seat or one."""
    with db.session(readonly=True) as session:
        return answers.issues(session, seat=seat, status=status, limit=limit)


@router.get("/issues/{issue_id}", response_model=rs.Issue, responses=responses(404, 422))
def show_issue(issue_id: Id, _actor: Caller, db: Db) -> rs.Issue:
    """One issue: status, rank, what it came from, the decision and the to-dos it made."""
    with db.session(readonly=True) as session:
        return rs.issue(get_issue(session, issue_id))


# ---------------------------------------------------------------- to-dos


@router.get("/todos", response_model=rs.Todos, responses=responses(404, 422))
def list_todos(
    actor: Caller,
    db: Db,
    seat: Annotated[
        str | None,
        Query(max_length=64, description="Whose: a seat (default: the seats the token holds; every seat for admin)."),
    ] = None,
    status: Annotated[answers.TodoStatus, Query(description="Which: open (default), done, dropped or all.")] = "open",
) -> rs.Todos:
    """To-dos, soonest due first, each with `overdue` when open past its due day."""
    with db.session(readonly=True) as session:
        return answers.todos(session, actor, seat=seat, status=status)


@router.post(
    "/todos",
    status_code=201,
    response_model=rs.Todo,
    responses={
        200: {"model": rs.Todo, "description": "Already added with this key: the same to-do"},
        **responses(400, 403, 404, 409, 413, 422),
    },
)
def add_todo(
    body: rs.TodoIn, actor: Caller, db: Db, request: Request, response: Response, header_key: KeyHeader = None
) -> rs.Todo:
    """Add a to-do for a seat the token's holder holds (an agent adds its own; people who
    answer for a seat add its to-dos), due in 7 days unless `due` says otherwise. 201 with
    the new to-do; 200 with the same one when its idempotency key was seen before."""
    key = idempotency_key(body.key, header_key)
    with db.session() as session:
        added = answers.add_todo(session, actor, body.text, seat=body.seat, due=body.due, issue=body.issue, key=key)
    _created(response, request, added.created, f"/todos/{added.todo.id}")
    return added.todo


@router.post("/todos/{todo_id}/complete", response_model=rs.Todo, responses=responses(403, 404, 409, 422))
def complete_todo(todo_id: Id, actor: Caller, db: Db, body: rs.CompleteIn | None = None) -> rs.Todo:
    """Mark a to-do done, with an optional `note` (its seat's holder, or those who answer for
    the seat). 409 when it is already done or dropped."""
    with db.session() as session:
        return answers.complete_todo(session, actor, todo_id, body.note if body else None)


# ---------------------------------------------------------------- rocks


@router.get("/rocks", response_model=rs.Rocks, responses=responses(404, 422))
def list_rocks(
    _actor: Caller,
    db: Db,
    seat: SeatQuery = None,
    quarter: Annotated[
        str | None,
        Query(max_length=10, description="`2026-Q4` (default: this quarter, in the org's timezone), or `all`."),
    ] = None,
) -> rs.Rocks:
    """A quarter's rocks: each seat's 1–5 priorities with due date, milestones, track, and an
    agent's proposed track waiting for its human."""
    with db.session(readonly=True) as session:
        return answers.rocks(session, seat=seat, quarter=quarter)


@router.post("/rocks/{rock_id}/track", response_model=rs.TrackSet, responses=responses(403, 404, 409, 422))
def set_track(rock_id: Id, body: rs.TrackIn, actor: Caller, db: Db) -> rs.TrackSet:
    """Report a rock on or off track. From an agent holding the seat it is a proposal
    (`proposed: true`): the track stays as it was until the seat's accountable human
    (`awaiting`) confirms it."""
    with db.session() as session:
        return answers.set_track(session, actor, rock_id, body.track)


@router.post("/rocks/{rock_id}/milestones/{n}/done", response_model=rs.Rock, responses=responses(403, 404, 409, 422))
def milestone_done(
    rock_id: Id, n: Annotated[int, Path(ge=1, description="The milestone, 1 first.")], actor: Caller, db: Db
) -> rs.Rock:
    """Mark a rock's milestone done (the seat's holder, or those who answer for it)."""
    with db.session() as session:
        return answers.milestone_done(session, actor, rock_id, n)


# ---------------------------------------------------------------- headlines


@router.put("/headlines/me", response_model=rs.Headline, responses=responses(403, 413, 422))
def put_headline(body: rs.HeadlineIn, actor: Caller, db: Db) -> rs.Headline:
    """The token's holder's one-liner for this week's review (the week in the org's timezone),
    collected before the meeting and read out in it. Putting it again replaces it."""
    with db.session() as session:
        return answers.headline(session, actor, body.text, via="api")
