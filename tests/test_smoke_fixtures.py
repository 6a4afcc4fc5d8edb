def test_fixtures_walk_a_case_into_the_sandbox(in_sandbox_a):
    assert in_sandbox_a.state == "in_sandbox"
    assert in_sandbox_a.decision.conditions.count() == 1
