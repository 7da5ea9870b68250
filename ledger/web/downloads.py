"""Signed files in the browser: the file, its detached signature, or a zip of both.

The signature (`FILE.sig`, base64 Ed25519 over the exact bytes) is checked with the public key
served at `/keys/signing.pem`; every export page shows the one-line command to do it.
"""

from __future__ import annotations

import io
import zipfile

from flask import Blueprint, Response

from ledger.accounts.signing import current_key
from ledger.payouts.exports.signing import SignedExport

blp = Blueprint("downloads", __name__)

FORMATS = ("file", "sig", "zip")


def check_command(filename: str) -> str:
    """The one line that checks a downloaded file against its signature (OpenSSL 3)."""
    return (
        f"base64 -d {filename}.sig > {filename}.sig.bin && openssl pkeyutl -verify -pubin -inkey ledger-signing.pem "
        f"-rawin -in {filename} -sigfile {filename}.sig.bin"
    )


def attachment(body: bytes, filename: str, media_type: str, export: SignedExport) -> Response:
    return Response(
        body,
        mimetype=media_type.split(";")[0],
        headers={
            "Content-Type": media_type,
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Ledger-Signature": export.signature,
            "X-Ledger-Key-Id": export.key_id,
            "Cache-Control": "no-store",
        },
    )


def as_zip(export: SignedExport) -> bytes:
    """The file, its .sig and the public key, with a note saying how to check."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(export.filename, export.content)
        archive.writestr(export.filename + ".sig", export.signature + "\n")
        archive.writestr("ledger-signing.pem", current_key().public_pem)
        archive.writestr("CHECK.txt", check_command(export.filename) + "\n")
    return buffer.getvalue()


def download(export: SignedExport, form: str) -> Response:
    """``form``: the file itself, its signature, or a zip of both with the key."""
    if form == "sig":
        return attachment((export.signature + "\n").encode(), export.filename + ".sig", "text/plain; charset=utf-8", export)
    if form == "zip":
        return attachment(as_zip(export), export.filename.rsplit(".", 1)[0] + ".zip", "application/zip", export)
    return attachment(export.content, export.filename, export.media_type, export)


@blp.get("/keys/signing.pem")
def signing_key_pem():
    """The public key that checks signed exports, as a file to give to `openssl`."""
    return Response(
        current_key().public_pem,
        mimetype="application/x-pem-file",
        headers={"Content-Disposition": 'attachment; filename="ledger-signing.pem"'},
    )
