"""Reading the YAML documents people upload (frameworks, question banks).

Aliases are refused: no document of ours needs them, and a few nested ones make a small file expand into
billions of items once anything walks it (the "billion laughs")."""

from __future__ import annotations

from typing import Any

import yaml

from questionnaires.validation import FrameworkInvalid, Issue


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed", event.start_mark)
        return super().compose_node(parent, index)


def load_document(text: str | bytes) -> Any:
    """The YAML document in ``text``.

    :raises FrameworkInvalid: the file is not YAML (or not UTF-8), naming the problem and where
    """
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as error:
        raise FrameworkInvalid([Issue("invalid_value", None, {"field": "file", "value": str(error)[:200]})]) from error
