"""
The service's enumerations, with the exact values it puts on the wire.

String enums subclass :class:`enum.StrEnum` and integer enums :class:`enum.IntEnum`, so a
value compares equal to what the service sends and serialises as itself::

    >>> Amr.SMS == "sms", WorkflowStatus.COMPLETED == 2
    (True, True)
"""

from __future__ import annotations

import enum

__all__ = [
    "ActionStatus",
    "Amr",
    "Language",
    "Mode",
    "PdfaPolicy",
    "SignerType",
    "WorkflowStatus",
]


class Amr(enum.StrEnum):
    """
    Authentication method references: how a signer proves who they are.

    ``link`` (the e-mailed link, or the return URL of an embedded signer) is always required;
    the service asks for a second factor (``sms``, ``call`` or ``secret``) unless the
    organisation had it turned off.
    """

    LINK = "link"
    SMS = "sms"
    CALL = "call"
    SECRET = "secret"
    SAML = "saml"
    CERTIFIOCLOUD = "certifiocloud"


class Mode(enum.StrEnum):
    """How a signer is invited: by e-mail (``remote``) or redirected by your app (``embedded``)."""

    REMOTE = "remote"
    EMBEDDED = "embedded"


class SignerType(enum.StrEnum):
    """
    What a signer does: ``esig`` signs electronically, ``certifio`` signs with a CertifiO
    certificate (needs a subject DN), ``certifiocloud`` with a CertifiO Cloud certificate,
    ``approver`` approves without signing, ``freezone`` fills text zones only.
    """

    ESIG = "esig"
    CERTIFIO = "certifio"
    CERTIFIOCLOUD = "certifiocloud"
    APPROVER = "approver"
    FREEZONE = "freezone"


class Language(enum.StrEnum):
    """Language of the notifications a signer or contact receives."""

    EN = "en"
    FR = "fr"


class PdfaPolicy(enum.IntEnum):
    """Whether the service converts a document to PDF/A: never, when it can, or always."""

    NONE = 0
    PREFERRED = 1
    MANDATORY = 2


class WorkflowStatus(enum.IntEnum):
    """
    The life of a workflow (a signing project) as the service reports it.

    ``COMPLETED``, ``EXPIRED``, ``DECLINED`` and ``DELETED`` are final
    (see :attr:`WorkflowStatus.is_final`).
    """

    CREATED = 0
    LAUNCHED = 1
    COMPLETED = 2
    EXPIRED = 3
    FROM_TEMPLATE = 4
    DECLINED = 5
    DELETED = 6

    @property
    def is_final(self) -> bool:
        """True for a status a workflow never leaves (completed, expired, declined, deleted)."""
        return self in _FINAL_STATUSES


_FINAL_STATUSES = frozenset(
    {
        WorkflowStatus.COMPLETED,
        WorkflowStatus.EXPIRED,
        WorkflowStatus.DECLINED,
        WorkflowStatus.DELETED,
    }
)


class ActionStatus(enum.StrEnum):
    """Where one signer's action stands."""

    NOT_STARTED = "NOT_STARTED"
    STARTED = "STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    DECLINED = "DECLINED"
