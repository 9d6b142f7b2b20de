-- Views over the tables in schema.sql, recreated each time Store.open opens a store for writing (they
-- hold no data). Each question is a table macro taking a run_id (`*_of(rid)`, what Store methods
-- call), and a plain view answering it for the newest run (`current_run`), so that
-- `SELECT * FROM gaps` works as is in `inftool sql` and the DuckDB CLI.

CREATE OR REPLACE VIEW current_run AS
SELECT * FROM runs ORDER BY seq DESC LIMIT 1;

-- Per (tool, complexity): accepted, rejected and total episodes over all iterations of the run.
-- Every scenario cell of any iteration is listed, those without episodes with zeros.
CREATE OR REPLACE MACRO coverage_cells_of(rid) AS TABLE
WITH counts AS (
    SELECT tool, complexity,
           count(*) FILTER (WHERE accepted) AS accepted,
           count(*) FILTER (WHERE NOT accepted) AS rejected
    FROM episodes WHERE run_id = rid
    GROUP BY tool, complexity
), cells AS (
    SELECT tool, complexity FROM scenarios WHERE run_id = rid
    UNION
    SELECT tool, complexity FROM counts
)
SELECT c.tool, c.complexity,
       coalesce(n.accepted, 0) AS accepted,
       coalesce(n.rejected, 0) AS rejected,
       coalesce(n.accepted + n.rejected, 0) AS total
FROM cells c LEFT JOIN counts n ON n.tool = c.tool AND n.complexity = c.complexity
ORDER BY c.tool, c.complexity;

-- Accepted episodes per (tool, complexity, param_type): a cell is counted once under each distinct
-- JSON type of its tool's top-level parameters; 'none' for a tool without parameters, 'unknown' for
-- a tool missing from the `tools` table.
CREATE OR REPLACE MACRO coverage_of(rid) AS TABLE
SELECT c.tool, c.complexity,
       unnest(CASE WHEN t.name IS NULL THEN ['unknown']
                   WHEN len(t.param_types) = 0 THEN ['none']
                   ELSE list_sort(list_distinct(t.param_types)) END) AS param_type,
       c.accepted
FROM coverage_cells_of(rid) c LEFT JOIN tools t ON t.run_id = rid AND t.name = c.tool
ORDER BY c.tool, c.complexity, param_type;

