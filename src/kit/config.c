/* config.c - SHOPSPHERE_* environment variables into struct config.
 *
 * One table lists every setting once: its variable, type, default, bounds
 * and whether it is secret. Loading and printing both walk the table, so a
 * new setting is one line here and one field in the struct.
 */
#include "kit/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "kit/err.h"

static const struct {
  const char *name;
  int port_offset;
} services[SVC_COUNT] = {
    [SVC_GATEWAY] = {"gateway", 0},
    [SVC_USER] = {"user", 1},
    [SVC_PRODUCT] = {"product", 2},
    [SVC_CART] = {"cart", 3},
    [SVC_ORDER] = {"order", 4},
    [SVC_PAYMENT] = {"payment", 5},
    [SVC_SHIPPING] = {"shipping", 6},
    [SVC_REVIEW] = {"review", 7},
    [SVC_NOTIFICATION] = {"notification", 8},
    [SVC_ADMIN] = {"admin", 9},
    [SVC_AUTH] = {"auth", 10},
    [SVC_SEARCH] = {"search", 11},
    [SVC_RECOMMENDATION] = {"recommendation", 12},
    [SVC_SANDBOX_PAYMENT] = {"sandbox-payment", 15},
    [SVC_SANDBOX_COURIER] = {"sandbox-courier", 16},
    [SVC_SANDBOX_MAIL] = {"sandbox-mail", 17},
};

const char *service_name(enum service_id id) {
  if ((unsigned)id >= SVC_COUNT) return "unknown";
  return services[id].name;
}

void service_schema_name(enum service_id id, char *out, size_t size) {
  const char *name = service_name(id);
  size_t i = 0;
  for (; name[i] != '\0' && i + 1 < size; i++)
    out[i] = name[i] == '-' ? '_' : name[i];
  if (size > 0) out[i] = '\0';
}

enum service_id service_lookup(const char *name) {
  for (int i = 0; i < SVC_COUNT; i++) {
    if (strcmp(services[i].name, name) == 0) return (enum service_id)i;
  }
  return SVC_COUNT;
}

int service_port_offset(enum service_id id) {
  if ((unsigned)id >= SVC_COUNT) return -1;
  return services[id].port_offset;
}

enum setting_type { SET_STRING, SET_INT, SET_LONG, SET_URL_SECRET, SET_SECRET };

struct setting {
  const char *env;
  enum setting_type type;
  size_t offset;
  size_t size; /* strings: buffer size */
  const char *def;
  long min, max;
  const char *const *choices; /* strings: NULL-terminated allowed values */
};

/* w1..w8: the private test profiles of scripts/profile.sh. */
static const char *const profiles[] = {"dev", "test", "bench", "prod", "w1",
                                       "w2",  "w3",   "w4",    "w5",   "w6",
                                       "w7",  "w8",   NULL};
static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
static const char *const fault_modes[] = {"auto", "on", "off", NULL};

#define STR(field, env, def, choices)                                        \
  {env, SET_STRING, offsetof(struct config, field),                         \
   sizeof(((struct config *)0)->field), def, 0, 0, choices}
#define SECRET_URL(field, env, def)                                          \
  {env, SET_URL_SECRET, offsetof(struct config, field),                     \
   sizeof(((struct config *)0)->field), def, 0, 0, NULL}
#define SECRET(field, env, def)                                              \
  {env, SET_SECRET, offsetof(struct config, field),                         \
   sizeof(((struct config *)0)->field), def, 0, 0, NULL}
#define INT(field, env, def, lo, hi)                                         \
  {env, SET_INT, offsetof(struct config, field), sizeof(int), def, lo, hi, NULL}
#define LONG(field, env, def, lo, hi)                                        \
  {env, SET_LONG, offsetof(struct config, field), sizeof(long), def, lo, hi, \
   NULL}

