"""Argument analytics (datagen.analytics) and the Analytics page."""

from __future__ import annotations

from pathlib import Path

import pytest
from seed_fixture import seed_uid
from streamlit.testing.v1 import AppTest

from datagen import analytics
from datagen.ingest import import_file

ROOT = Path(__file__).resolve().parents[1]
SEED = Path(__file__).parent / "fixtures" / "seed001_dataset.jsonl"


def test_argument_presence_values_sequences_and_turns(db):
    import_file(db, SEED)
    calls = analytics.load_calls(db)
    assert list(calls.columns) == analytics.CALL_COLUMNS and len(calls) == 5
    presence = analytics.argument_presence(calls)
    row = presence[(presence.tool == "search_restaurants") & (presence.parameter == "only_open")].iloc[0]
    assert (row.calls, row.sent, row.share, bool(row.declared)) == (2, 1, 0.5, True)
    never = presence[(presence.tool == "search_restaurants") & (presence.parameter == "min_rating")].iloc[0]
    assert never.sent == 0  # declared in config.TOOLS, never sent
    values = analytics.argument_values(calls, "search_restaurants", "query")
    assert set(values.value) == {"짜장면", "피자"} and values["count"].sum() == 2
    assert analytics.argument_values(calls, "search_restaurants", "only_open").value.tolist() == ["true"]
    dialogues = analytics.load_dialogues(db)
    patterns = analytics.sequence_patterns(dialogues)
    assert patterns.dialogues.sum() == 3
    top = patterns.set_index("sequence")
    assert top.loc["search_restaurants → get_restaurant_detail → get_restaurant_detail", "calls"] == 3
    turns = analytics.turn_distribution(dialogues)
    assert dict(zip(turns.turns, turns.dialogues)) == {4: 2, 7: 1}


def test_filters_by_category_and_decision(db):
    import_file(db, SEED)
    assert len(analytics.load_dialogues(db, categories=["imported"])) == 3
    assert analytics.load_dialogues(db, categories=["search"]).empty
    assert len(analytics.load_dialogues(db, decisions=["pending"])) == 3
    assert analytics.load_calls(db, decisions=["accept"]).empty
    db.execute(
        "INSERT INTO reviews (uid, annotator, decision, reasons, note, created_at) VALUES (?, '민지', 'accept', '[]', '', '2026-11-21')",
        [seed_uid(db, 3)],
    )
    if "sample_state" in db.table_names():  # the decision is materialised there (datagen.review)
        from datagen.review import recompute_state

        recompute_state(db, seed_uid(db, 3))
    db.conn.commit()
    accepted = analytics.load_dialogues(db, decisions=["accept"])
    assert accepted.uid.tolist() == [seed_uid(db, 3)]
    assert analytics.load_calls(db, decisions=["accept"]).tool.tolist() == ["get_order_status"]
    with pytest.raises(ValueError):
        analytics.load_dialogues(db, decisions=["maybe"])


def test_empty_frames_keep_their_columns():
    import pandas as pd

    calls = pd.DataFrame(columns=analytics.CALL_COLUMNS)
    dialogues = pd.DataFrame(columns=analytics.DIALOGUE_COLUMNS)
    assert list(analytics.argument_presence(calls).columns) == ["tool", "parameter", "calls", "sent", "share", "declared"]
    assert analytics.argument_values(calls).empty and analytics.sequence_patterns(dialogues).empty
    assert analytics.turn_distribution(dialogues).empty


def test_analytics_page_on_an_empty_database_and_with_data(db):
    at = AppTest.from_file(str(ROOT / "pages" / "5_Analytics.py"), default_timeout=60).run()
    assert not at.exception
    assert any("대화가 없습니다" in i.value for i in at.info)
    import_file(db, SEED)
    at = AppTest.from_file(str(ROOT / "pages" / "5_Analytics.py"), default_timeout=60).run()
    assert not at.exception
    assert [m.value for m in at.metric][:2] == ["3", "5"]
    assert not at.markdown or all("짜장면" not in m.value for m in at.markdown)  # model values only in charts / tables
    at.selectbox(key="ana_tool").set_value("search_restaurants").run()
    at.selectbox(key="ana_param").set_value("only_open").run()
    assert not at.exception
