from .simtools import make_client

pytest_plugins = ["local.amdsim.pytest_plugin"]


def test_connection_against_simulator(amd_sim):
    amd = make_client(amd_sim)
    report = amd.test_connection()
    assert report.provider_count > 0
    sim = amd_sim.admin.report()
    assert sim["logins"] == 1
    assert sim["violations"]["count"] == 0, sim["violations"]