static const struct setting settings[] = {
    STR(profile, "SHOPSPHERE_PROFILE", "dev", profiles),
    STR(log_level, "SHOPSPHERE_LOG_LEVEL", "info", levels),
    STR(bind_address, "SHOPSPHERE_BIND_ADDRESS", "127.0.0.1", NULL),
    INT(port_base, "SHOPSPHERE_PORT_BASE", "8080", 1, 65000),
    SECRET_URL(database_url, "SHOPSPHERE_DATABASE_URL",
               "postgresql://shopsphere@127.0.0.1:54320/shopsphere"),
    SECRET_URL(redis_url, "SHOPSPHERE_REDIS_URL", "redis://127.0.0.1:63790"),
    SECRET_URL(amqp_url, "SHOPSPHERE_AMQP_URL",
               "amqp://shopsphere@127.0.0.1:56720/"),
    INT(db_pool_size, "SHOPSPHERE_DB_POOL_SIZE", "8", 1, 256),
    INT(redis_pool_size, "SHOPSPHERE_REDIS_POOL_SIZE", "8", 1, 256),
    INT(bus_max_attempts, "SHOPSPHERE_BUS_MAX_ATTEMPTS", "5", 1, 100),
    INT(bus_retry_base_ms, "SHOPSPHERE_BUS_RETRY_BASE_MS", "1000", 10, 3600000),
    INT(bus_prefetch, "SHOPSPHERE_BUS_PREFETCH", "256", 1, 10000),
    INT(bus_log_max_age_h, "SHOPSPHERE_BUS_LOG_MAX_AGE_HOURS", "168", 1,
        87600),
    INT(bus_log_max_mb, "SHOPSPHERE_BUS_LOG_MAX_MB", "1024", 16, 1048576),
    INT(http_threads, "SHOPSPHERE_HTTP_THREADS", "8", 1, 256),
    LONG(max_body_bytes, "SHOPSPHERE_MAX_BODY_BYTES", "1048576", 1024,
         1073741824L),
    LONG(max_header_bytes, "SHOPSPHERE_MAX_HEADER_BYTES", "32768", 4096,
         1048576L),
    INT(connection_timeout_s, "SHOPSPHERE_CONNECTION_TIMEOUT", "30", 1, 3600),
    INT(max_connections, "SHOPSPHERE_MAX_CONNECTIONS", "4096", 16, 1000000),
    INT(shutdown_grace_ms, "SHOPSPHERE_SHUTDOWN_GRACE_MS", "10000", 0, 600000),
    INT(upstream_timeout_ms, "SHOPSPHERE_UPSTREAM_TIMEOUT_MS", "5000", 10,
        600000),
    INT(upstream_retries, "SHOPSPHERE_UPSTREAM_RETRIES", "2", 0, 10),
    INT(breaker_volume, "SHOPSPHERE_BREAKER_VOLUME", "20", 1, 100000),
    INT(breaker_error_percent, "SHOPSPHERE_BREAKER_ERROR_PERCENT", "50", 1,
        100),
    INT(breaker_sleep_ms, "SHOPSPHERE_BREAKER_SLEEP_MS", "30000", 10, 3600000),
    INT(rate_limit_per_minute, "SHOPSPHERE_RATE_LIMIT_PER_MINUTE", "100", 1,
        100000000),
    STR(cors_origins, "SHOPSPHERE_CORS_ORIGINS",
        "http://localhost:8080,http://127.0.0.1:8080", NULL),
    STR(var_dir, "SHOPSPHERE_VAR_DIR", "var/dev", NULL),
    STR(web_root, "SHOPSPHERE_WEB_ROOT", "web/dist", NULL),
    STR(rate_limits, "SHOPSPHERE_RATE_LIMITS", "", NULL),
    STR(trusted_proxies, "SHOPSPHERE_TRUSTED_PROXIES", "", NULL),
    INT(edge_cache_max_age_s, "SHOPSPHERE_EDGE_CACHE_MAX_AGE_S", "10", 0, 3600),
    STR(web_placeholder, "SHOPSPHERE_WEB_PLACEHOLDER", "web/placeholder", NULL),
    STR(api_spec, "SHOPSPHERE_API_SPEC", "api/openapi.yaml", NULL),
    STR(swagger_ui_dir, "SHOPSPHERE_SWAGGER_UI_DIR",
        "node_modules/swagger-ui-dist", NULL),
    STR(otlp_endpoint, "SHOPSPHERE_OTLP_ENDPOINT", "", NULL),
    STR(admin_email, "SHOPSPHERE_ADMIN_EMAIL", "", NULL),
    SECRET(admin_password, "SHOPSPHERE_ADMIN_PASSWORD", ""),
    SECRET(courier_webhook_secret, "SHOPSPHERE_COURIER_WEBHOOK_SECRET", ""),
    STR(courier_webhook_url, "SHOPSPHERE_COURIER_WEBHOOK_URL", "", NULL),
    INT(courier_step_ms, "SHOPSPHERE_COURIER_STEP_MS", "8000", 50, 3600000),
    SECRET(payment_webhook_secret, "SHOPSPHERE_PAYMENT_WEBHOOK_SECRET", ""),
    STR(payment_webhook_url, "SHOPSPHERE_PAYMENT_WEBHOOK_URL", "", NULL),
    INT(payment_provider_timeout_ms, "SHOPSPHERE_PAYMENT_PROVIDER_TIMEOUT_MS",
        "3000", 50, 600000),
    INT(payment_reconcile_ms, "SHOPSPHERE_PAYMENT_RECONCILE_MS", "5000", 50,
        3600000),
    INT(sandbox_payment_hold_ms, "SHOPSPHERE_SANDBOX_PAYMENT_HOLD_MS", "10000",
        0, 600000),
    INT(sandbox_payment_error_percent,
        "SHOPSPHERE_SANDBOX_PAYMENT_ERROR_PERCENT", "0", 0, 100),
    INT(sandbox_payment_latency_ms, "SHOPSPHERE_SANDBOX_PAYMENT_LATENCY_MS", "0",
        0, 600000),
    SECRET(internal_secret, "SHOPSPHERE_INTERNAL_SECRET", ""),
    SECRET(kek, "SHOPSPHERE_KEK", ""),
    SECRET(kek_previous, "SHOPSPHERE_KEK_PREVIOUS", ""),
    STR(jwt_issuer, "SHOPSPHERE_JWT_ISSUER", "shopsphere-auth", NULL),
    STR(jwt_audience, "SHOPSPHERE_JWT_AUDIENCE", "shopsphere", NULL),
    INT(access_token_ttl_s, "SHOPSPHERE_ACCESS_TOKEN_TTL", "900", 30, 86400),
    INT(refresh_token_ttl_s, "SHOPSPHERE_REFRESH_TOKEN_TTL", "2592000", 60,
        31536000),
    INT(jwt_key_rotation_s, "SHOPSPHERE_JWT_KEY_ROTATION", "2592000", 60,
        31536000),
    INT(argon2_opslimit, "SHOPSPHERE_ARGON2_OPSLIMIT", "2", 1, 20),
    INT(argon2_memlimit_kib, "SHOPSPHERE_ARGON2_MEMLIMIT_KIB", "19456", 8,
        4194304),
    INT(login_max_failures, "SHOPSPHERE_LOGIN_MAX_FAILURES", "10", 1, 100000),
    INT(login_max_ip_failures, "SHOPSPHERE_LOGIN_MAX_IP_FAILURES", "100", 1,
        10000000),
    STR(fault_injection, "SHOPSPHERE_FAULT_INJECTION", "auto", fault_modes),
    STR(smtp_url, "SHOPSPHERE_SMTP_URL", "", NULL),
    STR(mail_from, "SHOPSPHERE_MAIL_FROM",
        "ShopSphere <no-reply@shopsphere.local>", NULL),
    INT(smtp_port, "SHOPSPHERE_SMTP_PORT", "0", 0, 65535),
    INT(notification_max_attempts, "SHOPSPHERE_NOTIFICATION_MAX_ATTEMPTS", "6",
        1, 100),
    INT(notification_retry_base_ms, "SHOPSPHERE_NOTIFICATION_RETRY_BASE_MS",
        "1000", 10, 3600000),
    INT(notification_poll_ms, "SHOPSPHERE_NOTIFICATION_POLL_MS", "100", 10,
        60000),
    INT(sse_heartbeat_s, "SHOPSPHERE_SSE_HEARTBEAT_S", "15", 1, 3600),
    INT(review_auto_approve, "SHOPSPHERE_REVIEW_AUTO_APPROVE", "0", 0, 1),
    INT(reco_refresh_ms, "SHOPSPHERE_RECOMMENDATION_REFRESH_MS", "1000", 50,
        3600000),
    INT(reco_train_interval_s, "SHOPSPHERE_RECOMMENDATION_TRAIN_INTERVAL_S",
        "600", 0, 604800),
    INT(reco_cache_ms, "SHOPSPHERE_RECOMMENDATION_CACHE_MS", "1000", 0, 600000),
    STR(default_currency, "SHOPSPHERE_DEFAULT_CURRENCY", "USD", NULL),
    INT(low_stock_threshold, "SHOPSPHERE_LOW_STOCK_THRESHOLD", "5", 0,
        1000000000),
    INT(return_window_days, "SHOPSPHERE_RETURN_WINDOW_DAYS", "30", 0, 3650),
};

