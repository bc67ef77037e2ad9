#ifndef RUNNER_OPENAPI_H
#define RUNNER_OPENAPI_H

#include <stddef.h>

/// The bytes of `schemas/openapi.yaml` as they were when the binary was built (not
/// NUL-terminated), and how many there are.
const unsigned char *runner_openapi_yaml(void);
size_t runner_openapi_yaml_size(void);

#endif
