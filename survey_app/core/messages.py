"""The interface's words for the codes the domain packages and services raise (they never carry translated
text themselves), and for the values they name: a table per kind of code, each message marked for the catalogues
here and translated where it is shown (``survey_app.core.i18n``)."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a message for the catalogues where it is defined; it is translated where it is shown."""
    return message


ISSUE_MESSAGES = {
    "missing_field": N_("field “%(field)s” is missing"),
    "invalid_value": N_("field “%(field)s” has an invalid value: %(value)s"),
    "duplicate_code": N_("the code is used by more than one node"),
    "parent_loop": N_("the parent code “%(parent)s” leads back to this node"),
    "bad_nesting": N_("a node of kind %(child_kind)s cannot stand under a node of kind %(parent_kind)s"),
    "criterion_with_children": N_("a criterion cannot have children"),
    "negative_points": N_("points cannot be negative (%(points)s)"),
    "unscored_with_points": N_("a node collected but not scored carries no points (%(points)s)"),
    "points_mismatch": N_("the children's points add up to %(actual)s, expected %(expected)s"),
    "total_mismatch": N_("the top-level points add up to %(actual)s, expected %(expected)s"),
    "share_mismatch": N_("a share of %(share)s of %(parent_points)s is %(expected)s points, the node has %(actual)s"),
    "channel_shares_total": N_("the channel shares add up to %(total)s, expected 1"),
    "missing_channel": N_("a scored leaf names no channel that measures it"),
    "missing_scoring": N_("a scored leaf names no scoring method"),
    "survey_without_groups": N_("the survey channel names no respondent group"),
    "survey_scoring_without_survey": N_("survey scoring on a node the survey does not measure"),
    "scoring_invalid": N_("scoring method “%(method)s” is incomplete: %(reason)s"),
    "step_above_maximum": N_("a threshold step gives %(step_points)s points, above the node's %(points)s"),
    "view_unknown_node": N_("the pillar view includes an unknown node “%(included)s”"),
    "view_points_mismatch": N_("the pillar view's nodes add up to %(actual)s, expected %(expected)s"),
    "year_range": N_("the last year %(last_year)s is before the first year %(year)s"),
}


#: what the one reader of uploaded tables (questionnaires.tables) refuses, whichever upload it reads
TABLE_MESSAGES = {
    "not_utf8": N_("Row %(row)s is not UTF-8 text: save the file as “CSV UTF-8” and upload it again."),
    "unreadable_row": N_("Row %(row)s cannot be read: check its quotation marks."),
    "extra_cells": N_(
        "Row %(row)s has %(cells)s cells but the header has %(columns)s columns: put a value "
        "that holds the separator in quotation marks, or separate the cells with “;”."
    ),
    "duplicate_column": N_("The column “%(column)s” appears twice in the header."),
}


