//! The integration suite: one test binary, each test with its own server on port 0 and its own
//! database (a SQLite file, or a PostgreSQL schema when `AUTHY_TEST_DATABASE_URL` is set) and
//! session store (a fresh key prefix when `AUTHY_TEST_REDIS_URL` is set).

// A failed unwrap is how a test says "this should not happen"; the panic message is enough.
#![allow(clippy::unwrap_used)]

mod helpers;

mod audit;
mod auth;
mod cli;
mod config;
mod envelope;
mod health;
mod lifecycle;
mod migrations;
mod openapi;
mod organizations;
mod permissions;
mod ratelimits;
mod security;
mod sessions;
mod store_contract;
mod users;
