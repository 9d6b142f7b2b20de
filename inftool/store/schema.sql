-- The tables of a run directory's store.duckdb. Every statement is idempotent: Store.open runs this
-- file each time it opens a store for writing. Timestamps are UTC. Bump SCHEMA_VERSION in db.py when
-- a table changes shape.

CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

-- One row per compiled plan that wrote to this store; the newest (highest seq) is `current_run`.
CREATE TABLE IF NOT EXISTS runs (
    run_id       VARCHAR PRIMARY KEY,       -- the plan's content_hash[:16]
    seq          INTEGER NOT NULL UNIQUE,   -- 1, 2, ...: order in which runs were first written
    name         VARCHAR NOT NULL,
    recipe       VARCHAR,
    content_hash VARCHAR NOT NULL,
    seed         BIGINT,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS iterations (
    run_id      VARCHAR NOT NULL,
    iteration   INTEGER NOT NULL,
    status      VARCHAR NOT NULL,           -- 'running', 'done', 'failed', ...
    started_at  TIMESTAMP,
    finished_at TIMESTAMP,
    weights     JSON,                       -- the scenario weights the loop chose, if any
    PRIMARY KEY (run_id, iteration)
);

CREATE TABLE IF NOT EXISTS tools (
    run_id        VARCHAR NOT NULL,
    name          VARCHAR NOT NULL,         -- function-calling name, unique in the catalog
    original_name VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,
    description   VARCHAR NOT NULL,
    parameters    JSON NOT NULL,            -- JSON Schema of the arguments
    output_schema JSON,
    param_names   VARCHAR[] NOT NULL,       -- top-level parameters, in schema order
    param_types   VARCHAR[] NOT NULL,       -- their JSON types, aligned with param_names ('any' when absent)
    PRIMARY KEY (run_id, name)
);

CREATE TABLE IF NOT EXISTS scenarios (
    run_id     VARCHAR NOT NULL,
    iteration  INTEGER NOT NULL,
    complexity VARCHAR NOT NULL,
    tool       VARCHAR NOT NULL,
    weight     DOUBLE NOT NULL,             -- sampling weight in this iteration
    base_weight DOUBLE,                     -- the plan's weight, before gap targeting (NULL: not targeted)
    need       DOUBLE,                      -- 0..1: how much the cell needed more data (gap targeting)
    drivers    JSON,                        -- what drove `need`: failure rates, gate rejections, error kinds
    PRIMARY KEY (run_id, iteration, complexity, tool)
);

CREATE TABLE IF NOT EXISTS episodes (
    episode_id   VARCHAR PRIMARY KEY,
    run_id       VARCHAR NOT NULL,
    iteration    INTEGER NOT NULL,
    idx          INTEGER NOT NULL CHECK (idx >= 0),
    complexity   VARCHAR NOT NULL,
    tool         VARCHAR NOT NULL,          -- the goal's target: the scenario cell's tool
    called_tools VARCHAR[] NOT NULL,        -- distinct tool names in the goal's planned calls
    offered      VARCHAR[] NOT NULL,        -- tools offered to the assistant, in order
    persona      VARCHAR,
    request      VARCHAR,                   -- the user's first message
    messages     JSON NOT NULL,             -- OpenAI chat messages
    tools        JSON NOT NULL,             -- OpenAI `tools` list
    goal         JSON NOT NULL,             -- Goal.to_json()
    accepted     BOOLEAN NOT NULL,          -- every gate ran and passed
    failed_gate  VARCHAR,                   -- the first gate that failed
    reason       VARCHAR,                   -- its reason
    split        VARCHAR NOT NULL CHECK (split IN ('train', 'heldout')),
    error        VARCHAR,                   -- why role-play could not finish
    created_at   TIMESTAMP NOT NULL
);

-- One row per gate that ran on an episode (gates after a failing one do not run).
CREATE TABLE IF NOT EXISTS verdicts (
    episode_id VARCHAR NOT NULL,
    position   SMALLINT NOT NULL,           -- 0-based order in which the gates ran
    gate       VARCHAR NOT NULL,
    passed     BOOLEAN NOT NULL,
    reason     VARCHAR,
    PRIMARY KEY (episode_id, gate)
);

-- One row per evaluated item: a BFCL question or a held-out synthetic episode, for one policy.
CREATE TABLE IF NOT EXISTS eval_results (
    run_id     VARCHAR NOT NULL,
    iteration  INTEGER NOT NULL,
    policy     VARCHAR NOT NULL,            -- oracle, no-call, or the name of a model in the recipe
    suite      VARCHAR NOT NULL,            -- 'bfcl' or 'heldout'
    category   VARCHAR NOT NULL,            -- BFCL category, or the episode's scenario kind
    item_id    VARCHAR NOT NULL,
    tool       VARCHAR,                     -- the expected (first) function, if any
    seen       VARCHAR,                     -- BFCL: 'seen' / 'unseen' / 'mixed': were its tools in synthesis
    valid      BOOLEAN NOT NULL,
    error_kind VARCHAR,                     -- inftool.evaluate.ERROR_KINDS
    message    VARCHAR,
    output     VARCHAR,                     -- what the policy answered (JSON text)
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id, iteration, policy, suite, item_id)
);

-- One row per stage of one loop iteration: synthesize, sft, grpo, evaluate, target (and the untrained
-- evaluation, iteration 0 stage 'baseline'). `inftool run --resume` skips stages whose status is 'done'.
CREATE TABLE IF NOT EXISTS stages (
    run_id      VARCHAR NOT NULL,
    iteration   INTEGER NOT NULL,
    stage       VARCHAR NOT NULL,
    status      VARCHAR NOT NULL,           -- 'running', 'done', 'failed', 'interrupted', 'skipped'
    started_at  TIMESTAMP,
    finished_at TIMESTAMP,
    seconds     DOUBLE,
    counts      JSON,                       -- what the stage made: episodes, steps, items, accuracy, ...
    output      VARCHAR,                    -- where its product is (a checkpoint directory, a job directory)
    PRIMARY KEY (run_id, iteration, stage)
);

-- Training curves: one row per logged optimiser step of SFT or GRPO.
CREATE TABLE IF NOT EXISTS train_log (
    run_id    VARCHAR NOT NULL,
    iteration INTEGER NOT NULL,
    phase     VARCHAR NOT NULL,             -- 'sft' or 'grpo'
    step      INTEGER NOT NULL,
    loss      DOUBLE,
    reward    DOUBLE,                       -- GRPO: mean gated reward of the step's completions
    reward_std DOUBLE,
    kl        DOUBLE,
    learning_rate DOUBLE,
    metrics   JSON,                         -- everything the trainer logged at this step
    PRIMARY KEY (run_id, iteration, phase, step)
);