SERVICE_MESSAGES = {
    **TABLE_MESSAGES,
    "round_published": N_("The round's results are published: its inputs can no longer change."),
    "points_out_of_range": N_("The points must be between 0 and %(maximum)s."),
    "unknown_criterion": N_("Unknown criterion %(criterion)s."),
    "unknown_rule": N_("Unknown rule %(rule)s."),
    "unknown_normalisation": N_("Unknown normalisation %(method)s."),
    "unknown_exclusion_reading": N_("Unknown reading of an exclusion: %(reading)s."),
    "unit_list_code_taken": N_("A unit list with the code %(code)s already exists."),
    "unknown_unit_level": N_("Unknown level %(level)s."),
    "invalid_years": N_("The last year (%(last)s) comes before the first (%(first)s)."),
    "missing_columns": N_("The file has no column %(columns)s."),
    "empty_unit_list": N_("The file lists no unit."),
    "not_self_assessed": N_("Criterion %(criterion)s is not self-assessed."),
    "missing_value": N_("Enter a value."),
    "invalid_value": N_("“%(value)s” is not a valid value for %(criterion)s."),
    "negative_value": N_("The value cannot be negative."),
    "no_evidence": N_("Give an evidence reference or a written explanation."),
    "text_too_long": N_("The text is too long."),
    "invalid_year": N_("The year must be between %(low)s and %(high)s."),
    "invalid_quarter": N_("The quarter must be 1, 2, 3 or 4."),
    "invalid_number": N_("“%(value)s” is not a number."),
    "target_out_of_range": N_("The value must be between 0 and %(high)s."),
    "unknown_margin": N_("The questionnaire asks no question %(margin)s to weight by."),
    "unknown_weighting_method": N_("Unknown weighting method %(method)s."),
    "no_responses": N_("There is no response to weight yet."),
    "margin_unanswered": N_(
        "%(count)s responses have no answer to %(margin)s: leave it out of the margins or exclude those responses."
    ),
    "invalid_email": N_("“%(email)s” is not a valid e-mail address."),
    "unknown_role": N_("Unknown role “%(role)s”."),
    "weak_password": N_("The password must have at least %(minimum)s characters."),
    "email_taken": N_("An account with the e-mail %(email)s already exists."),
    "own_role": N_("You cannot remove your own administrator role."),
    "own_account": N_("You cannot deactivate your own account."),
    "framework_frozen": N_("Framework %(code)s %(year)s version %(version)s is already frozen."),
    "round_code_taken": N_("A round with the code %(code)s already exists."),
    "level_mismatch": N_("The framework is for the level %(framework)s but the unit list is for %(units)s."),
    "year_outside_framework": N_("The framework serves the years %(first)s to %(last)s, not %(year)s."),
    "coverage_gaps": N_("These survey criteria have no question for the group: %(criteria)s."),
    "empty_questionnaire": N_("The framework asks the group %(group)s nothing in the survey."),
    "fieldwork_code_taken": N_("Fieldwork with the code %(code)s already exists."),
    "no_units": N_("Choose at least one unit."),
    "bad_quota_dimension": N_("“%(dimension)s” is not a choice question of the questionnaire."),
    "no_quota_dimensions": N_("This fieldwork has no quota dimensions."),
    "rows_rejected": N_("Nothing was stored: some rows have errors."),
    "empty_file": N_("The file has no rows."),
    "unreadable_file": N_("The file cannot be read as %(kind)s."),
    "missing_column": N_("The file has no column “%(column)s”."),
    "not_invitation_mode": N_("This fieldwork uses an open link, not invitations."),
    "invitation_already_used": N_("This invitation has already been used to answer."),
    "unknown_link": N_("This link is not valid. Check that it was copied whole."),
    "link_used": N_("This link has already been used to send an answer. Thank you for taking part."),
    "link_revoked": N_("This link has been withdrawn and can no longer be used."),
    "fieldwork_closed": N_("This survey is closed."),
    "unit_not_in_fieldwork": N_("The unit %(unit)s is not part of this survey."),
    "bad_submission_id": N_("The submission has no valid identifier."),
    "api_key_revoked": N_("This API key has been revoked."),
    "fieldwork_gone": N_("This fieldwork no longer exists."),
    "api_key_not_for_fieldwork": N_("This API key was not issued for the fieldwork %(fieldwork)s."),
    "api_key_without_fieldwork": N_("Choose at least one fieldwork."),
    "exclusions_undecided": N_(
        "Not published: no decision on the criteria proposed for exclusion %(criteria)s. "
        "Compute a run that excludes or keeps each of them, then publish that run."
    ),
    "excluded_and_kept": N_("%(criterion)s cannot be both excluded and kept."),
    "invalid_answers": N_("Some answers are missing or not valid."),
    "submission_conflict": N_("Another answer was already sent under this submission identifier."),
    "quota_full": N_("Enough people like you have already answered this survey. Thank you."),
    "not_in_quota": N_("This survey does not ask people in your group. Thank you."),
    "collected_file": N_("The file is not a CSV export of this questionnaire (%(problem)s)."),
    "unknown_unit": N_("Unknown unit %(unit)s."),
    "experts_questionnaire": N_("The experts' questionnaire is answered on expert panels, not in fieldwork."),
    "panel_exists": N_("%(unit)s already has a panel."),
    "invalid_panel_size": N_("A panel has between 15 and 20 experts, not %(size)s."),
    "panel_shortfall": N_(
        "%(unit)s cannot fill its panel: %(category)s needs %(needed)s experts, %(nominated)s nominated."
    ),
    "unknown_category": N_("Unknown expert category %(category)s."),
    "not_a_member": N_("This expert is not a member of the panel."),
    "not_a_nominee": N_("This person is not a nominee of the unit waiting for a seat."),
    "reason_required": N_("Give the reason."),
    "form_submitted": N_(
        "This form has already been submitted and can no longer be changed. Staff can reopen it if a change is needed."
    ),
    "form_not_submitted": N_("This form has not been submitted."),
    "link_expired": N_("This link has expired. Ask the ministry's staff for a new one."),
    "not_a_pdf": N_(
        "The file is not a PDF document (its content was checked, not its name). Scan the signed "
        "paper to PDF, or upload the digitally signed PDF."
    ),
    "document_too_large": N_("The document is larger than %(megabytes)s MB."),
    "empty_document": N_("The file is empty."),
    "document_missing": N_("The document's file cannot be found; upload it again."),
    "consent_required": N_(
        "Please read the notice on your personal data and agree to it before answering: open your form again."
    ),
    "person_identifier": N_("Enter an e-mail address, or a telephone number of at least 6 digits."),
    "backup_needs_postgresql": N_(
        "Backups are made of a PostgreSQL database (DATABASE_URL); copy the SQLite file of the demo instead."
    ),
    "backup_folder_not_empty": N_("The folder %(folder)s is not empty: give a new folder for the backup."),
    "backup_incomplete": N_("%(folder)s is not a complete backup (database.dump, evidence.tar, manifest.json)."),
    "database_not_empty": N_("The database is not empty: restore into a new, empty database."),
    "tool_missing": N_("%(tool)s is not installed (PostgreSQL client tools; PG_BIN may name their folder)."),
    "tool_failed": N_("%(tool)s failed: %(reason)s"),
    "restore_mismatch": N_("The restored data differ from the backup's manifest in: %(parts)s."),
    "rank_out_of_range": N_("A rank must be 1 or more."),
    "job_worker_lost": N_(
        "The job was started %(attempts)s times and its worker stopped each time. Ask for it again, and tell the "
        "administrator if it happens again."
    ),
    "job_unknown_kind": N_("This service no longer knows the job kind %(kind)s."),
    "job_database_unavailable": N_("The database could not be reached while the job ran. Ask for it again."),
    "job_failed": N_(
        "The job failed unexpectedly; the error is in the service's log. Ask for it again, and tell the "
        "administrator if it happens again."
    ),
    "unknown_run": N_("Scoring run %(run)s does not exist."),
    "round_gone": N_("This evaluation round no longer exists."),
    "not_your_unit": N_("You may manage only your own unit's accounts."),
    "passwords_differ": N_("The two passwords differ."),
    "no_enrolment": N_("Set up the second factor first."),
    "wrong_code": N_("The code is wrong or has already been used. Enter the code your app shows now."),
    "second_factor_locked": N_("Too many wrong codes: try again in %(minutes)s minutes."),
    "second_factor_required": N_("Signing off needs a code from your authenticator app in this session."),
    "invalid_period": N_("A period needs a code of letters, digits and dashes, and a last day not before its first."),
    "period_code_taken": N_("The round already has a period %(code)s."),
    "report_locked": N_("The report is no longer a draft: it cannot be changed."),
    "report_wrong_step": N_("The report is %(status)s: this step is not possible now."),
    "report_incomplete": N_("%(count)s criteria still need a valid value and its evidence or an explanation."),
    "comment_required": N_("Say what to correct."),
    "value_not_yes_no": N_("“%(value)s” is not an answer to a yes/no criterion: write yes or no (có/không)."),
    "value_not_a_number": N_("“%(value)s” is not a number: write it as 85 or 85,5."),
    "value_outside_range": N_("The value must be between %(low)s and %(high)s."),
    "reply_required": N_("Write your reply."),
    "not_appraised": N_("The value of %(criterion)s has not been appraised: there is nothing to reply to yet."),
    "appraisal_closed": N_("The appraisal is closed: replies are no longer taken."),
    "already_replied": N_("The unit has already replied to the appraisal of %(criterion)s: it may reply once."),
}


