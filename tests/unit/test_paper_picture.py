"""The paper-account picture (drawn from recorded facts) and the operator's own screenshot (`harness confirm
screenshot`): a real PNG, the same bytes for the same facts, no planted secret in the pixels' file or its metadata;
a screenshot is taken only as PNG or JPEG, loses its metadata, and who attached it is recorded."""

from __future__ import annotations

import io
import zlib
from argparse import Namespace
from types import SimpleNamespace

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from harness.evidence import attestations
from harness.report import paper_picture, screenshot

ACCOUNT = "DU7654321"
SECRET = "hunter2-SECRET-webhook-token"


def facts(**overrides) -> dict:
    body = {
        "host": "127.0.0.1", "port": 4002, "handshake_ok": True, "accounts": [ACCOUNT], "all_paper": True,
        "observed_at": "2026-11-25T19:46:13+00:00", "problem": None,
        "account_summary": [{"account": ACCOUNT, "currency": "USD", "cash": 1e6, "buying_power": 4e6,
                             "net_liquidation": 1e6}],
        "open_orders": [{"order_id": 3, "account": ACCOUNT, "symbol": "SPY", "action": "BUY", "quantity": 1.0,
                         "order_type": "LMT", "limit_price": 1.0, "order_ref": f"https://u:{SECRET}@x.example/a",
                         "status": "PreSubmitted", "filled": 0.0, "remaining": 1.0}],
        "completed_orders": [{"perm_id": 9, "account": ACCOUNT, "symbol": "QQQ", "status": "Filled"}],
        "executions": [{"exec_id": "e1", "order_id": 2, "account": ACCOUNT, "symbol": "QQQ", "side": "BOT",
                        "shares": 1.0, "price": 400.0, "time": "2026-11-25T19:46:12+00:00"}],
        "positions": [{"account": ACCOUNT, "symbol": "QQQ", "sec_type": "STK", "currency": "USD", "quantity": 1.0,
                       "avg_cost": 400.0}],
    }
    body.update(overrides)
    return body


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks, at = [], 8
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind = data[at + 4:at + 8]
        chunks.append((kind, data[at + 8:at + 8 + length]))
        at += 12 + length
    return chunks


def test_the_picture_is_a_png_of_the_facts_and_the_same_facts_give_the_same_bytes():
    data = paper_picture.render(facts())
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.width > 400 and image.height > 300
    assert paper_picture.render(facts()) == data
    assert paper_picture.render(facts(observed_at="2026-11-25T19:47:00+00:00")) != data


def test_no_planted_secret_in_the_file_or_its_metadata():
    data = paper_picture.render(facts())
    pixels = b"".join(body for kind, body in png_chunks(data) if kind == b"IDAT")
    raw = zlib.decompress(pixels)
    for planted in (ACCOUNT.encode(), SECRET.encode()):
        assert planted not in data and planted not in raw
    texts = [body for kind, body in png_chunks(data) if kind in (b"tEXt", b"zTXt", b"iTXt", b"eXIf")]
    assert texts == [b"Title\x00" + paper_picture.TITLE.encode("latin-1")]
    with Image.open(io.BytesIO(data)) as image:
        assert set(image.info) <= {"Title", "dpi"}


def test_empty_or_broken_facts_still_draw():
    for body in ({}, {"accounts": None, "open_orders": "not a list", "positions": [None, 3]},
                 facts(all_paper=False, problem="gateway refused the connection")):
        assert paper_picture.render(body).startswith(b"\x89PNG")


def test_long_tables_are_cut_and_counted():
    many = [dict(facts()["open_orders"][0], order_id=n) for n in range(paper_picture.MAX_ROWS + 5)]
    data = paper_picture.render(facts(open_orders=many))
    with Image.open(io.BytesIO(data)) as image:
        assert image.height < 60 * (paper_picture.MAX_ROWS + 20)


