//! Every benchmark loads from the vendored data or from a fixture in its released
//! format, with the paper's gold answers; the Hub path is exercised on a local cache.

use std::path::{Path, PathBuf};

use boundary_bench::{BenchError, Benchmark, FieldMapping, Hub, Image, LoadOptions, Problem};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn load(b: Benchmark) -> Vec<Problem> {
    b.load(&LoadOptions::vendored())
        .unwrap_or_else(|e| panic!("{}: {e}", b.name()))
}

fn gold(p: &Problem) -> &str {
    p.gold.as_deref().unwrap()
}

#[test]
fn math_benchmarks_use_the_papers_answer_fields() {
    let gsm8k = load(Benchmark::Gsm8k);
    assert_eq!(gsm8k.len(), 1319);
    assert_eq!((gsm8k[0].id.as_str(), gold(&gsm8k[0])), ("0", "18"));
    assert!(gsm8k[0].question.starts_with("Janet’s ducks lay 16 eggs"));

    let math500 = load(Benchmark::Math500);
    assert_eq!(math500.len(), 500);
    assert_eq!(math500[0].id, "test/precalculus/807.json");
    // The last \boxed{} of the solution, as the paper grades (here equal to `answer`).
    assert_eq!(gold(&math500[0]), "\\left( 3, \\frac{\\pi}{2} \\right)");
    assert_eq!(math500[0].fields["level"], 2);
    // In this file the boxed solution and the `answer` field agree for every problem.
    assert!(
        math500
            .iter()
            .all(|p| p.fields["answer"].as_str() == p.gold.as_deref())
    );

    let minerva = load(Benchmark::MinervaMath);
    assert_eq!(minerva.len(), 272);
    assert_eq!(minerva[0].id, "0");
    assert_eq!(gold(&minerva[0]), "1.6");

    let olympiad = load(Benchmark::OlympiadBench);
    assert_eq!(olympiad.len(), 675);
    assert_eq!((olympiad[0].id.as_str(), gold(&olympiad[0])), ("1606", "2"));
    assert!(olympiad.iter().all(|p| !gold(p).starts_with('$')));

    let aime = load(Benchmark::Aime24);
    assert_eq!(aime.len(), 30);
    assert_eq!((aime[0].id.as_str(), gold(&aime[0])), ("60", "204"));

    let amc = load(Benchmark::Amc23);
    assert_eq!(amc.len(), 40);
    assert_eq!(gold(&amc[0]), "27", "27.0 is written as an integer");
    for b in [Benchmark::Gsm8k, Benchmark::Math500, Benchmark::Aime24] {
        assert_eq!(Some(load(b).len()), b.info().problems, "{}", b.name());
    }
}

#[test]
fn humaneval_plus_and_vendored_mbpp_plus() {
    let he = load(Benchmark::HumanEvalPlus);
    assert_eq!(he.len(), 164);
    assert_eq!(he[0].id, "HumanEval/0");
    assert_eq!(he[0].fields["entry_point"], "has_close_elements");
    assert!(he[0].gold.is_none(), "code is graded by its tests");
    assert!(he[0].fields["tests"].as_u64().unwrap() > 10);

    let mbpp = load(Benchmark::MbppPlus);
    assert_eq!(mbpp.len(), 399);
    assert_eq!(mbpp[0].id, "Mbpp/2");
    // The development copy's first assert goes into the docstring, as v0.2.0 shows it.
    assert_eq!(
        mbpp[0].question,
        "\"\"\"\nWrite a function to find the shared elements from the given two lists.\n\
         assert similar_elements((3, 4, 5, 6),(5, 7, 4, 10)) == (4, 5)\n\"\"\"\n"
    );
}

#[test]
fn mbpp_plus_v020_from_the_release_file_and_the_hub() {
    let released = Benchmark::MbppPlus
        .load(&LoadOptions {
            path: Some(fixture("mbpp_plus/MbppPlus-v0.2.0.jsonl.gz")),
            ..LoadOptions::vendored()
        })
        .unwrap();
    assert_eq!(released.len(), 2);
    assert!(released[0].question.contains("assert set(similar_elements"));
    assert_eq!(released[1].fields["tests"], 3);

    let cache = tempfile::tempdir().unwrap();
    boundary_bench::hub::seed_cache(
        cache.path(),
        "evalplus/mbppplus",
        &[(
            "data/test-00000-of-00001.parquet",
            &fixture("hub/mbppplus-test-00000-of-00001.parquet"),
        )],
    )
    .unwrap();
    let from_hub = Benchmark::MbppPlus
        .load(&LoadOptions {
            version: Some("v0.2.0".into()),
            hub: Some(Hub::offline(cache.path())),
            ..LoadOptions::vendored()
        })
        .unwrap();
    assert_eq!(from_hub.len(), 2);
    assert_eq!(from_hub[0].id, "Mbpp/2");
    assert_eq!(
        released[0].question, from_hub[0].question,
        "both forms show the same task"
    );
    assert_eq!(from_hub[1].fields["tests"], 2);

    let err = Benchmark::MbppPlus
        .load(&LoadOptions {
            version: Some("v0.2.0".into()),
            ..LoadOptions::vendored()
        })
        .unwrap_err();
    assert!(matches!(err, BenchError::DataMissing { .. }), "{err}");
}

