"""Languages: Vietnamese by default, English second; and the translated text of the codes the domain
packages and services raise (they never carry translated text themselves)."""

from __future__ import annotations

import math
import os
from datetime import timedelta

from flask import after_this_request, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, gettext

from analysis import EstimationError
from questionnaires import Issue
from survey_app.core.errors import ServiceError
from survey_app.core.labels import LABELS
from survey_app.core.messages import (
    ANSWER_MESSAGES,
    ESTIMATION_MESSAGES,
    EXPERT_ANSWER_MESSAGES,
    ISSUE_MESSAGES,
    ROW_MESSAGES,
    SAMPLING_MESSAGES,
    SCORING_REASONS,
    SERVICE_MESSAGES,
)

LANGUAGE_KEY = "lang"
#: the cookie that keeps a visitor's language without opening a session: the public pages stay the same for
#: everyone reading in one language, and the shipped nginx keys its cache on it (deploy/nginx/dti-proxy.conf)
LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_AGE = timedelta(days=365)


def select_locale() -> str:
    """The language of the address (``?lang=``), else the visitor's chosen one; for commands, the DTI_LANGUAGE
    environment variable; else Vietnamese."""
    if not has_request_context():
        return _known(os.environ.get("DTI_LANGUAGE"))
    requested = request.args.get(LANGUAGE_KEY)
    return requested if requested in current_app.config["LANGUAGES"] else _kept_language()


def _known(chosen: str | None) -> str:
    return chosen if chosen in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


