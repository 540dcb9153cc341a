-- Run once by the postgres image when it creates its data (as POSTGRES_USER, the owner of the
-- database, which the service migrates as): the service's own login role, in chairside_runtime,
-- to which the migrations grant what the service needs (README, "Your own PostgreSQL").
CREATE ROLE chairside_runtime NOLOGIN;
CREATE ROLE chairside_app LOGIN PASSWORD 'chairside-app' IN ROLE chairside_runtime;
