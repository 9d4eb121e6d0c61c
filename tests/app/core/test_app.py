"""The application object: Flask asking once per function whether it is a coroutine."""

import gc

from flask import after_this_request

from survey_app.core.security import public


def test_plain_functions_are_known_once_and_one_request_s_functions_are_not_kept(app, client):
    def hook():
        return None

    assert app.ensure_sync(hook) is hook and hook in app._synchronous
    assert app.ensure_sync(hook) is hook

    @app.get("/test-after-this-request")
    @public
    def with_a_function_of_its_own():
        @after_this_request
        def stamp(response):
            response.headers["X-Stamped"] = "1"
            return response

        return "ok"

    assert client.get("/test-after-this-request").headers["X-Stamped"] == "1"
    gc.collect()
    known = len(app._synchronous)  # the hooks, the view
    for _ in range(5):
        assert client.get("/test-after-this-request").headers["X-Stamped"] == "1"
    gc.collect()
    # each request's own function went with its request
    assert len(app._synchronous) == known


def test_a_hook_no_weak_reference_can_name_is_asked_about_each_time(app):
    import operator

    first = operator.itemgetter(0)  # a builtin callable: no weak reference to it
    assert app.ensure_sync(first) is first
    assert app.ensure_sync(first) is first
    assert app.ensure_sync(str.upper) is str.upper
