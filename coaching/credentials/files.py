"""Reading a credential out of a file someone hands us: a certificate PDF with ``credential.jwt`` attached,
or the JWT itself, and a JWKS file for offline checks.

:func:`read_credential_from_pdf` takes the bytes of an uploaded file and returns the attached VC-JWT, or raises
:class:`CredentialFileError` with a ``code`` and a reason. It never writes to disk, never trusts the file name,
caps the file (5 MB) and the attachment (read with a bounded inflate, not pypdf's decoder).
"""

from __future__ import annotations

import io
import json
import re
import zlib

from pypdf import PdfReader, apply_configuration
from pypdf.generic import ArrayObject, DictionaryObject, StreamObject

MAX_FILE_BYTES = 5 * 1024 * 1024  # the upload limit of the route (the app-wide limit stays 1 MB)
MAX_CREDENTIAL_BYTES = 256 * 1024
MAX_JWKS_BYTES = 256 * 1024
ATTACHMENT = "credential.jwt"
_NAME_TREE_MAX_DEPTH = 8
_NAME_TREE_MAX_ENTRIES = 256
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_PYPDF_LIMITS = {
    "maximum_declared_stream_length": MAX_FILE_BYTES,
    "zlib_maximum_output_length": 8 * 1024 * 1024,
    "stream_decoding_work_maximum_length": 16 * 1024 * 1024,
    "array_maximum_element_count": 20_000,
    "dictionary_maximum_element_count": 20_000,
    "disable_legacy_handling": True,
}


class CredentialFileError(ValueError):
    """A file that does not carry one readable credential; ``code`` says why, the message in English.

    Codes: ``too_large``, ``not_pdf``, ``damaged`` (truncated or unparsable), ``encrypted``, ``no_credential``,
    ``several_credentials``, ``attachment_too_large``, ``bad_attachment`` (not a JWT, or undecodable).
    """

    def __init__(self, code: str, message: str) -> None:
        """Keep the machine-readable code beside the message."""
        super().__init__(message)
        self.code = code


def _name_tree_entries(tree: object) -> list[tuple[str, object]]:
    """Flatten a PDF name tree (``/Names`` pairs and ``/Kids``), visiting a bounded number of nodes.

    The budget counts nodes and entries together, so a tree whose /Kids point back at themselves (or fan
    out widely) costs at most a few hundred steps.
    """
    entries: list[tuple[str, object]] = []
    budget = _NAME_TREE_MAX_ENTRIES
    pending = [(tree, 0)]
    while pending:
        node, depth = pending.pop()
        budget -= 1
        if budget < 0:
            raise CredentialFileError("damaged", "the PDF's attachment list is too large or loops")
        node = node.get_object() if hasattr(node, "get_object") else node
        if not isinstance(node, DictionaryObject) or depth > _NAME_TREE_MAX_DEPTH:
            continue
        names = node.get("/Names")
        names = names.get_object() if names is not None else None
        if isinstance(names, ArrayObject):
            budget -= len(names) // 2
            if budget < 0:
                raise CredentialFileError("damaged", "the PDF lists too many attachments")
            entries += [(str(names[i].get_object()), names[i + 1]) for i in range(0, len(names) - 1, 2)]
        kids = node.get("/Kids")
        kids = kids.get_object() if kids is not None else None
        if isinstance(kids, ArrayObject):
            pending += [(kid, depth + 1) for kid in reversed(kids)]
    return entries


def _file_names(filespec: DictionaryObject) -> set[str]:
    """The names a file specification gives its file (/F and /UF, which may differ)."""
    return {str(filespec[key].get_object()) for key in ("/F", "/UF") if key in filespec}


def _attached_streams(reader: PdfReader) -> list[StreamObject]:
    """The embedded-file streams named ``credential.jwt`` (by tree key, /F or /UF)."""
    root = reader.trailer["/Root"].get_object()
    names = root.get("/Names")
    names = names.get_object() if names is not None else None
    tree = names.get("/EmbeddedFiles") if isinstance(names, DictionaryObject) else None
    found = []
    for key, spec in _name_tree_entries(tree):
        spec = spec.get_object()
        if not isinstance(spec, DictionaryObject):
            continue
        if key != ATTACHMENT and ATTACHMENT not in _file_names(spec):
            continue
        embedded = spec.get("/EF")
        embedded = embedded.get_object() if embedded is not None else None
        stream = None
        if isinstance(embedded, DictionaryObject):
            stream = (embedded.get("/F") or embedded.get("/UF"))
            stream = stream.get_object() if stream is not None else None
        if not isinstance(stream, StreamObject):
            raise CredentialFileError("bad_attachment", "the credential.jwt attachment has no content")
        found.append(stream)
    return found


