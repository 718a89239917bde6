-- 002_nodes.sql — the nodes of a fleet: each `serve` writes when it was
-- last alive (its heartbeat) and removes its row when it stops, so every
-- node knows how many nodes share the accounts and what its fair share is
-- (see docs/operations.md, "Many nodes"). Times are Unix seconds (UTC).

CREATE TABLE fleet_nodes (
  node text PRIMARY KEY,
  alive_until bigint NOT NULL
);