def _kept_language() -> str:
    """The language the visitor chose before: in their session (which a login keeps), else in their language
    cookie, else Vietnamese."""
    for chosen in (session.get(LANGUAGE_KEY), request.cookies.get(LANGUAGE_COOKIE)):
        if chosen in current_app.config["LANGUAGES"]:
            return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def remember_language(code: str) -> None:
    """Keep ``code`` as the visitor's language: in the language cookie, and in the session when the visitor has one.
    Nothing is written when it is theirs already, so that opening a link in one's own language leaves the page
    the same as everyone's (cacheable); a session is never opened for it."""
    if code not in current_app.config["LANGUAGES"] or code == _kept_language():
        return
    if current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
        session[LANGUAGE_KEY] = code

    @after_this_request
    def keep(response):
        response.set_cookie(
            LANGUAGE_COOKIE,
            code,
            max_age=LANGUAGE_COOKIE_AGE,
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
        return response


def current_language() -> str:
    return select_locale()


def describe_answer_problem(problem, question) -> str:
    """Why an answer was refused, for the field it belongs to; a range names its bounds."""
    code = str(problem)
    if code in ("below_minimum", "above_maximum"):
        low, high = question.bounds()
        if low is not None and high is not None:
            return gettext("Enter a number from %(low)s to %(high)s.", low=_display(low), high=_display(high))
        if low is not None:
            return gettext("Enter a number of at least %(low)s.", low=_display(low))
        return gettext("Enter a number of at most %(high)s.", high=_display(high))
    if code == "exclusive_choice":
        language = current_language()
        choice = " / ".join(c.label.in_language(language) for c in question.all_choices() if c.exclusive)
        return gettext("“%(choice)s” cannot be chosen together with another answer.", choice=choice)
    return gettext(ANSWER_MESSAGES[code]) if code in ANSWER_MESSAGES else code


def describe_answer_problems(problems, questions) -> dict[str, str]:
    """The message of every refused answer, by question code."""
    by_code = {question.code: question for question in questions}
    return {code: describe_answer_problem(problem, by_code[code]) for code, problem in problems.items()}


def describe_expert_problem(problem) -> str:
    code = str(problem)
    return gettext(EXPERT_ANSWER_MESSAGES[code]) if code in EXPERT_ANSWER_MESSAGES else code


def describe_refusal(error) -> list[str]:
    """A refused operation's message, followed by one line per refused row when it names rows."""
    if error.code == "rows_rejected":
        return [describe_error(error)] + [describe_row_problem(row) for row in error.params["rows"]]
    return [describe_error(error)]


def describe_row_problem(problem) -> str:
    """One refused row of an upload: its line and the reason."""
    message = ROW_MESSAGES.get(problem.code)
    reason = gettext(message, **{k: _display(v) for k, v in problem.params.items()}) if message else problem.code
    return gettext("Row %(row)s: %(reason)s", row=problem.line, reason=reason)


def describe_sampling_error(error) -> str:
    """A sampling or analysis library error in the current language; codes without a message fall back to its
    text."""
    messages = ESTIMATION_MESSAGES if isinstance(error, EstimationError) else SAMPLING_MESSAGES
    message = messages.get(error.code)
    if message is None:
        return str(error)
    return gettext(message, **{key: _display(value) for key, value in error.params.items()})


def _display(value):
    if isinstance(value, tuple):  # a stratum's values
        return " × ".join(str(part) for part in value)
    if isinstance(value, list):  # codes named together
        return ", ".join(str(part) for part in value)
    if isinstance(value, float):
        return format_decimal(value, format="#,##0.######")
    return value


def describe_issue(issue: Issue) -> str:
    """An issue of a framework file in the current language, naming the node, and in a workbook the sheet
    and row it stands on."""
    params = {key: _display(value) for key, value in issue.params.items()}
    for key in ("child_kind", "parent_kind", "method"):
        if key in params:
            params[key] = label(params[key])
    reason = params.get("reason")
    if reason in SCORING_REASONS:
        params["reason"] = gettext(SCORING_REASONS[reason])
    text = gettext(ISSUE_MESSAGES[issue.code], **params) if issue.code in ISSUE_MESSAGES else str(issue)
    if issue.node:
        text = gettext("Node %(node)s: %(problem)s", node=issue.node, problem=text)
    else:
        text = gettext("Framework: %(problem)s", problem=text)
    if issue.sheet is None:
        return text
    return gettext("Sheet “%(sheet)s”, row %(row)s: %(problem)s", sheet=issue.sheet, row=issue.row, problem=text)


def describe_error(error: ServiceError) -> str:
    message = SERVICE_MESSAGES.get(error.code)
    if message is None:
        return error.code
    params = {key: _display(value) for key, value in error.params.items()}
    for key in ("category", "status"):  # domain values named in a message, in the reader's words
        if key in params:
            params[key] = label(params[key])
    return gettext(message, **params)


def language_links() -> list[tuple[str, str]]:
    """The languages offered on every page, each named in itself."""
    return [("vi", "Tiếng Việt"), ("en", "English")]


def request_language_from_query() -> None:
    """Let ``?lang=en`` in any address switch the language, so a shared link opens in its language and the
    pages after it follow."""
    if not request.query_string:
        return  # most requests have none, and need not parse it
    requested = request.args.get(LANGUAGE_KEY)
    if requested in current_app.config["LANGUAGES"]:
        remember_language(requested)


def label(value) -> str:
    """The translated interface name of a domain value, or the value itself when it has none."""
    key = str(value)
    return gettext(LABELS[key]) if key in LABELS else key


def question_name(code: str, questionnaire) -> str:
    """A question's wording in the current language, for pages that name questions by their code (quota
    dimensions, weighting margins); the code itself when the questionnaire has no such question."""
    for question in questionnaire.questions():
        if question.code == code:
            return question.text.in_language(current_language())
    return code


def moment(value) -> str:
    """A date and time in the service's time zone (Hanoi), as the current language writes it."""
    return format_datetime(value, "short") if value is not None else ""


def day(value) -> str:
    """A date as the current language writes it in full (5 tháng 12, 2026)."""
    return format_date(value, "long") if value is not None else ""


def fixed(value, digits: int = 4, signed: bool = False) -> str:
    """A value with a fixed number of decimals (index values are published with four), in the current
    language's notation; with ``signed``, a + before a positive value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0")
    return "+" + text if signed and value > 0 else text


def number(value) -> str:
    """A number as the current language writes it (1.000,5 in Vietnamese, 1,000.5 in English)."""
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return "—"
    return format_decimal(value, format="#,##0.####")
