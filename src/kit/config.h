/* config.h - the process configuration, read once from SHOPSPHERE_* variables.
 *
 * Every port, address and secret comes from the environment with a local
 * default. config_load() validates every value and names the variable that is
 * wrong; the struct is read-only afterwards and shared by all threads.
 */
#ifndef SHOPSPHERE_KIT_CONFIG_H
#define SHOPSPHERE_KIT_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

/* Every process of the platform, in port order. The topology is config, not
 * domain knowledge: the kit needs it to find a peer's address. */
enum service_id {
  SVC_GATEWAY = 0,
  SVC_USER,
  SVC_PRODUCT,
  SVC_CART,
  SVC_ORDER,
  SVC_PAYMENT,
  SVC_SHIPPING,
  SVC_REVIEW,
  SVC_NOTIFICATION,
  SVC_ADMIN,
  SVC_AUTH,
  SVC_SEARCH,
  SVC_RECOMMENDATION,
  SVC_SANDBOX_PAYMENT,
  SVC_SANDBOX_COURIER,
  SVC_SANDBOX_MAIL,
  SVC_COUNT
};

/* "gateway", "user", ..., "sandbox-payment", "sandbox-courier",
 * "sandbox-mail". */
const char *service_name(enum service_id id);

/* Its PostgreSQL schema: the name with '-' as '_' ("sandbox_payment"). */
void service_schema_name(enum service_id id, char *out, size_t size);

/* Looks a name up; returns SVC_COUNT when unknown. */
enum service_id service_lookup(const char *name);

/* Port offset from SHOPSPHERE_PORT_BASE (gateway 0 ... sandboxes 15, 16,
 * 17; the sandbox mail server's SMTP listener is on 18). */
int service_port_offset(enum service_id id);

#define CONFIG_URL_MAX 512

struct config {
  char profile[32];        /* SHOPSPHERE_PROFILE: dev | test | prod */
  char log_level[16];      /* SHOPSPHERE_LOG_LEVEL: debug|info|warn|error */
  char bind_address[64];   /* SHOPSPHERE_BIND_ADDRESS */
  int port_base;           /* SHOPSPHERE_PORT_BASE */
  int ports[SVC_COUNT];    /* SHOPSPHERE_<SERVICE>_PORT, else base+offset */
  char urls[SVC_COUNT][CONFIG_URL_MAX]; /* SHOPSPHERE_<SERVICE>_URL */

  char database_url[CONFIG_URL_MAX]; /* SHOPSPHERE_DATABASE_URL (secret) */
  char redis_url[CONFIG_URL_MAX];    /* SHOPSPHERE_REDIS_URL (secret) */
  char amqp_url[CONFIG_URL_MAX];     /* SHOPSPHERE_AMQP_URL (secret) */
  int db_pool_size;                  /* SHOPSPHERE_DB_POOL_SIZE */
  int redis_pool_size;               /* SHOPSPHERE_REDIS_POOL_SIZE */
  int bus_max_attempts;  /* SHOPSPHERE_BUS_MAX_ATTEMPTS: handler tries (5) */
  int bus_retry_base_ms; /* SHOPSPHERE_BUS_RETRY_BASE_MS: first retry delay */
  int bus_prefetch;      /* SHOPSPHERE_BUS_PREFETCH: unacked per consumer */
  int bus_log_max_age_h; /* SHOPSPHERE_BUS_LOG_MAX_AGE_HOURS: event log (168) */
  int bus_log_max_mb;    /* SHOPSPHERE_BUS_LOG_MAX_MB: event log size (1024) */

  int http_threads;            /* SHOPSPHERE_HTTP_THREADS */
  long max_body_bytes;         /* SHOPSPHERE_MAX_BODY_BYTES (1 MiB) */
  long max_header_bytes;       /* SHOPSPHERE_MAX_HEADER_BYTES */
  int connection_timeout_s;    /* SHOPSPHERE_CONNECTION_TIMEOUT */
  int max_connections;         /* SHOPSPHERE_MAX_CONNECTIONS */
  int shutdown_grace_ms;       /* SHOPSPHERE_SHUTDOWN_GRACE_MS */

