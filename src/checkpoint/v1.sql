-- Version 1 of the checkpoint database. Times are RFC 3339 UTC text.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per object ever synced.
CREATE TABLE objects (
    object      TEXT PRIMARY KEY,           -- Describe name
    phase       TEXT NOT NULL,              -- historical | incremental
    status      TEXT NOT NULL,              -- In Progress | Active
    watermark   TEXT,                       -- everything updated before this is merged
    schema_json TEXT,                       -- the columns the warehouse table was created with
    rows_merged INTEGER NOT NULL DEFAULT 0,
    last_run_id TEXT,
    last_error  TEXT,
    updated_at  TEXT NOT NULL
);

CREATE TABLE runs (
    run_id       TEXT PRIMARY KEY,
    pid          INTEGER NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    status       TEXT NOT NULL,             -- running | succeeded | partial | failed | interrupted
    summary_json TEXT
);

-- A half-open range [range_start, range_end) of the cursor field, read page by page.
CREATE TABLE windows (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    object        TEXT NOT NULL REFERENCES objects(object),
    run_id        TEXT NOT NULL,
    phase         TEXT NOT NULL,
    range_start   TEXT,                     -- NULL: from the beginning
    range_end     TEXT,                     -- NULL: to the end (objects without a cursor field)
    state         TEXT NOT NULL,            -- open | fetched | merged
    next_page     TEXT,                     -- the cursor after the last committed page
    last_value    TEXT,                     -- cursor field of the last committed row
    last_id       TEXT,                     -- id of the last committed row
    pages         INTEGER NOT NULL DEFAULT 0,
    rows          INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT NOT NULL
);
CREATE INDEX windows_by_object ON windows(object, state);

-- Every Parquet file: written (in the local spool) -> staged -> copied (landing) -> merged.
CREATE TABLE files (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    object     TEXT NOT NULL,
    window_id  INTEGER NOT NULL REFERENCES windows(id),
    seq        INTEGER NOT NULL,
    name       TEXT NOT NULL UNIQUE,        -- path relative to the staging root and the spool
    rows       INTEGER NOT NULL,
    bytes      INTEGER NOT NULL,
    state      TEXT NOT NULL,
    removed    INTEGER NOT NULL DEFAULT 0,  -- cleaned up after the merge (deleted, or kept on purpose)
    updated_at TEXT NOT NULL,
    UNIQUE (window_id, seq)
);
CREATE INDEX files_by_object ON files(object, state);