# -- the operator's own screenshot ------------------------------------------------------------------------------
def png_with_metadata() -> bytes:
    image = Image.new("RGB", (40, 30), (10, 200, 30))
    info = PngInfo()
    info.add_text("Comment", f"account {ACCOUNT} token {SECRET}")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (40, 30), (10, 200, 30))
    exif = Image.Exif()
    exif[0x010E] = f"ImageDescription {SECRET}"  # ImageDescription
    exif[0x0131] = "Snipping Tool"  # Software
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=SECRET.encode())
    return out.getvalue()


def settings_for(tmp_path):
    return SimpleNamespace(evidence_dir=tmp_path / "evidence")


def test_a_png_screenshot_is_copied_without_its_text_chunks_and_attested(tmp_path, capsys):
    source = tmp_path / "shot.png"
    source.write_bytes(png_with_metadata())
    assert SECRET.encode() in source.read_bytes()
    code = screenshot.confirm(settings_for(tmp_path), Namespace(file=source, by="Ana", note=""))
    assert code == 0
    target = tmp_path / "evidence" / "screenshot.png"
    data = target.read_bytes()
    assert SECRET.encode() not in data and ACCOUNT.encode() not in data
    with Image.open(target) as image:
        assert image.size == (40, 30) and image.getpixel((0, 0)) == (10, 200, 30)
    recorded, problem = attestations.load(tmp_path / "evidence")
    assert problem is None and recorded["screenshot"].by == "Ana"
    assert "screenshot.png sha256:" in recorded["screenshot"].note
    assert "Ana" in capsys.readouterr().out


def test_a_jpeg_screenshot_loses_its_exif_and_comment_and_replaces_an_older_png(tmp_path):
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "screenshot.png").write_bytes(b"old")
    source = tmp_path / "shot.jpg"
    source.write_bytes(jpeg_with_exif())
    assert SECRET.encode() in source.read_bytes()
    screenshot.confirm(settings_for(tmp_path), Namespace(file=source, by="Ana", note=""))
    data = (tmp_path / "evidence" / "screenshot.jpg").read_bytes()
    assert SECRET.encode() not in data and b"Snipping" not in data and b"Exif" not in data
    assert not (tmp_path / "evidence" / "screenshot.png").exists()


@pytest.mark.parametrize(("content", "says"), [
    (b"GIF89a" + b"\x00" * 100, "not a PNG or JPEG"),
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "cannot be read as a PNG"),
    (None, "does not exist"),
])
def test_what_is_not_a_screenshot_is_refused_in_one_line(tmp_path, content, says):
    from harness.cli import Refused

    source = tmp_path / "shot.png"
    if content is not None:
        source.write_bytes(content)
    with pytest.raises(Refused) as refused:
        screenshot.confirm(settings_for(tmp_path), Namespace(file=source, by="Ana", note=""))
    assert says in str(refused.value) and "\n" not in str(refused.value)
    assert not (tmp_path / "evidence" / "screenshot.png").exists()


def test_a_screenshot_too_large_or_without_a_name_is_refused(tmp_path, monkeypatch):
    from harness.cli import Refused

    source = tmp_path / "shot.png"
    source.write_bytes(png_with_metadata())
    with pytest.raises(Refused, match="--by NAME"):
        screenshot.confirm(settings_for(tmp_path), Namespace(file=source, by=" ", note=""))
    with pytest.raises(Refused, match="--file"):
        screenshot.confirm(settings_for(tmp_path), Namespace(file=None, by="Ana", note=""))
    monkeypatch.setattr(screenshot, "MAX_BYTES", 100)
    with pytest.raises(Refused, match="at most 100 bytes"):
        screenshot.confirm(settings_for(tmp_path), Namespace(file=source, by="Ana", note=""))


def test_the_command_refuses_in_one_line_without_a_traceback(tmp_path):
    import subprocess
    import sys

    from tests.acceptance.runner import REPO

    result = subprocess.run([sys.executable, "-m", "harness.cli", "confirm", "screenshot", "--file",
                             str(tmp_path / "missing.png"), "--by", "Ana", "--evidence-dir", str(tmp_path / "ev")],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == f"harness: confirm: {tmp_path / 'missing.png'} does not exist"
    assert "Traceback" not in result.stderr + result.stdout
