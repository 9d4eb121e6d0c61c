"""One blueprint per area; URL rules and thin handlers that call the services."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from survey_app.views import (
        api,
        audit,
        auth,
        errors,
        experts,
        fieldwork,
        frameworks,
        main,
        privacy,
        questionnaires,
        respond,
        results,
        rounds,
        sampling,
        scoring,
        targets,
        units,
        users,
    )

    for module in (
        main,
        auth,
        frameworks,
        units,
        rounds,
        sampling,
        questionnaires,
        fieldwork,
        experts,
        scoring,
        targets,
        results,
        users,
        audit,
        privacy,
        api,
        respond,
    ):
        app.register_blueprint(module.blueprint)
    app.register_blueprint(fieldwork.api_keys)
    app.register_blueprint(sampling.weighting)
    app.register_blueprint(experts.expert_side)
    errors.init_app(app)
