/* registry.h - every module the shopsphere binary can run, by service id. */
#ifndef SHOPSPHERE_SERVICES_REGISTRY_H
#define SHOPSPHERE_SERVICES_REGISTRY_H

#include "kit/service.h"

/* The module of id, or NULL. */
const struct service_module *registry_module(enum service_id id);

#endif