#define SETTING_COUNT (sizeof settings / sizeof settings[0])

static int parse_long(const char *s, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0') return -1;
  *out = v;
  return 0;
}

static int load_setting(struct config *cfg, const struct setting *s, char *err,
                        size_t err_size) {
  const char *value = getenv(s->env);
  if (value == NULL) value = s->def;
  char *field = (char *)cfg + s->offset;

  if (s->type == SET_INT || s->type == SET_LONG) {
    long v = 0;
    if (parse_long(value, &v) != 0 || v < s->min || v > s->max) {
      snprintf(err, err_size, "%s: want a whole number from %ld to %ld, got '%s'",
               s->env, s->min, s->max, value);
      return KIT_INVALID;
    }
    if (s->type == SET_INT)
      *(int *)field = (int)v;
    else
      *(long *)field = v;
    return KIT_OK;
  }
  if (strlen(value) >= s->size) {
    snprintf(err, err_size, "%s: longer than %zu characters", s->env,
             s->size - 1);
    return KIT_INVALID;
  }
  if (s->choices != NULL) {
    int ok = 0;
    for (const char *const *c = s->choices; *c != NULL; c++)
      if (strcmp(*c, value) == 0) ok = 1;
    if (!ok) {
      snprintf(err, err_size, "%s: unknown value '%s'", s->env, value);
      return KIT_INVALID;
    }
  }
  memcpy(field, value, strlen(value) + 1);
  return KIT_OK;
}

