"""Publishing: exactly the approved records, as a versioned dataset folder (parquet shards + card).

The package's modules, each below the next (a module imports only those listed before it):

- :mod:`~datagen.publish.rules`: what ships — :func:`shipping_status` gives every sample
  ``"ships"`` or the reason it is left out (the rules and their order are in its docstring), the
  deciding reviews, the accepted and publishable dialogues; :class:`PublishError`;
- :mod:`~datagen.publish.rows`: the record formats (:data:`FORMATS`), :func:`features`,
  :func:`to_row` / :func:`from_row`, the row hash, :func:`load_export`;
- :mod:`~datagen.publish.history`: earlier publishes (:func:`previous_publish`,
  :func:`publish_history`), version numbers and the :class:`Diff`;
- :mod:`~datagen.publish.shards`: parquet shards of at most :data:`SHARD_ROWS` rows, written in
  worker processes (``python -m datagen.publish``, ``__main__.py``) for large sets;
- :mod:`~datagen.publish.card`: the dataset card, :func:`dataset_card`, rendered from the Jinja2
  template ``templates/card.md.j2``;
- :mod:`~datagen.publish.release`: the :class:`Release` that would ship now (:func:`prepare`),
  writing it (:func:`write_release`, :func:`export_local`) and recording it (:func:`export_and_record`);
- :mod:`~datagen.publish.hub`: the Hub boundary (:class:`HubBoundary`, :class:`HuggingFaceHub`,
  :func:`default_hub`) and :func:`publish_to_hub`.

Callers use the names re-exported here (``publish.X``, ``from datagen.publish import X``).
:func:`default_hub` is looked up here when :func:`publish_to_hub` gets no hub, so replacing
``datagen.publish.default_hub`` (as tests do) takes effect; the shard tunables (:data:`SHARD_ROWS`,
:data:`PARALLEL_MIN_ROWS`) are read in :mod:`~datagen.publish.shards`, where a test changes them.
"""

from __future__ import annotations

from .card import LICENSE, dataset_card, offline_rows
from .history import ROW_HASH_CHARS, Diff, previous_publish, publish_history
from .hub import HubBoundary, HuggingFaceHub, check_repo_id, default_hub, publish_to_hub
from .release import Release, default_export_dir, export_and_record, export_local, prepare, write_release
from .rows import FORMAT_KO, FORMATS, ROW_LAYOUT, features, from_row, load_export, to_row
from .rules import LEFT_OUT, SHIPS, SPLIT_OF_KIND, PublishError, accepted_dialogues, deciding_reviews, publishable_dialogues, shipping_status
from .shards import PARALLEL_MIN_ROWS, PREVIEW_ROWS, SHARD_ROWS

__all__ = [
    # rules
    "SPLIT_OF_KIND",
    "SHIPS",
    "LEFT_OUT",
    "PublishError",
    "deciding_reviews",
    "shipping_status",
    "accepted_dialogues",
    "publishable_dialogues",
    # rows
    "FORMATS",
    "FORMAT_KO",
    "ROW_LAYOUT",
    "features",
    "to_row",
    "from_row",
    "load_export",
    # history
    "ROW_HASH_CHARS",
    "Diff",
    "previous_publish",
    "publish_history",
    # shards
    "SHARD_ROWS",
    "PARALLEL_MIN_ROWS",
    "PREVIEW_ROWS",
    # card
    "LICENSE",
    "offline_rows",
    "dataset_card",
    # release
    "Release",
    "prepare",
    "write_release",
    "default_export_dir",
    "export_local",
    "export_and_record",
    # hub
    "HubBoundary",
    "HuggingFaceHub",
    "default_hub",
    "check_repo_id",
    "publish_to_hub",
]
