//! `TestApp`: a real server on port 0 with a database and session store of its own, and the
//! client helpers the tests share.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use authy2::config::Config;
use authy2::state::AppState;
use authy2_core::AdjustableClock;
use authy2_store::{ConnectOptions, Database};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A password that passes the policy for every test email.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running server and handles on its insides.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`
    pub address: String,
    /// A client without cookies; tests set headers explicitly.
    pub client: reqwest::Client,
    /// The server's state (stores, clock, config).
    pub state: AppState,
    /// The database, for direct store checks.
    pub database: Database,
    /// The clock the server reads; tests move it forward.
    pub clock: Arc<AdjustableClock>,
    /// The variables the server was configured with.
    pub vars: HashMap<String, String>,
    stop: CancellationToken,
    /// `None` for a sibling, which shares the first server's storage.
    _storage: Option<TestStorage>,
}

/// A user registered through the API.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub token: String,
    pub session_id: String,
}

/// A response with its envelope already checked.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// `error.type` of a failure.
    pub fn error_type(&self) -> &str {
        self.body["error"]["type"].as_str().unwrap_or("")
    }

    /// `data` of a success.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and returns self, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {:#}",
            self.body
        );
        self
    }

    /// Asserts a failure's status and type.
    #[track_caller]
    pub fn expect_error(self, status: u16, kind: &str) -> Self {
        let this = self.expect(status);
        assert_eq!(this.error_type(), kind, "body: {:#}", this.body);
        this
    }
}

impl TestApp {
    /// A server with the test defaults.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// A server whose configuration variables `configure` may change.
    pub async fn spawn_with(configure: impl FnOnce(&mut HashMap<String, String>)) -> TestApp {
        authy2::install_crypto_provider();
        let storage = TestStorage::create().await;
        let mut vars: HashMap<String, String> = HashMap::from([
            ("APP_ENV".into(), "testing".into()),
            ("DATABASE_URL".into(), storage.database_url.clone()),
            ("HASH_WORKERS".into(), "2".into()),
        ]);
        if let Some(prefix) = &storage.redis_prefix {
            vars.insert("REDIS_URL".into(), redis_url().unwrap_or_default());
            vars.insert("REDIS_KEY_PREFIX".into(), prefix.clone());
        }
        configure(&mut vars);
        Self::start(vars, Some(storage)).await
    }

    /// A second server on the same database and Redis key space (another instance behind the
    /// same load balancer), with its own configuration changes.
    pub async fn spawn_sibling(
        &self,
        configure: impl FnOnce(&mut HashMap<String, String>),
    ) -> TestApp {
        let mut vars = self.vars.clone();
        configure(&mut vars);
        Self::start(vars, None).await
    }

    async fn start(vars: HashMap<String, String>, storage: Option<TestStorage>) -> TestApp {
        let config = Config::from_vars(vars.clone()).expect("test configuration is valid");
        if config.is_production() {
            // Production never migrates on start; do what `authy2 db upgrade` would.
            let database = authy2::server::connect(&config).await.expect("database");
            database.upgrade().await.expect("migrations apply");
            database.close().await;
        }
        let grace = config.shutdown_grace_period;
        let database = authy2::server::open_database(&config)
            .await
            .expect("test database opens");
        let redis = authy2::server::open_redis(&config).expect("redis opens");
        let clock = Arc::new(AdjustableClock::new());
        let state = authy2::server::assemble(config, &database, redis, clock.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let address = format!("http://{}", listener.local_addr().expect("local addr"));
        let stop = CancellationToken::new();
        let router = authy2::http::router(state.clone());
        tokio::spawn(authy2::server::serve(listener, router, stop.clone(), grace));
        TestApp {
            address,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            state,
            database,
            clock,
            vars,
            stop,
            _storage: storage,
        }
    }

    /// The server's current time.
    pub fn clock_now(&self) -> authy2_core::Timestamp {
        use authy2_core::Clock;
        self.clock.now()
    }

    /// A request to `path` on this server.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.address))
    }

    /// Sends a request and checks the envelope invariants of its answer.
    pub async fn send(&self, request: RequestBuilder) -> TestResponse {
        let response = request.send().await.expect("request reaches the server");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body is readable");
        let body: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {text:?} (status {status})"));
        check_envelope(status, &headers, &body);
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// GET with a bearer token (or none).
    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(with_token(self.request(Method::GET, path), token))
            .await
    }

    /// A JSON request with a bearer token (or none).
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> TestResponse {
        self.send(with_token(self.request(method, path), token).json(&body))
            .await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.json(Method::POST, path, token, body).await
    }

    /// A bodiless request with a bearer token.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>) -> TestResponse {
        self.send(with_token(self.request(method, path), token))
            .await
    }

    /// Registers `email` with [`PASSWORD`].
    pub async fn register(&self, email: &str) -> TestUser {
        let response = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({ "email": email, "password": PASSWORD }),
            )
            .await
            .expect(201);
        user_from(&response, email)
    }

    /// Logs `email` in with `password`.
    pub async fn login(&self, email: &str, password: &str) -> TestResponse {
        self.post(
            "/api/v1/auth/login",
            None,
            json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Logs in and returns the new session.
    pub async fn login_user(&self, email: &str) -> TestUser {
        let response = self.login(email, PASSWORD).await.expect(200);
        user_from(&response, email)
    }

    /// Creates an organization owned by `owner`; returns its id.
    pub async fn create_organization(&self, owner: &TestUser, name: &str) -> String {
        let response = self
            .post(
                "/api/v1/organizations",
                Some(&owner.token),
                json!({ "name": name }),
            )
            .await
            .expect(201);
        response.data()["id"].as_str().expect("id").to_owned()
    }

    /// Adds `user` to an organization with `role`, as `by`.
    pub async fn add_member(&self, org: &str, by: &TestUser, user: &TestUser, role: &str) {
        self.post(
            &format!("/api/v1/organizations/{org}/members"),
            Some(&by.token),
            json!({ "email": user.email, "role": role }),
        )
        .await
        .expect(201);
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn with_token(request: RequestBuilder, token: Option<&str>) -> RequestBuilder {
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

fn user_from(response: &TestResponse, email: &str) -> TestUser {
    let data = response.data();
    TestUser {
        id: data["user"]["id"].as_str().expect("user id").to_owned(),
        email: email.to_owned(),
        token: data["session"]["token"].as_str().expect("token").to_owned(),
        session_id: data["session"]["id"]
            .as_str()
            .expect("session id")
            .to_owned(),
    }
}

/// The envelope rules of API.md, checked on every response the tests see.
#[track_caller]
pub fn check_envelope(status: StatusCode, headers: &reqwest::header::HeaderMap, body: &Value) {
    assert_eq!(body["version"], "1.0", "{body}");
    assert_eq!(body["code"], status.as_u16(), "{body}");
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("X-Request-ID header");
    assert_eq!(body["request_id"], request_id, "{body}");
    assert!(body["message"].is_string(), "{body}");
    if status.is_success() {
        assert_eq!(body["success"], true, "{body}");
        assert!(body.get("error").is_none(), "{body}");
    } else {
        assert_eq!(body["success"], false, "{body}");
        assert!(body["error"]["type"].is_string(), "{body}");
        assert!(body["error"]["details"].is_object(), "{body}");
        assert!(body.get("data").is_none(), "{body}");
    }
}

/// A unique address for this test.
pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// The PostgreSQL server of the test run, if one is configured.
pub fn postgres_url() -> Option<String> {
    std::env::var("AUTHY_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// The Redis server of the test run, if one is configured.
pub fn redis_url() -> Option<String> {
    std::env::var("AUTHY_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A database (and Redis key space) for one test, removed when the test ends.
pub struct TestStorage {
    pub database_url: String,
    pub redis_prefix: Option<String>,
    postgres_schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestStorage {
    /// SQLite unless `AUTHY_TEST_DATABASE_URL` is set; then a schema of its own on that server.
    /// A configured server that cannot be reached fails the test: it never silently skips.
    pub async fn create() -> TestStorage {
        let redis_prefix =
            redis_url().map(|_| format!("authy2-test:{}:", uuid::Uuid::new_v4().simple()));
        match postgres_url() {
            Some(url) => {
                let (database_url, schema) = create_postgres_schema(&url).await;
                TestStorage {
                    database_url,
                    redis_prefix,
                    postgres_schema: Some(schema),
                    _dir: None,
                }
            }
            None => Self::sqlite(redis_prefix),
        }
    }

    /// Always SQLite, whatever the environment.
    pub fn sqlite(redis_prefix: Option<String>) -> TestStorage {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", dir.path().join("authy2.db").display());
        TestStorage {
            database_url,
            redis_prefix,
            postgres_schema: None,
            _dir: Some(dir),
        }
    }
}

/// Opens a database of `storage` without serving it.
pub async fn open_database(storage: &TestStorage) -> Database {
    authy2::install_crypto_provider();
    Database::connect(&storage.database_url, ConnectOptions::default())
        .await
        .expect("test database opens")
}

async fn create_postgres_schema(url: &str) -> (String, String) {
    use sqlx::Connection;
    let schema = format!("authy2_test_{}", uuid::Uuid::new_v4().simple());
    let mut connection =
        tokio::time::timeout(Duration::from_secs(10), sqlx::PgConnection::connect(url))
            .await
            .unwrap_or_else(|_| {
                panic!("AUTHY_TEST_DATABASE_URL is set but PostgreSQL does not answer")
            })
            .unwrap_or_else(|e| panic!("AUTHY_TEST_DATABASE_URL is set but unusable: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut connection)
        .await
        .expect("create test schema");
    let _ = connection.close().await;
    let separator = if url.contains('?') { '&' } else { '?' };
    (
        format!("{url}{separator}options=-c%20search_path%3D{schema}"),
        schema,
    )
}

impl Drop for TestStorage {
    fn drop(&mut self) {
        let schema = self.postgres_schema.take();
        let prefix = self.redis_prefix.take();
        if schema.is_none() && prefix.is_none() {
            return;
        }
        // Drop runs inside the test's runtime, which cannot be blocked on; clean up from a
        // thread with a runtime of its own and wait for it.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let (Some(schema), Some(url)) = (schema, postgres_url()) {
                    use sqlx::Connection;
                    if let Ok(mut connection) = sqlx::PgConnection::connect(&url).await {
                        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                            "DROP SCHEMA IF EXISTS {schema} CASCADE"
                        )))
                        .execute(&mut connection)
                        .await;
                        let _ = connection.close().await;
                    }
                }
                if let (Some(prefix), Some(url)) = (prefix, redis_url()) {
                    let _ = delete_redis_prefix(&url, &prefix).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

async fn delete_redis_prefix(url: &str, prefix: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(url)?;
    let mut connection = client.get_multiplexed_async_connection().await?;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut connection)
        .await?;
    if !keys.is_empty() {
        redis::cmd("DEL")
            .arg(keys)
            .query_async::<()>(&mut connection)
            .await?;
    }
    Ok(())
}