#: what a respondent reads next to a refused answer
ANSWER_MESSAGES = {
    "required": N_("Please answer this question."),
    "not_a_choice": N_("Choose one of the answers offered."),
    "not_a_number": N_("Enter a number."),
    "too_long": N_("The answer is too long."),
    "control_characters": N_("The answer holds invisible control characters; please type it again."),
}


#: the rows of an uploaded file that were refused, and why
ROW_MESSAGES = {
    "missing_code_or_name": N_("no code or no name"),
    "duplicate_unit": N_("the code %(unit)s is already in row %(first)s"),
    "unknown_parent": N_("no unit %(unit)s in the list of parents"),
    "unknown_predecessor": N_("no unit %(unit)s in the list of predecessors"),
    "not_yes_or_no": N_("“%(value)s” in column %(column)s is neither yes nor no"),
    "unknown_unit": N_("unknown unit “%(unit)s”"),
    "unknown_level": N_("“%(value)s” is not an answer of %(dimension)s"),
    "invalid_target": N_("invalid target “%(value)s”"),
    "duplicate_stratum": N_("the stratum %(stratum)s is repeated"),
    "target_below_filled": N_("the target is below the %(filled)s responses already received"),
    "invalid_probability": N_("the inclusion probability “%(value)s” is not in (0, 1]"),
    "missing_name": N_("no name"),
    "unknown_category": N_("unknown category “%(category)s”"),
    "missing_contact": N_("no e-mail address or phone number for %(name)s"),
    "invalid_email": N_("“%(email)s” is not a valid e-mail address"),
    "text_too_long": N_("the text in column %(column)s is too long"),
    "duplicate_person": N_("%(name)s is already in row %(first)s"),
    "already_nominated": N_("%(name)s is already nominated (by %(unit)s)"),
    "unknown_criterion": N_("unknown criterion “%(criterion)s”"),
    "not_self_assessed": N_("criterion %(criterion)s is not self-assessed (another channel measures it)"),
    "missing_value": N_("no value for %(criterion)s"),
    "invalid_value": N_("“%(value)s” is not a valid value for %(criterion)s"),
    "negative_value": N_("the value of %(criterion)s cannot be negative"),
    "no_evidence": N_("%(criterion)s needs an evidence reference or a written explanation"),
    "duplicate_row": N_("%(unit)s · %(criterion)s is already in row %(first)s"),
    "unknown_node": N_("unknown main index “%(node)s”"),
    "value_out_of_range": N_("“%(value)s” for %(node)s is not between 0 and 1 (or 0%% and 100%%)"),
}