/* SHOPSPHERE_<NAME>_<suffix> with the service name uppercased, '-' → '_'. */
static void service_env_name(enum service_id id, const char *suffix, char *out,
                             size_t size) {
  const char *name = service_name(id);
  size_t len = (size_t)snprintf(out, size, "SHOPSPHERE_");
  for (; *name != '\0' && len + 1 < size; name++)
    out[len++] = *name == '-' ? '_' : (char)toupper((unsigned char)*name);
  out[len] = '\0';
  snprintf(out + len, size - len, "_%s", suffix);
}

int config_load(struct config *cfg, char *err, size_t err_size) {
  memset(cfg, 0, sizeof *cfg);
  for (size_t i = 0; i < SETTING_COUNT; i++) {
    int rc = load_setting(cfg, &settings[i], err, err_size);
    if (rc != KIT_OK) return rc;
  }
  for (int id = 0; id < SVC_COUNT; id++) {
    char env[64];
    service_env_name((enum service_id)id, "PORT", env, sizeof env);
    const char *port = getenv(env);
    long v = cfg->port_base + service_port_offset((enum service_id)id);
    if (port != NULL && (parse_long(port, &v) != 0 || v < 1 || v > 65535)) {
      snprintf(err, err_size, "%s: not a port: '%s'", env, port);
      return KIT_INVALID;
    }
    if (v > 65535) {
      snprintf(err, err_size, "SHOPSPHERE_PORT_BASE: %s would get port %ld",
               service_name((enum service_id)id), v);
      return KIT_INVALID;
    }
    cfg->ports[id] = (int)v;

    service_env_name((enum service_id)id, "URL", env, sizeof env);
    const char *url = getenv(env);
    if (url != NULL) {
      if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        snprintf(err, err_size, "%s: want an http:// or https:// URL", env);
        return KIT_INVALID;
      }
      snprintf(cfg->urls[id], sizeof cfg->urls[id], "%s", url);
    } else {
      snprintf(cfg->urls[id], sizeof cfg->urls[id], "http://127.0.0.1:%d",
               cfg->ports[id]);
    }
  }
  return KIT_OK;
}

void config_redact_url(const char *url, char *out, size_t out_size) {
  const char *scheme_end = strstr(url, "://");
  const char *at = scheme_end ? strchr(scheme_end + 3, '@') : NULL;
  const char *colon = NULL;
  if (at != NULL) {
    colon = memchr(scheme_end + 3, ':', (size_t)(at - (scheme_end + 3)));
  }
  if (colon == NULL) {
    snprintf(out, out_size, "%s", url);
    return;
  }
  snprintf(out, out_size, "%.*s:***%s", (int)(colon - url), url, at);
}

void config_print(const struct config *cfg, FILE *out) {
  for (size_t i = 0; i < SETTING_COUNT; i++) {
    const struct setting *s = &settings[i];
    const char *field = (const char *)cfg + s->offset;
    switch (s->type) {
    case SET_INT:
      fprintf(out, "%s=%d\n", s->env, *(const int *)field);
      break;
    case SET_LONG:
      fprintf(out, "%s=%ld\n", s->env, *(const long *)field);
      break;
    case SET_URL_SECRET: {
      char redacted[CONFIG_URL_MAX];
      config_redact_url(field, redacted, sizeof redacted);
      fprintf(out, "%s=%s\n", s->env, redacted);
      break;
    }
    case SET_SECRET:
      fprintf(out, "%s=%s\n", s->env, field[0] != '\0' ? "***" : "(unset)");
      break;
    case SET_STRING:
      fprintf(out, "%s=%s\n", s->env, field);
      break;
    }
  }
  for (int id = 0; id < SVC_COUNT; id++) {
    char env[64];
    service_env_name((enum service_id)id, "PORT", env, sizeof env);
    fprintf(out, "%s=%d\n", env, cfg->ports[id]);
    service_env_name((enum service_id)id, "URL", env, sizeof env);
    fprintf(out, "%s=%s\n", env, cfg->urls[id]);
  }
}
