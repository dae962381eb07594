//! `boundary lab` from the command line: bad profiles and configs are refused before any
//! work starts, naming what is wrong. (The whole quick profile, its `summary.json` contract
//! and resume are tested end to end in `crates/boundary-lab/tests/`.)

mod common;

use common::TestDir;

#[test]
fn unknown_profiles_and_bad_configs_are_refused_before_any_work() {
    let t = TestDir::new();
    let err = t.fails(&["lab", "--profile", "huge", "--out", "out"]);
    assert!(err.contains("huge"), "{err}");
    assert!(
        err.contains("quick"),
        "the known profiles are listed: {err}"
    );

    t.write("lab.toml", "[rl]\nlearning_rat = 0.001\n");
    let err = t.fails(&[
        "lab",
        "--profile",
        "quick",
        "--config",
        "lab.toml",
        "--out",
        "out",
    ]);
    assert!(err.contains("lab.toml"), "{err}");
    assert!(err.contains("learning_rat"), "{err}");

    t.write("broken.toml", "[rl\n");
    let err = t.fails(&[
        "lab",
        "--profile",
        "quick",
        "--config",
        "broken.toml",
        "--out",
        "out",
    ]);
    assert!(err.contains("broken.toml"), "{err}");
    assert!(!t.path("out").exists(), "nothing was written");
}