#: what an expert reads next to an item the form refused
EXPERT_ANSWER_MESSAGES = {
    "required": N_("Give a score, or choose “I cannot judge this”."),
    "not_a_choice": N_("Choose one of the scores offered."),
    "too_long": N_("The comment is too long."),
    "control_characters": N_("The comment holds invisible control characters; please type it again."),
}


SCORING_REASONS = {
    "target_not_positive": N_("the target must be positive"),
    "no_steps": N_("no threshold steps"),
    "steps_not_rising": N_("the steps must rise strictly"),
    "no_rule": N_("no survey rule"),
    "bad_scale": N_("a scale [low, high] with low < high is needed"),
    "no_threshold": N_("a threshold is needed"),
}


SAMPLING_MESSAGES = {
    **TABLE_MESSAGES,
    "invalid_confidence": N_("The confidence level must be between 0 and 1 (not %(confidence)s)."),
    "invalid_deff": N_("The design effect must be positive (not %(deff)s)."),
    "invalid_response_rate": N_("The response rate must be above 0 and at most 1 (not %(rate)s)."),
    "invalid_population": N_("The population must be positive (not %(population)s)."),
    "invalid_margin": N_("The margin of error must be between 0 and 1 (not %(margin)s)."),
    "invalid_proportion": N_("The expected proportion must be between 0 and 1 (not %(proportion)s)."),
    "missing_size": N_("Selection with probability proportional to size needs a size column."),
    "unknown_kind": N_("The kind of spread “%(kind)s” is not known."),
    "invalid_panel_size": N_("A panel needs a whole number of experts (not %(size)s)."),
    "unknown_category": N_("The expert category “%(category)s” is not known."),
    "panel_shortfall": N_("%(category)s needs %(needed)s experts but %(nominated)s were nominated."),
    "not_a_member": N_("%(expert)s is not on the panel."),
    "weights_length": N_("The weights must be one per row (%(n)s rows)."),
    "invalid_weight": N_("Row %(row)s has an invalid weight %(weight)s."),
    "invalid_probability": N_("Row %(row)s has an inclusion probability outside (0, 1]: %(probability)s."),
    "missing_class": N_("Row %(row)s has no weighting class."),
    "class_without_respondents": N_("The weighting class %(level)s has no respondent."),
    "no_margin": N_("Raking needs at least one margin."),
    "missing_population": N_("Calibration without a categorical margin needs the population total."),
    "invalid_auxiliary": N_("The column “%(column)s” has missing or non-numeric values."),
    "unknown_stratum": N_("No group is given for the strata %(strata)s."),
    "invalid_total": N_("The total must be a whole number (not %(total)s)."),
    "invalid_power": N_("The power must be between 0 and 1 (not %(power)s)."),
    "unreadable_file": N_("The file cannot be read as %(kind)s."),
    "missing_column": N_("The frame has no column “%(column)s”."),
    "missing_value": N_("Row %(row)s has no value in column “%(column)s”."),
    "invalid_count": N_("Row %(row)s has an invalid population count “%(value)s”."),
    "invalid_stratum_count": N_("Stratum %(stratum)s has an invalid population count “%(count)s”."),
    "duplicate_stratum": N_("Row %(row)s repeats the stratum %(stratum)s."),
    "column_twice": N_("The column “%(column)s” is named twice among the strata and the population count."),
    "invalid_deviation": N_("Row %(row)s has an invalid value “%(value)s” in column “%(column)s”."),
    "missing_sd": N_("Neyman allocation needs the standard deviation of every stratum."),
    "invalid_sd": N_("Stratum %(stratum)s has no valid standard deviation."),
    "unknown_method": N_("The method “%(method)s” is not known."),
    "varying_sd": N_(
        "The rows of stratum %(stratum)s give different standard deviations: give one per "
        "stratum, or choose expected proportions."
    ),
    "invalid_size": N_("Row %(row)s has an invalid size measure “%(value)s”."),
    "minimum_exceeds_total": N_(
        "A minimum of %(minimum)s in each of %(strata)s strata needs %(needed)s, more than the total %(total)s."
    ),
    "maximum_below_total": N_(
        "A maximum of %(maximum)s per stratum allows only %(allowed)s, less than the total %(total)s."
    ),
    "total_exceeds_population": N_("A total of %(total)s exceeds the population of %(population)s."),
    "empty_frame": N_("The frame has no stratum."),
    "empty_level": N_(
        "Level %(level)s of %(margin)s has a population of %(target)s but no respondent: merge it "
        "with a neighbouring level or leave %(margin)s out."
    ),
    "unknown_level": N_("Respondents answered %(level)s for %(margin)s, which the population file does not count."),
    "margin_totals_differ": N_(
        "The population by %(margin)s adds up to %(total)s but by %(first)s to "
        "%(first_total)s: the margins must describe the same population."
    ),
    "trim_no_convergence": N_(
        "Trimming did not settle in %(iterations)s passes: %(outside)s weights are still outside the bounds, "
        "the furthest by %(gap)s. Widen the bounds."
    ),
    "sample_exceeds_sized_units": N_(
        "A sample of %(n)s needs as many units with a size above 0, but the list has only %(units)s."
    ),
    "zero_deviations": N_(
        "Neyman allocation needs a standard deviation above 0 in at least one of the %(strata)s strata: "
        "check the standard deviations, or choose proportional allocation."
    ),
    "calibration_no_convergence": N_(
        "The bounds [%(lower)s, %(upper)s] leave no calibrated weights that meet every total (the best of "
        "%(iterations)s iterations misses the total of %(column)s by %(gap)s): widen the bounds or drop a margin."
    ),
    "no_convergence": N_(
        "Raking did not converge in %(iterations)s iterations: level %(level)s of %(margin)s is "
        "still %(gap)s off its count."
    ),
    "impossible_bounds": N_(
        "Weights bounded to [%(lower)s, %(upper)s] cannot add up to %(total)s over %(n)s respondents: widen the bounds."
    ),
    "unknown_column": N_("There is no column “%(column)s”."),
    "invalid_target": N_("%(margin)s has an invalid population for level %(level)s."),
    "empty_stratum": N_("Stratum %(stratum)s has nobody in the list frame."),
    "size_exceeds_stratum": N_(
        "Stratum %(stratum)s has %(available)s people or firms in the list, but %(n)s are to be drawn."
    ),
    "invalid_bounds": N_("The calibration bounds must be two numbers, the lower below the upper (not %(bounds)s)."),
    "logit_needs_bounds": N_("Logit calibration needs finite bounds (not [%(lower)s, %(upper)s])."),
    "bounds_exclude_one": N_(
        "The bounds [%(lower)s, %(upper)s] on the ratio of calibrated to initial weight must have 1 strictly between "
        "them: calibration starts from the initial weights."
    ),
    "weight_outside_bounds": N_(
        "Row %(row)s has an initial weight of %(weight)s, not strictly between the bounds [%(lower)s, %(upper)s] "
        "that logit calibration keeps every weight within."
    ),
    "calibration_not_settled": N_(
        "Calibration did not converge in %(iterations)s iterations (the best of them misses the total of %(column)s "
        "by %(gap)s): allow more iterations."
    ),
    "calibration_inconsistent_totals": N_(
        "No weights meet every total: the total of %(column)s contradicts the others (the best of %(iterations)s "
        "iterations misses it by %(gap)s); check that the margins and totals describe the same population."
    ),
}