def _inflate(stream: StreamObject) -> bytes:
    """Decode an embedded file stream (no filter or FlateDecode only), never beyond MAX_CREDENTIAL_BYTES."""
    filters = stream.get("/Filter")
    filters = filters.get_object() if filters is not None else None
    if isinstance(filters, ArrayObject):
        filters = [str(item) for item in filters]
    else:
        filters = [] if filters is None else [str(filters)]
    # pypdf keeps the stream's raw (still encoded) bytes in _data; get_data() would inflate without our cap.
    raw = bytes(stream._data)
    if filters == []:
        data = raw
    elif filters == ["/FlateDecode"] and "/DecodeParms" not in stream:
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(raw, MAX_CREDENTIAL_BYTES + 1)
        except zlib.error:
            raise CredentialFileError("bad_attachment", "the credential.jwt attachment is corrupt") from None
        if len(data) > MAX_CREDENTIAL_BYTES:
            raise CredentialFileError("attachment_too_large",
                                      f"the credential.jwt attachment inflates beyond {MAX_CREDENTIAL_BYTES} bytes")
        if not inflater.eof:
            raise CredentialFileError("bad_attachment", "the credential.jwt attachment is truncated")
    else:
        raise CredentialFileError("bad_attachment", f"the credential.jwt attachment uses an unsupported "
                                                    f"encoding ({', '.join(filters)})")
    if len(data) > MAX_CREDENTIAL_BYTES:
        raise CredentialFileError("attachment_too_large",
                                  f"the credential.jwt attachment is larger than {MAX_CREDENTIAL_BYTES} bytes")
    return data


def _as_token(data: bytes, where: str) -> str:
    """Return the compact JWS in ``data`` (surrounding whitespace allowed), or raise bad_attachment."""
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        text = ""
    if not COMPACT_JWS.fullmatch(text):
        raise CredentialFileError("bad_attachment", f"{where} is not a signed credential (compact JWT)")
    return text


def _check_size(data: object) -> bytes:
    """Refuse anything but bytes, and files over the limit, before any parsing."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("file data must be bytes")
    if len(data) > MAX_FILE_BYTES:
        raise CredentialFileError("too_large", f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return bytes(data)


def read_credential_from_pdf(data: bytes) -> str:
    """Return the VC-JWT attached to a certificate PDF as ``credential.jwt``; raise CredentialFileError."""
    data = _check_size(data)
    if not data.startswith(b"%PDF-"):
        raise CredentialFileError("not_pdf", "the file is not a PDF (it does not start with %PDF-)")
    if b"%%EOF" not in data[-1024:]:
        raise CredentialFileError("damaged", "the PDF is truncated (no end-of-file marker)")
    try:
        with apply_configuration(**_PYPDF_LIMITS):
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise CredentialFileError("encrypted", "the PDF is encrypted; certificates never are")
            streams = _attached_streams(reader)
            if len(streams) > 1:
                raise CredentialFileError("several_credentials",
                                          f"the PDF has {len(streams)} attachments named credential.jwt")
            if not streams:
                raise CredentialFileError("no_credential", "the PDF has no credential.jwt attachment")
            payload = _inflate(streams[0])
    except CredentialFileError:
        raise
    except Exception as exc:
        raise CredentialFileError("damaged", f"the PDF cannot be read ({type(exc).__name__})") from None
    return _as_token(payload, "the credential.jwt attachment")


def read_credential_file(data: bytes) -> str:
    """Return the VC-JWT from an uploaded file: a certificate PDF, or a text file holding the JWT."""
    data = _check_size(data)
    if data.startswith(b"%PDF-"):
        return read_credential_from_pdf(data)
    if len(data) > MAX_CREDENTIAL_BYTES:
        raise CredentialFileError("not_pdf", "the file is neither a PDF nor a credential JWT")
    try:
        return _as_token(data.removeprefix(b"\xef\xbb\xbf"), "the file")
    except CredentialFileError:
        raise CredentialFileError("not_pdf", "the file is neither a PDF nor a credential JWT") from None


def parse_jwks(data: bytes) -> dict:
    """Parse a JWK Set file (``--keys``); raise CredentialFileError when it is not one."""
    if len(data) > MAX_JWKS_BYTES:
        raise CredentialFileError("too_large", "the key file is too large for a JWK Set")
    try:
        jwks = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise CredentialFileError("bad_attachment", "the key file is not JSON") from None
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise CredentialFileError("bad_attachment", "the key file is not a JWK Set (no \"keys\" list)")
    return jwks
