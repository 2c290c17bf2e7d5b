"""The .env reader and editor: python-dotenv's semantics, strict booleans, byte-exact edits."""

from __future__ import annotations

import io
import os
import stat
import sys

import pytest
from dotenv import dotenv_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.probes.envfile import (
    EnvEditError,
    NotReadable,
    atomic_write,
    parse_env_bytes,
    plan_edit,
    read_bool,
    read_env,
    read_environ_dump,
    read_regular_file,
    shadowed_keys,
)

PAPER = {"DRY_RUN": "false", "PAPER_TRADING": "true"}


def dotenv_view(data: bytes) -> dict:
    text = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    return dict(dotenv_values(stream=io.StringIO(text)))


def test_seed_before_becomes_seed_after_byte_for_byte():
    before = b"DRY_RUN=true\nPAPER_TRADING=false\n"
    assert plan_edit(".env", before, PAPER).after.encode() == b"DRY_RUN=false\nPAPER_TRADING=true\n"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("DRY_RUN=true\n", "DRY_RUN=false\n"),
        ("DRY_RUN=true\r\n", "DRY_RUN=false\r\n"),
        ("export DRY_RUN=true\n", "export DRY_RUN=false\n"),
        ("DRY_RUN = 'true'  # keep\n", "DRY_RUN = 'false'  # keep\n"),
        ('DRY_RUN="true"\n', 'DRY_RUN="false"\n'),
        ("  DRY_RUN=TRUE   # why\n", "  DRY_RUN=false   # why\n"),
        ("DRY_RUN=\n", "DRY_RUN=false\n"),
    ],
)
def test_only_the_value_token_changes(line, expected):
    plan = plan_edit(".env", (line + "PAPER_TRADING=true\n").encode(), PAPER)
    assert plan.after.splitlines(keepends=True)[0] == expected


def test_missing_key_is_appended_with_the_files_line_ending():
    plan = plan_edit(".env", b"A=1\r\nDRY_RUN=true", PAPER)
    assert plan.after == "A=1\r\nDRY_RUN=false\r\nPAPER_TRADING=true\r\n"


def test_bom_is_kept():
    plan = plan_edit(".env", "\ufeffDRY_RUN=true\nPAPER_TRADING=false\n".encode(), PAPER)
    assert plan.after.encode().startswith(b"\xef\xbb\xbfDRY_RUN=false\n")


def test_duplicate_mode_key_is_refused_naming_lines():
    with pytest.raises(EnvEditError, match=r"DRY_RUN is set 2 times .*lines 1, 3"):
        plan_edit(".env", b"DRY_RUN=true\nPAPER_TRADING=false\nDRY_RUN=true\n", PAPER)


def test_unparseable_line_is_refused():
    with pytest.raises(EnvEditError, match="cannot parse"):
        plan_edit(".env", b"DRY_RUN=true\nthis is not 'a binding\n", PAPER)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\xff\xfeD\x00=\x00", "UTF-16"),
        (b"DRY_RUN=true\n\x00\x01", "binary"),
        (b"DRY_RUN=true\nNAME=caf\xe9\n", r"line 2 is not valid UTF-8"),
    ],
)
def test_undecodable_files_are_refused_with_one_line(data, match):
    with pytest.raises(EnvEditError, match=match):
        plan_edit(".env", data, PAPER)
    assert parse_env_bytes(data).problem is not None


# --- hypothesis: a switch never alters any other byte, for any file python-dotenv accepts -------------

keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,12}", fullmatch=True).filter(lambda k: k not in PAPER)
plain_values = st.from_regex(r"[A-Za-z0-9_./:@+-]{0,20}", fullmatch=True)
spaced = st.from_regex(r"[A-Za-z0-9 ]{0,12}", fullmatch=True)
values = st.one_of(
    plain_values,
    plain_values.map(lambda v: f"'{v}'"),
    plain_values.map(lambda v: f'"{v}"'),
    spaced.map(lambda v: f"'{v}'"),
    plain_values.map(lambda v: f"{v} # note"),
    plain_values.map(lambda v: f"{v}#not-a-comment"),
    plain_values.map(lambda v: f'"{v}\\"quoted\\""'),  # escaped quotes inside double quotes
    plain_values.map(lambda v: f'"{v}\nsecond line"'),  # a value spanning two lines
    plain_values.map(lambda v: "${OTHER:-" + v + "}"),  # interpolation with a default
)
mode_values = st.sampled_from(["true", "false", "TRUE", "'true'", '"false"', "true  # c", "", " true", "'tr ue'"])
mode_forms = st.sampled_from(["{k}={v}", "export {k}={v}", "{k} = {v}", "  {k}={v}", "{k}=\t{v}"])
other_line = st.one_of(
    st.tuples(keys, values).map(lambda kv: f"{kv[0]}={kv[1]}"),
    st.tuples(keys, values).map(lambda kv: f"export {kv[0]} = {kv[1]}"),
    keys,  # a key without '=' (dotenv: value None)
    st.just("# a comment"),
    st.just("   # an indented comment"),
    st.just(""),
    st.just("   "),
)


