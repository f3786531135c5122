import subprocess
import sys


def _ioc(*args, env=None):
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True,
                          text=True, timeout=60, check=False, env=env)


def test_help_explains_each_command():
    out = _ioc("--help").stdout
    for command in ("up", "serve", "db", "migrate", "samples", "layers"):
        assert command in out


def test_layers_list():
    out = _ioc("layers", "list").stdout
    assert "communes" in out and "Đơn vị hành chính cấp xã" in out


def test_unreachable_database_is_one_clear_line(tmp_path):
    import os

    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = _ioc("migrate", env=env)
    assert result.returncode != 0
    lines = [line for line in result.stderr.strip().splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("ioc: lỗi:")
