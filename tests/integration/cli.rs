//! The command line: evaluation output, exit codes and bad input.

use angora_tests::{isolated_angora, run};

#[test]
fn random_cartpole_matches_the_known_random_return() {
    let outcome = run(isolated_angora().args([
        "eval",
        "--task",
        "CartPole-v1",
        "--policy",
        "random",
        "--episodes",
        "300",
        "--seed",
        "1",
        "--json",
    ]));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    let report = outcome.json();
    for key in [
        "episodes",
        "mean_return",
        "std_return",
        "mean_length",
        "metrics",
    ] {
        assert!(report.get(key).is_some(), "{key} missing from {report}");
    }
    assert_eq!(report["episodes"], 300);
    let mean = report["mean_return"].as_f64().unwrap();
    // Uniformly random actions keep the pole up for about 22 steps on average.
    assert!((19.0..25.0).contains(&mean), "mean return {mean}");
    assert_eq!(
        report["mean_length"].as_f64().unwrap(),
        mean,
        "one reward per step"
    );

    let again = run(isolated_angora().args([
        "eval",
        "--task",
        "CartPole-v1",
        "--policy",
        "random",
        "--episodes",
        "300",
        "--seed",
        "1",
        "--json",
    ]));
    assert_eq!(
        again.json()["mean_return"],
        report["mean_return"],
        "the same seed gives the same result"
    );
}

#[test]
fn task_config_overrides_reach_the_task() {
    let outcome = run(isolated_angora().args([
        "eval",
        "--task",
        "CartPole-v1",
        "--policy",
        "random",
        "--episodes",
        "20",
        "--json",
        "--set",
        "task.max_episode_steps=5",
    ]));
    assert_eq!(outcome.code, Some(0), "{outcome:?}");
    assert!(outcome.json()["mean_length"].as_f64().unwrap() <= 5.0);
}

#[test]
fn bad_input_exits_with_code_two_and_says_why() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["eval", "--task", "NoSuchTask-v0", "--policy", "random"],
            "unknown task 'NoSuchTask-v0'",
        ),
        (
            &[
                "eval",
                "--task",
                "CartPole-v1",
                "--policy",
                "random",
                "--set",
                "task.velocitiez=false",
            ],
            "velocitiez",
        ),
        (
            &[
                "eval",
                "--task",
                "CartPole-v1",
                "--policy",
                "random",
                "--set",
                "ppo.lr=1",
            ],
            "unknown section 'ppo'",
        ),
        (
            &[
                "eval",
                "--task",
                "CartPole-v1",
                "--policy",
                "random",
                "--body",
                "point-mass",
            ],
            "takes none",
        ),
        (
            &[
                "eval",
                "--task",
                "CartPole-v1",
                "--policy",
                "random",
                "--set",
                "body.mass=2",
            ],
            "without --body",
        ),
    ];
    for (args, expected) in cases {
        let outcome = run(isolated_angora().args(args));
        assert_eq!(outcome.code, Some(2), "{args:?}: {outcome:?}");
        assert!(
            outcome.stderr.contains(expected),
            "{args:?}: {}",
            outcome.stderr
        );
    }
    let usage = run(isolated_angora().args(["eval", "--policy", "random"]));
    assert_eq!(
        usage.code,
        Some(2),
        "clap's usage errors exit with 2 as well"
    );
}