@st.composite
def env_files(draw):
    lines = draw(st.lists(other_line, max_size=12))
    for key in PAPER:
        if draw(st.booleans()):
            form = draw(mode_forms)
            lines.insert(draw(st.integers(0, len(lines))), form.format(k=key, v=draw(mode_values)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    bom = "\ufeff" if draw(st.integers(0, 9)) == 0 else ""
    return (bom + text).encode("utf-8")


@settings(max_examples=int(__import__("os").environ.get("HYPOTHESIS_EXAMPLES", "300")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(env_files())
def test_switch_changes_only_the_mode_keys(data):
    before_view = dotenv_view(data)
    plan = plan_edit(".env", data, PAPER)
    after = plan.after.encode("utf-8")
    after_view = dotenv_view(after)
    assert after_view["DRY_RUN"] == "false"
    assert after_view["PAPER_TRADING"] == "true"
    assert {k: v for k, v in after_view.items() if k not in PAPER} == {
        k: v for k, v in before_view.items() if k not in PAPER
    }
    # Byte level: drop the mode lines from both files; what remains is identical.
    def without_mode_lines(blob: bytes) -> list[bytes]:
        def is_mode(line: bytes) -> bool:
            bare = line.removeprefix(b"\xef\xbb\xbf").lstrip().removeprefix(b"export ")
            return bare.startswith((b"DRY_RUN", b"PAPER_TRADING"))

        return [ln for ln in blob.splitlines(keepends=True) if not is_mode(ln)]

    expected = without_mode_lines(data)
    got = without_mode_lines(after)[: len(expected)]
    if expected and not expected[-1].endswith((b"\n", b"\r")):
        # Appending a missing key to a file without a final newline must first end its last line.
        assert got[:-1] == expected[:-1] and got[-1].rstrip(b"\r\n") == expected[-1]
    else:
        assert got == expected


@settings(max_examples=100, deadline=None)
@given(env_files())
def test_reader_agrees_with_python_dotenv(data):
    facts = parse_env_bytes(data)
    assert dict(facts.values) == dotenv_view(data)


# --- strict booleans ---------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["true", "TRUE", "True"])
def test_true_in_any_case(raw):
    assert read_bool(parse_env_bytes(f"DRY_RUN={raw}\n".encode()), "DRY_RUN").value is True


@pytest.mark.parametrize("raw", ["yes", "1", "ture", "", "'true '", "on"])
def test_anything_else_is_a_problem_naming_key_and_line(raw):
    setting = read_bool(parse_env_bytes(f"# x\nDRY_RUN={raw}\n".encode()), "DRY_RUN")
    assert setting.value is None
    assert "DRY_RUN" in setting.problem and "line 2" in setting.problem


def test_missing_key_is_a_problem():
    assert "not set" in read_bool(parse_env_bytes(b"A=1\n"), "DRY_RUN").problem


def test_duplicates_resolve_as_dotenv_and_are_reported():
    facts = parse_env_bytes(b"DRY_RUN=true\nDRY_RUN=false\n")
    assert facts.values["DRY_RUN"] == "false"
    assert facts.duplicates == {"DRY_RUN": (1, 2)}
    assert facts.line_of("DRY_RUN") == 2


def test_secret_values_never_in_repr():
    facts = parse_env_bytes(b"DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/123/s3cr3tT0ken\nAPI_TOKEN=hunter22\n")
    text = repr(facts) + repr(facts.entries)
    assert "s3cr3tT0ken" not in text and "hunter22" not in text


# --- files on disk -----------------------------------------------------------------------------------


def test_read_env_problems_are_facts(tmp_path):
    assert "does not exist" in read_env(tmp_path / "nope.env").problem
    big = tmp_path / "big.env"
    big.write_bytes(b"A=1\n" * 400_000)
    assert "MB" in read_env(big).problem
    assert "directory" in read_env(tmp_path).problem


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_env_is_could_not_look(tmp_path):
    env = tmp_path / ".env"
    env.write_text("DRY_RUN=false\n")
    env.chmod(0)
    assert read_env(env).could_not_look


def test_atomic_write_keeps_a_backup_and_the_mode(tmp_path):
    env = tmp_path / ".env"
    env.write_bytes(b"DRY_RUN=true\n")
    env.chmod(0o600)
    backup = atomic_write(env, "DRY_RUN=false\n")
    assert env.read_bytes() == b"DRY_RUN=false\n"
    assert backup.read_bytes() == b"DRY_RUN=true\n"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes everywhere")
def test_atomic_write_in_read_only_dir_leaves_file_untouched(tmp_path):
    env = tmp_path / ".env"
    env.write_bytes(b"DRY_RUN=true\n")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(EnvEditError, match="untouched"):
            atomic_write(env, "DRY_RUN=false\n")
    finally:
        tmp_path.chmod(0o700)
    assert env.read_bytes() == b"DRY_RUN=true\n"


# --- the environment that shadows the file ------------------------------------------------------------


def test_exported_variable_shadows_the_file():
    facts = parse_env_bytes(b"DRY_RUN=false\nPAPER_TRADING=true\n")
    shadows = shadowed_keys(facts, {"DRY_RUN": "true", "PAPER_TRADING": "true"}, "shell")
    assert [s.key for s in shadows] == ["DRY_RUN"]
    assert shadowed_keys(facts, {"PYTHON_DOTENV_DISABLED": "1"}, "shell")[0].key == "PYTHON_DOTENV_DISABLED"


@pytest.mark.parametrize(
    ("blob", "encoding"),
    [
        ("Name                           Value\r\n----                           -----\r\n"
         "DRY_RUN                        true\r\nPath                           C:\\Windows\r\n", "utf-16"),
        ("DRY_RUN=true\nPATH=/usr/bin\n", "utf-8"),
        ("COMSPEC=C:\\Windows\\system32\\cmd.exe\r\nDRY_RUN=true\r\nUSERNAME=Jos\xe9\r\n", "cp1252"),
    ],
)
def test_environment_dumps_from_windows_and_posix(tmp_path, blob, encoding):
    dump = tmp_path / "env.txt"
    dump.write_bytes(blob.encode(encoding))
    variables, problem = read_environ_dump(dump)
    assert problem is None
    assert variables["DRY_RUN"] == "true"


def test_empty_dump_is_a_problem(tmp_path):
    dump = tmp_path / "env.txt"
    dump.write_text("\n")
    assert read_environ_dump(dump)[0] is None


def test_write_failure_leaves_file_untouched_even_as_root(tmp_path, monkeypatch):
    """Root ignores directory permissions, so simulate the read-only directory at the OS call."""
    env = tmp_path / ".env"
    env.write_bytes(b"DRY_RUN=true\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("harness.probes.envfile.tempfile.mkstemp", refuse)
    with pytest.raises(EnvEditError, match="untouched"):
        atomic_write(env, "DRY_RUN=false\n")
    assert env.read_bytes() == b"DRY_RUN=true\n"


def test_permission_denied_on_read_is_could_not_look(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text("DRY_RUN=false\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("harness.probes.envfile.os.open", refuse)
    facts = read_env(env)
    assert facts.could_not_look and "permission denied" in facts.problem


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on Windows")
def test_a_fifo_is_refused_without_opening_it(tmp_path):
    """Opening a FIFO for reading blocks until a writer comes: the reader must refuse it from its stat."""
    fifo = tmp_path / ".env"
    os.mkfifo(fifo)
    facts = read_env(fifo)  # would hang forever if it opened the FIFO
    assert "FIFO" in facts.problem and "not a regular file" in facts.problem
    assert facts.exists and not facts.could_not_look  # the world is wrong: a failure, not a skip
    variables, problem = read_environ_dump(fifo)
    assert variables is None and "FIFO" in problem


@pytest.mark.skipif(not os.path.exists("/dev/zero") or not hasattr(os, "symlink"), reason="no /dev/zero")
def test_a_link_to_an_endless_device_is_refused(tmp_path):
    """/dev/zero reports st_size 0 and never ends: the old size guard read it until MemoryError."""
    env = tmp_path / ".env"
    env.symlink_to("/dev/zero")
    facts = read_env(env)
    assert "character device" in facts.problem and not facts.could_not_look


def test_the_read_is_capped_whatever_the_size_says(tmp_path):
    env = tmp_path / ".env"
    env.write_bytes(b"A=1\n" * 100)
    with pytest.raises(NotReadable, match="larger than"):
        read_regular_file(env, 50)
    assert read_regular_file(env, 400) == b"A=1\n" * 100


def test_a_symlink_to_a_regular_file_is_read_and_resolved(tmp_path):
    real = tmp_path / "real.env"
    real.write_text("DRY_RUN=true\n")
    link = tmp_path / ".env"
    try:
        link.symlink_to(real)
    except OSError:
        pytest.skip("symlinks not permitted here")
    facts = read_env(link)
    assert facts.problem is None and facts.values["DRY_RUN"] == "true"
    assert facts.resolved == str(real.resolve())


def test_a_linked_env_stays_a_link_and_the_file_it_points_to_is_switched(tmp_path):
    from harness.actions.switch import apply_switch, plan_switch

    elsewhere = tmp_path / "config" / "bot.env"
    elsewhere.parent.mkdir()
    elsewhere.write_text("DRY_RUN=true\nPAPER_TRADING=false\nIBKR_PORT=4002\n", encoding="utf-8")
    bot = tmp_path / "bot"
    bot.mkdir()
    link = bot / ".env"
    try:
        link.symlink_to(elsewhere)
    except (OSError, NotImplementedError):
        pytest.skip("symbolic links are not allowed to this user here")
    plan = plan_switch(link, "paper")
    assert any("is a link to" in note and "the link is kept" in note for note in plan.notes)
    backup = apply_switch(plan)
    assert link.is_symlink() and os.path.realpath(link) == str(elsewhere.resolve())
    assert elsewhere.read_text(encoding="utf-8") == "DRY_RUN=false\nPAPER_TRADING=true\nIBKR_PORT=4002\n"
    assert backup.parent == bot / ".harness-backups"


def test_the_temp_file_of_an_edit_is_made_where_git_ignores_it_and_a_stale_one_goes(tmp_path, monkeypatch):
    """kill -9 during `harness switch paper` used to leave `..env.XXXX.tmp` (the whole new .env) in the bot's
    directory, untracked and not ignored."""
    import tempfile

    from harness.probes import envfile

    env = tmp_path / ".env"
    env.write_text("DRY_RUN=true\nPAPER_TRADING=false\n", encoding="utf-8")
    stale = [tmp_path / "..env.abc123.tmp", tmp_path / ".harness-backups" / "..env.def456.tmp"]
    stale[1].parent.mkdir()
    for path in stale:
        path.write_text("DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/1/secret\n", encoding="utf-8")
    made = []
    real = tempfile.mkstemp

    def watched(*args, **kwargs):
        made.append(kwargs["dir"])
        return real(*args, **kwargs)

    monkeypatch.setattr(envfile.tempfile, "mkstemp", watched)
    envfile.atomic_write(env, "DRY_RUN=false\nPAPER_TRADING=true\n")
    assert [str(folder) for folder in made] == [str(tmp_path / ".harness-backups")]
    assert (tmp_path / ".harness-backups" / ".gitignore").read_text(encoding="utf-8").splitlines()[-1] == "*"
    assert not any(path.exists() for path in stale)