-- The scenario cells of the run's latest iteration (the highest one with scenarios), ranked.
--   n              = episodes of that iteration (all cells)
--   expected       = n * weight / sum(weight over the iteration's cells)
--   coverage_ratio = accepted / expected (NULL when expected = 0)
--   rejection_rate = rejected / (accepted + rejected) (NULL without episodes)
--   top_reason     = the most common failed_gate of the cell's rejected episodes ('error' when
--                    role-play failed, 'unverified' when no gate ran); ties alphabetical
--   score          = shortfall + rejection_rate, shortfall = max(0, 1 - coverage_ratio) (0 when
--                    expected = 0), NULL rates as 0; so 0..2, higher = worse
--   rank           = 1, 2, ... by score desc, then expected desc, complexity, tool
-- Cells without any episode appear with accepted = rejected = 0 (score 1).
CREATE OR REPLACE MACRO gaps_of(rid) AS TABLE
WITH latest AS (
    SELECT max(iteration) AS iteration FROM scenarios WHERE run_id = rid
), cells AS (
    SELECT s.iteration, s.complexity, s.tool, s.weight, sum(s.weight) OVER () AS total_weight
    FROM scenarios s JOIN latest l ON s.iteration = l.iteration
    WHERE s.run_id = rid
), eps AS (
    SELECT e.complexity, e.tool, e.accepted,
           coalesce(e.failed_gate, CASE WHEN e.error IS NOT NULL THEN 'error' ELSE 'unverified' END) AS why
    FROM episodes e JOIN latest l ON e.iteration = l.iteration
    WHERE e.run_id = rid
), n AS (
    SELECT count(*) AS n FROM eps
), counts AS (
    SELECT complexity, tool,
           count(*) FILTER (WHERE accepted) AS accepted,
           count(*) FILTER (WHERE NOT accepted) AS rejected
    FROM eps GROUP BY complexity, tool
), reasons AS (
    SELECT complexity, tool, why AS top_reason, count(*) AS top_reason_count,
           row_number() OVER (PARTITION BY complexity, tool ORDER BY count(*) DESC, why) AS r
    FROM eps WHERE NOT accepted
    GROUP BY complexity, tool, why
), scored AS (
    SELECT c.iteration, c.complexity, c.tool, c.weight,
           CASE WHEN c.total_weight > 0 THEN n.n * c.weight / c.total_weight ELSE 0 END AS expected,
           coalesce(k.accepted, 0) AS accepted,
           coalesce(k.rejected, 0) AS rejected,
           r.top_reason, r.top_reason_count
    FROM cells c CROSS JOIN n
    LEFT JOIN counts k ON k.complexity = c.complexity AND k.tool = c.tool
    LEFT JOIN reasons r ON r.complexity = c.complexity AND r.tool = c.tool AND r.r = 1
), rated AS (
    SELECT *,
           CASE WHEN expected > 0 THEN accepted / expected END AS coverage_ratio,
           CASE WHEN accepted + rejected > 0 THEN rejected / (accepted + rejected) END AS rejection_rate
    FROM scored
), ranked AS (
    SELECT *,
           CASE WHEN expected > 0 THEN greatest(0.0, 1.0 - coverage_ratio) ELSE 0.0 END
             + coalesce(rejection_rate, 0.0) AS score
    FROM rated
)
SELECT row_number() OVER (ORDER BY score DESC, expected DESC, complexity, tool) AS rank,
       iteration, complexity, tool, weight, expected, accepted, rejected,
       coverage_ratio, rejection_rate, top_reason, top_reason_count, score
FROM ranked
ORDER BY rank;

-- Per (gate, complexity): episodes the gate ran on (a verdict row exists), how many passed, the rate.
-- Gates are listed in the order they ran.
CREATE OR REPLACE MACRO gate_pass_rates_of(rid) AS TABLE
SELECT v.gate, e.complexity,
       count(*) AS evaluated,
       count(*) FILTER (WHERE v.passed) AS passed,
       count(*) FILTER (WHERE v.passed) / count(*) AS pass_rate
FROM verdicts v JOIN episodes e ON e.episode_id = v.episode_id
WHERE e.run_id = rid
GROUP BY v.gate, e.complexity
ORDER BY min(v.position), v.gate, e.complexity;

CREATE OR REPLACE VIEW coverage_cells AS SELECT * FROM coverage_cells_of((SELECT run_id FROM current_run));
CREATE OR REPLACE VIEW coverage AS SELECT * FROM coverage_of((SELECT run_id FROM current_run));
CREATE OR REPLACE VIEW gaps AS SELECT * FROM gaps_of((SELECT run_id FROM current_run));
CREATE OR REPLACE VIEW gate_pass_rates AS SELECT * FROM gate_pass_rates_of((SELECT run_id FROM current_run));

COMMENT ON VIEW current_run IS 'The newest run in this store (highest runs.seq); the other views answer for it.';
COMMENT ON VIEW coverage_cells IS 'Per (tool, complexity) of the current run: accepted, rejected, total episodes; scenario cells without episodes show zeros.';
COMMENT ON VIEW coverage IS 'Accepted episodes of the current run per (tool, complexity, param_type), each distinct top-level parameter type of the tool once (none: no parameters).';
COMMENT ON VIEW gaps IS 'Scenario cells of the current run''s latest iteration ranked worst first: score = max(0, 1 - accepted/expected) + rejected/(accepted+rejected), expected = n_episodes * weight / sum(weight).';
COMMENT ON VIEW gate_pass_rates IS 'Per (gate, complexity) of the current run: episodes a gate ran on, passed, pass_rate.';

