//! The store's schema and its migrations.
//!
//! `PRAGMA user_version` holds the schema version; `MIGRATIONS[i]` takes a store from
//! version `i` to `i + 1`. A released migration is never edited: a schema change is
//! a new entry, and `tests/migrations.rs` opens a store written by every earlier
//! release (the fixtures under `tests/data/`) to prove it still reads.

/// `PRAGMA application_id` of a Boundary store ("Bndy"), so that a store is told apart
/// from any other SQLite file.
pub const APPLICATION_ID: i32 = 0x426E_6479;

/// Each entry upgrades the schema by one version, in order.
pub const MIGRATIONS: &[&str] = &[
    // Version 1, the first release.
    r#"
    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        model       TEXT NOT NULL,
        benchmark   TEXT NOT NULL,
        -- who made the samples: import, embedded, openai, lab, ...
        source      TEXT NOT NULL,
        -- canonical JSON object of every setting that shapes the samples
        sampling    TEXT NOT NULL,
        seed        INTEGER,
        -- sha256 of (source, sampling, seed): a run is resumed only with identical settings
        config_hash TEXT NOT NULL,
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        UNIQUE (model, benchmark, config_hash)
    );

    CREATE TABLE problems (
        id        INTEGER PRIMARY KEY,
        benchmark TEXT NOT NULL,
        key       TEXT NOT NULL,
        gold      TEXT,
        -- JSON object: whatever else the benchmark knows about the problem
        metadata  TEXT,
        UNIQUE (benchmark, key)
    );

    -- The exact prompt a run sent for a problem (templates differ between runs).
    CREATE TABLE prompts (
        run_id     INTEGER NOT NULL REFERENCES runs (id),
        problem_id INTEGER NOT NULL REFERENCES problems (id),
        prompt     TEXT NOT NULL,
        PRIMARY KEY (run_id, problem_id)
    ) WITHOUT ROWID;

    -- A rowid table: responses can be tens of kilobytes, too large for WITHOUT ROWID.
    CREATE TABLE samples (
        run_id            INTEGER NOT NULL REFERENCES runs (id),
        problem_id        INTEGER NOT NULL REFERENCES problems (id),
        sample_index      INTEGER NOT NULL CHECK (sample_index >= 0),
        status            TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
        response          TEXT,
        error             TEXT,
        finish_reason     TEXT,
        prompt_tokens     INTEGER,
        completion_tokens INTEGER,
        created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        CHECK ((status = 'ok') = (response IS NOT NULL)),
        UNIQUE (run_id, problem_id, sample_index)
    );

    CREATE TABLE grades (
        run_id       INTEGER NOT NULL,
        problem_id   INTEGER NOT NULL,
        sample_index INTEGER NOT NULL,
        verifier     TEXT NOT NULL,
        verdict      TEXT NOT NULL,
        correct      INTEGER NOT NULL CHECK (correct IN (0, 1)),
        extracted    TEXT,
        -- JSON object: normalized forms, the deciding rule, failing test, ...
        detail       TEXT,
        created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (run_id, problem_id, sample_index, verifier),
        FOREIGN KEY (run_id, problem_id, sample_index)
            REFERENCES samples (run_id, problem_id, sample_index)
    ) WITHOUT ROWID;

    -- Log-probability of a sample's response under a scorer model (perplexity analysis).
    CREATE TABLE scores (
        run_id       INTEGER NOT NULL,
        problem_id   INTEGER NOT NULL,
        sample_index INTEGER NOT NULL,
        scorer       TEXT NOT NULL,
        logprob_sum  REAL NOT NULL,
        num_tokens   INTEGER NOT NULL CHECK (num_tokens >= 0),
        created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        PRIMARY KEY (run_id, problem_id, sample_index, scorer),
        FOREIGN KEY (run_id, problem_id, sample_index)
            REFERENCES samples (run_id, problem_id, sample_index)
    ) WITHOUT ROWID;
    "#,
];

/// The schema version this build writes.
pub const LATEST_VERSION: i32 = MIGRATIONS.len() as i32;