#[test]
fn livecodebench_from_a_release_file_a_folder_and_the_hub() {
    let options = LoadOptions {
        path: Some(fixture("livecodebench/test5.jsonl")),
        ..LoadOptions::default()
    };
    let problems = Benchmark::LiveCodeBench.load(&options).unwrap();
    let ids: Vec<&str> = problems.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        ["abc999_a", "3500"],
        "the 2023 contest is outside the paper's window"
    );
    assert_eq!(problems[0].fields["starter_code"], "");
    assert_eq!(problems[1].fields["func_name"], "twoSum");
    assert_eq!(problems[1].fields["platform"], "leetcode");

    let wide = Benchmark::LiveCodeBench
        .load(&LoadOptions {
            start_date: Some("2023-01-01".into()),
            ..options.clone()
        })
        .unwrap();
    assert_eq!(wide.len(), 3);
    let err = Benchmark::LiveCodeBench
        .load(&LoadOptions {
            start_date: Some("2026-01-01".into()),
            end_date: Some("2026-12-31".into()),
            ..options
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "benchmark `livecodebench` has no problems with a contest date from 2026-01-01 to 2026-12-31"
    );

    let folder = Benchmark::LiveCodeBench
        .load(&LoadOptions {
            path: Some(fixture("livecodebench")),
            ..LoadOptions::default()
        })
        .unwrap();
    assert_eq!(
        folder.len(),
        2,
        "release_v5's test5.jsonl is found in the folder"
    );

    let cache = tempfile::tempdir().unwrap();
    boundary_bench::hub::seed_cache(
        cache.path(),
        "livecodebench/code_generation_lite",
        &[("test.jsonl", &fixture("livecodebench/test5.jsonl"))],
    )
    .unwrap();
    let from_hub = Benchmark::LiveCodeBench
        .load(&LoadOptions {
            version: Some("release_v1".into()),
            hub: Some(Hub::offline(cache.path())),
            ..LoadOptions::default()
        })
        .unwrap();
    assert_eq!(from_hub.len(), 2);

    let err = Benchmark::LiveCodeBench
        .load(&LoadOptions::default())
        .unwrap_err();
    assert!(
        err.to_string().contains("not redistributable here"),
        "{err}"
    );
}

#[test]
fn mathvista_needs_images_from_a_folder_or_the_hub() {
    let err = Benchmark::MathVista
        .load(&LoadOptions::vendored())
        .unwrap_err();
    assert!(err.to_string().contains("MathVista images"), "{err}");

    let with_folder = LoadOptions {
        path: Some(fixture("mathvista/testmini.json")),
        images: Some(fixture("mathvista")),
        ..LoadOptions::vendored()
    };
    let problems = Benchmark::MathVista.load(&with_folder).unwrap();
    let ids: Vec<&str> = problems.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids.len(),
        2,
        "multiple-choice questions are dropped as in the paper"
    );
    assert!(ids.contains(&"1") && ids.contains(&"2"));
    let one = problems.iter().find(|p| p.id == "1").unwrap();
    assert_eq!(gold(one), "1.2");
    assert_eq!(one.fields["unit"], "cm");
    assert!(matches!(&one.images[0], Image::File { path } if path.ends_with("images/1.jpg")));

    let err = Benchmark::MathVista
        .load(&LoadOptions {
            multiple_choice: true,
            ..with_folder
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("image `images/3.jpg` is not in"),
        "{err}"
    );

    let cache = tempfile::tempdir().unwrap();
    boundary_bench::hub::seed_cache(
        cache.path(),
        "AI4Math/MathVista",
        &[(
            "data/testmini-00000-of-00001-725687bf7a18d64b.parquet",
            &fixture("hub/mathvista-testmini-00000-of-00001.parquet"),
        )],
    )
    .unwrap();
    let from_hub = Benchmark::MathVista
        .load(&LoadOptions {
            hub: Some(Hub::offline(cache.path())),
            ..LoadOptions::vendored()
        })
        .unwrap();
    assert_eq!(from_hub.len(), 2);
    let Image::Bytes { bytes, mime } = &from_hub[0].images[0] else {
        panic!("the Hub's Parquet embeds the images")
    };
    assert_eq!(*mime, "image/jpeg");
    assert_eq!(
        bytes,
        &std::fs::read(fixture("mathvista/images/1.jpg")).unwrap()
    );
}

