"""The generated fast paths of the response models agree with cattrs' code they stand in for."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from typing import Any

import pytest

from consigno_async import responses
from consigno_async.enums import ActionStatus, WorkflowStatus
from consigno_async.errors import ResponseFormatError
from consigno_async.responses import Workflow, WorkflowPage, structure

SIGNER = {
    "type": "EXTERNAL",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "email": "ada@example.com",
    "phone": "+15145550100",
    "amr": ["link", "sms"],
    "lang": "en",
    "placeHolder": False,
}
WORKFLOW: dict[str, Any] = {
    "id": "5f0c" * 6,
    "version": 2,
    "name": "NDA",
    "status": 1,
    "documents": [
        {
            "documentId": "a1" * 12,
            "originalDocumentId": "b2" * 12,
            "name": "nda.pdf",
            "fields": [{"x": 72, "y": 650, "page": "1"}],
            "anchors": [],
        }
    ],
    "actions": [
        {
            "id": "c3" * 12,
            "ref": "1",
            "step": 1,
            "status": "NOT_STARTED",
            "statusDate": "2026-12-04T16:00:00.000Z",
            "mode": "REMOTE",
            "zoneLabel": "Ada",
            "signer": SIGNER,
        }
    ],
    "notifications": [],
    "webhooks": [{"url": "http://127.0.0.1/hook"}],
    "totalActions": 1,
    "remainingActions": 1,
    "createdOn": "2026-12-04T16:00:00.000Z",
    "modifiedOn": "2026-12-04T16:00:01.000Z",
    "statusDate": "2026-12-04T16:00:01.000Z",
    "expiresOn": "2027-01-01",
    "editUrl": "http://127.0.0.1/edit",
    "createdBy": "demo",
    "pdfaPolicy": 0,
    "parallelActions": False,
    "workflowOwnerEmailsEnabled": True,
    "messageToSigners": "Please sign",
    "unknownMember": {"kept": True},
}
ODD_VALUES: list[Any] = [
    None,
    0,
    7,
    1.5,
    True,
    "",
    "x",
    "2026-01-02T03:04:05.123Z",
    "COMPLETED",
    [],
    ["a"],
    [{}],
    {},
    {"a": 1},
]


def _outcome(hook: Any, data: Any, cls: type) -> tuple[Any, ...]:
    try:
        result = hook(copy.deepcopy(data), cls)
    except Exception as exc:  # the exact error is part of what must agree
        return ("error", type(exc), str(exc))
    workflows = result.workflows if isinstance(result, WorkflowPage) else (result,)
    return ("ok", result, [w.to_dict() for w in workflows if isinstance(w, Workflow)])


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _mutated(value: Any, rng: random.Random) -> Any:
    value = copy.deepcopy(value)
    path = rng.choice(list(_paths(value))[1:])
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    if rng.random() < 0.3:
        del parent[path[-1]]
    else:
        parent[path[-1]] = rng.choice(ODD_VALUES)
    return value


def test_the_usual_workflow_takes_the_fast_path() -> None:
    wf = structure(WORKFLOW, Workflow)
    assert wf.status is WorkflowStatus.LAUNCHED
    assert wf.actions[0].status is ActionStatus.NOT_STARTED
    assert wf.actions[0].signer is not None
    assert wf.actions[0].signer.amr == ("link", "sms")
    assert wf.documents[0].fields == ({"x": 72, "y": 650, "page": "1"},)
    assert wf.created_on is not None
    assert wf.created_on.tzinfo is not None
    assert wf.to_dict()["unknownMember"] == {"kept": True}


@pytest.mark.parametrize("cls", [Workflow, WorkflowPage])
def test_fast_and_slow_paths_agree_on_odd_inputs(cls: type) -> None:
    fast = responses._FAST_HOOKS[cls]
    slow = fast.__globals__["slow"]
    assert fast is not slow
    base: Any = WORKFLOW
    if cls is WorkflowPage:
        base = {"count": 1, "total": 1, "offset": 0, "workflows": [WORKFLOW]}
    rng = random.Random(4)
    cases = [base, *ODD_VALUES]
    for _ in range(400):
        data = base
        for _ in range(rng.choice((1, 1, 2, 3))):
            data = _mutated(data, rng)
        cases.append(data)
    for data in cases:
        assert _outcome(fast, data, cls) == _outcome(slow, data, cls), data


def test_workflows_of_a_page_keep_their_json() -> None:
    page = structure({"count": 1, "total": 1, "workflows": [WORKFLOW]}, WorkflowPage)
    assert page.workflows[0].to_dict()["unknownMember"] == {"kept": True}


def test_a_bad_member_still_raises_the_shape_error() -> None:
    with pytest.raises(ResponseFormatError, match="shape of a Workflow"):
        structure({**WORKFLOW, "status": 42}, Workflow)
    with pytest.raises(ResponseFormatError, match="shape of a Workflow"):
        structure({**WORKFLOW, "id": None}, Workflow)


def test_the_init_path_agrees_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # Classes that are not plain slotted attrs classes are built through their __init__.
    from consigno_async import _fast_structure

    saved = dict(responses._FAST_HOOKS)
    monkeypatch.setattr(_fast_structure, "_plain_slots", lambda *_: False)
    try:
        responses._make_converter()
        fast = responses._FAST_HOOKS[Workflow]
        assert fast is not saved[Workflow]
        slow = fast.__globals__["slow"]
        rng = random.Random(5)
        cases = [WORKFLOW] + [_mutated(WORKFLOW, rng) for _ in range(150)]
        for data in cases:
            assert _outcome(fast, data, Workflow) == _outcome(slow, data, Workflow), data
    finally:
        responses._FAST_HOOKS.update(saved)
