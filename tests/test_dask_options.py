"""--dask only when asked: DASK_SCHEDULER_ADDRESS in the environment changes nothing
without --dask, and `--dask` alone takes the address from it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from batch_classifier.inference.cities.cli import main as classify_cities
from tests.jobs_support import finished
from tests.test_dask_runs import cluster, places  # noqa: F401 - fixtures

pytest.importorskip("distributed")


def test_the_environment_alone_does_not_turn_on_dask(tmp_path, cluster, places,  # noqa: F811
                                                      cities_model):
    env = {"DASK_SCHEDULER_ADDRESS": cluster.scheduler.address}
    runner = CliRunner(env=env)
    result = runner.invoke(classify_cities, [str(places), "--model", str(cities_model), "-o",
                                             str(tmp_path / "out.csv"), "-q"])
    finished(result)
    assert (tmp_path / "out.csv").is_file()
    to_stdout = runner.invoke(classify_cities, [str(places), "--model", str(cities_model), "-q"])
    finished(to_stdout)
    assert to_stdout.stdout.startswith("id,name,lat,lon,country")


def test_dask_alone_takes_the_address_from_the_environment(tmp_path, cluster, places,  # noqa: F811
                                                           cities_model):
    runner = CliRunner(env={"DASK_SCHEDULER_ADDRESS": cluster.scheduler.address})
    result = runner.invoke(classify_cities, [str(places), "--model", str(cities_model), "-o",
                                             str(tmp_path / "parts"), "--dask"])
    finished(result)
    assert cluster.scheduler.address in result.stderr
    assert json.loads((tmp_path / "parts" / "_SUCCESS").read_text())["rows"] == 6000
    unset = CliRunner(env={"DASK_SCHEDULER_ADDRESS": None}).invoke(
        classify_cities, [str(places), "-o", str(tmp_path / "p2"), "--dask"])
    assert unset.exit_code == 2 and "DASK_SCHEDULER_ADDRESS" in unset.stderr