#[test]
fn mathvision_testmini_with_its_images() {
    let problems = load(Benchmark::MathVision);
    assert_eq!(problems.len(), 114, "testmini questions without options");
    for p in &problems {
        let Image::File { path } = &p.images[0] else {
            panic!()
        };
        assert!(path.is_file(), "{}", path.display());
    }
    let all = Benchmark::MathVision
        .load(&LoadOptions {
            multiple_choice: true,
            ..LoadOptions::vendored()
        })
        .unwrap();
    assert_eq!(all.len(), 304);
}

#[test]
fn user_benchmarks_with_a_field_mapping() {
    let mapping = FieldMapping {
        id: Some("uid".into()),
        question: "problem".into(),
        answer: Some("solution".into()),
        image: Some("img".into()),
    };
    let problems =
        boundary_bench::loaders::custom::load(&fixture("custom/problems.jsonl"), &mapping).unwrap();
    assert_eq!(problems.len(), 2);
    assert_eq!(problems[0].id, "q1");
    assert_eq!(
        gold(&problems[0]),
        "5",
        "a worked solution is reduced to its box"
    );
    assert_eq!(problems[0].fields["level"], 1);
    assert!(
        !problems[0].fields.contains_key("problem"),
        "mapped fields are not repeated"
    );
    assert_eq!(problems[0].images.len(), 1);

    let parquet = boundary_bench::loaders::custom::load(
        &fixture("custom/problems.parquet"),
        &FieldMapping {
            image: None,
            ..mapping.clone()
        },
    )
    .unwrap();
    assert_eq!(parquet.len(), 2);
    assert_eq!(gold(&parquet[1]), "42");

    let err = boundary_bench::loaders::custom::load(
        &fixture("custom/problems.jsonl"),
        &FieldMapping {
            question: "prompt".into(),
            ..mapping
        },
    )
    .unwrap_err();
    let BenchError::MappedField {
        key, field, line, ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((*key, field.as_str(), *line), ("question", "prompt", 1));
    assert!(
        err.to_string()
            .ends_with("(it has: img, level, problem, solution, uid)"),
        "{err}"
    );
}

#[test]
fn a_missing_data_folder_is_explained() {
    let err = Benchmark::Gsm8k.load(&LoadOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "benchmark `gsm8k` needs the vendored file data/gsm8k/test.jsonl, which is not in this \
         checkout: set BOUNDARY_DATA to the data/ folder of a Boundary checkout, or give `path`"
    );
}

#[test]
fn code_benchmarks_name_the_files_their_tests_are_in() {
    let vendored = LoadOptions::vendored();
    let he = Benchmark::HumanEvalPlus.test_files(&vendored).unwrap();
    assert_eq!(he.len(), 1);
    assert!(he[0].ends_with("humaneval_plus/HumanEvalPlus-v0.1.10.jsonl"));
    let mbpp = Benchmark::MbppPlus.test_files(&vendored).unwrap();
    assert!(mbpp[0].ends_with("mbpp_plus/MbppPlus-evalplus-git767efcc.jsonl"));
    // The user's release file wins, as it does for the prompts.
    let released = fixture("mbpp_plus/MbppPlus-v0.2.0.jsonl.gz");
    let chosen = Benchmark::MbppPlus
        .test_files(&LoadOptions {
            path: Some(released.clone()),
            ..LoadOptions::vendored()
        })
        .unwrap();
    assert_eq!(chosen, [released]);
    let lcb = fixture("livecodebench/test5.jsonl");
    let files = Benchmark::LiveCodeBench
        .test_files(&LoadOptions {
            path: Some(lcb.clone()),
            ..LoadOptions::default()
        })
        .unwrap();
    assert_eq!(files, [lcb]);
    assert!(
        Benchmark::LiveCodeBench
            .test_files(&LoadOptions::default())
            .is_err()
    );
    // Math answers travel with the problems.
    assert!(Benchmark::Math500.test_files(&vendored).unwrap().is_empty());
}