-- Accuracy per suite, category and seen/unseen split (BFCL questions whose tools synthesis used, or
-- not; NULL for held-out synthetic episodes) of every evaluation of the newest run. items counts the items
-- evaluated; not_evaluated the items without a verdict (error_kind 'not_evaluated': the policy's endpoint kept
-- failing), which are left out of items, correct and accuracy.
CREATE OR REPLACE VIEW eval_accuracy AS
SELECT iteration, policy, suite, category, seen, count(*) FILTER (WHERE evaluated) AS items,
       count(*) FILTER (WHERE valid) AS correct, round(avg(valid::INTEGER) FILTER (WHERE evaluated), 4) AS accuracy,
       count(*) FILTER (WHERE NOT evaluated) AS not_evaluated
FROM (SELECT *, error_kind IS DISTINCT FROM 'not_evaluated' AS evaluated FROM eval_results
      WHERE run_id = (SELECT run_id FROM current_run))
GROUP BY iteration, policy, suite, category, seen ORDER BY iteration, policy, suite, category;

-- Accuracy of each evaluated checkpoint (iteration, policy) per split: 'heldout' (synthetic episodes),
-- 'bfcl seen' / 'bfcl unseen' / 'bfcl mixed' (BFCL questions by whether synthesis used their tools;
-- irrelevance and multi-turn questions excluded), 'bfcl irrelevance' and 'bfcl multi_turn' (whole
-- conversations with BFCL's stateful environments, judged by state). accuracy = correct / items; mean_accuracy =
-- the unweighted mean over the split's categories (BFCL-style); right_tool = the share of items whose
-- calls named the right functions (correct, or wrong only in argument values, types or names). items counts the
-- items evaluated: those without a verdict (error_kind 'not_evaluated') are only counted, in not_evaluated, and
-- the shares are NULL where no item was evaluated.
CREATE OR REPLACE MACRO checkpoint_accuracy_of(rid) AS TABLE
WITH labelled AS (
    SELECT iteration, policy, category, valid,
           error_kind IS DISTINCT FROM 'not_evaluated' AS evaluated,
           valid OR error_kind IN ('wrong_value', 'wrong_type', 'missing_parameter', 'unexpected_parameter') AS tool_ok,
           CASE WHEN suite <> 'bfcl' THEN suite
                WHEN category LIKE '%irrelevance%' THEN 'bfcl irrelevance'
                WHEN category LIKE 'multi_turn%' THEN 'bfcl multi_turn'
                ELSE 'bfcl ' || coalesce(seen, 'all') END AS split
    FROM eval_results WHERE run_id = rid
), per_category AS (
    SELECT iteration, policy, split, category, count(*) FILTER (WHERE evaluated) AS items,
           count(*) FILTER (WHERE valid) AS correct, count(*) FILTER (WHERE tool_ok) AS right_tool,
           count(*) FILTER (WHERE NOT evaluated) AS not_evaluated
    FROM labelled GROUP BY ALL
)
SELECT iteration, policy, split, sum(items)::BIGINT AS items, sum(correct)::BIGINT AS correct,
       CASE WHEN sum(items) > 0 THEN sum(correct) / sum(items) END AS accuracy,
       avg(CASE WHEN items > 0 THEN correct / items END) AS mean_accuracy,
       CASE WHEN sum(items) > 0 THEN sum(right_tool) / sum(items) END AS right_tool,
       sum(not_evaluated)::BIGINT AS not_evaluated
FROM per_category GROUP BY iteration, policy, split
ORDER BY iteration, CASE policy WHEN 'untrained' THEN 0 WHEN 'sft' THEN 1 WHEN 'grpo' THEN 2 ELSE 3 END, policy, split;

CREATE OR REPLACE VIEW checkpoint_accuracy AS SELECT * FROM checkpoint_accuracy_of((SELECT run_id FROM current_run));