  int upstream_timeout_ms;     /* SHOPSPHERE_UPSTREAM_TIMEOUT_MS (5000) */
  int upstream_retries;        /* SHOPSPHERE_UPSTREAM_RETRIES */
  int breaker_volume;          /* SHOPSPHERE_BREAKER_VOLUME (20) */
  int breaker_error_percent;   /* SHOPSPHERE_BREAKER_ERROR_PERCENT (50) */
  int breaker_sleep_ms;        /* SHOPSPHERE_BREAKER_SLEEP_MS (30000) */

  int rate_limit_per_minute;   /* SHOPSPHERE_RATE_LIMIT_PER_MINUTE (100) */
  char cors_origins[CONFIG_URL_MAX]; /* SHOPSPHERE_CORS_ORIGINS, comma list */

  char var_dir[CONFIG_URL_MAX];  /* SHOPSPHERE_VAR_DIR */
  char web_root[CONFIG_URL_MAX]; /* SHOPSPHERE_WEB_ROOT */

  /* The gateway's edge policies (docs/gateway.md). */
  char rate_limits[CONFIG_URL_MAX]; /* SHOPSPHERE_RATE_LIMITS: class=N,... */
  char trusted_proxies[CONFIG_URL_MAX]; /* SHOPSPHERE_TRUSTED_PROXIES: IPs */
  int edge_cache_max_age_s;      /* SHOPSPHERE_EDGE_CACHE_MAX_AGE_S (10) */
  char web_placeholder[CONFIG_URL_MAX]; /* SHOPSPHERE_WEB_PLACEHOLDER */
  char api_spec[CONFIG_URL_MAX];       /* SHOPSPHERE_API_SPEC */
  char swagger_ui_dir[CONFIG_URL_MAX]; /* SHOPSPHERE_SWAGGER_UI_DIR */
  char otlp_endpoint[CONFIG_URL_MAX];  /* SHOPSPHERE_OTLP_ENDPOINT: traces */

  char admin_email[256];    /* SHOPSPHERE_ADMIN_EMAIL */
  char admin_password[256]; /* SHOPSPHERE_ADMIN_PASSWORD (secret) */

  /* Shipping and the sandbox courier (docs/shipping.md). */
  char courier_webhook_secret[128]; /* SHOPSPHERE_COURIER_WEBHOOK_SECRET */
  char courier_webhook_url[CONFIG_URL_MAX]; /* SHOPSPHERE_COURIER_WEBHOOK_URL,
                                               "" = the shipping service's */
  int courier_step_ms;              /* SHOPSPHERE_COURIER_STEP_MS (8000) */

  /* Payments and the sandbox card processor (docs/payments.md). */
  char payment_webhook_secret[128]; /* SHOPSPHERE_PAYMENT_WEBHOOK_SECRET */
  char payment_webhook_url[CONFIG_URL_MAX]; /* SHOPSPHERE_PAYMENT_WEBHOOK_URL,
                                               "" = the payment service's */
  int payment_provider_timeout_ms;  /* SHOPSPHERE_PAYMENT_PROVIDER_TIMEOUT_MS */
  int payment_reconcile_ms;         /* SHOPSPHERE_PAYMENT_RECONCILE_MS */
  int sandbox_payment_hold_ms;      /* SHOPSPHERE_SANDBOX_PAYMENT_HOLD_MS */
  int sandbox_payment_error_percent; /* SHOPSPHERE_SANDBOX_PAYMENT_ERROR_PERCENT */
  int sandbox_payment_latency_ms;   /* SHOPSPHERE_SANDBOX_PAYMENT_LATENCY_MS */

