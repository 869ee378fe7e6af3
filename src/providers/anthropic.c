/*
 * anthropic.c — placeholder so that the library links while the real provider is
 * being written (by another helper, against src/providers/internal.h).
 * Building fails with a message; the parser reports KV_ERR_PARSE.
 */
#include <stdio.h>
#include <stdlib.h>

#include "src/providers/internal.h"

static int stub_feed(kv_parser *p, const char *bytes, size_t n, int64_t now_ns, kv_response *r)
{
    static const char msg[] = "the anthropic provider is not implemented yet";
    kv_response_error(r, KV_ERR_PARSE, msg, sizeof msg - 1);
    return -1;
}

static void stub_free(kv_parser *p)
{
    free(p);
}

static const kv_parser_ops stub_ops = {.feed = stub_feed, .free = stub_free};

int kv_anthropic_build(const kv_model_spec *m, const kv_chat *chat, const char *api_key,
                        kv_http_request *out, char *err, size_t errlen)
{
    snprintf(err, errlen, "the anthropic provider is not implemented yet");
    return -1;
}

kv_parser *kv_anthropic_parser_new(const kv_model_spec *m)
{
    kv_parser *p = kv_xcalloc(1, sizeof *p);
    p->ops = &stub_ops;
    return p;
}