#: the analysis library's errors (analysis.EstimationError), by code
ESTIMATION_MESSAGES = {
    "unknown_exclusion_reading": N_("What excluding a criterion does must be one of %(options)s."),
    "unknown_column": N_("The data have no column “%(column)s”."),
    "too_few_ratings": N_("Agreement needs at least 2 items and 2 raters (here %(n)s and %(m)s)."),
    "unknown_category": N_("No share is given for the category %(category)s."),
    "invalid_scale": N_("The top of the scale (%(high)s) must exceed its bottom (%(low)s)."),
    "unknown_node": N_("The node %(node)s is not in the framework."),
    "missing_design_value": N_("Row %(row)s has no value for a design variable."),
    "unknown_lonely_psu": N_("The rule for a lonely PSU must be one of %(options)s."),
    "invalid_weights": N_("The weights must be one finite, non-negative value per row."),
    "calibration_rows": N_("A calibration covers %(rows)s rows but the data have %(n)s."),
    "stages": N_("A design has at most two stages of clusters, with at most one finite population correction each."),
    "fpc_below_sample": N_("Stratum %(stratum)s at stage %(stage)s has more sampled units than its population."),
    "lonely_psu": N_("Stratum %(stratum)s has only one primary sampling unit at stage %(stage)s."),
    "zero_denominator": N_("The denominator's total is 0 in the domain %(domain)s."),
    "empty_domain": N_("The domain %(domain)s has no respondent with a weight."),
    "unknown_unit": N_("The unit %(unit)s has no score."),
    "unknown_normalisation": N_("The normalisation “%(method)s” is not known."),
    "missing_value": N_("No value is given for the node %(node)s."),
    "points_above_maximum": N_(
        "The unit %(unit)s has %(points)s points on %(node)s, above its maximum of %(maximum)s."
    ),
    "fpc_missing": N_(
        "The finite population correction column “%(column)s” has no value in stratum %(stratum)s at stage %(stage)s."
    ),
    "fpc_varies": N_(
        "The finite population correction column “%(column)s” takes more than one value in stratum "
        "%(stratum)s at stage %(stage)s."
    ),
    "unknown_interval": N_("The interval must be one of %(options)s."),
    "unknown_ci_method": N_("The method for a proportion's interval must be one of %(options)s."),
    "not_binary": N_("The column “%(column)s” is not a 0/1 (yes/no) variable: row %(row)s holds “%(value)s”."),
    "invalid_level": N_("The confidence level must be between 0 and 1, not %(level)s."),
    "fpc_mixed": N_(
        "The finite population correction column “%(column)s” mixes sampling fractions (at most 1) and "
        "population sizes: give one or the other."
    ),
    "no_replicates": N_("Every stratum was sampled whole: a jackknife has no replicate to vary."),
    "not_numeric": N_("The column “%(column)s” is not numeric: row %(row)s holds “%(value)s”."),
    "unranked_unit": N_("The unit %(unit)s has no value to rank."),
    "no_columns": N_("%(argument)s must be a column name or a non-empty list of them."),
    "unknown_deff": N_("The design effect must be True or “replace”, not “%(deff)s”."),
    "not_estimates": N_("Contrasts need estimates with their covariance (covariance=True), not a %(kind)s."),
    "unknown_estimate": N_("There is no estimate labelled “%(label)s” among %(labels)s."),
    "contrast_length": N_("A contrast has %(given)s coefficients for %(expected)s estimates."),
    "no_degf": N_("A t interval needs positive degrees of freedom, not %(degf)s."),
    "missing_estimate_columns": N_("The %(table)s estimates need the columns estimate and se."),
    "no_common_estimates": N_("The two tables have no label in common: %(current)s against %(previous)s."),
    "unknown_statistic": N_("The statistic must be one of %(options)s."),
    "table_too_small": N_(
        "A two-way table needs two levels or more in “%(row)s” and in “%(column)s”; it has %(rows)s by %(columns)s."
    ),
    "empty_table": N_("No respondent with a weight has both “%(row)s” and “%(column)s”."),
    "singular_wald": N_(
        "The Wald test of %(cells)s cells has a singular covariance (more cells than the PSUs can tell apart): use "
        "the F statistic."
    ),
    "invalid_probability": N_("A quantile's probability must be between 0 and 1, not %(probability)s."),
    "unknown_quantile_rule": N_("The quantile rule must be one of %(options)s."),
    "unknown_quantile_interval": N_("The interval for a quantile must be one of %(options)s."),
    "unknown_family": N_("The model family must be one of %(options)s."),
    "no_predictors": N_("A regression needs at least one predictor."),
    "outcome_among_predictors": N_("The outcome “%(column)s” is also among the predictors."),
    "outcome_out_of_range": N_(
        "The outcome “%(column)s” of a logistic regression must be between 0 and 1: row %(row)s holds “%(value)s”."
    ),
    "no_complete_rows": N_("No row with a weight has a value in “%(column)s” and in every predictor."),
    "collinear": N_(
        "The coefficient %(term)s of the column “%(column)s” is a linear combination of the intercept and the "
        "earlier predictors: leave the column out or merge its levels."
    ),
    "single_level": N_("The column “%(column)s” has a single level, “%(level)s”, among the rows with every value."),
    "no_convergence": N_(
        "The regression of “%(column)s” did not converge in %(iterations)s iterations: does a predictor separate its "
        "values?"
    ),
    "unknown_level": N_("The column “%(column)s” holds “%(level)s”, a level the model was not fitted on."),
    "unknown_scale": N_("The prediction scale must be one of %(options)s."),
    "unknown_replicate_type": N_("The type of replicate weights must be one of %(options)s."),
    "invalid_rho": N_(
        "The coefficient rho %(rho)s does not fit replicates of type %(type)s: Fay's method needs a rho of at least "
        "0 and below 1, other types take none."
    ),
    "jk1_stratified": N_("JK1 replicates are for a design without strata; this design has %(strata)s strata: use JKn."),
    "brr_psus": N_("BRR and Fay replicates need exactly 2 PSUs in every stratum: stratum %(stratum)s has %(psus)s."),
    "few_psus": N_("Replicates of type %(type)s need at least 2 PSUs in stratum %(stratum)s, which has %(psus)s."),
    "invalid_replicates": N_("The number of replicates must be a whole number of at least 2, not %(replicates)s."),
    "invalid_replicate_weights": N_(
        "The replicate weights must be finite numbers, with %(n)s rows (one per respondent) and at least one replicate."
    ),
    "jkn_rscales": N_("JKn replicate weights need their rscales, (n_h - 1) / n_h for each replicate."),
    "rscales_length": N_(
        "rscales has %(length)s values, but there are %(count)s replicates: give one value, or one per replicate."
    ),
    "fixed_scale": N_("Replicates of type %(type)s have a fixed scale: give none."),
    "too_few_units": N_("%(count)s units are too few for a correlation (at least %(minimum)s)."),
    "unknown_weighting": N_("Unknown weighting %(weighting)s."),
    "unknown_aggregation": N_("Unknown aggregation %(method)s."),
    "invalid_share": N_("A channel share of %(share)s is outside [0, 0.5)."),
    "invalid_share_bounds": N_("The lowest channel share %(low)s is above the highest %(high)s."),
    "invalid_perturbation": N_("Weights perturbed by %(perturbation)s: the perturbation must be in [0, 1)."),
    "invalid_realisations": N_("Cannot draw %(count)s realisations (at least 1)."),
    "invalid_base_samples": N_("%(count)s base samples: a Sobol' design needs a power of 2."),
    "invalid_winsorised": N_("Cannot winsorise %(count)s points of a criterion."),
    "no_audit_units": N_("There are no units to audit."),
    "unknown_weighted_node": N_("%(node)s is not a main index this ranking lets you weigh."),
    "weight_out_of_bounds": N_("The weight of %(node)s must be between %(low)s and %(high)s."),
    "no_channel_shares": N_("This index gives its channels no shares to change."),
    "share_out_of_bounds": N_("The share of the channel %(channel)s must be between %(low)s and %(high)s."),
    "shares_total": N_("The channels' shares add up to %(total)s; they must add up to 1 (100%%)."),
}
