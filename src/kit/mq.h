/* mq.h - RabbitMQ (AMQP 0-9-1) connection helpers over librabbitmq.
 *
 * This first part only opens and checks connections; the event bus (bus.h)
 * builds the outbox relay and consumers on it.
 */
#ifndef SHOPSPHERE_KIT_MQ_H
#define SHOPSPHERE_KIT_MQ_H

#include <stddef.h>

/* Opens a connection to url (amqp://user:pass@host:port/vhost), logs in and
 * closes it, all within timeout_ms. KIT_OK, or KIT_UNAVAILABLE with a short
 * reason (never the password). */
int mq_ping(const char *url, int timeout_ms, char *reason, size_t reason_size);

#endif