  /* Identity: tokens, signing keys, passwords (docs/identity.md). */
  char internal_secret[128];  /* SHOPSPHERE_INTERNAL_SECRET: X-Internal-Token
                                 of service-to-service calls (secret) */
  char kek[80];               /* SHOPSPHERE_KEK: 64 hex digits, the key that
                                 encrypts signing keys at rest (secret) */
  char kek_previous[80];      /* SHOPSPHERE_KEK_PREVIOUS: the one before, read
                                 during a rotation (secret) */
  char jwt_issuer[128];       /* SHOPSPHERE_JWT_ISSUER */
  char jwt_audience[128];     /* SHOPSPHERE_JWT_AUDIENCE */
  int access_token_ttl_s;     /* SHOPSPHERE_ACCESS_TOKEN_TTL (900) */
  int refresh_token_ttl_s;    /* SHOPSPHERE_REFRESH_TOKEN_TTL (30 days) */
  int jwt_key_rotation_s;     /* SHOPSPHERE_JWT_KEY_ROTATION (30 days) */
  int argon2_opslimit;        /* SHOPSPHERE_ARGON2_OPSLIMIT (2) */
  int argon2_memlimit_kib;    /* SHOPSPHERE_ARGON2_MEMLIMIT_KIB (19456) */
  int login_max_failures;     /* SHOPSPHERE_LOGIN_MAX_FAILURES per account */
  int login_max_ip_failures;  /* SHOPSPHERE_LOGIN_MAX_IP_FAILURES per IP */

  /* Notifications and the sandbox mail server (docs/notifications.md). */
  char smtp_url[CONFIG_URL_MAX];  /* SHOPSPHERE_SMTP_URL: smtp://host:port,
                                     "" = the sandbox mail server's */
  char mail_from[256];            /* SHOPSPHERE_MAIL_FROM */
  int smtp_port;                  /* SHOPSPHERE_SMTP_PORT: sandbox listener,
                                     0 = base + 18 */
  int notification_max_attempts;  /* SHOPSPHERE_NOTIFICATION_MAX_ATTEMPTS */
  int notification_retry_base_ms; /* SHOPSPHERE_NOTIFICATION_RETRY_BASE_MS */
  int notification_poll_ms;       /* SHOPSPHERE_NOTIFICATION_POLL_MS */
  int sse_heartbeat_s;            /* SHOPSPHERE_SSE_HEARTBEAT_S (15) */

  /* Orders (docs/checkout.md): auto = on in the test profiles only. */
  char fault_injection[8];    /* SHOPSPHERE_FAULT_INJECTION: auto|on|off */
  /* Reviews (docs/reviews.md). */
  int review_auto_approve; /* SHOPSPHERE_REVIEW_AUTO_APPROVE: 0|1 (0) */

  /* Recommendations (docs/recommendations.md). */
  int reco_refresh_ms;        /* SHOPSPHERE_RECOMMENDATION_REFRESH_MS (1000):
                                 how often changed lists are recomputed */
  int reco_train_interval_s;  /* SHOPSPHERE_RECOMMENDATION_TRAIN_INTERVAL_S
                                 (600; 0 = never): ALS training schedule */
  int reco_cache_ms;          /* SHOPSPHERE_RECOMMENDATION_CACHE_MS (1000):
                                 life of a rendered list in memory */

  /* Admin reports (docs/admin.md). */
  char default_currency[8]; /* SHOPSPHERE_DEFAULT_CURRENCY (USD) */
  int low_stock_threshold;  /* SHOPSPHERE_LOW_STOCK_THRESHOLD (5) */

  /* Returns (docs/returns.md). */
  int return_window_days; /* SHOPSPHERE_RETURN_WINDOW_DAYS (30): days after
                             delivery a line may be returned */
};

/* Fills cfg from the environment. On a bad value writes one line naming the
 * variable to err (e.g. "SHOPSPHERE_GATEWAY_PORT: not a port: 'x'") and
 * returns KIT_INVALID; KIT_OK otherwise. */
int config_load(struct config *cfg, char *err, size_t err_size);

/* Prints every setting as "NAME=value" lines, secrets (passwords inside URLs,
 * the admin password) redacted. */
void config_print(const struct config *cfg, FILE *out);

/* Writes url with any password replaced by "***" into out. */
void config_redact_url(const char *url, char *out, size_t out_size);

#endif
