// `schemas/openapi.yaml`, the document of the runner's own routes, compiled into the binary:
// the file stays the one source of those routes, and `runner` stays one file. C23 `#embed`
// (clang 19 and later) also names the file in the dependency list, so editing it rebuilds this.
#include "runner_openapi.h"

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wc23-extensions"
static const unsigned char document[] = {
#embed "../../schemas/openapi.yaml"
};
#pragma clang diagnostic pop

const unsigned char *runner_openapi_yaml(void) { return document; }

size_t runner_openapi_yaml_size(void) { return sizeof(document); }
