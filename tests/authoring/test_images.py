"""Pictures uploaded into a course's images/ folder: checked by content (not by name), at most 2 MB on this route
only, SVG without scripts or outside references, a description required, inserted into the editor as Markdown."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.authoring.conftest import WELCOME, multipart

IMAGES = "/manage/content/demo/images"


def picture(fmt: str = "PNG", size: tuple[int, int] = (40, 20)) -> bytes:
    """A small real picture in a format."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(buffer, fmt)
    return buffer.getvalue()


def noisy_png(min_bytes: int) -> bytes:
    """A real PNG of at least this many bytes (random pixels do not compress)."""
    import os

    side = int((min_bytes / 3) ** 0.5) + 8
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def upload(editor, data: bytes, name: str, alt: str = "A red bar", *, json: bool = True):
    """POST a picture to the course's pictures page."""
    headers = {"Accept": "application/json"} if json else {}
    body, content_type = multipart({"csrf_token": editor.token(), "alt": alt}, {"image": (name, data)})
    return editor.client.post(IMAGES, data=body, content_type=content_type, headers=headers)


SVG_OK = (b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
          b'<defs><linearGradient id="g"/></defs><rect width="10" height="10" fill="url(#g)"/></svg>')


@pytest.mark.parametrize(("fmt", "name", "saved"), [("PNG", "Chart 1.png", "chart-1.png"),
                                                   ("JPEG", "photo.jpeg", "photo.jpg"), ("GIF", "a.gif", "a.gif"),
                                                   ("WEBP", "b.webp", "b.webp"), ("PNG", "wrong.gif", "wrong.png")])
def test_pictures_are_stored_under_their_real_type(editor, content, fmt, name, saved):
    """Each supported type is accepted and saved with the extension of what it is, whatever its name says."""
    data = picture(fmt)
    response = upload(editor, data, name)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    assert response.json == {"markdown": f"![A red bar](images/{saved})", "path": f"images/{saved}"}
    assert (content / "demo" / "images" / saved).read_bytes() == data
    assert "image_uploaded" in editor.audit()
    revision = editor.revisions(f"demo/images/{saved}")[0]
    assert revision.kind == "image" and revision.data == data and revision.published


def test_svg_without_active_content_is_accepted(editor, content):
    """A plain SVG (internal references only) is accepted."""
    assert upload(editor, SVG_OK, "diagram.svg").json["path"] == "images/diagram.svg"


def test_names_never_collide_and_alt_text_is_escaped(editor, content):
    """A second picture of the same name gets -2; brackets in the description cannot break the Markdown."""
    upload(editor, picture(), "chart.png")
    second = upload(editor, picture("PNG", (41, 20)), "chart.png", alt="Clicks [per day] rising")
    assert second.json["markdown"] == r"![Clicks \[per day\] rising](images/chart-2.png)"


def test_description_is_required(editor, content):
    """Without a description nothing is stored."""
    response = upload(editor, picture(), "x.png", alt="   ")
    assert response.status_code == 400 and "Describe the picture" in response.json["error"] or \
        "Choose a picture" in response.json["error"]
    assert not (content / "demo" / "images" / "x.png").exists() and editor.revisions() == []


HOSTILE = {
    "html named png": (b"<!doctype html><html><body><script>alert(1)</script></body></html>", "cat.png",
                       "not a PNG, JPEG"),
    "png with html appended": (picture() + b"<html><script>alert(document.cookie)</script></html>", "poly.png",
                               "something else besides the picture"),
    "gif/js polyglot": (b"GIF89a/*\x00\x00\x00\x00\x00*/=1;alert(1)//" + b"\x00" * 16, "poly.gif",
                        "cannot be read"),
    "png with script in a text chunk": (None, "meta.png", "web page code"),
    "svg with script": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "s.svg",
                        "script, event handlers"),
    "svg with onload": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>', "s.svg",
                        "script, event handlers"),
    "svg with foreignObject": (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject>'
                               b'</svg>', "s.svg", "script, event handlers"),
    "svg with an outside picture": (b'<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/'
                                    b'x.png"/></svg>', "s.svg", "outside itself"),
    "svg with an entity": (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/'
                           b'2000/svg">&x;</svg>', "s.svg", "cannot be read as plain SVG"),
    "empty file": (b"", "e.png", "empty"),
}


def png_with_script_chunk() -> bytes:
    """A valid PNG whose tEXt chunk holds a script tag."""
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Comment", "<script>alert(1)</script>")
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused(editor, content, case):
    """HTML named .png, polyglots and active SVG are refused with a clear message; nothing is stored."""
    data, name, message = HOSTILE[case]
    data = png_with_script_chunk() if data is None else data
    response = upload(editor, data, name)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert message in response.json["error"]
    assert not (content / "demo" / "images" / name).exists()
    assert editor.revisions() == []


def test_refusal_without_javascript_renders_the_page(editor, content):
    """The plain form gets the pictures page again (400) with the message."""
    response = upload(editor, b"<html></html>", "x.png", json=False)
    assert response.status_code == 400 and "not a PNG, JPEG" in response.get_data(as_text=True)


def test_two_megabytes_on_this_route_only(editor, editor_app, content):
    """A 1.5 MB picture passes here although the site refuses bodies over 1 MB elsewhere; over 2 MB is refused with
    the picture's own message."""
    big = noisy_png(1_500_000)
    assert 1_048_576 < len(big) < 2 * 1024 * 1024
    assert upload(editor, big, "big.png").status_code == 200
    too_big = noisy_png(2_200_000)
    response = upload(editor, too_big, "huge.png")
    assert response.status_code == 413 and "larger than 2 MB" in response.json["message"]
    assert not (content / "demo" / "images" / "huge.png").exists()
    elsewhere = editor.client.post("/auth/login", data={"email": "a@b.c", "password": "x" * 1_500_000})
    assert elsewhere.status_code == 413
    assert editor_app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_picture_just_over_two_megabytes_gets_a_message(editor, content):
    """A file between 2 MB and the route's form allowance is checked by size before parsing."""
    data = noisy_png(2 * 1024 * 1024 + 1000)[: 2 * 1024 * 1024 + 10]
    response = upload(editor, data, "edge.png")
    assert response.status_code in (400, 413)
    body = response.json
    assert "larger than 2 MB" in (body.get("error") or body.get("message"))


def test_pictures_page_lists_and_uploads_without_javascript(editor, content):
    """Without JavaScript the upload redirects to the page, which shows the Markdown to copy."""
    response = upload(editor, picture(), "bar.png", json=False)
    assert response.status_code == 303
    html = editor.client.get(IMAGES).get_data(as_text=True)
    assert "![A red bar](images/bar.png)" in html and "images/funnel.svg" in html


def test_editor_offers_the_insert_form(editor):
    """The edit page carries the upload form with the required description, posting to the pictures route."""
    html = editor.open(WELCOME).html
    assert 'data-image-insert' in html and 'action="/manage/content/demo/images"' in html
    assert 'name="alt"' in html and "required" in html.split('name="alt"')[0].rsplit("<input", 1)[1] + \
        html.split('name="alt"')[1].split(">")[0]
